/** `stop [-t S]`: SIGTERM to the container's pid 1, SIGKILL after the grace period (docker's). */
import { NestboxError } from '../../lib/errors.js';
import { NAMESPACE } from '../../lib/contracts/patterns.js';
import { lockContainer, type ContainerLocks } from './container-locks.js';
import type { ContainerStore } from './container-store.js';
import type { ExitMonitor } from './exit-monitor.js';
import { withTimeout } from './remove-flow.js';
import type { ServiceCaller } from './service-caller.js';
import { crashPoint } from '../../lib/fault-point.js';
import { thawToEnd } from './pause-flow.js';

const SIGTERM = 15;
const SIGKILL = 9;
export const DEFAULT_STOP_TIMEOUT_S = 10;
const KILL_WAIT_MS = 30_000;

export class StopFlow {
  constructor(
    private readonly services: ServiceCaller,
    private readonly store: ContainerStore,
    private readonly monitor: ExitMonitor,
    private readonly locks: ContainerLocks,
  ) {}

  async stop(ref: string, timeoutS = DEFAULT_STOP_TIMEOUT_S): Promise<{ id: string; name: string; exitCode?: number }> {
    const { record, release } = await lockContainer(this.store, this.locks, ref);
    try {
      return await this.stopHeld(record.id, timeoutS);
    } finally {
      release();
    }
  }

  /** stop with the container's lock held (stop, restart); the record says `stopping` meanwhile */
  async stopHeld(id: string, timeoutS = DEFAULT_STOP_TIMEOUT_S): Promise<{ id: string; name: string; exitCode?: number }> {
    // docker: stopping a container that is not running succeeds and changes nothing
    const { record, moved } = this.store.transition(id, 'stop');
    if (!moved) return { id, name: record.name, exitCode: record.exitCode };
    crashPoint('stop:after-stopping');
    const finalized = this.monitor.whenFinalized(id);
    try {
      if (await this.signal(id, SIGTERM)) {
        // a paused one gets it once thawed, and may end as it likes within the grace
        await thawToEnd(this.services, this.store, id);
        crashPoint('stop:after-term');
        const ended = await withTimeout(finalized, timeoutS * 1000, '').then(() => true, () => false);
        if (!ended) await this.signal(id, SIGKILL);
      }
      await withTimeout(finalized, KILL_WAIT_MS, `container ${record.name} did not end within ${KILL_WAIT_MS / 1000} s of SIGKILL`);
    } catch (err) {
      // it still runs as far as anyone can tell: say so, not "stopping" forever
      if (this.store.exists(id)) this.store.transition(id, 'stop-failed');
      throw err;
    }
    const after = this.store.exists(id) ? this.store.get(id) : undefined;
    return { id, name: record.name, exitCode: after?.exitCode };
  }

  /** false when it has no process any more (the monitor then records how it ended) */
  private async signal(id: string, signal: number): Promise<boolean> {
    try {
      await this.services.call('namespace', NAMESPACE.signal, { containerId: id, signal });
      return true;
    } catch (err) {
      if (err instanceof NestboxError && err.code === 'NOT_FOUND') return false;
      throw err;
    }
  }
}
