/**
 * Content-addressed extracted layers: layers/<hex of diffID>/ holds the tree of one uncompressed
 * layer tar, owned by the host ids of container root, so overlay copy-up inside the container's
 * user namespace works (STACK.md: unmapped owners make copy-up fail with EOVERFLOW).
 */
import { existsSync, mkdtempSync, renameSync, rmSync, chmodSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import { NestboxError } from '../../lib/errors.js';
import { DataLayout } from '../../lib/data-layout.js';

export interface Owner { uid: number; gid: number }

export class LayerStore {
  private readonly pending = new Map<string, Promise<string>>();

  constructor(private readonly layout: DataLayout) {}

  has(diffId: string): boolean {
    return existsSync(this.layout.layer(diffId));
  }

  dir(diffId: string): string {
    const dir = this.layout.layer(diffId);
    if (!existsSync(dir)) throw new NestboxError('NOT_FOUND', `layer ${diffId} is not extracted`);
    return dir;
  }

  /**
   * Extracts an uncompressed layer tar whose digest is `diffId` (verified by the caller), once:
   * into a temporary directory, then renamed into place, so a crash never leaves half a layer.
   */
  async extract(tarFile: string, diffId: string, owner: Owner): Promise<string> {
    const target = this.layout.layer(diffId);
    if (existsSync(target)) return target;
    const running = this.pending.get(diffId);
    if (running) return running;
    const job = this.doExtract(tarFile, target, owner).finally(() => this.pending.delete(diffId));
    this.pending.set(diffId, job);
    return job;
  }

  private async doExtract(tarFile: string, target: string, owner: Owner): Promise<string> {
    const staging = mkdtempSync(join(this.layout.tmp, 'layer-'));
    try {
      const asRoot = process.getuid?.() === 0;
      await tar.x({
        file: tarFile,
        cwd: staging,
        strict: true,
        chmod: true,
        // node-tar chmods only bits the umask would strip: tell it the real one (set by the service)
        processUmask: process.umask(),
        ...(asRoot ? { preserveOwner: false, uid: owner.uid, gid: owner.gid } : { preserveOwner: false }),
      });
      chmodSync(staging, 0o755);
      if (asRoot) chownSync(staging, owner.uid, owner.gid);
      renameSync(staging, target);
      return target;
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      throw new NestboxError('INTERNAL', `extracting layer ${tarFile}: ${(err as Error).message}`);
    }
  }
}
