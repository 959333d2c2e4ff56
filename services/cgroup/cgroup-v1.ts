/**
 * cgroup v1 driver: one directory per hierarchy under <own cgroup>/nestbox/<id>. On hybrid hosts
 * (like this one) controllers are taken from the v1 mounts; the v2 mount there holds none.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NestboxError } from '../../lib/errors.js';
import type { CgroupPlacement, CgroupProbe, CgroupStats } from '../../lib/contracts/types.js';
import type { CgroupHost, MountedHierarchy } from './cgroup-probe.js';
import type { CgroupManager } from './cgroup-manager.js';
import { checkCpusAvailable, checkCpusWithin, checkLimits, v1Writes, type ResourceLimits } from './cgroup-limits.js';
import { hostCpu, hostMemory, parseFlatKeyed, parseLimit, readText } from './cgroup-stats.js';
import { emptyContainerCgroups, makeCgroup, pidsIn, removeCgroup, removeIfEmpty, untilKnobReads, writeKnob } from './cgroup-dir.js';

const USED = ['memory', 'pids', 'cpu', 'cpuacct', 'freezer', 'cpuset'];
/** A new v1 cpuset cgroup starts with no CPUs and no memory nodes: it gets a container only when asked. */
const ON_REQUEST = 'cpuset';

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
    checkLimits(limits);
    if (limits.cpus !== undefined) checkCpusWithin(limits.cpus, hostCpu().onlineCpus);
    const memory = this.hierarchy('memory');
    const writes = v1Writes(limits, { memsw: !!memory && existsSync(join(memory.ownDir, 'memory.memsw.limit_in_bytes')) });
    for (const w of writes) {
      if (!this.hierarchy(w.controller)) throw new NestboxError('FAILED_PRECONDITION', `cannot enforce ${w.flag}: the cgroup v1 ${w.controller} controller is not mounted on this host`);
    }
    if (limits.cpusetCpus !== undefined) {
      const own = this.hierarchy('cpuset')!.ownDir;
      checkCpusAvailable(limits.cpusetCpus, readText(own, 'cpuset.effective_cpus') ?? readText(own, 'cpuset.cpus') ?? '');
    }
    const dirs: string[] = [];
    try {
      for (const h of this.hierarchies) {
        if (h.controllers.includes(ON_REQUEST) && limits.cpusetCpus === undefined) continue;
        const dir = this.dirOf(h, containerId);
        if (h.controllers.includes('cpuset')) makeCpusetCgroup(h.ownDir, dir);
        else makeCgroup(dir);
        dirs.push(dir);
      }
      for (const w of writes) writeKnob(this.dirOf(this.hierarchy(w.controller)!, containerId), w.file, w.value);
    } catch (err) {
      // the refusal is the error to report; a failed removal is retried at the next start
      this.destroy(containerId).catch(() => undefined);
      throw err;
    }
    return { driver: 'v1', paths: dirs };
  }

  addProcess(containerId: string, pid: number): void {
    for (const h of this.hierarchies) {
      const dir = this.dirOf(h, containerId);
      if (existsSync(dir)) writeKnob(dir, 'cgroup.procs', String(pid));
    }
  }

  stats(containerId: string): CgroupStats {
    const dir = (c: string) => {
      const h = this.hierarchy(c);
      return h ? this.dirOf(h, containerId) : undefined;
    };
    const mem = dir('memory');
    const usage = mem ? readText(mem, 'memory.usage_in_bytes') : undefined;
    if (mem === undefined || usage === undefined) throw new NestboxError('NOT_FOUND', `container ${containerId.slice(0, 12)} has no memory cgroup (is it running?)`);
    const memStat = parseFlatKeyed(readText(mem, 'memory.stat') ?? '');
    const cpuacct = dir('cpuacct');
    const pids = dir('pids');
    return {
      memoryUsage: Math.max(0, Number(usage.trim()) - (memStat.total_inactive_file ?? 0)),
      memoryLimit: parseLimit(readText(mem, 'memory.limit_in_bytes') ?? '') ?? hostMemory(),
      cpuUsageNs: Number((cpuacct && readText(cpuacct, 'cpuacct.usage')?.trim()) || 0),
      ...hostCpu(),
      pids: Number((pids && readText(pids, 'pids.current')?.trim()) || (pids ? pidsIn(pids).length : 0)),
    };
  }

  async freeze(containerId: string): Promise<void> {
    await this.setFreezer(containerId, 'FROZEN');
  }

  async thaw(containerId: string): Promise<void> {
    await this.setFreezer(containerId, 'THAWED');
  }

  async destroy(containerId: string): Promise<void> {
    for (const h of this.hierarchies) {
      await removeCgroup(this.dirOf(h, containerId));
      removeIfEmpty(join(h.ownDir, 'nestbox'));
    }
  }

  async removeAbandoned(): Promise<string[]> {
    const ids = new Set<string>();
    for (const h of this.hierarchies) for (const id of emptyContainerCgroups(join(h.ownDir, 'nestbox'))) ids.add(id);
    for (const id of ids) await this.destroy(id);
    return [...ids];
  }

  private hierarchy(controller: string): MountedHierarchy | undefined {
    return this.hierarchies.find((h) => h.controllers.includes(controller));
  }

  private dirOf(h: MountedHierarchy, containerId: string): string {
    return join(h.ownDir, 'nestbox', containerId);
  }

  /** FREEZING is a passing state (a task in an uninterruptible sleep): waited out. */
  private async setFreezer(containerId: string, state: 'FROZEN' | 'THAWED'): Promise<void> {
    const h = this.hierarchy('freezer');
    if (!h) throw new NestboxError('FAILED_PRECONDITION', 'cannot freeze: the cgroup v1 freezer controller is not mounted on this host');
    const dir = this.dirOf(h, containerId);
    if (!existsSync(dir)) throw new NestboxError('NOT_FOUND', `container ${containerId.slice(0, 12)} has no freezer cgroup (is it running?)`);
    writeKnob(dir, 'freezer.state', state);
    await untilKnobReads(dir, 'freezer.state', state);
  }
}

/** cpuset cgroups need CPUs and memory nodes before a task may join: copied down from the parent. */
function makeCpusetCgroup(ownDir: string, dir: string): void {
  const parent = join(ownDir, 'nestbox');
  makeCgroup(parent);
  for (const knob of ['cpuset.cpus', 'cpuset.mems']) {
    if (!readText(parent, knob)?.trim()) writeKnob(parent, knob, readText(ownDir, knob)?.trim() ?? '');
  }
  makeCgroup(dir);
  writeKnob(dir, 'cpuset.mems', readText(parent, 'cpuset.mems')?.trim() ?? '');
}
/**
 * the hierarchies setup-cgroups delegates: not cpuset, whose dirs would need cpus/mems copied down
 * at setup (a rootless --cpuset-cpus on v1 is refused as not delegated)
 */
export const V1_USED: readonly string[] = USED.filter((c) => c !== 'cpuset');
