/**
 * `commit`: a container's changes (its upper dir) as a new image on top of its own, in any state.
 * The container is named as the user names it; its record gives the image and the command (the
 * history's created_by, as docker records it); the layer and the image are the storage service's
 * work (storage.image.commit), whose `started` and result are passed on as they come.
 */
import { NAMESPACE, STORAGE } from '../../lib/contracts/patterns.js';
import type { CommitRequestDto } from '../../lib/contracts/lifecycle.dto.js';
import type { CommitChunk, IdMapInfo } from '../../lib/contracts/types.js';
import type { ContainerStore } from './container-store.js';
import type { ExitMonitor } from './exit-monitor.js';
import type { ServiceCaller } from './service-caller.js';

export class CommitFlow {
  constructor(private readonly services: ServiceCaller, private readonly store: ContainerStore, _monitor: ExitMonitor) {}

  async *commit(req: CommitRequestDto): AsyncGenerator<CommitChunk> {
    const record = this.store.find(req.container);
    // the new layer is extracted for container root's host ids, as for a run
    const ids = await this.services.call<IdMapInfo>('namespace', NAMESPACE.idMap, {});
    yield* this.services.stream<CommitChunk>('storage', STORAGE.commit, {
      containerId: record.id,
      imageId: record.imageId,
      createdBy: record.command.join(' '),
      ...(req.ref !== undefined ? { ref: req.ref } : {}),
      ...(req.author ? { author: req.author } : {}),
      ...(req.comment ? { comment: req.comment } : {}),
      rootUid: ids.rootUid,
      rootGid: ids.rootGid,
    });
  }
}
