/**
 * Garbage collection of the image store: after an image is removed, the blobs (manifests,
 * configs, layer tars) and extracted layer directories that nothing references go. Referenced
 * are: what the index's entries name; the config and layers of every image a container record
 * names (lifecycle passes their ids: an untagged image a container uses stays anyway, this is
 * the second guard); layers being extracted; and what this process stored in the last
 * FRESH_MS but no image names yet (an import, load or pull between storing a layer and
 * tagging its image).
 *
 * Crash safety: a layer directory leaves the store by one rename (to `.remove-*`) before its
 * files are deleted, so a crash never leaves half a layer under a diffID; `sweep()` deletes
 * `.remove-*` and `.extract-*` leftovers (at service start, and before each collection).
 * Mark and detach run in one synchronous stretch: no request of this process interleaves.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DataLayout } from '../../lib/data-layout.js';
import type { ImageStore } from './image-store.js';
import type { LayerStore } from './layer-store.js';
import type { TreeRemover } from './tree-remover.js';

/** as long as the longest import the CLI waits for */
export const FRESH_MS = 6 * 3_600_000;

export interface Collected {
  /** digests of the blobs deleted */
  blobs: string[];
  /** diffIDs of the layer directories deleted */
  layers: string[];
}

/** What stays: blobs and layers (diffIDs) referenced by the index, by containers' images, or freshly stored. */
export function referenced(images: ImageStore, layers: LayerStore, containerImageIds: string[], now = Date.now()): { blobs: Set<string>; layers: Set<string> } {
  // a layer being extracted, and the blob it may be read from
  const keepBlobs = new Set<string>(layers.extracting());
  const keepLayers = new Set<string>(layers.extracting());
  const keepImage = (configBlob: string, diffIds: string[]) => {
    keepBlobs.add(configBlob);
    // layer blobs are stored uncompressed under their diffID (Storage.storeLayer)
    for (const d of diffIds) {
      keepLayers.add(d);
      keepBlobs.add(d);
    }
  };
  for (const e of images.entries()) {
    for (const b of e.blobs) keepBlobs.add(b);
    keepImage(e.id, e.config.rootfs.diff_ids);
  }
  for (const id of containerImageIds) {
    const config = images.configOf(id);
    if (config) keepImage(id, config.rootfs.diff_ids);
  }
  // a diffID names both a blob and a layer dir
  for (const [digest, at] of images.written) {
    if (now - at > FRESH_MS) images.written.delete(digest); // abandoned by an import that failed
    else {
      keepBlobs.add(digest);
      keepLayers.add(digest);
    }
  }
  return { blobs: keepBlobs, layers: keepLayers };
}

export class ImageGc {
  /** one collection at a time: a second waits for the first */
  private last: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly layout: DataLayout,
    private readonly images: ImageStore,
    private readonly layers: LayerStore,
    private readonly remover: TreeRemover,
  ) {}

  collect(containerImageIds: string[]): Promise<Collected> {
    return this.serially(() => this.collectNow(containerImageIds));
  }

  /** Deletes what interrupted extractions and removals left (`.extract-*`, `.remove-*` in layers/). */
  sweep(): Promise<void> {
    return this.serially(() => this.sweepNow());
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.last.then(work);
    this.last = run.catch(() => undefined);
    return run;
  }

  private async sweepNow(): Promise<void> {
    const failures: string[] = [];
    for (const dir of this.layers.leftovers()) {
      await this.remover.remove(dir).catch((err: Error) => failures.push(err.message));
    }
    if (failures.length) throw new Error(failures[0]);
  }

  /**
   * At service start, before it takes requests: temporary files of writes that a crash
   * interrupted (storage's own names in tmp/, atomic-write temporaries among the blobs).
   * The layer leftovers need the keeper (rootless): `sweep()`, after the start.
   */
  sweepTemporaries(): void {
    for (const [dir, pattern] of [[this.layout.tmp, /^(import|busybox)-[0-9a-f]{12}\.tar$/], [this.layout.blobs, /^\.[0-9a-f]{64}\.[0-9a-f]{12}\.tmp$/]] as const) {
      for (const name of readdirSync(dir)) if (pattern.test(name)) rmSync(join(dir, name), { force: true });
    }
  }

  private async collectNow(containerImageIds: string[]): Promise<Collected> {
    await this.sweepNow().catch((err: Error) => process.stderr.write(`nestbox storage: sweeping leftovers: ${err.message}\n`));
    // mark and detach: synchronous from here to the first await
    const keep = referenced(this.images, this.layers, containerImageIds);
    const doomed: [string, string][] = [];
    for (const diffId of this.layers.stored()) {
      if (keep.layers.has(diffId)) continue;
      const dir = this.layers.detach(diffId);
      if (dir) doomed.push([diffId, dir]);
    }
    const blobs = this.images.storedBlobs().filter((b) => !keep.blobs.has(b));
    for (const b of blobs) this.images.removeBlob(b);
    // delete: a failure leaves a `.remove-*` dir for the next sweep, out of the store already
    for (const [, dir] of doomed) {
      await this.remover.remove(dir).catch((err: Error) => process.stderr.write(`nestbox storage: ${err.message} (left for the next sweep)\n`));
    }
    return { blobs, layers: doomed.map(([d]) => d) };
  }
}
