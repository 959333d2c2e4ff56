/** `kill [-s SIG]`: one signal to a running container's pid 1; its end is the exit monitor's to record. */
import { NestboxError } from '../../lib/errors.js';
import { NAMESPACE } from '../../lib/contracts/patterns.js';
import type { ContainerStore } from './container-store.js';
import type { ExitMonitor } from './exit-monitor.js';
import type { ServiceCaller } from './service-caller.js';
import { thawToEnd } from './pause-flow.js';

const SIGKILL = 9;

export class KillFlow {
  constructor(private readonly services: ServiceCaller, private readonly store: ContainerStore, private readonly monitor: ExitMonitor) {}

  async kill(ref: string, signal: number): Promise<{ id: string; name: string }> {
    const record = this.store.find(ref);
    // docker's words; "stopping" (a stop's grace) still runs
    const notRunning = () => new NestboxError('FAILED_PRECONDITION', `cannot kill container: ${ref}: container ${record.id} is not running`);
    if (record.state !== 'running' && (record.state as string) !== 'stopping') throw notRunning();
    try {
      // by the pid its shim recorded, believed only with the start time recorded next to it
      await this.services.call('namespace', NAMESPACE.signal, { containerId: record.id, signal });
      // docker's: a paused container is thawed after a SIGKILL (other signals wait for unpause)
      if (signal === SIGKILL) await thawToEnd(this.services, this.store, record.id);
    } catch (err) {
      if (err instanceof NestboxError && err.code === 'NOT_FOUND') throw notRunning();
      throw err;
    }
    // a signal that ends it: recorded as soon as the shim says so
    this.monitor.watch(record.id);
    return { id: record.id, name: record.name };
  }
}
