/** Chooses the cgroup driver once, by probing the host and what this user may write. */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { type CgroupHost, isWritableDir, probeCgroupHost } from './cgroup-probe.js';
import type { CgroupManager } from './cgroup-manager.js';
import { CgroupV1Manager } from './cgroup-v1.js';
import { CgroupV2Manager } from './cgroup-v2.js';
import { NoCgroupManager } from './cgroup-none.js';

/** The nestbox dir if it exists, else the own cgroup where it would be created. */
function mayCreateUnder(ownDir: string): boolean {
  const nestbox = join(ownDir, 'nestbox');
  return existsSync(nestbox) ? isWritableDir(nestbox) : isWritableDir(ownDir);
}

export function selectCgroupManager(host: CgroupHost = probeCgroupHost()): CgroupManager {
  const uid = process.getuid?.() ?? 0;
  const fix = 'ask root to delegate a cgroup subtree to you (systemd user delegation on v2, or chowned per-controller directories on v1)';
  if (host.layout === 'unified') {
    if (!mayCreateUnder(host.v2!.ownDir)) {
      return new NoCgroupManager(host, `uid ${uid} may not create cgroups under ${host.v2!.ownDir} (no delegation); ${fix}`);
    }
    return new CgroupV2Manager(host);
  }
  if (host.layout === 'none') return new NoCgroupManager(host, 'no cgroup file system is mounted');
  const denied = host.v1.filter((h) => ['memory', 'pids', 'cpu'].some((c) => h.controllers.includes(c)) && !mayCreateUnder(h.ownDir));
  if (denied.length) {
    return new NoCgroupManager(host, `uid ${uid} may not create cgroups under ${denied[0].ownDir} (cgroup v1 without delegation); ${fix}`);
  }
  return new CgroupV1Manager(host);
}
