/** The pure parts of cgroup limits: checks, CPU lists, the shares->weight mapping, v1/v2 knob writes. */
import test from 'ava';
import { checkLimits, parseCpuList, requestedLimits } from '../../lib/resource-limits.js';
import { checkCpusAvailable, checkCpusWithin, sharesToWeight, v1Writes, v2Writes } from '../../services/cgroup/cgroup-limits.js';

const MiB = 1024 * 1024;
const writes = (w: { file: string; value: string }[]) => w.map((x) => `${x.file}=${x.value}`);

test('checkLimits: one line naming the bad option', (t) => {
  t.throws(() => checkLimits({ cpus: 0 }), { message: /^invalid --cpus 0:/ });
  t.throws(() => checkLimits({ cpus: 0.001 }), { message: /--cpus/ });
  t.throws(() => checkLimits({ memory: 1024 }), { message: /^invalid --memory 1024: the minimum memory limit is 6MB$/ });
  t.throws(() => checkLimits({ memorySwap: 64 * MiB }), { message: /--memory-swap needs --memory/ });
  t.throws(() => checkLimits({ memory: 64 * MiB, memorySwap: 32 * MiB }), { message: /must be at least --memory/ });
  t.throws(() => checkLimits({ cpuShares: 1 }), { message: /--cpu-shares 1: the range is 2 to 262144/ });
  t.throws(() => checkLimits({ cpuShares: 262_145 }), { message: /--cpu-shares/ });
  t.throws(() => checkLimits({ cpusetCpus: '1-0' }), { message: /--cpuset-cpus/ });
  t.throws(() => checkLimits({ cpusetCpus: 'a' }), { message: /--cpuset-cpus/ });
  t.throws(() => checkLimits({ pidsLimit: 0 }), { message: /--pids-limit/ });
  t.notThrows(() => checkLimits({ memory: 6 * MiB, memorySwap: -1, cpus: 0.5, cpuShares: 512, cpusetCpus: '0-1,3', pidsLimit: 20 }));
  t.notThrows(() => checkLimits({}));
});

test('requestedLimits names the flags a request sets', (t) => {
  t.deepEqual(requestedLimits({ memory: 8 * MiB, pidsLimit: 3, cpusetCpus: '0' }), ['--memory', '--cpuset-cpus', '--pids-limit']);
  t.deepEqual(requestedLimits({}), []);
});

test('CPU lists in the kernel format', (t) => {
  t.deepEqual(parseCpuList('0-2,4'), [0, 1, 2, 4]);
  t.deepEqual(parseCpuList('3,1,1'), [1, 3]);
  t.deepEqual(parseCpuList('0-1\n'), [0, 1]);
  t.deepEqual(parseCpuList(''), []);
  t.throws(() => parseCpuList('0-'));
  t.notThrows(() => checkCpusAvailable('0-1', '0-3'));
  t.notThrows(() => checkCpusWithin(2, 2));
  t.throws(() => checkCpusWithin(2.5, 2), { message: 'invalid --cpus 2.5: the range is 0.01 to 2.00, as there are only 2 CPUs available' });
  t.throws(() => checkCpusAvailable('4', '0-3'), { message: 'invalid --cpuset-cpus 4: requested CPUs are not available (available: 0-3)' });
});

test('cpu.shares to cpu.weight as the OCI runtimes map it now: the defaults meet (1024 -> 100)', (t) => {
  t.is(sharesToWeight(2), 1);
  t.is(sharesToWeight(1024), 100);
  t.is(sharesToWeight(262_144), 10_000);
  t.deepEqual([128, 512, 2048, 4096, 262_143].map(sharesToWeight), [21, 59, 174, 303, 10_000]);
});

test('v1 writes: memory before memsw, docker\'s swap default only where swap is accounted', (t) => {
  t.deepEqual(writes(v1Writes({ memory: 32 * MiB }, { memsw: true })), [`memory.limit_in_bytes=${32 * MiB}`, `memory.memsw.limit_in_bytes=${64 * MiB}`]);
  t.deepEqual(writes(v1Writes({ memory: 32 * MiB }, { memsw: false })), [`memory.limit_in_bytes=${32 * MiB}`]);
  t.deepEqual(writes(v1Writes({ memory: 32 * MiB, memorySwap: 48 * MiB }, { memsw: true })), [`memory.limit_in_bytes=${32 * MiB}`, `memory.memsw.limit_in_bytes=${48 * MiB}`]);
  t.deepEqual(writes(v1Writes({ memory: 32 * MiB, memorySwap: -1 }, { memsw: true })), [`memory.limit_in_bytes=${32 * MiB}`, 'memory.memsw.limit_in_bytes=-1']);
  t.throws(() => v1Writes({ memory: 32 * MiB, memorySwap: 48 * MiB }, { memsw: false }), { message: /^cannot enforce --memory-swap: memory.memsw.limit_in_bytes is missing/ });
  t.deepEqual(v1Writes({ cpus: 0.5, cpuShares: 512, cpusetCpus: '0', pidsLimit: 20 }, { memsw: true }).map((w) => `${w.controller}/${w.file}=${w.value}`), [
    'cpu/cpu.cfs_period_us=100000', 'cpu/cpu.cfs_quota_us=50000', 'cpu/cpu.shares=512', 'cpuset/cpuset.cpus=0', 'pids/pids.max=20',
  ]);
});

test('v2 writes: swap.max is the swap alone, cpu.max QUOTA PERIOD, weight from shares', (t) => {
  t.deepEqual(writes(v2Writes({ memory: 32 * MiB, memorySwap: 48 * MiB }, { swap: true })), [`memory.max=${32 * MiB}`, `memory.swap.max=${16 * MiB}`]);
  t.deepEqual(writes(v2Writes({ memory: 32 * MiB, memorySwap: -1 }, { swap: true })), [`memory.max=${32 * MiB}`, 'memory.swap.max=max']);
  t.deepEqual(writes(v2Writes({ memory: 32 * MiB, memorySwap: 32 * MiB }, { swap: true })), [`memory.max=${32 * MiB}`, 'memory.swap.max=0']);
  t.deepEqual(writes(v2Writes({ memory: 32 * MiB }, { swap: true })), [`memory.max=${32 * MiB}`, `memory.swap.max=${32 * MiB}`]);
  t.deepEqual(writes(v2Writes({ memory: 32 * MiB }, { swap: false })), [`memory.max=${32 * MiB}`]);
  t.throws(() => v2Writes({ memory: 32 * MiB, memorySwap: -1 }, { swap: false }), { message: /^cannot enforce --memory-swap: memory.swap.max is missing/ });
  t.deepEqual(v2Writes({ cpus: 1.5, cpuShares: 1024, cpusetCpus: '0-1', pidsLimit: 7 }, { swap: false }).map((w) => `${w.controller}/${w.file}=${w.value}`), [
    'cpu/cpu.max=150000 100000', 'cpu/cpu.weight=100', 'cpuset/cpuset.cpus=0-1', 'pids/pids.max=7',
  ]);
});
