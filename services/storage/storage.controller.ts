import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { STORAGE } from '../../lib/contracts/patterns.js';
import { CommitContainerDto, EnsureVolumeDto, ExportRootfsDto, ImportImageDto, LoadImagesDto, PrepareRootfsDto, PullImageDto, RemoveRootfsDto, ResolveImageDto, SaveImagesDto, VolumeNameDto } from '../../lib/contracts/storage.dto.js';
import { loadImages, type LoadResult } from './image-load.js';
import { saveImages } from './image-save.js';
import type { VolumeInfo } from './volume-store.js';
import { from, type Observable } from 'rxjs';
import { exportTarget } from './rootfs-export.js';
import type { CommitChunk, HistoryRow, ImageInfo, ImageRemoval, ImageSummary, PullChunk, RootfsInfo, StorageUsage } from '../../lib/contracts/types.js';
import { DiskUsageDto, LookupImageDto, RemoveImageDto } from '../../lib/contracts/storage.dto.js';
import { DEFAULT_MAX_LAYER_BYTES } from './layer-copy.js';
import { Storage, type ImportResult } from './storage.js';

@Controller()
export class StorageController {
  constructor(@Inject(Storage) private readonly storage: Storage) {}

  @MessagePattern(STORAGE.resolveImage)
  resolveImage(@Payload() req: ResolveImageDto): Promise<ImageInfo> {
    return this.storage.resolveImage(req.ref, { uid: req.rootUid, gid: req.rootGid });
  }

  @MessagePattern(STORAGE.listImages)
  listImages(): ImageSummary[] {
    return this.storage.listImages();
  }

  @MessagePattern(STORAGE.lookupImage)
  lookupImage(@Payload() req: LookupImageDto): { id: string; refs: string[]; ref?: string } {
    return this.storage.images.lookup(req.image);
  }

  @MessagePattern(STORAGE.imageHistory)
  imageHistory(@Payload() req: LookupImageDto): HistoryRow[] {
    return this.storage.imageHistory(req.image);
  }

  @MessagePattern(STORAGE.inspectImage)
  inspectImage(@Payload() req: LookupImageDto): Record<string, unknown> {
    return this.storage.inspectImage(req.image);
  }

  /** only through lifecycle (lifecycle.image.remove), which knows whether a container uses the image */
  @MessagePattern(STORAGE.removeImage)
  removeImage(@Payload() req: RemoveImageDto): Promise<ImageRemoval> {
    return this.storage.removeImage(req.id, req.untag, req.delete, req.inUse);
  }

  @MessagePattern(STORAGE.diskUsage)
  diskUsage(@Payload() req: DiskUsageDto): Promise<StorageUsage> {
    return this.storage.diskUsage(req.containers);
  }

  @MessagePattern(STORAGE.importImage)
  importImage(@Payload() req: ImportImageDto): Promise<ImportResult> {
    return this.storage.importImage(req.source, req.ref, { uid: req.rootUid, gid: req.rootGid }, req.maxBytes ?? DEFAULT_MAX_LAYER_BYTES);
  }

  /** runs as the calling user: reads their docker config for credentials */
  @MessagePattern(STORAGE.pullImage)
  pullImage(@Payload() req: PullImageDto): Observable<PullChunk> {
    return from(this.storage.pull({
      ref: req.ref,
      dockerConfig: req.dockerConfig,
      insecureRegistries: req.insecureRegistries ?? [],
      owner: { uid: req.rootUid, gid: req.rootGid },
      maxBytes: req.maxBytes ?? DEFAULT_MAX_LAYER_BYTES,
    }));
  }

  @MessagePattern(STORAGE.prepareRootfs)
  prepareRootfs(@Payload() req: PrepareRootfsDto): Promise<RootfsInfo> {
    return this.storage.prepareRootfs(req.containerId, req.imageId, { uid: req.rootUid, gid: req.rootGid });
  }

  @MessagePattern(STORAGE.volumeEnsure)
  ensureVolume(@Payload() req: EnsureVolumeDto): VolumeInfo & { created: boolean } {
    return this.storage.volumes.ensure(req.name, { uid: req.rootUid, gid: req.rootGid });
  }

  @MessagePattern(STORAGE.volumeList)
  listVolumes(): VolumeInfo[] {
    return this.storage.volumes.list();
  }

  @MessagePattern(STORAGE.volumeInspect)
  inspectVolume(@Payload() req: VolumeNameDto): VolumeInfo {
    return this.storage.volumes.get(req.name);
  }

  /** only through lifecycle (lifecycle.volume.remove), which knows whether a container uses it */
  @MessagePattern(STORAGE.volumeRemove)
  removeVolume(@Payload() req: VolumeNameDto): { removed: true } {
    this.storage.volumes.remove(req.name);
    return { removed: true };
  }

  @MessagePattern(STORAGE.removeRootfs)
  removeRootfs(@Payload() req: RemoveRootfsDto): { removed: true } {
    this.storage.removeRootfs(req.containerId);
    return { removed: true };
  }

  /** `started` at once, then the new image's id and warnings: a big upper dir takes longer than a reply deadline */
  @MessagePattern(STORAGE.commit)
  commit(@Payload() req: CommitContainerDto): Observable<CommitChunk> {
    const storage = this.storage;
    const { rootUid, rootGid, ...commit } = req;
    return from((async function* (): AsyncGenerator<CommitChunk> {
      yield { started: true };
      yield await storage.commit(commit, { uid: rootUid, gid: rootGid });
    })());
  }

  /** `started` once the target is open (a stream has no reply deadline after its first chunk: big roots take time), `done` at the end. */
  @MessagePattern(STORAGE.exportRootfs)
  exportRootfs(@Payload() req: ExportRootfsDto): Observable<{ started: true } | { done: true }> {
    return from(this.storage.exportRootfs(req.containerId, req.imageId, exportTarget(req)));
  }

  @MessagePattern(STORAGE.loadImages)
  loadImages(@Payload() req: LoadImagesDto): Promise<LoadResult> {
    return loadImages(this.storage, req.source, { uid: req.rootUid, gid: req.rootGid }, req.maxBytes ?? DEFAULT_MAX_LAYER_BYTES);
  }

  /** `started` once the target is open, `done` when the archive is complete (as exportRootfs) */
  @MessagePattern(STORAGE.saveImages)
  saveImages(@Payload() req: SaveImagesDto): Observable<{ started: true } | { done: true }> {
    return from(saveImages(this.storage.images, req.images, exportTarget(req, 'save')));
  }
}
