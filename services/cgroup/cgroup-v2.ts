/**
 * cgroup v2 driver (Documentation/admin-guide/cgroup-v2.rst): <own cgroup>/nestbox/<id> with the controllers enabled in nestbox's
 * subtree_control. The own cgroup must allow that (a delegated subtree whose processes live in a
 * leaf); when it does not, the probe reports why and limits are refused.
 *
 * Rootless in a delegated cgroup (systemd's user delegation) whose subtree_control lacks a
 * controller it has: the kernel's "no internal processes" rule lets a non-root cgroup enable
 * controllers for its children only while it holds no process, so its processes (nestbox's
 * services, and whatever else the user runs there) are first moved into the leaf
 * nestbox/service, then the controllers are enabled (as crun and podman do). With the subtree
 * root made by `nestbox system setup-cgroups` the services run in its leaf `service` and the
 * base is the subtree root, whose controllers setup enabled: nothing moves. As root the own
 * cgroup is somebody else's (a login scope, a unit) and is never changed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NestboxError } from '../../lib/errors.js';
import type { CgroupPlacement, CgroupProbe, CgroupStats } from '../../lib/contracts/types.js';
import type { CgroupHost } from './cgroup-probe.js';
import type { CgroupManager } from './cgroup-manager.js';
import { checkCpusAvailable, checkCpusWithin, checkLimits, v2Writes, type ResourceLimits } from './cgroup-limits.js';
import { hostCpu, hostMemory, parseFlatKeyed, parseLimit, readText } from './cgroup-stats.js';
import { emptyContainerCgroups, makeCgroup, pidsIn, removeCgroup, removeIfEmpty, untilKnobReads, writeKnob } from './cgroup-dir.js';

const WANTED = ['cpuset', 'cpu', 'memory', 'pids'];
/** the controllers a container's limits need (setup-cgroups hands these down on v2) */
export const V2_WANTED: readonly string[] = WANTED;
/** the leaf the own cgroup's processes move to when controllers must be enabled below it */
export const SERVICE_LEAF = 'service';

export class CgroupV2Manager implements CgroupManager {
  readonly driver = 'v2' as const;
  private readonly parent: string;

  private readonly delegated: boolean;
  /** the cgroup nestbox/ is made in: the own one, or the subtree root delegated by setup-cgroups */
  private readonly base: string;

  constructor(private readonly host: CgroupHost, opts: { delegated?: boolean; base?: string } = {}) {
    this.delegated = opts.delegated ?? (process.getuid?.() ?? 0) !== 0;
    this.base = opts.base ?? host.v2!.ownDir;
    this.parent = join(this.base, 'nestbox');
  }

  describe(): CgroupProbe {
    const controllers: Record<string, string> = {};
    for (const c of this.available()) controllers[c] = this.parent;
    return { layout: this.host.layout, driver: 'v2', controllers };
  }

  create(containerId: string, limits: ResourceLimits): CgroupPlacement {
    checkLimits(limits);
    if (limits.cpus !== undefined) checkCpusWithin(limits.cpus, hostCpu().onlineCpus);
    makeCgroup(this.parent);
    const handDownFailures = this.delegated ? this.handDown() : new Map<string, string>();
    const enabled = this.enable(handDownFailures);
    const dir = join(this.parent, containerId);
    makeCgroup(dir);
    try {
      // memory.swap.max exists only where swap is accounted; the file appears with the memory controller
      const writes = v2Writes(limits, { swap: existsSync(join(dir, 'memory.swap.max')) });
      for (const w of writes) {
        if (!enabled.includes(w.controller)) {
          const why = handDownFailures.get(w.controller);
          throw new NestboxError('FAILED_PRECONDITION', `cannot enforce ${w.flag}: the cgroup v2 ${w.controller} controller is not available in ${this.parent}${why ? ` (${why})` : ''}`);
        }
      }
      if (limits.cpusetCpus !== undefined) checkCpusAvailable(limits.cpusetCpus, readText(this.parent, 'cpuset.cpus.effective') ?? '');
      for (const w of writes) writeKnob(dir, w.file, w.value);
    } catch (err) {
      // the refusal is the error to report; a failed removal is retried at the next start
      this.destroy(containerId).catch(() => undefined);
      throw err;
    }
    return { driver: 'v2', paths: [dir] };
  }

  addProcess(containerId: string, pid: number): void {
    writeKnob(this.dirOf(containerId), 'cgroup.procs', String(pid));
  }

  stats(containerId: string): CgroupStats {
    const dir = this.dirOf(containerId);
    const current = readText(dir, 'memory.current');
    const cpuStat = readText(dir, 'cpu.stat');
    if (cpuStat === undefined) throw new NestboxError('NOT_FOUND', `container ${containerId.slice(0, 12)} has no cgroup (is it running?)`);
    const memStat = parseFlatKeyed(readText(dir, 'memory.stat') ?? '');
    return {
      memoryUsage: Math.max(0, Number(current?.trim() ?? 0) - (memStat.inactive_file ?? 0)),
      memoryLimit: parseLimit(readText(dir, 'memory.max') ?? '') ?? hostMemory(),
      // cpu.stat's usage_usec is there without the cpu controller (the core accounts it)
      cpuUsageNs: (parseFlatKeyed(cpuStat).usage_usec ?? 0) * 1000,
      ...hostCpu(),
      pids: Number(readText(dir, 'pids.current')?.trim() ?? 0),
    };
  }

  async freeze(containerId: string): Promise<void> {
    await this.setFrozen(containerId, 1);
  }

  async thaw(containerId: string): Promise<void> {
    await this.setFrozen(containerId, 0);
  }

  async destroy(containerId: string): Promise<void> {
    await removeCgroup(this.dirOf(containerId));
    removeIfEmpty(this.parent);
  }

  async removeAbandoned(): Promise<string[]> {
    const ids = emptyContainerCgroups(this.parent);
    for (const id of ids) await this.destroy(id);
    return ids;
  }

  private dirOf(containerId: string): string {
    return join(this.parent, containerId);
  }

  /** cgroup.freeze (kernel 5.2+); cgroup.events says when every task has stopped. */
  private async setFrozen(containerId: string, value: 0 | 1): Promise<void> {
    const dir = this.dirOf(containerId);
    if (!existsSync(join(dir, 'cgroup.freeze'))) throw new NestboxError('NOT_FOUND', `container ${containerId.slice(0, 12)} has no freezable cgroup (is it running? cgroup.freeze needs kernel 5.2)`);
    writeKnob(dir, 'cgroup.freeze', String(value));
    await untilKnobReads(dir, 'cgroup.events', new RegExp(`^frozen ${value}$`, 'm'));
  }

  /**
   * Enables in the (delegated) base cgroup's subtree_control the wanted controllers it has,
   * moving its processes into nestbox/service first (the no-internal-process rule).
   */
  private handDown(): Map<string, string> {
    const own = this.base;
    const failed = new Map<string, string>();
    const has = wordsIn(join(own, 'cgroup.controllers'));
    const enabled = wordsIn(join(own, 'cgroup.subtree_control'));
    const missing = WANTED.filter((x) => has.includes(x) && !enabled.includes(x));
    if (missing.length === 0) return failed;
    // processes leave first: a cgroup holding processes may enable threaded controllers (cpu,
    // pids), which makes it a thread root that refuses domain ones (memory) with EOPNOTSUPP
    if (pidsIn(own).length) {
      try {
        this.moveOwnProcessesToLeaf(own);
      } catch (err) {
        for (const c of missing) failed.set(c, (err as Error).message);
        return failed;
      }
    }
    for (const c of missing) {
      try {
        writeFileSync(join(own, 'cgroup.subtree_control'), `+${c}`);
      } catch (err) {
        // reported when a limit needs it
        failed.set(c, `enabling it in ${join(own, 'cgroup.subtree_control')} failed: ${(err as Error).message}`);
      }
    }
    return failed;
  }

  private moveOwnProcessesToLeaf(own: string): void {
    const leaf = join(this.parent, SERVICE_LEAF);
    makeCgroup(leaf);
    for (const pid of pidsIn(own)) {
      try {
        writeFileSync(join(leaf, 'cgroup.procs'), String(pid));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw new NestboxError('FAILED_PRECONDITION', `cannot move process ${pid} from ${own} into ${leaf}: ${(err as Error).message}`);
      }
    }
  }

  private available(): string[] {
    try {
      // delegated: what the own cgroup has and create() hands down; else what it already hands down
      const file = this.delegated ? 'cgroup.controllers' : 'cgroup.subtree_control';
      return readFileSync(join(this.base, file), 'utf8').trim().split(/\s+/).filter((c) => WANTED.includes(c));
    } catch {
      return [];
    }
  }

  /**
   * Enables in nestbox/ (our own cgroup) what it received from the cgroup we run in; that
   * cgroup's own subtree_control is an existing setting and is never changed.
   */
  private enable(failed: Map<string, string>): string[] {
    for (const c of words(readText(this.parent, 'cgroup.controllers')).filter((x) => WANTED.includes(x))) {
      try {
        writeKnob(this.parent, 'cgroup.subtree_control', `+${c}`);
      } catch (err) {
        failed.set(c, (err as Error).message); // reported when a limit needs it
      }
    }
    try {
      return words(readFileSync(join(this.parent, 'cgroup.subtree_control'), 'utf8'));
    } catch {
      return [];
    }
  }
}

function words(text: string | undefined): string[] {
  return (text ?? '').trim().split(/\s+/).filter(Boolean);
}

function wordsIn(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}
