/**
 * No cgroup we may create (rootless without delegation): runs without limits work, a run with
 * a limit is refused with the reason and the fix (podman rootless on v1 ignores limits; we don't).
 */
import { NestboxError } from '../../lib/errors.js';
import type { CgroupPlacement, CgroupProbe } from '../../lib/contracts/types.js';
import type { CgroupHost } from './cgroup-probe.js';
import { requestedLimits, type CgroupManager, type ResourceLimits } from './cgroup-manager.js';

export class NoCgroupManager implements CgroupManager {
  readonly driver = 'none' as const;

  constructor(private readonly host: CgroupHost, private readonly reason: string) {}

  describe(): CgroupProbe {
    return { layout: this.host.layout, driver: 'none', controllers: {}, unavailable: this.reason };
  }

  create(_containerId: string, limits: ResourceLimits): CgroupPlacement {
    const flags = requestedLimits(limits);
    if (flags.length) throw new NestboxError('FAILED_PRECONDITION', `cannot enforce ${flags.join(', ')}: ${this.reason}`);
    return { driver: 'none', paths: [] };
  }

  async destroy(): Promise<void> {}

  async removeAbandoned(): Promise<string[]> {
    return [];
  }
}
