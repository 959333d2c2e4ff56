/** `rm [-f]`: a running container only with force (killed first), then everything it owns. */
import { NestboxError } from '../../lib/errors.js';
import { CGROUP, NAMESPACE, NETWORK, STORAGE } from '../../lib/contracts/patterns.js';
import type { ContainerStore } from './container-store.js';
import type { ServiceCaller } from './service-caller.js';

const SIGKILL = 9;

export class RemoveFlow {
  constructor(private readonly services: ServiceCaller, private readonly store: ContainerStore) {}

  async remove(ref: string, force: boolean): Promise<{ id: string; name: string }> {
    let record = this.store.find(ref);
    if (record.state === 'running' || record.state === 'created') {
      if (!force) {
        throw new NestboxError('FAILED_PRECONDITION', `cannot remove container ${record.name}: it is ${record.state}; stop it first or use rm -f`);
      }
      await this.services.call('namespace', NAMESPACE.signal, { containerId: record.id, signal: SIGKILL }).catch(() => undefined);
      record = await this.waitUntilExited(record.id);
    }
    const containerId = record.id;
    await this.services.call('network', NETWORK.detach, { containerId });
    await this.services.call('cgroup', CGROUP.destroy, { containerId });
    await this.services.call('storage', STORAGE.removeRootfs, { containerId });
    this.store.remove(containerId);
    return { id: record.id, name: record.name };
  }

  private async waitUntilExited(id: string) {
    for (let i = 0; i < 200; i++) {
      const r = this.store.get(id);
      if (r.state !== 'running' && r.state !== 'created') return r;
      await new Promise((res) => setTimeout(res, 50));
    }
    // a run whose process is gone but whose record was never closed: close it now
    return this.store.update(id, { state: 'exited', exitCode: 137, finishedAt: new Date().toISOString() });
  }
}
