/**
 * The on-disk layout under the data root (DESIGN.md "State on disk"). Directories that a
 * container's root (a subordinate uid when nestbox runs as root) must traverse are 0711, so the
 * path to a layer or to a container's upper dir can be walked without listing anything.
 */
import { mkdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { NestboxError } from './errors.js';
import { CONTAINER_ID } from './contracts/validators.js';

export class DataLayout {
  constructor(readonly root: string) {}

  get images(): string { return join(this.root, 'images'); }
  get blobs(): string { return join(this.images, 'blobs', 'sha256'); }
  get layers(): string { return join(this.root, 'layers'); }
  get containers(): string { return join(this.root, 'containers'); }
  get tmp(): string { return join(this.root, 'tmp'); }
  get volumes(): string { return join(this.root, 'volumes'); }
  /** root's copies of the layer extraction worker, readable by container root (worker-stage.ts) */
  get worker(): string { return join(this.root, 'worker'); }

  blob(digest: string): string { return join(this.blobs, hexOf(digest)); }
  /** overlay's lowerdir separator is ':', so layer directories are named by the bare hex */
  layer(diffId: string): string { return join(this.layers, hexOf(diffId)); }

  container(id: string): string {
    if (!CONTAINER_ID.test(id)) throw new NestboxError('INVALID_ARGUMENT', `invalid container id: ${JSON.stringify(id)}`);
    return join(this.containers, id);
  }

  /** Creates the skeleton; idempotent. Only root's containers need other uids to traverse it. */
  init(): this {
    const walk = process.getuid?.() === 0 ? 0o711 : 0o700;
    for (const [dir, mode] of [
      [this.root, walk], [this.images, 0o700], [this.blobs, 0o700], [this.layers, walk],
      [this.containers, walk], [this.tmp, 0o700], [this.volumes, walk],
    ] as const) {
      mkdirSync(dir, { recursive: true, mode });
      chmodSync(dir, mode);
    }
    return this;
  }
}

export function hexOf(digest: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m) throw new NestboxError('INVALID_ARGUMENT', `invalid digest: ${JSON.stringify(digest)}`);
  return m[1];
}
