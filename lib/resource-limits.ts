/**
 * The cgroup limits a run may ask for (run -m, --cpus, ...): the type, and the checks that need no
 * host (the CLI runs them before it starts anything; the cgroup service again, for the job API).
 */
import { NestboxError } from './errors.js';

export interface ResourceLimits {
  /** bytes (-m/--memory) */
  memory?: number;
  /** bytes of memory + swap together (docker's --memory-swap); -1 is unlimited swap */
  memorySwap?: number;
  /** fraction of CPUs (--cpus 0.5) */
  cpus?: number;
  /** relative weight, v1 cpu.shares (--cpu-shares) */
  cpuShares?: number;
  /** CPU list such as 0-2,4 (--cpuset-cpus) */
  cpusetCpus?: string;
  pidsLimit?: number;
}

export const CFS_PERIOD_US = 100_000;
/** docker's minimum memory limit */
export const MIN_MEMORY = 6 * 1024 * 1024;
/** the kernel's cpu.shares range (v1 clamps to it silently; we refuse instead) */
export const MIN_SHARES = 2;
export const MAX_SHARES = 262_144;

const FLAGS: [keyof ResourceLimits, string][] = [
  ['memory', '--memory'], ['memorySwap', '--memory-swap'], ['cpus', '--cpus'], ['cpuShares', '--cpu-shares'],
  ['cpusetCpus', '--cpuset-cpus'], ['pidsLimit', '--pids-limit'],
];

/** The options a request sets, as CLI flags (for "cannot enforce ..." lines). */
export function requestedLimits(limits: ResourceLimits): string[] {
  return FLAGS.filter(([k]) => limits[k] !== undefined).map(([, flag]) => flag);
}

/** Checks each value and the pairs docker checks; one line naming what is wrong. */
export function checkLimits(l: ResourceLimits): void {
  const bad = (msg: string) => { throw new NestboxError('INVALID_ARGUMENT', msg); };
  if (l.memory !== undefined && (!Number.isInteger(l.memory) || l.memory < MIN_MEMORY)) bad(`invalid --memory ${l.memory}: the minimum memory limit is 6MB`);
  if (l.memorySwap !== undefined) {
    if (l.memory === undefined) bad('--memory-swap needs --memory: set the memory limit too');
    if (l.memorySwap !== -1 && (!Number.isInteger(l.memorySwap) || l.memorySwap < l.memory!)) {
      bad(`invalid --memory-swap ${l.memorySwap}: it is memory plus swap and must be at least --memory (${l.memory}), or -1 for unlimited swap`);
    }
  }
  if (l.cpus !== undefined && !(l.cpus > 0 && Math.round(l.cpus * CFS_PERIOD_US) >= 1000)) bad(`invalid --cpus ${l.cpus}: the range is 0.01 or more`);
  if (l.cpuShares !== undefined && (!Number.isInteger(l.cpuShares) || l.cpuShares < MIN_SHARES || l.cpuShares > MAX_SHARES)) {
    bad(`invalid --cpu-shares ${l.cpuShares}: the range is ${MIN_SHARES} to ${MAX_SHARES}`);
  }
  if (l.cpusetCpus !== undefined) parseCpuList(l.cpusetCpus, '--cpuset-cpus');
  if (l.pidsLimit !== undefined && (!Number.isInteger(l.pidsLimit) || l.pidsLimit < 1)) bad(`invalid --pids-limit ${l.pidsLimit}: it must be 1 or more`);
}

/** The kernel's CPU list format ("0-2,4"); sorted CPU numbers. */
export function parseCpuList(text: string, flag = 'CPU list'): number[] {
  const cpus = new Set<number>();
  const t = text.trim();
  if (t === '') return [];
  for (const part of t.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
    if (!m || hi < lo || hi > 8191) throw new NestboxError('INVALID_ARGUMENT', `invalid ${flag} "${text}": expected CPU numbers or ranges like 0-2,4`);
    for (let c = lo; c <= hi; c++) cpus.add(c);
  }
  return [...cpus].sort((a, b) => a - b);
}
