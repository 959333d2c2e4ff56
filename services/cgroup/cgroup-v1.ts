/**
 * cgroup v1 driver: one directory per hierarchy under <own cgroup>/nestbox/<id>. On hybrid hosts
 * (like this one) controllers are taken from the v1 mounts; the v2 mount there holds none.
 */
import { join } from 'node:path';
import { NestboxError } from '../../lib/errors.js';
import type { CgroupPlacement, CgroupProbe } from '../../lib/contracts/types.js';
import type { CgroupHost, MountedHierarchy } from './cgroup-probe.js';
import { type CgroupManager, type ResourceLimits } from './cgroup-manager.js';
import { emptyContainerCgroups, makeCgroup, removeCgroup, removeIfEmpty, writeKnob } from './cgroup-dir.js';

/** What a container gets a cgroup in; cpuset needs cpus/mems copied down, so only when asked. */
const USED = ['memory', 'pids', 'cpu', 'cpuacct', 'freezer'];
const CFS_PERIOD_US = 100_000;

export class CgroupV1Manager implements CgroupManager {
  readonly driver = 'v1' as const;
  private readonly hierarchies: MountedHierarchy[];

  constructor(private readonly host: CgroupHost) {
    this.hierarchies = host.v1.filter((h) => h.controllers.some((c) => USED.includes(c)));
  }

  describe(): CgroupProbe {
    const controllers: Record<string, string> = {};
    for (const h of this.hierarchies) for (const c of h.controllers) controllers[c] = join(h.ownDir, 'nestbox');
    return { layout: this.host.layout, driver: 'v1', controllers };
  }

  create(containerId: string, limits: ResourceLimits): CgroupPlacement {
    const dirs = new Map<string, string>();
    for (const h of this.hierarchies) {
      const dir = join(h.ownDir, 'nestbox', containerId);
      makeCgroup(dir);
      for (const c of h.controllers) dirs.set(c, dir);
    }
    try {
      if (limits.memory !== undefined) writeKnob(this.need(dirs, 'memory', '--memory'), 'memory.limit_in_bytes', String(limits.memory));
      if (limits.pidsLimit !== undefined) writeKnob(this.need(dirs, 'pids', '--pids-limit'), 'pids.max', String(limits.pidsLimit));
      if (limits.cpus !== undefined) {
        const cpu = this.need(dirs, 'cpu', '--cpus');
        writeKnob(cpu, 'cpu.cfs_period_us', String(CFS_PERIOD_US));
        writeKnob(cpu, 'cpu.cfs_quota_us', String(Math.round(limits.cpus * CFS_PERIOD_US)));
      }
    } catch (err) {
      void this.destroy(containerId);
      throw err;
    }
    return { driver: 'v1', paths: [...new Set(dirs.values())] };
  }

  async destroy(containerId: string): Promise<void> {
    for (const h of this.hierarchies) {
      const parent = join(h.ownDir, 'nestbox');
      await removeCgroup(join(parent, containerId));
      removeIfEmpty(parent);
    }
  }

  async removeAbandoned(): Promise<string[]> {
    const ids = new Set<string>();
    for (const h of this.hierarchies) for (const id of emptyContainerCgroups(join(h.ownDir, 'nestbox'))) ids.add(id);
    for (const id of ids) await this.destroy(id);
    return [...ids];
  }

  private need(dirs: Map<string, string>, controller: string, flag: string): string {
    const dir = dirs.get(controller);
    if (!dir) throw new NestboxError('FAILED_PRECONDITION', `cannot enforce ${flag}: the cgroup v1 ${controller} controller is not mounted on this host`);
    return dir;
  }
}

/** the hierarchies a container gets a cgroup in (setup-cgroups delegates these) */
export const V1_USED: readonly string[] = USED;
