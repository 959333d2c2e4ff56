/** `rm [-f] [-v]`: a running container only with force (killed first), then everything it owns. */
import { NestboxError } from '../../lib/errors.js';
import { CGROUP, NAMESPACE, NETWORK, STORAGE } from '../../lib/contracts/patterns.js';
import type { ContainerRecord, ContainerStore } from './container-store.js';
import { lockContainer, type ContainerLocks } from './container-locks.js';
import { volumeUsers } from './volume-mounts.js';
import type { ExitMonitor } from './exit-monitor.js';
import type { ServiceCaller } from './service-caller.js';
import { settleAll } from './settle-all.js';
import { crashPoint } from '../../lib/fault-point.js';
import { thawToEnd } from './pause-flow.js';

const SIGKILL = 9;
/** after SIGKILL a container is gone in milliseconds; this is for a namespace service coming back */
const KILL_WAIT_MS = 30_000;

export class RemoveFlow {
  constructor(
    private readonly services: ServiceCaller,
    private readonly store: ContainerStore,
    private readonly monitor: ExitMonitor,
    private readonly locks: ContainerLocks,
  ) {}

  async remove(ref: string, force: boolean, volumes = false): Promise<{ id: string; name: string }> {
    const { record, release } = await lockContainer(this.store, this.locks, ref);
    try {
      const removed = await this.removeContainer(record, force);
      if (volumes) await this.removeUnusedVolumes(record);
      return removed;
    } finally {
      release();
    }
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

  /** With its lock held: `removing` first (a crash then finishes the removal at the next start), then its parts, the record last. */
  private async removeContainer(record: ContainerRecord, force: boolean): Promise<{ id: string; name: string }> {
    const mayRun = record.state === 'running' || record.state === 'stopping' || record.state === 'removing';
    this.store.transition(record.id, force ? 'force-remove' : 'remove');
    crashPoint('rm:after-removing');
    if (mayRun) {
      // the exit leaves the record as it is (removing): the cleanup is the removal's, below
      const finalized = this.monitor.whenFinalized(record.id);
      await this.services.call('namespace', NAMESPACE.signal, { containerId: record.id, signal: SIGKILL }).catch(() => undefined);
      await thawToEnd(this.services, this.store, record.id);
      await withTimeout(finalized, KILL_WAIT_MS, `container ${record.name} did not end within ${KILL_WAIT_MS / 1000} s of SIGKILL`);
      crashPoint('rm:after-kill');
    }
    await removeContainerParts(this.services, record.id);
    this.store.remove(record.id);
    return { id: record.id, name: record.name };
  }
}

/** What a container owns outside its record: network files, cgroup, layer (each step idempotent). */
export async function removeContainerParts(services: ServiceCaller, containerId: string): Promise<void> {
  await settleAll([
    services.call('network', NETWORK.detach, { containerId }),
    services.call('cgroup', CGROUP.destroy, { containerId }),
    services.call('storage', STORAGE.removeRootfs, { containerId }),
  ]);
}

export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NestboxError('UNAVAILABLE', message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
