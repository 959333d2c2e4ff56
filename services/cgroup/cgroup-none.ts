/**
 * No cgroup we may create (rootless without delegation): runs without limits work, a run with
 * a limit is refused with the reason and the fix (podman rootless on v1 ignores limits; we don't).
 */
import { NestboxError } from '../../lib/errors.js';
import type { CgroupPlacement, CgroupProbe, CgroupStats } from '../../lib/contracts/types.js';
import type { CgroupHost } from './cgroup-probe.js';
import type { CgroupManager } from './cgroup-manager.js';
import { checkLimits, requestedLimits, type ResourceLimits } from './cgroup-limits.js';

export class NoCgroupManager implements CgroupManager {
  readonly driver = 'none' as const;

  constructor(private readonly host: CgroupHost, private readonly reason: string) {}

  describe(): CgroupProbe {
    return { layout: this.host.layout, driver: 'none', controllers: {}, unavailable: this.reason };
  }

  create(_containerId: string, limits: ResourceLimits): CgroupPlacement {
    checkLimits(limits);
    const flags = requestedLimits(limits);
    if (flags.length) throw new NestboxError('FAILED_PRECONDITION', `cannot enforce ${flags.join(', ')}: ${this.reason}`);
    return { driver: 'none', paths: [] };
  }

  addProcess(): void {}

  stats(): CgroupStats {
    throw new NestboxError('FAILED_PRECONDITION', `no container statistics: ${this.reason}`);
  }

  async freeze(): Promise<void> {
    throw new NestboxError('FAILED_PRECONDITION', `cannot freeze: ${this.reason}`);
  }

  async thaw(): Promise<void> {
    throw new NestboxError('FAILED_PRECONDITION', `cannot thaw: ${this.reason}`);
  }

  async destroy(): Promise<void> {}

  async removeAbandoned(): Promise<string[]> {
    return [];
  }
}
