/**
 * cgroup v2 driver: <own cgroup>/nestbox/<id> with the controllers enabled in nestbox's
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
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NestboxError } from '../../lib/errors.js';
import type { CgroupPlacement, CgroupProbe } from '../../lib/contracts/types.js';
import type { CgroupHost } from './cgroup-probe.js';
import { type CgroupManager, type ResourceLimits } from './cgroup-manager.js';
import { emptyContainerCgroups, makeCgroup, pidsIn, removeCgroup, removeIfEmpty, writeKnob } from './cgroup-dir.js';

const CFS_PERIOD_US = 100_000;
const WANTED = ['memory', 'pids', 'cpu'];
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
    makeCgroup(this.parent);
    if (this.delegated) this.handDown();
    const enabled = this.enable();
    const dir = join(this.parent, containerId);
    makeCgroup(dir);
    try {
      const need = (c: string, flag: string) => {
        if (!enabled.includes(c)) throw new NestboxError('FAILED_PRECONDITION', `cannot enforce ${flag}: the cgroup v2 ${c} controller is not available in ${this.parent}`);
      };
      if (limits.memory !== undefined) { need('memory', '--memory'); writeKnob(dir, 'memory.max', String(limits.memory)); }
      if (limits.pidsLimit !== undefined) { need('pids', '--pids-limit'); writeKnob(dir, 'pids.max', String(limits.pidsLimit)); }
      if (limits.cpus !== undefined) {
        need('cpu', '--cpus');
        writeKnob(dir, 'cpu.max', `${Math.round(limits.cpus * CFS_PERIOD_US)} ${CFS_PERIOD_US}`);
      }
    } catch (err) {
      void this.destroy(containerId);
      throw err;
    }
    return { driver: 'v2', paths: [dir] };
  }

  async destroy(containerId: string): Promise<void> {
    await removeCgroup(join(this.parent, containerId));
    removeIfEmpty(this.parent);
  }

  async removeAbandoned(): Promise<string[]> {
    const ids = emptyContainerCgroups(this.parent);
    for (const id of ids) await this.destroy(id);
    return ids;
  }

  /**
   * Enables in the (delegated) base cgroup's subtree_control the wanted controllers it has,
   * moving its processes into nestbox/service first when the kernel asks for it (EBUSY).
   */
  private handDown(): void {
    const own = this.base;
    const has = words(join(own, 'cgroup.controllers'));
    const enabled = words(join(own, 'cgroup.subtree_control'));
    for (const c of WANTED.filter((x) => has.includes(x) && !enabled.includes(x))) {
      try {
        writeFileSync(join(own, 'cgroup.subtree_control'), `+${c}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EBUSY') continue; // reported when a limit needs it
        this.moveOwnProcessesToLeaf(own);
        try { writeFileSync(join(own, 'cgroup.subtree_control'), `+${c}`); } catch { /* reported when needed */ }
      }
    }
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
  private enable(): string[] {
    let inParent: string[] = [];
    try {
      inParent = readFileSync(join(this.parent, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
    } catch { /* none */ }
    for (const c of inParent.filter((x) => WANTED.includes(x))) {
      try { writeKnob(this.parent, 'cgroup.subtree_control', `+${c}`); } catch { /* reported when needed */ }
    }
    try {
      return readFileSync(join(this.parent, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/);
    } catch {
      return [];
    }
  }
}

function words(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}
