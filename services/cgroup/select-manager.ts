/**
 * Chooses the cgroup driver once, by probing the host and what this user may write: its own
 * cgroup when writable (root, or a delegated v2 cgroup it runs in), else the subtree root
 * delegated to it by `nestbox system setup-cgroups` (cgroup-delegation.ts), else none (limits
 * refused with the reason and the fix).
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { type CgroupHost, isWritableDir, probeCgroupHost } from './cgroup-probe.js';
import type { CgroupManager } from './cgroup-manager.js';
import { CgroupV1Manager } from './cgroup-v1.js';
import { CgroupV2Manager, SERVICE_LEAF } from './cgroup-v2.js';
import { NoCgroupManager } from './cgroup-none.js';
import { type DelegationRecord, delegatedV1Host, isWithin, readDelegationRecord, v2EntryLeaf } from './cgroup-delegation.js';

/** The controllers a limit needs; a hierarchy holding one of them must be usable. */
const LIMITED = ['memory', 'pids', 'cpu'];

/**
 * The cgroup a self-delegated v2 nestbox makes nestbox/ in: its own, or, when an earlier start
 * moved its processes into its own leaf <base>/nestbox/service (cgroup-v2.ts handDown), that base
 * again; else a restarted service would nest a second nestbox/ below the leaf and lose track of
 * the containers made before.
 */
export function v2Base(own: string): string {
  const suffix = `/nestbox/${SERVICE_LEAF}`;
  return own.endsWith(suffix) && own.length > suffix.length ? own.slice(0, -suffix.length) : own;
}

/** The nestbox dir if it exists, else the dir where it would be created. */
function mayCreateUnder(dir: string): boolean {
  const nestbox = join(dir, 'nestbox');
  return existsSync(nestbox) ? isWritableDir(nestbox) : isWritableDir(dir);
}

function userName(uid: number): string {
  try {
    return userInfo().username;
  } catch {
    return String(uid);
  }
}

export function selectCgroupManager(
  host: CgroupHost = probeCgroupHost(),
  uid: number = process.getuid?.() ?? 0,
  record: DelegationRecord | undefined = uid === 0 ? undefined : readDelegationRecord(uid),
): CgroupManager {
  const fix = `ask root to run "nestbox system setup-cgroups --user ${userName(uid)}"`;
  if (host.layout === 'none') return new NoCgroupManager(host, 'no cgroup file system is mounted');
  if (host.layout === 'unified') {
    const own = host.v2!.ownDir;
    if (record?.v2 && isWithin(own, record.v2)) return new CgroupV2Manager(host, { base: record.v2 });
    const base = v2Base(own);
    if (mayCreateUnder(base)) return new CgroupV2Manager(host, { base, delegated: uid !== 0 });
    if (record?.v2) {
      return new NoCgroupManager(host, `this nestbox runs in ${own}, outside the cgroup subtree ${record.v2} delegated to uid ${uid}; `
        + `stop it ("nestbox system stop") and start it inside that subtree (as root: echo PID > ${v2EntryLeaf(record.v2)}/cgroup.procs)`);
    }
    return new NoCgroupManager(host, `uid ${uid} may not create cgroups under ${own} (no delegation); ${fix}`);
  }
  const denied = (h: CgroupHost) => h.v1.filter((x) => LIMITED.some((c) => x.controllers.includes(c)) && !mayCreateUnder(x.ownDir));
  const ownDenied = denied(host);
  if (ownDenied.length === 0) return new CgroupV1Manager(host);
  if (record && Object.keys(record.v1).length) {
    const delegated = delegatedV1Host(host, record);
    const missing = host.v1.filter((h) => LIMITED.some((c) => h.controllers.includes(c)) && !delegated.v1.some((d) => d.mountPoint === h.mountPoint));
    const unusable = denied(delegated);
    if (missing.length === 0 && unusable.length === 0) return new CgroupV1Manager(delegated);
    const what = unusable.length ? `${unusable[0].ownDir} is missing or not writable` : `no directory is delegated in ${missing[0].mountPoint}`;
    return new NoCgroupManager(host, `the cgroup v1 delegation to uid ${uid} is incomplete (${what}); ask root to run "nestbox system setup-cgroups --user ${userName(uid)}" again`);
  }
  return new NoCgroupManager(host, `uid ${uid} may not create cgroups under ${ownDenied[0].ownDir} (cgroup v1 without delegation); ${fix}`);
}
