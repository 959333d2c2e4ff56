/**
 * Images made by a test in an instance's data root, through the storage service's own image
 * store (import/load verbs come later): a layer tar with chosen owners on top of busybox. Only
 * the blob and the index are written; the layer is extracted by the service on first use.
 */
import { chownSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DataLayout } from '../../lib/data-layout.js';
import { ImageStore } from '../../services/storage/image-store.js';
import { writeTar, type TarEntry } from '../../services/storage/tar-writer.js';
import { userIds } from './host.js';
import type { NestboxInstance } from './nestbox.js';

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (lstatSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), uid, gid);
}

/**
 * Tags `ref` as busybox plus one layer made of `entries`; returns the layer's diff id. The
 * instance must have resolved busybox already (its layer is reused). As root for a rootless
 * instance, hands the files back to the instance's user.
 */
export function addLayeredImage(nb: NestboxInstance, ref: string, entries: TarEntry[]): string {
  const store = new ImageStore(new DataLayout(nb.dataRoot));
  const base = store.find('busybox');
  if (!base) throw new Error('busybox is not in the store yet: run it once first');
  const dir = mkdtempSync(join(nb.base, 'layer-'));
  try {
    const layer = writeTar(join(dir, 'layer.tar'), entries, Math.floor(Date.now() / 1000));
    store.putBlob(readFileSync(join(dir, 'layer.tar')));
    const baseLayers = base.config.rootfs.diff_ids.map((d) => ({ digest: d, size: lstatSync(new DataLayout(nb.dataRoot).blob(d)).size }));
    const config = { ...base.config, rootfs: { type: 'layers' as const, diff_ids: [...base.config.rootfs.diff_ids, layer.digest] } };
    store.tag(ref, config, [...baseLayers, layer]);
    if (nb.kind === 'rootless') {
      const ids = userIds(nb.user)!;
      chownTree(new DataLayout(nb.dataRoot).images, ids.uid, ids.gid);
    }
    return layer.digest;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
