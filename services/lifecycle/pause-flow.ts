/**
 * `pause` / `unpause`: a running container's processes frozen and thawed through its cgroup's
 * freezer (the cgroup service: v1 freezer.state, v2 cgroup.freeze). As docker, paused is a flag
 * of a running container (State.Paused, ps `Up 3 seconds (Paused)`), not a state of its own.
 * The record says paused before the freeze and until after the thaw, so a crash in between leaves
 * it saying paused, which unpause (a thaw of a thawed cgroup) mends. While paused: exec and
 * attach are refused, as docker's; stop, kill -9 and rm -f thaw it after their signal, so it can
 * end (a v1 frozen task cannot).
 */
import { NestboxError } from '../../lib/errors.js';
import { CGROUP } from '../../lib/contracts/patterns.js';
import { lockContainer, type ContainerLocks } from './container-locks.js';
import type { ContainerStore } from './container-store.js';
import type { ServiceCaller } from './service-caller.js';

export class PauseFlow {
  constructor(private readonly services: ServiceCaller, private readonly store: ContainerStore, private readonly locks: ContainerLocks) {}

  async pause(ref: string): Promise<{ id: string; name: string }> {
    const { record, release } = await lockContainer(this.store, this.locks, ref);
    try {
      if (record.state !== 'running') throw new NestboxError('FAILED_PRECONDITION', `Container ${record.id} is not running`);
      if (record.paused) throw new NestboxError('FAILED_PRECONDITION', `Container ${record.id} is already paused`);
      this.store.update(record.id, { paused: true });
      try {
        await this.services.call('cgroup', CGROUP.freeze, { containerId: record.id });
      } catch (err) {
        this.store.update(record.id, { paused: undefined });
        throw new NestboxError((err as NestboxError).code ?? 'INTERNAL', `cannot pause container ${record.name}: ${(err as Error).message.replace(/^cannot freeze: /, '')}`);
      }
      return { id: record.id, name: record.name };
    } finally {
      release();
    }
  }

  async unpause(ref: string): Promise<{ id: string; name: string }> {
    const { record, release } = await lockContainer(this.store, this.locks, ref);
    try {
      if (!record.paused || record.state !== 'running') throw new NestboxError('FAILED_PRECONDITION', `Container ${record.id} is not paused`);
      await this.services.call('cgroup', CGROUP.thaw, { containerId: record.id });
      this.store.update(record.id, { paused: undefined });
      return { id: record.id, name: record.name };
    } finally {
      release();
    }
  }
}

/** After a signal meant to end a paused container (stop, kill -9, rm -f): thawed, so it can; a failure is the caller's exit wait's to report. */
export async function thawToEnd(services: ServiceCaller, store: ContainerStore, id: string): Promise<void> {
  if (!store.exists(id) || !store.get(id).paused) return;
  await services.call('cgroup', CGROUP.thaw, { containerId: id }).catch(() => undefined);
}
