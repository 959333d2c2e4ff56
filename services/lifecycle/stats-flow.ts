/**
 * `nestbox stats` and `nestbox inspect`: what the records and the cgroup service know about
 * containers. CPU % needs two samples; the caller takes them (it knows how long it waited).
 */
import { CGROUP, NAMESPACE } from '../../lib/contracts/patterns.js';
import type { CgroupStats, ProcessStateReply } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import type { ContainerStore } from './container-store.js';
import { inspectView } from './inspect-view.js';
import type { ServiceCaller } from './service-caller.js';

export interface ContainerStatsSample extends CgroupStats {
  id: string;
  name: string;
  running: boolean;
}

const STOPPED: CgroupStats = { memoryUsage: 0, memoryLimit: 0, cpuUsageNs: 0, systemCpuNs: 0, onlineCpus: 0, pids: 0 };

export class StatsFlow {
  constructor(private readonly services: ServiceCaller, private readonly store: ContainerStore) {}

  /** The named containers (docker shows a stopped one with zeros), or every running one. */
  async sample(refs: string[]): Promise<ContainerStatsSample[]> {
    const records = refs.length ? refs.map((r) => this.store.find(r)) : this.store.list().filter((c) => c.state === 'running');
    return Promise.all(records.map(async (c) => {
      if (c.state !== 'running') return { id: c.id, name: c.name, running: false, ...STOPPED };
      try {
        const s = await this.services.call<CgroupStats>('cgroup', CGROUP.stats, { containerId: c.id });
        return { id: c.id, name: c.name, running: true, ...s };
      } catch (err) {
        // it ended between the record read and the sample
        if (err instanceof NestboxError && err.code === 'NOT_FOUND') return { id: c.id, name: c.name, running: false, ...STOPPED };
        throw err;
      }
    }));
  }

  /** docker's shape (inspect-view.ts), with the pid of a running one from its shim's record */
  async inspect(ref: string): Promise<Record<string, unknown>> {
    const c = this.store.find(ref);
    let pid: number | undefined;
    if (c.state === 'running' || c.state === 'stopping') {
      const s = await this.services.call<ProcessStateReply>('namespace', NAMESPACE.state, { containerId: c.id }).catch(() => undefined);
      if (s?.status === 'running') pid = s.pid;
    }
    return inspectView(c, { pid, containerDir: this.store.layout.container(c.id), volumesDir: this.store.layout.volumes });
  }
}
