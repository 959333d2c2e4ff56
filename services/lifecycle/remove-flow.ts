/** `rm [-f] [-v]`: a running container only with force (killed first), then everything it owns. */
import { NestboxError } from '../../lib/errors.js';
import { CGROUP, NAMESPACE, NETWORK, STORAGE } from '../../lib/contracts/patterns.js';
import type { ContainerRecord, ContainerStore } from './container-store.js';
import { volumeUsers } from './volume-mounts.js';
import type { ExitMonitor } from './exit-monitor.js';
import type { ServiceCaller } from './service-caller.js';

const SIGKILL = 9;
/** after SIGKILL a container is gone in milliseconds; this is for a namespace service coming back */
const KILL_WAIT_MS = 30_000;

export class RemoveFlow {
  constructor(private readonly services: ServiceCaller, private readonly store: ContainerStore, private readonly monitor: ExitMonitor) {}

  async remove(ref: string, force: boolean, volumes = false): Promise<{ id: string; name: string }> {
    const record = this.store.find(ref);
    const removed = await this.removeContainer(record, force);
    if (volumes) await this.removeUnusedVolumes(record);
    return removed;
  }

  /** `volume rm`: refused while any container (running or not) names it in its -v, as docker. */
  async removeVolume(name: string): Promise<{ name: string }> {
    const users = volumeUsers(this.store.list(), name);
    if (users.length) throw new NestboxError('FAILED_PRECONDITION', `volume ${name} is in use by container ${users.join(', ')}`);
    await this.services.call('storage', STORAGE.volumeRemove, { name });
    return { name };
  }

  /** rm -v: the named volumes of RECORD that no other container uses. */
  private async removeUnusedVolumes(record: ContainerRecord): Promise<void> {
    const names = new Set((record.volumes ?? []).filter((v) => v.kind === 'volume').map((v) => v.source));
    for (const name of names) {
      if (volumeUsers(this.store.list(), name, record.id).length === 0) await this.services.call('storage', STORAGE.volumeRemove, { name });
    }
  }

  private async removeContainer(record: ContainerRecord, force: boolean): Promise<{ id: string; name: string }> {
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
