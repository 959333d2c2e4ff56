/**
 * Limits turned into cgroup knob writes for either driver. Pure (no file system): the drivers
 * apply the writes, unit tests check them.
 */
import { NestboxError } from '../../lib/errors.js';
import { CFS_PERIOD_US, parseCpuList, type ResourceLimits } from '../../lib/resource-limits.js';

export { checkLimits, requestedLimits, type ResourceLimits } from '../../lib/resource-limits.js';

/** One write into a container's cgroup; `flag` names the option it enforces for error lines. */
export interface KnobWrite {
  controller: string;
  file: string;
  value: string;
  flag: string;
}

/** docker's refusal of CPUs the host (the parent cgroup) does not have. */
export function checkCpusAvailable(requested: string, available: string): void {
  const have = new Set(parseCpuList(available));
  const missing = parseCpuList(requested, '--cpuset-cpus').filter((c) => !have.has(c));
  if (missing.length) {
    throw new NestboxError('INVALID_ARGUMENT', `invalid --cpuset-cpus ${requested}: requested CPUs are not available (available: ${available.trim()})`);
  }
}

/** docker's refusal of more CPUs than the host has online. */
export function checkCpusWithin(cpus: number, online: number): void {
  if (cpus > online) throw new NestboxError('INVALID_ARGUMENT', `invalid --cpus ${cpus}: the range is 0.01 to ${online}.00, as there are only ${online} CPUs available`);
}

/**
 * cpu.shares [2, 262144] to cpu.weight [1, 10000] as the OCI runtimes now map it (crun 1.22+,
 * runc 1.3+): 10^((l^2 + 125 l) / 612 - 7/34) with l = log2(shares), rounded up, so both defaults
 * meet (1024 -> 100). The older linear mapping gave 1024 -> 39, a low priority for the default.
 */
export function sharesToWeight(shares: number): number {
  if (shares <= 2) return 1;
  if (shares >= 262_144) return 10_000;
  const l = Math.log2(shares);
  const weight = 10 ** ((l * l + 125 * l) / 612 - 7 / 34);
  // float noise (100.00000000000003) must not round up to the next integer
  return Math.ceil(Math.round(weight * 1e6) / 1e6);
}

function cpuQuota(cpus: number): number {
  return Math.round(cpus * CFS_PERIOD_US);
}

/**
 * v1 writes in the order the kernel accepts them (memory.limit before memsw.limit, which must be
 * at least it). Without --memory-swap, docker lets a container use as much swap as memory
 * (memsw = 2 x memory) where swap is accounted, and leaves it alone where it is not.
 */
export function v1Writes(l: ResourceLimits, has: { memsw: boolean }): KnobWrite[] {
  const w: KnobWrite[] = [];
  const add = (controller: string, file: string, value: string | number, flag: string) => w.push({ controller, file, value: String(value), flag });
  if (l.memory !== undefined) {
    add('memory', 'memory.limit_in_bytes', l.memory, '--memory');
    if (l.memorySwap !== undefined) {
      if (!has.memsw) refuseSwap('memory.memsw.limit_in_bytes is missing: swap accounting is off (boot with swapaccount=1)');
      add('memory', 'memory.memsw.limit_in_bytes', l.memorySwap, '--memory-swap');
    } else if (has.memsw) {
      add('memory', 'memory.memsw.limit_in_bytes', l.memory * 2, '--memory');
    }
  }
  if (l.cpus !== undefined) {
    add('cpu', 'cpu.cfs_period_us', CFS_PERIOD_US, '--cpus');
    add('cpu', 'cpu.cfs_quota_us', cpuQuota(l.cpus), '--cpus');
  }
  if (l.cpuShares !== undefined) add('cpu', 'cpu.shares', l.cpuShares, '--cpu-shares');
  if (l.cpusetCpus !== undefined) add('cpuset', 'cpuset.cpus', l.cpusetCpus, '--cpuset-cpus');
  if (l.pidsLimit !== undefined) add('pids', 'pids.max', l.pidsLimit, '--pids-limit');
  return w;
}

/**
 * v2 writes (Documentation/admin-guide/cgroup-v2.rst): memory.swap.max is swap alone, so docker's
 * total becomes total - memory; cpu.max is "QUOTA PERIOD"; cpu.weight maps from shares.
 */
export function v2Writes(l: ResourceLimits, has: { swap: boolean }): KnobWrite[] {
  const w: KnobWrite[] = [];
  const add = (controller: string, file: string, value: string | number, flag: string) => w.push({ controller, file, value: String(value), flag });
  if (l.memory !== undefined) {
    add('memory', 'memory.max', l.memory, '--memory');
    if (l.memorySwap !== undefined) {
      if (!has.swap) refuseSwap('memory.swap.max is missing: the kernel does not account swap (CONFIG_MEMCG_SWAP, swapaccount=1)');
      add('memory', 'memory.swap.max', l.memorySwap === -1 ? 'max' : l.memorySwap - l.memory, '--memory-swap');
    } else if (has.swap) {
      add('memory', 'memory.swap.max', l.memory, '--memory');
    }
  }
  if (l.cpus !== undefined) add('cpu', 'cpu.max', `${cpuQuota(l.cpus)} ${CFS_PERIOD_US}`, '--cpus');
  if (l.cpuShares !== undefined) add('cpu', 'cpu.weight', sharesToWeight(l.cpuShares), '--cpu-shares');
  if (l.cpusetCpus !== undefined) add('cpuset', 'cpuset.cpus', l.cpusetCpus, '--cpuset-cpus');
  if (l.pidsLimit !== undefined) add('pids', 'pids.max', l.pidsLimit, '--pids-limit');
  return w;
}

function refuseSwap(why: string): never {
  throw new NestboxError('FAILED_PRECONDITION', `cannot enforce --memory-swap: ${why}`);
}
