/**
 * The mounts of a run's -v: a named volume is made on first use by the storage service (its
 * _data owned by container root) and bind-mounted; a host path is bind-mounted as it is. Both
 * rbind and rprivate, read-only with :ro. Which containers use a volume is read from their
 * records (volume rm and rm -v).
 */
import { NestboxError } from '../../lib/errors.js';
import { STORAGE } from '../../lib/contracts/patterns.js';
import type { OciMount } from '../../lib/contracts/types.js';
import { checkDistinctDestinations, VOLUME_NAME, type VolumeSpec } from '../../lib/volume-spec.js';
import type { ContainerRecord } from './container-store.js';
import type { ServiceCaller } from './service-caller.js';

export async function volumeMounts(services: ServiceCaller, specs: VolumeSpec[], owner: { rootUid: number; rootGid: number }): Promise<OciMount[]> {
  checkDistinctDestinations(specs);
  const mounts: OciMount[] = [];
  for (const v of specs) {
    let source = v.source;
    if (v.kind === 'volume') {
      if (!VOLUME_NAME.test(v.source)) throw new NestboxError('INVALID_ARGUMENT', `invalid volume name "${v.source}": it must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
      source = (await services.call<{ Mountpoint: string }>('storage', STORAGE.volumeEnsure, { name: v.source, ...owner })).Mountpoint;
    } else if (!v.source.startsWith('/')) {
      throw new NestboxError('INVALID_ARGUMENT', `bind mount source "${v.source}" must be an absolute path`);
    }
    mounts.push({ destination: v.destination, type: 'bind', source, options: ['rbind', 'rprivate', ...(v.readonly ? ['ro'] : [])] });
  }
  return mounts;
}

/** The containers (names) whose -v names the volume NAME. */
export function volumeUsers(records: ContainerRecord[], name: string, except?: string): string[] {
  return records.filter((r) => r.id !== except && (r.volumes ?? []).some((v) => v.kind === 'volume' && v.source === name)).map((r) => r.name);
}
