/**
 * `restart [-t S]`: stop (TERM, grace, KILL) then start, under one hold of the container's lock so
 * no other verb comes between. A created or exited container is just started (docker's).
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
      await this.stopFlow.stopHeld(record.id, timeoutS);
      return await this.startFlow.startHeld(record.id);
    } finally {
      release();
    }
  }
}
