/**
 * One interface for cgroup v1 and v2 (youki's CgroupManager): the driver is chosen once at start
 * by probing the host. A limit that cannot be enforced is an error, never silently dropped.
 */
import type { CgroupPlacement, CgroupProbe } from '../../lib/contracts/types.js';

export interface ResourceLimits {
  memory?: number;
  cpus?: number;
  pidsLimit?: number;
}

export interface CgroupManager {
  readonly driver: 'v1' | 'v2' | 'none';
  describe(): CgroupProbe;
  /** Creates the container's cgroup(s) with limits applied; the runtime joins them before exec. */
  create(containerId: string, limits: ResourceLimits): CgroupPlacement;
  /** Kills what is left inside and removes the cgroup(s); idempotent. */
  destroy(containerId: string): Promise<void>;
  /**
   * Removes container cgroups with no process left (a run cut short by a crash or a stop of
   * the services); returns their ids. Called once when the service starts.
   */
  removeAbandoned(): Promise<string[]>;
}

export function requestedLimits(limits: ResourceLimits): string[] {
  const names: string[] = [];
  if (limits.memory !== undefined) names.push('--memory');
  if (limits.cpus !== undefined) names.push('--cpus');
  if (limits.pidsLimit !== undefined) names.push('--pids-limit');
  return names;
}
