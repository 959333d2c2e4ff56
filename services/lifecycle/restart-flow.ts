/**
 * `restart [-t S]`: stop (TERM, grace, KILL) then start, under one hold of the container's lock so
 * no other verb comes between. A created or exited container is just started (docker's). A --rm
 * container is kept across its restart, as docker keeps it (moby turns AutoRemove off for the
 * stop and back on after): its end removes it, not its restart.
 */
import type { StartReply } from '../../lib/contracts/types.js';
import { lockContainer, type ContainerLocks } from './container-locks.js';
import type { ContainerStore } from './container-store.js';
import type { StartFlow } from './start-flow.js';
import type { StopFlow } from './stop-flow.js';

export class RestartFlow {
  constructor(
    private readonly store: ContainerStore,
    private readonly locks: ContainerLocks,
    private readonly stopFlow: StopFlow,
    private readonly startFlow: StartFlow,
  ) {}

  async restart(ref: string, timeoutS?: number): Promise<StartReply> {
    const { record, release } = await lockContainer(this.store, this.locks, ref);
    try {
      const keep = record.autoRemove && record.state === 'running';
      if (keep) this.store.update(record.id, { autoRemove: false });
      try {
        await this.stopFlow.stopHeld(record.id, timeoutS);
      } finally {
        if (keep && this.store.exists(record.id)) this.store.update(record.id, { autoRemove: true });
      }
      return await this.startFlow.startHeld(record.id);
    } finally {
      release();
    }
  }
}
