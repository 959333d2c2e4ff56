/**
 * The storage domain: resolves image references (building the default image on first use),
 * prepares and removes per-container overlay directories. Knows nothing of Nest or ZeroMQ.
 */
import { existsSync, rmSync } from 'node:fs';
import { NestboxError } from '../../lib/errors.js';
import type { ImageInfo, RootfsInfo } from '../../lib/contracts/types.js';
import { DataLayout } from '../../lib/data-layout.js';
import { ImageStore, normalizeRef, type StoredImage } from './image-store.js';
import { LayerStore, type LayerExtractor, type Owner } from './layer-store.js';
import { ContainerRootfs } from './container-rootfs.js';
import type { ExportTarget, RootfsExporter } from './rootfs-export.js';
import { DEFAULT_IMAGE, buildDefaultLayer, defaultImageConfig } from './default-image.js';

export class Storage {
  readonly layout: DataLayout;
  readonly images: ImageStore;
  readonly layers: LayerStore;
  readonly rootfs: ContainerRootfs;
  private building?: Promise<StoredImage>;

  /** `extractor`: where layers are extracted (the keeper namespace, keeper-extract.ts) */
  constructor(dataRoot: string, extractor: LayerExtractor, private readonly exporter?: RootfsExporter) {
    this.layout = new DataLayout(dataRoot).init();
    this.images = new ImageStore(this.layout);
    this.images.init();
    this.layers = new LayerStore(this.layout, extractor);
    this.rootfs = new ContainerRootfs(this.layout);
  }

  async resolveImage(ref: string, owner: Owner): Promise<ImageInfo> {
    const name = normalizeRef(ref);
    let image = this.images.find(name);
    if (!image && name === DEFAULT_IMAGE) image = await this.buildDefaultImage(owner);
    if (!image) {
      throw new NestboxError('NOT_FOUND', `image "${ref}" not found (pulling comes with the storage issue; the built-in image is busybox)`);
    }
    const layerDirs: string[] = [];
    for (const diffId of image.config.rootfs.diff_ids) layerDirs.push(await this.layerDir(diffId, owner));
    return { id: image.id, ref: image.ref, config: image.config.config ?? {}, layerDirs };
  }

  async prepareRootfs(containerId: string, imageId: string, owner: Owner): Promise<RootfsInfo> {
    const image = this.images.list().find((i) => i.id === imageId);
    if (!image) throw new NestboxError('NOT_FOUND', `image ${imageId} not found`);
    const layerDirs = image.config.rootfs.diff_ids.map((d) => this.layers.dir(d));
    return this.rootfs.prepare(containerId, layerDirs, owner);
  }

  /** The container's merged view as a tar (rootfs-export.ts): its upper dir over its image's layers. */
  async *exportRootfs(containerId: string, imageId: string, target: ExportTarget): AsyncGenerator<{ started: true } | { done: true }> {
    if (!this.exporter) throw new NestboxError('UNIMPLEMENTED', 'export is not available here');
    const image = this.images.list().find((i) => i.id === imageId);
    if (!image) throw new NestboxError('NOT_FOUND', `image ${imageId} of the container not found`);
    const { upperDir, mergedDir } = this.rootfs.paths(containerId);
    if (!existsSync(upperDir)) throw new NestboxError('NOT_FOUND', `container ${containerId.slice(0, 12)} has no root file system`);
    const layerDirs = image.config.rootfs.diff_ids.map((d) => this.layers.dir(d));
    yield* this.exporter.export({ lowerDirs: [upperDir, ...layerDirs.reverse()], mountPoint: mergedDir, target });
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
    if (!blob) return this.layers.dir(diffId); // NOT_FOUND, naming the layer
    return this.layers.extract(blob, diffId, owner);
  }

  /** Built once even when several runs ask at the same moment. */
  private buildDefaultImage(owner: Owner): Promise<StoredImage> {
    this.building ??= (async () => {
      const layer = buildDefaultLayer(this.layout.tmp);
      try {
        await this.layers.extract(layer.file, layer.digest, owner);
        this.images.adoptBlob(layer.file, layer.digest);
      } finally {
        rmSync(layer.file, { force: true });
      }
      return this.images.tag(DEFAULT_IMAGE, defaultImageConfig(layer.digest), [{ digest: layer.digest, size: layer.size }]);
    })().finally(() => {
      this.building = undefined;
    });
    return this.building;
  }
}
