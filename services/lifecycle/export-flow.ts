/**
 * `export`: a container's root file system as a tar, in any state (running, exited, created).
 * The container is named as the user names it; the tar itself is the storage service's work
 * (storage.rootfs.export), whose `started` and `done` are passed on as they come.
 */
import { STORAGE } from '../../lib/contracts/patterns.js';
import type { ExportRequestDto } from '../../lib/contracts/lifecycle.dto.js';
import type { ContainerStore } from './container-store.js';
import type { ExitMonitor } from './exit-monitor.js';
import type { ServiceCaller } from './service-caller.js';

export type ExportChunk = { started: true } | { done: true };

export class ExportFlow {
  constructor(private readonly services: ServiceCaller, private readonly store: ContainerStore, _monitor: ExitMonitor) {}

  export(req: ExportRequestDto): AsyncIterable<ExportChunk> {
    const record = this.store.find(req.container);
    const target = req.file !== undefined ? { file: req.file } : { fifo: req.fifo };
    return this.services.stream<ExportChunk>('storage', STORAGE.exportRootfs, { containerId: record.id, imageId: record.imageId, ...target });
  }
}
