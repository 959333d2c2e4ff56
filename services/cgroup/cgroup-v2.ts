/**
 * cgroup v2 driver: <own cgroup>/nestbox/<id> with the controllers enabled in nestbox's
 * subtree_control. The own cgroup must allow that (a delegated subtree whose processes live in a
 * leaf); when it does not, the probe reports why and limits are refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NestboxError } from '../../lib/errors.js';
import type { CgroupPlacement, CgroupProbe } from '../../lib/contracts/types.js';
import type { CgroupHost } from './cgroup-probe.js';
import { type CgroupManager, type ResourceLimits } from './cgroup-manager.js';
import { emptyContainerCgroups, makeCgroup, removeCgroup, removeIfEmpty, writeKnob } from './cgroup-dir.js';

const CFS_PERIOD_US = 100_000;
const WANTED = ['memory', 'pids', 'cpu'];

export class CgroupV2Manager implements CgroupManager {
  readonly driver = 'v2' as const;
  private readonly parent: string;

  constructor(private readonly host: CgroupHost) {
    this.parent = join(host.v2!.ownDir, 'nestbox');
  }

  describe(): CgroupProbe {
    const controllers: Record<string, string> = {};
    for (const c of this.available()) controllers[c] = this.parent;
    return { layout: this.host.layout, driver: 'v2', controllers };
  }

  create(containerId: string, limits: ResourceLimits): CgroupPlacement {
    makeCgroup(this.parent);
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

  private available(): string[] {
    try {
      return readFileSync(join(this.host.v2!.ownDir, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/).filter((c) => WANTED.includes(c));
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
