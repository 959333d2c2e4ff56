/**
 * The config of a committed image: its parent's (command, environment, ... unchanged), one more
 * diff_id, one more history entry, and docker's top-level `container`, `author` and `comment`.
 */
import type { OciImageConfig } from './image-store.js';

export interface CommitInfo {
  containerId: string;
  /** the history entry's created_by: the container's command, as docker records it */
  createdBy: string;
  author?: string;
  comment?: string;
}

export function committedImageConfig(parent: OciImageConfig, diffId: string, c: CommitInfo, now = new Date()): OciImageConfig {
  const created = now.toISOString();
  // the parent's own author and comment are not the new image's
  const { author: _author, comment: _comment, container: _container, ...rest } = parent;
  const said = { ...(c.author ? { author: c.author } : {}), ...(c.comment ? { comment: c.comment } : {}) };
  return {
    ...rest,
    created,
    ...said,
    container: c.containerId,
    rootfs: { type: 'layers', diff_ids: [...parent.rootfs.diff_ids, diffId] },
    history: [...(parent.history ?? []), { created, created_by: c.createdBy, ...said }],
  };
}
