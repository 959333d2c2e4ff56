/**
 * `rmi` and `system df`: the verbs on images that depend on which containers use them (the
 * records are lifecycle's; the images and their files are storage's).
 *
 * rmi follows docker's rules (daemon/images/image_delete.go):
 *  - by reference: the tag goes (`Untagged:`); the image is deleted with its last tag. While a
 *    container (in any state) uses the image, removing its last tag needs -f, and then the
 *    image stays, untagged (`<none>`), until no container uses it.
 *  - by id (full or unique prefix): every tag goes and the image is deleted; refused while a
 *    container uses it, and with tags in several repositories, unless -f; a running container's
 *    image cannot be forced. Forced while a stopped container uses it, docker deletes the image
 *    config and keeps the layers; here the image stays as `<none>` (the container's start and
 *    export read its image).
 */
import { NestboxError } from '../../lib/errors.js';
import { STORAGE } from '../../lib/contracts/patterns.js';
import type { DiskUsage, ImageRemoval, StorageUsage } from '../../lib/contracts/types.js';
import type { ContainerRecord, ContainerStore } from './container-store.js';
import type { ServiceCaller } from './service-caller.js';
import { composeDiskUsage } from './disk-usage.js';

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** `host:5000/a/b:tag` -> `host:5000/a/b` */
export function repositoryOf(ref: string): string {
  const at = ref.indexOf('@');
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

export interface RemovalPlan {
  untag: string[];
  delete: boolean;
}

/**
 * What rmi may do to an image named `given` (found by reference when `ref` is set) whose tags
 * are `refs`, used by `users`; throws docker's conflict when it may not. Pure: unit-tested.
 */
export function planRemoval(given: string, image: { id: string; refs: string[]; ref?: string }, users: ContainerRecord[], force: boolean): RemovalPlan {
  const id = short(image.id);
  if (image.ref !== undefined) {
    if (image.refs.length > 1) return { untag: [image.ref], delete: false };
    if (users.length && !force) {
      throw new NestboxError('FAILED_PRECONDITION', `conflict: unable to remove repository reference "${given}" (must force) - container ${short(users[0].id)} is using its referenced image ${id}`);
    }
    return { untag: [image.ref], delete: users.length === 0 };
  }
  if (new Set(image.refs.map(repositoryOf)).size > 1 && !force) {
    throw new NestboxError('FAILED_PRECONDITION', `conflict: unable to delete ${id} (must be forced) - image is referenced in multiple repositories`);
  }
  const running = users.find((c) => c.state === 'running');
  if (running) throw new NestboxError('FAILED_PRECONDITION', `conflict: unable to delete ${id} (cannot be forced) - image is being used by running container ${short(running.id)}`);
  if (users.length && !force) throw new NestboxError('FAILED_PRECONDITION', `conflict: unable to delete ${id} (must be forced) - image is being used by stopped container ${short(users[0].id)}`);
  return { untag: image.refs, delete: users.length === 0 };
}

export class ImageFlow {
  constructor(private readonly services: ServiceCaller, private readonly store: ContainerStore) {}

  async remove(image: string, force: boolean): Promise<ImageRemoval> {
    const found = await this.services.call<{ id: string; refs: string[]; ref?: string }>('storage', STORAGE.lookupImage, { image });
    const records = this.store.list();
    const plan = planRemoval(image, found, records.filter((c) => c.imageId === found.id), force);
    const inUse = [...new Set(records.map((c) => c.imageId))];
    return this.services.call<ImageRemoval>('storage', STORAGE.removeImage, { id: found.id, untag: plan.untag, delete: plan.delete, inUse });
  }

  async diskUsage(): Promise<DiskUsage> {
    const records = this.store.list();
    const usage = await this.services.call<StorageUsage>('storage', STORAGE.diskUsage, { containers: records.map((c) => c.id) });
    return composeDiskUsage(usage, records);
  }
}
