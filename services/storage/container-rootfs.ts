/**
 * A container's own overlay directories: containers/<id>/{upper,work,merged}. They belong to the
 * host ids of container root; the overlay itself is mounted by the runtime inside the container's
 * user and mount namespaces, so no mount is ever left on the host.
 */
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { removeTree } from '../../lib/remove-tree.js';
import type { RootfsInfo } from '../../lib/contracts/types.js';
import { DataLayout } from '../../lib/data-layout.js';
import type { Owner } from './layer-store.js';

export class ContainerRootfs {
  constructor(private readonly layout: DataLayout) {}

  /** The container's upper, work and merged dirs (made by prepare). */
  paths(containerId: string): Omit<RootfsInfo, 'lowerDirs'> {
    const base = this.layout.container(containerId);
    return { upperDir: join(base, 'upper'), workDir: join(base, 'work'), mergedDir: join(base, 'merged') };
  }

  prepare(containerId: string, layerDirs: string[], owner: Owner): RootfsInfo {
    mkdirSync(this.layout.container(containerId), { recursive: true, mode: 0o711 });
    const info: RootfsInfo = { lowerDirs: [...layerDirs].reverse(), ...this.paths(containerId) };
    // overlay's scratch from an earlier mount goes: a volatile one (--rm) left work/incompat/volatile
    // there, and overlay refuses that work dir again (a restarted --rm container mounts it again)
    if (existsSync(info.workDir) && readdirSync(info.workDir).length > 0) removeTree(info.workDir);
    for (const dir of [info.upperDir, info.workDir, info.mergedDir]) {
      if (!existsSync(dir)) mkdirSync(dir, { mode: 0o755 });
      if (process.getuid?.() === 0) chownSync(dir, owner.uid, owner.gid);
    }
    return info;
  }

  /** Removes the overlay directories (not the container's record, which lifecycle owns). */
  remove(containerId: string): void {
    const base = this.layout.container(containerId);
    for (const part of ['merged', 'work', 'upper']) removeTree(join(base, part));
  }
}
