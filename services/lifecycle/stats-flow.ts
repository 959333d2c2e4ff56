/**
 * `nestbox stats` and `nestbox inspect`: what the records and the cgroup service know about
 * containers. CPU % needs two samples; the caller takes them (it knows how long it waited).
 */
import { CGROUP } from '../../lib/contracts/patterns.js';
import type { CgroupStats } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import type { ContainerRecord, ContainerStore } from './container-store.js';
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

  inspect(ref: string): Record<string, unknown> {
    return inspectView(this.store.find(ref));
  }
}

/** The record in docker's inspect shape (the fields nestbox has; more come with the lifecycle issue). */
export function inspectView(c: ContainerRecord): Record<string, unknown> {
  const l = c.limits ?? {};
  // docker's words: a container being stopped still runs; one being made is not there yet
  const status = c.state === 'stopping' ? 'running' : c.state === 'creating' ? 'created' : c.state;
  return {
    Id: c.id,
    Created: c.createdAt,
    Path: c.command[0] ?? '',
    Args: c.command.slice(1),
    State: {
      Status: status,
      Running: status === 'running',
      OOMKilled: c.oomKilled === true,
      ExitCode: c.exitCode ?? 0,
      Error: c.error ?? '',
      StartedAt: c.startedAt ?? '0001-01-01T00:00:00Z',
      FinishedAt: c.finishedAt ?? '0001-01-01T00:00:00Z',
    },
    Image: c.imageId,
    Name: `/${c.name}`,
    HostConfig: {
      AutoRemove: c.autoRemove,
      Memory: l.memory ?? 0,
      MemorySwap: l.memorySwap ?? 0,
      NanoCpus: l.cpus !== undefined ? Math.round(l.cpus * 1e9) : 0,
      CpuShares: l.cpuShares ?? 0,
      CpusetCpus: l.cpusetCpus ?? '',
      PidsLimit: l.pidsLimit ?? null,
    },
    Config: { Hostname: c.hostname, Image: c.image, Cmd: c.command },
  };
}
