/** `nestbox stats` rows as docker computes and prints them (pure, for unit tests). */
import type { CgroupStats } from '../../lib/contracts/types.js';
import { goFormatG } from './units.js';

export interface StatsSample extends CgroupStats {
  id: string;
  name: string;
  running: boolean;
}

/**
 * docker's CPU % (calculateCPUPercentUnix): the container's CPU time over the host's between two
 * samples, times the online CPUs, so 100% is one CPU busy. 0 when either counter did not move.
 */
export function cpuPercent(prev: Pick<CgroupStats, 'cpuUsageNs' | 'systemCpuNs'>, cur: Pick<CgroupStats, 'cpuUsageNs' | 'systemCpuNs' | 'onlineCpus'>): number {
  const cpuDelta = cur.cpuUsageNs - prev.cpuUsageNs;
  const systemDelta = cur.systemCpuNs - prev.systemCpuNs;
  if (cpuDelta <= 0 || systemDelta <= 0) return 0;
  return (cpuDelta / systemDelta) * cur.onlineCpus * 100;
}

export function memoryPercent(s: Pick<CgroupStats, 'memoryUsage' | 'memoryLimit'>): number {
  return s.memoryLimit > 0 ? (s.memoryUsage / s.memoryLimit) * 100 : 0;
}

const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** go-units BytesSize: 1024-based, %.4g */
export function binarySize(bytes: number): string {
  let size = bytes;
  let unit = 0;
  while (size >= 1024 && unit < BINARY.length - 1) {
    size /= 1024;
    unit++;
  }
  return `${goFormatG(size, 4)}${BINARY[unit]}`;
}

export interface StatsRow {
  ID: string;
  Container: string;
  Name: string;
  CPUPerc: string;
  MemUsage: string;
  MemPerc: string;
  PIDs: string;
  /** nestbox's additions to docker's json: the numbers behind MemUsage */
  MemUsageBytes: number;
  MemLimitBytes: number;
}

/** One container's row from its previous sample (undefined: no CPU % yet) and the current one. */
export function statsRow(prev: StatsSample | undefined, cur: StatsSample, container = cur.id.slice(0, 12)): StatsRow {
  const cpu = prev && prev.running && cur.running ? cpuPercent(prev, cur) : 0;
  return {
    ID: container,
    Container: container,
    Name: cur.name,
    CPUPerc: `${cpu.toFixed(2)}%`,
    MemUsage: `${binarySize(cur.memoryUsage)} / ${binarySize(cur.memoryLimit)}`,
    MemPerc: `${memoryPercent(cur).toFixed(2)}%`,
    PIDs: String(cur.pids),
    MemUsageBytes: cur.memoryUsage,
    MemLimitBytes: cur.memoryLimit,
  };
}
