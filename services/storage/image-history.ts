/**
 * `history IMAGE`: its config's history entries, newest first, as docker's image history API
 * gives them: the image's own id on the newest row and `<missing>` below it (no image of its own
 * is stored for a step), each step's layer size (the layers go to the entries that are not
 * `empty_layer`, in order). An image without a history gets a row per layer.
 */
import type { HistoryRow } from '../../lib/contracts/types.js';
import type { OciImageConfig } from './image-store.js';

type Entry = NonNullable<OciImageConfig['history']>[number] & { empty_layer?: boolean };

export function imageHistory(id: string, config: OciImageConfig, layerSize: (diffId: string) => number): HistoryRow[] {
  const layers = [...config.rootfs.diff_ids];
  const entries: Entry[] = config.history?.length ? config.history : layers.map(() => ({ created_by: '', ...(config.created ? { created: config.created } : {}) }));
  const rows = entries.map((e): HistoryRow => {
    const layer = e.empty_layer ? undefined : layers.shift();
    return {
      id: '<missing>',
      ...(e.created ? { created: e.created } : {}),
      createdBy: e.created_by ?? '',
      size: layer === undefined ? 0 : layerSize(layer),
      comment: e.comment ?? '',
    };
  });
  rows.reverse();
  if (rows.length) rows[0].id = id;
  return rows;
}
