/**
 * The per-container network identity files, written by the network service and bind-mounted by
 * the runtime over /etc/hosts, /etc/resolv.conf and /etc/hostname (as docker and podman do).
 */
import { chownSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import type { DataLayout } from '../../lib/data-layout.js';
import type { NetworkAttachment, OciMount } from '../../lib/contracts/types.js';

const FILES = ['hosts', 'resolv.conf', 'hostname'] as const;

export interface AttachRequest {
  containerId: string;
  mode: string;
  hostname: string;
  owner: { uid: number; gid: number };
}

export class ContainerNetworkFiles {
  constructor(private readonly layout: DataLayout) {}

  /** `--network none`: loopback only (the runtime brings `lo` up in the new netns). */
  attachNone(req: AttachRequest): NetworkAttachment {
    const dir = this.layout.container(req.containerId);
    mkdirSync(dir, { recursive: true, mode: 0o711 });
    const content: Record<(typeof FILES)[number], string> = {
      hosts: `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${req.hostname}\n`,
      'resolv.conf': '# --network none: no name servers\n',
      hostname: `${req.hostname}\n`,
    };
    const mounts: OciMount[] = [];
    for (const name of FILES) {
      const path = join(dir, name);
      writeFileAtomic(path, content[name], { mode: 0o644, sync: false }); // written again at every start
      if (process.getuid?.() === 0) chownSync(path, req.owner.uid, req.owner.gid);
      mounts.push({ destination: `/etc/${name}`, type: 'bind', source: path, options: ['rbind', 'rprivate'] });
    }
    return { mode: req.mode, mounts };
  }

  detach(containerId: string): void {
    const dir = this.layout.container(containerId);
    for (const name of FILES) rmSync(join(dir, name), { force: true });
  }
}
