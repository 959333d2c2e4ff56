/**
 * Named volumes: <data root>/volumes/<name>/volume.json (name, creation time) and _data/, the
 * directory bind-mounted into containers, owned by container root (as root: its subordinate
 * host id; rootless: the user, whom container root maps to). Made on first use or by
 * `volume create`; removed only by `volume rm` or `rm -v` (lifecycle checks that no container
 * still uses it).
 */
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../lib/atomic-file.js';
import type { DataLayout } from '../../lib/data-layout.js';
import { NestboxError } from '../../lib/errors.js';
import { removeTree } from '../../lib/remove-tree.js';
import { VOLUME_NAME } from '../../lib/volume-spec.js';
import type { Owner } from './layer-store.js';

export interface VolumeInfo {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
}

export class VolumeStore {
  constructor(private readonly layout: DataLayout) {}

  /** The volume, made now if it does not exist (`created` says which). */
  ensure(name: string, owner: Owner): VolumeInfo & { created: boolean } {
    const existing = this.find(name);
    if (existing) return { ...existing, created: false };
    const dir = this.dir(name);
    const walk = process.getuid?.() === 0 ? 0o711 : 0o700;
    mkdirSync(dir, { mode: walk });
    const data = join(dir, '_data');
    mkdirSync(data, { mode: 0o755 });
    if (process.getuid?.() === 0) chownSync(data, owner.uid, owner.gid);
    const info: VolumeInfo = { Name: name, Driver: 'local', Mountpoint: data, CreatedAt: new Date().toISOString() };
    writeJsonAtomic(join(dir, 'volume.json'), { name, createdAt: info.CreatedAt });
    return { ...info, created: true };
  }

  find(name: string): VolumeInfo | undefined {
    const dir = this.dir(name);
    try {
      const rec = JSON.parse(readFileSync(join(dir, 'volume.json'), 'utf8')) as { name: string; createdAt: string };
      return { Name: rec.name, Driver: 'local', Mountpoint: join(dir, '_data'), CreatedAt: rec.createdAt };
    } catch {
      return undefined;
    }
  }

  get(name: string): VolumeInfo {
    const v = this.find(name);
    if (!v) throw new NestboxError('NOT_FOUND', `no such volume: ${name}`);
    return v;
  }

  list(): VolumeInfo[] {
    if (!existsSync(this.layout.volumes)) return [];
    return readdirSync(this.layout.volumes).filter((n) => VOLUME_NAME.test(n)).map((n) => this.find(n)).filter((v): v is VolumeInfo => v !== undefined)
      .sort((a, b) => a.Name.localeCompare(b.Name));
  }

  /** Removes the volume and its data (files of subordinate owners too). */
  remove(name: string): void {
    this.get(name);
    removeTree(this.dir(name));
  }

  private dir(name: string): string {
    if (!VOLUME_NAME.test(name)) throw new NestboxError('INVALID_ARGUMENT', `invalid volume name "${name}": it must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
    return join(this.layout.volumes, name);
  }
}
