/**
 * The storage domain: resolves image references (building the default image on first use),
 * prepares and removes per-container overlay directories. Knows nothing of Nest or ZeroMQ.
 */
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { NestboxError } from '../../lib/errors.js';
import { imageHistory } from './image-history.js';
import { imageInspectView } from './image-inspect-view.js';
import type { HistoryRow, ImageInfo, ImageRemoval, ImageSummary, RootfsInfo, StorageUsage } from '../../lib/contracts/types.js';
import { DataLayout } from '../../lib/data-layout.js';
import { ImageStore, normalizeRef, type OciImageConfig, type StoredImage } from './image-store.js';
import { LayerStore, type LayerExtractor, type Owner } from './layer-store.js';
import { ContainerRootfs } from './container-rootfs.js';
import { VolumeStore } from './volume-store.js';
import type { ExportTarget, RootfsExporter } from './rootfs-export.js';
import { DEFAULT_IMAGE, buildDefaultLayer, defaultImageConfig } from './default-image.js';
import type { LayerWriter } from './keeper-commit.js';
import { committedImageConfig, type CommitInfo } from './commit-config.js';
import { pullImage, type PullOptions } from './image-pull.js';
import type { PullChunk } from '../../lib/contracts/types.js';
import { copyLayerTar, type FileRange, type LayerCopy } from './layer-copy.js';

/** a blob's descriptor fields (OCI): what a layer's bytes as read must hash to */
export interface BlobRef { digest: string; size: number }
import { ImageGc } from './image-gc.js';
import { plainRemover, type TreeRemover } from './tree-remover.js';
import { TreeMeasurer } from './disk-usage.js';

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export interface ImportResult {
  /** the new image's id (its config digest) */
  id: string;
  /** warning lines: entries skipped (device nodes), owners squashed (a single-id user) */
  warnings: string[];
}

export interface StoredLayer {
  diffId: string;
  /** size of the uncompressed tar, as stored */
  size: number;
  /** warning lines of its extraction (entries skipped, owners squashed) */
  warnings: string[];
}

export class Storage {
  readonly layout: DataLayout;
  readonly images: ImageStore;
  readonly layers: LayerStore;
  readonly rootfs: ContainerRootfs;
  readonly volumes: VolumeStore;
  readonly gc: ImageGc;
  private readonly measurer: TreeMeasurer;
  private building?: Promise<StoredImage & { ref: string }>;

  /**
   * `extractor`: where layers are extracted (the keeper namespace, keeper-extract.ts);
   * `housekeeping`: how removed layers are deleted and trees measured (tree-remover.ts, disk-usage.ts).
   */
  constructor(dataRoot: string, extractor: LayerExtractor, private readonly exporter?: RootfsExporter, private readonly committer?: LayerWriter,
    housekeeping: { remover?: TreeRemover; measurer?: TreeMeasurer } = {}) {
    this.layout = new DataLayout(dataRoot).init();
    this.images = new ImageStore(this.layout);
    this.images.init();
    this.layers = new LayerStore(this.layout, extractor);
    this.rootfs = new ContainerRootfs(this.layout);
    this.volumes = new VolumeStore(this.layout);
    this.gc = new ImageGc(this.layout, this.images, this.layers, housekeeping.remover ?? plainRemover);
    this.measurer = housekeeping.measurer ?? new TreeMeasurer();
  }

  /** `images`: newest first, a tagged image once per tag; size = its layers' uncompressed tars. */
  listImages(): ImageSummary[] {
    return this.images.list()
      .map((i) => ({ id: i.id, ...(i.ref ? { ref: i.ref } : {}), ...(i.config.created ? { created: i.config.created } : {}), size: this.imageSize(i.config.rootfs.diff_ids) }))
      .sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''));
  }

  /** `inspect IMAGE`: by reference, id or unique id prefix, in docker's shape (image-inspect-view.ts) */
  inspectImage(text: string): Record<string, unknown> {
    const { id, refs } = this.images.lookup(text);
    const config = this.images.configOf(id);
    if (!config) throw new NestboxError('NOT_FOUND', `No such image: ${text}`);
    return imageInspectView(id, refs, config, this.imageSize(config.rootfs.diff_ids));
  }

  /** `history IMAGE`: its steps, newest first, each with its layer's size (image-history.ts) */
  imageHistory(text: string): HistoryRow[] {
    const { id } = this.images.lookup(text);
    const config = this.images.configOf(id);
    if (!config) throw new NestboxError('NOT_FOUND', `No such image: ${text}`);
    return imageHistory(id, config, (d) => fileSize(this.layout.blob(d)));
  }

  private imageSize(diffIds: string[]): number {
    return diffIds.reduce((sum, d) => sum + fileSize(this.layout.blob(d)), 0);
  }

  /**
   * rmi's storage half (lifecycle decided what may go): removes the tags `untag` while they name
   * image `id`; with `deleteImage` the image itself, then collects garbage (`inUse`: the image
   * ids of all containers). Without it an image left with no tag stays as `<none>`.
   */
  async removeImage(id: string, untag: string[], deleteImage: boolean, inUse: string[]): Promise<ImageRemoval> {
    const result: ImageRemoval = { untagged: [], deleted: [] };
    const diffIds = this.images.configOf(id)?.rootfs.diff_ids ?? [];
    for (const ref of untag) {
      if (this.images.find(ref)?.id !== id) continue; // re-tagged meanwhile: not ours to remove
      if (this.images.untag(ref, true)) result.untagged.push(normalizeRef(ref));
    }
    if (!deleteImage) return result;
    result.untagged.push(...this.images.remove(id));
    result.deleted.push(id);
    try {
      const collected = await this.gc.collect(inUse);
      result.deleted.push(...diffIds.filter((d) => collected.layers.includes(d)));
    } catch (err) {
      // the image is gone; what it left is collected after the next removal
      process.stderr.write(`nestbox storage: collecting garbage after removing ${id}: ${(err as Error).message}\n`);
    }
    return result;
  }

  /** `system df`'s measurements: images and their layers, the given containers' upper dirs, volumes. */
  async diskUsage(containerIds: string[]): Promise<StorageUsage> {
    const images = new Map<string, StorageUsage['images'][number]>();
    for (const e of this.images.entries()) {
      const row = images.get(e.id) ?? { id: e.id, refs: [], ...(e.config.created ? { created: e.config.created } : {}), layers: e.config.rootfs.diff_ids };
      if (e.ref) row.refs.push(e.ref);
      images.set(e.id, row);
    }
    const layers: Record<string, number> = {};
    for (const d of new Set([...images.values()].flatMap((i) => i.layers))) {
      layers[d] = fileSize(this.layout.blob(d)) + (this.layers.has(d) ? await this.measurer.size(this.layout.layer(d)) : 0);
    }
    const containers: Record<string, number> = {};
    for (const id of containerIds) containers[id] = await this.measurer.size(this.rootfs.paths(id).upperDir);
    const volumes = [];
    for (const v of this.volumes.list()) volumes.push({ name: v.Name, size: await this.measurer.size(v.Mountpoint) });
    return { images: [...images.values()], layers, containers, volumes };
  }

  async resolveImage(ref: string, owner: Owner): Promise<ImageInfo> {
    const name = normalizeRef(ref);
    let image = this.images.find(name) ?? this.imageById(ref);
    if (!image && name === DEFAULT_IMAGE) image = await this.buildDefaultImage(owner);
    if (!image) {
      throw new NestboxError('NOT_FOUND', `image "${ref}" not found locally (nestbox pull ${ref} fetches it)`);
    }
    const layerDirs: string[] = [];
    for (const diffId of image.config.rootfs.diff_ids) layerDirs.push(await this.layerDir(diffId, owner));
    return { id: image.id, ref: image.ref, config: image.config.config ?? {}, layerDirs };
  }

  /** docker's `run IMAGE-ID`: a full id or unique id prefix, when no tag has that name (named as given, as docker's ps shows it). */
  private imageById(text: string): (StoredImage & { ref: string }) | undefined {
    if (!/^(sha256:)?[0-9a-f]{1,64}$/.test(text)) return undefined;
    let id: string;
    try {
      id = this.images.lookup(text).id;
    } catch (err) {
      if (err instanceof NestboxError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
    const image = this.images.byId(id);
    return image ? { ...image, ref: text } : undefined;
  }

  async prepareRootfs(containerId: string, imageId: string, owner: Owner): Promise<RootfsInfo> {
    const image = this.images.byId(imageId);
    if (!image) throw new NestboxError('NOT_FOUND', `image ${imageId} not found`);
    const layerDirs = image.config.rootfs.diff_ids.map((d) => this.layers.dir(d));
    return this.rootfs.prepare(containerId, layerDirs, owner);
  }

  /**
   * `nestbox import`: the tar at `source` (plain or gzip) as a one-layer image, under `ref` or
   * untagged. A layer already stored under the tar's diffID is reused, not extracted again.
   * Every failure names the source; nothing of a refused layer stays.
   */
  async importImage(source: string, ref: string | undefined, owner: Owner, maxBytes: number): Promise<ImportResult> {
    try {
      const layer = await this.storeLayer(source, owner, maxBytes);
      const image = this.images.tag(ref, importedImageConfig(layer.diffId, source), [{ digest: layer.diffId, size: layer.size }]);
      return { id: image.id, warnings: layer.warnings };
    } catch (err) {
      const e = err instanceof NestboxError ? err : new NestboxError('INTERNAL', (err as Error).message);
      throw new NestboxError(e.code, `import ${source}: ${e.message}`);
    }
  }

  /**
   * True when the layer with this diffID is stored (blob and extracted tree): import, load and pull
   * skip it, and garbage collection keeps it until their image names it (ImageStore.written).
   */
  hasLayer(diffId: string): boolean {
    const stored = this.layers.has(diffId) && this.images.blobPath(diffId) !== undefined;
    if (stored) this.images.written.set(diffId, Date.now());
    return stored;
  }

  /**
   * Stores one layer archive (a plain or gzip tar file; import, load and pull share this): it is
   * decompressed under the size cap, hashed, checked against `expectedDiffId` when the image's
   * config names one, extracted in the keeper (once per diffID) and kept as an uncompressed blob.
   * The caller still owns `source`; nothing of a refused layer stays.
   */
  async storeLayer(source: string | FileRange, owner: Owner, maxBytes: number, expectedDiffId?: string, expectedBlob?: BlobRef): Promise<StoredLayer> {
    return this.commitLayer(await this.verifyLayer(source, maxBytes, expectedDiffId, expectedBlob), owner);
  }

  /**
   * storeLayer's first half (load verifies every layer of an image before it extracts any): the
   * archive decompressed into the tmp dir and checked against the blob digest and size (`expectedBlob`,
   * an OCI descriptor) and the diffID. The caller passes the copy to commitLayer or removes its file.
   */
  async verifyLayer(source: string | FileRange, maxBytes: number, expectedDiffId?: string, expectedBlob?: BlobRef): Promise<LayerCopy> {
    const copy = await copyLayerTar(source, this.layout.tmp, maxBytes);
    try {
      if (expectedBlob !== undefined && (copy.blob.digest !== expectedBlob.digest || copy.blob.size !== expectedBlob.size)) {
        throw new NestboxError('INVALID_ARGUMENT', `blob ${expectedBlob.digest}: content does not match its digest and size (got ${copy.blob.digest}, ${copy.blob.size} bytes)`);
      }
      if (expectedDiffId !== undefined && copy.diffId !== expectedDiffId) {
        throw new NestboxError('INVALID_ARGUMENT', `layer content does not match its diffID: expected ${expectedDiffId}, got ${copy.diffId}`);
      }
      return copy;
    } catch (err) {
      rmSync(copy.file, { force: true });
      throw err;
    }
  }

  /** storeLayer's second half: a verified copy extracted (once per diffID) and kept as the blob; its file is gone after. */
  async commitLayer(copy: LayerCopy, owner: Owner): Promise<StoredLayer> {
    try {
      // kept by garbage collection until the caller's image names it (ImageStore.written)
      this.images.written.set(copy.diffId, Date.now());
      const layer = await this.layers.extract(copy.file, copy.diffId, owner);
      this.images.adoptBlob(copy.file, copy.diffId);
      return { diffId: copy.diffId, size: copy.size, warnings: layer.warnings };
    } finally {
      rmSync(copy.file, { force: true }); // already gone when it became the blob
    }
  }

  /** `nestbox pull` (image-pull.ts): docker's progress, the image recorded once all its layers are stored. */
  pull(opts: PullOptions): AsyncGenerator<PullChunk> {
    return pullImage(this, opts);
  }

  /** The container's merged view as a tar (rootfs-export.ts): its upper dir over its image's layers. */
  async *exportRootfs(containerId: string, imageId: string, target: ExportTarget): AsyncGenerator<{ started: true } | { done: true }> {
    if (!this.exporter) throw new NestboxError('UNIMPLEMENTED', 'export is not available here');
    const image = this.images.byId(imageId);
    if (!image) throw new NestboxError('NOT_FOUND', `image ${imageId} of the container not found`);
    const { upperDir, mergedDir } = this.rootfs.paths(containerId);
    if (!existsSync(upperDir)) throw new NestboxError('NOT_FOUND', `container ${containerId.slice(0, 12)} has no root file system`);
    const layerDirs = image.config.rootfs.diff_ids.map((d) => this.layers.dir(d));
    yield* this.exporter.export({ lowerDirs: [upperDir, ...layerDirs.reverse()], mountPoint: mergedDir, target });
  }

  /**
   * `nestbox commit`: the container's upper dir as one more layer on its image (keeper-commit.ts
   * writes the tar, storeLayer stores and extracts it as import does), tagged `ref` or untagged.
   * A running container is not paused: its upper dir is read as it is at that moment, file by
   * file (a file written meanwhile may be caught half way; docker pauses by default).
   */
  async commit(c: CommitInfo & { imageId: string; ref?: string }, owner: Owner): Promise<ImportResult> {
    if (!this.committer) throw new NestboxError('UNIMPLEMENTED', 'commit is not available here');
    const parent = this.images.byId(c.imageId);
    if (!parent) throw new NestboxError('NOT_FOUND', `image ${c.imageId} of the container not found`);
    const { upperDir } = this.rootfs.paths(c.containerId);
    if (!existsSync(upperDir)) throw new NestboxError('NOT_FOUND', `container ${c.containerId.slice(0, 12)} has no root file system`);
    const layers = parent.config.rootfs.diff_ids.map((d) => {
      const blob = this.images.blobPath(d);
      if (!blob) throw new NestboxError('NOT_FOUND', `layer ${d} of the container's image has no stored archive`);
      return { digest: d, size: statSync(blob).size };
    });
    const file = join(this.layout.tmp, `commit-${randomBytes(8).toString('hex')}.tar`);
    try {
      const warnings = await this.committer.write(upperDir, file);
      // our own tar of the container's files: no cap against a hostile archive
      const layer = await this.storeLayer(file, owner, Number.MAX_SAFE_INTEGER);
      const image = this.images.tag(c.ref, committedImageConfig(parent.config, layer.diffId, c), [...layers, { digest: layer.diffId, size: layer.size }]);
      return { id: image.id, warnings: [...warnings, ...layer.warnings] };
    } finally {
      rmSync(file, { force: true });
    }
  }

  removeRootfs(containerId: string): void {
    this.rootfs.remove(containerId);
  }

  /**
   * A layer's extracted tree; extracted now (in the keeper) when the store holds the layer's blob
   * but it was never extracted (uncompressed layers: the blob's digest is the diff id).
   */
  private async layerDir(diffId: string, owner: Owner): Promise<string> {
    if (this.layers.has(diffId)) return this.layers.dir(diffId);
    const blob = this.images.blobPath(diffId);
    // a damaged store, not a missing image: NOT_FOUND here would make `run` pull the image
    if (!blob) throw new NestboxError('INTERNAL', `layer ${diffId} is missing from the store (neither extracted nor kept as a blob)`);
    try {
      return (await this.layers.extract(blob, diffId, owner)).dir;
    } catch (err) {
      // a refused archive names its entry: say which layer it is in
      if (err instanceof NestboxError && err.code === 'INVALID_ARGUMENT') throw new NestboxError('INVALID_ARGUMENT', `extracting layer ${blob}: ${err.message}`);
      throw err;
    }
  }

  /** Built once even when several runs ask at the same moment. */
  private buildDefaultImage(owner: Owner): Promise<StoredImage & { ref: string }> {
    this.building ??= (async () => {
      const layer = buildDefaultLayer(this.layout.tmp);
      try {
        await this.layers.extract(layer.file, layer.digest, owner);
        this.images.adoptBlob(layer.file, layer.digest);
      } finally {
        rmSync(layer.file, { force: true });
      }
      return this.images.tag(DEFAULT_IMAGE, defaultImageConfig(layer.digest), [{ digest: layer.digest, size: layer.size }]) as StoredImage & { ref: string };
    })().finally(() => {
      this.building = undefined;
    });
    return this.building;
  }
}

/**
 * docker's import config: no command, the platform of this host. docker's daemon adds a default
 * PATH when a container's image has none; nestbox's run does not, so the image carries it.
 */
function importedImageConfig(diffId: string, source: string): OciImageConfig {
  return {
    architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    os: 'linux',
    created: new Date().toISOString(),
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created_by: `nestbox import ${basename(source)}` }],
  };
}
