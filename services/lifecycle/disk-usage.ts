/**
 * `system df`: storage's measurements joined with the container records (who uses which image
 * and volume), as docker's rows. Reclaimable is what removing everything unused would free:
 * images no container uses (their layers that no used image shares), containers not running,
 * volumes no container names.
 */
import type { DiskUsage, StorageUsage } from '../../lib/contracts/types.js';
import type { ContainerRecord } from './container-store.js';

export function composeDiskUsage(usage: StorageUsage, records: ContainerRecord[]): DiskUsage {
  const layerUsers = new Map<string, number>();
  for (const image of usage.images) for (const d of new Set(image.layers)) layerUsers.set(d, (layerUsers.get(d) ?? 0) + 1);
  const sizeOf = (layers: Iterable<string>) => [...new Set(layers)].reduce((sum, d) => sum + (usage.layers[d] ?? 0), 0);

  const imageRows = usage.images.map((image) => {
    const size = sizeOf(image.layers);
    const shared = sizeOf(image.layers.filter((d) => (layerUsers.get(d) ?? 0) > 1));
    const containers = records.filter((c) => c.imageId === image.id).length;
    return { id: image.id, refs: image.refs, ...(image.created ? { created: image.created } : {}), size, shared, unique: size - shared, containers };
  });
  const allLayers = sizeOf(usage.images.flatMap((i) => i.layers));
  const usedLayers = sizeOf(usage.images.filter((i) => records.some((c) => c.imageId === i.id)).flatMap((i) => i.layers));

  const containerRows = records.map((c) => ({
    id: c.id, name: c.name, image: c.image, command: c.command,
    volumes: (c.volumes ?? []).filter((v) => v.kind === 'volume').length,
    size: usage.containers[c.id] ?? 0, createdAt: c.createdAt, state: c.state,
    ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
  }));
  const running = containerRows.filter((c) => c.state === 'running');

  const volumeRows = usage.volumes.map((v) => ({
    name: v.name,
    links: records.filter((c) => (c.volumes ?? []).some((s) => s.kind === 'volume' && s.source === v.name)).length,
    size: v.size,
  }));
  const sum = (rows: { size: number }[]) => rows.reduce((total, r) => total + r.size, 0);

  return {
    images: { total: imageRows.length, active: imageRows.filter((i) => i.containers > 0).length, size: allLayers, reclaimable: allLayers - usedLayers, rows: imageRows },
    containers: { total: containerRows.length, active: running.length, size: sum(containerRows), reclaimable: sum(containerRows) - sum(running), rows: containerRows },
    volumes: { total: volumeRows.length, active: volumeRows.filter((v) => v.links > 0).length, size: sum(volumeRows), reclaimable: sum(volumeRows.filter((v) => v.links === 0)), rows: volumeRows },
  };
}
