/** `rm [-f]`: a running container only with force (killed first), then everything it owns. */
import { NestboxError } from '../../lib/errors.js';
import { CGROUP, NAMESPACE, NETWORK, STORAGE } from '../../lib/contracts/patterns.js';
import type { ContainerStore } from './container-store.js';
import type { ExitMonitor } from './exit-monitor.js';
import type { ServiceCaller } from './service-caller.js';

const SIGKILL = 9;
/** after SIGKILL a container is gone in milliseconds; this is for a namespace service coming back */
const KILL_WAIT_MS = 30_000;

export class RemoveFlow {
  constructor(private readonly services: ServiceCaller, private readonly store: ContainerStore, private readonly monitor: ExitMonitor) {}

  async remove(ref: string, force: boolean): Promise<{ id: string; name: string }> {
    const record = this.store.find(ref);
    if (record.state === 'running' || record.state === 'created') {
      if (!force) {
        throw new NestboxError('FAILED_PRECONDITION', `cannot remove container ${record.name}: it is ${record.state}; stop it first or use rm -f`);
      }
      const finalized = this.monitor.whenFinalized(record.id);
      await this.services.call('namespace', NAMESPACE.signal, { containerId: record.id, signal: SIGKILL }).catch(() => undefined);
      await withTimeout(finalized, KILL_WAIT_MS, `container ${record.name} did not end within ${KILL_WAIT_MS / 1000} s of SIGKILL`);
      if (!this.store.exists(record.id)) return { id: record.id, name: record.name }; // it was --rm
    }
    const containerId = record.id;
    await this.services.call('network', NETWORK.detach, { containerId });
    await this.services.call('cgroup', CGROUP.destroy, { containerId });
    await this.services.call('storage', STORAGE.removeRootfs, { containerId });
    this.store.remove(containerId);
    return { id: record.id, name: record.name };
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NestboxError('UNAVAILABLE', message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
