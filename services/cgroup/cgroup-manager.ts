/**
 * One interface for cgroup v1 and v2 (after youki's CgroupManager): the driver is chosen once at
 * start by probing the host. A limit that cannot be enforced is an error, never silently dropped.
 */
import type { CgroupPlacement, CgroupProbe, CgroupStats } from '../../lib/contracts/types.js';
import type { ResourceLimits } from '../../lib/resource-limits.js';

export type { ResourceLimits } from '../../lib/resource-limits.js';
export { requestedLimits } from '../../lib/resource-limits.js';

export interface CgroupManager {
  readonly driver: 'v1' | 'v2' | 'none';
  describe(): CgroupProbe;
  /** Creates the container's cgroup(s) with limits applied; the runtime joins them before exec. */
  create(containerId: string, limits: ResourceLimits): CgroupPlacement;
  /** Moves a process into the container's cgroup(s) (the runtime does this itself for pid 1). */
  addProcess(containerId: string, pid: number): void;
  /** One sample of the counters; NOT_FOUND when the container has no cgroup (it is not running). */
  stats(containerId: string): CgroupStats;
  /** Stops every process of the container (v1 freezer, v2 cgroup.freeze) until thaw. */
  freeze(containerId: string): Promise<void>;
  thaw(containerId: string): Promise<void>;
  /** Kills what is left inside and removes the cgroup(s); idempotent. */
  destroy(containerId: string): Promise<void>;
  /**
   * Removes container cgroups with no process left (a run cut short by a crash or a stop of
   * the services); returns their ids. Called once when the service starts.
   */
  removeAbandoned(): Promise<string[]>;
}
