/** Counter parsing and docker's stats arithmetic and formatting. */
import test from 'ava';
import { parseFlatKeyed, parseLimit, parseProcStat } from '../../services/cgroup/cgroup-stats.js';
import { binarySize, cpuPercent, memoryPercent, statsRow, type StatsSample } from '../../cli/commands/stats-format.js';

test('flat keyed files (memory.stat, cpu.stat)', (t) => {
  t.deepEqual(parseFlatKeyed('usage_usec 1234\nuser_usec 1000\nsystem_usec 234\n'), { usage_usec: 1234, user_usec: 1000, system_usec: 234 });
  t.is(parseFlatKeyed('cache 4096\ntotal_inactive_file 8192\n').total_inactive_file, 8192);
});

test('limits: max and the v1 unlimited value mean none', (t) => {
  t.is(parseLimit('max\n'), undefined);
  t.is(parseLimit('9223372036854771712\n'), undefined);
  t.is(parseLimit('33554432\n'), 33_554_432);
});

test('/proc/stat: host CPU time in ns from USER_HZ ticks, online CPUs', (t) => {
  const s = parseProcStat('cpu  100 0 50 800 10 0 5 0 0 0\ncpu0 50 0 25 400 5 0 3 0 0 0\ncpu1 50 0 25 400 5 0 2 0 0 0\nintr 1\n');
  t.is(s.systemCpuNs, 965 * 1e7);
  t.is(s.onlineCpus, 2);
});

test("docker's CPU %: container delta over host delta times CPUs", (t) => {
  // 2 CPUs for 1 s = 2e9 ns of host time; the container used 0.5 s: half of one CPU
  t.is(cpuPercent({ cpuUsageNs: 1e9, systemCpuNs: 10e9 }, { cpuUsageNs: 1.5e9, systemCpuNs: 12e9, onlineCpus: 2 }), 50);
  t.is(cpuPercent({ cpuUsageNs: 1e9, systemCpuNs: 10e9 }, { cpuUsageNs: 1e9, systemCpuNs: 12e9, onlineCpus: 2 }), 0);
  t.is(cpuPercent({ cpuUsageNs: 1e9, systemCpuNs: 10e9 }, { cpuUsageNs: 2e9, systemCpuNs: 10e9, onlineCpus: 2 }), 0);
  t.is(memoryPercent({ memoryUsage: 16, memoryLimit: 64 }), 25);
  t.is(memoryPercent({ memoryUsage: 16, memoryLimit: 0 }), 0);
});

test('binary sizes as go-units BytesSize', (t) => {
  t.is(binarySize(0), '0B');
  t.is(binarySize(229_376), '224KiB');
  t.is(binarySize(64 * 1024 * 1024), '64MiB');
  t.is(binarySize(1.5 * 1024 ** 3), '1.5GiB');
  t.is(binarySize(8_226_234_368), '7.661GiB');
});

test('a stats row in docker\'s columns', (t) => {
  const base: StatsSample = { id: 'e712fed8312c7cf5'.padEnd(64, '0'), name: 'busy', running: true, memoryUsage: 229_376, memoryLimit: 64 * 1024 * 1024, cpuUsageNs: 1e9, systemCpuNs: 10e9, onlineCpus: 2, pids: 3 };
  const row = statsRow(base, { ...base, cpuUsageNs: 1.25e9, systemCpuNs: 11e9 });
  t.like(row, { ID: 'e712fed8312c', Name: 'busy', CPUPerc: '50.00%', MemUsage: '224KiB / 64MiB', MemPerc: '0.34%', PIDs: '3', MemUsageBytes: 229_376 });
  t.is(statsRow(undefined, base).CPUPerc, '0.00%');
});
