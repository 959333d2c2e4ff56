/**
 * The v2 driver against a directory laid out like a delegated cgroup2 subtree (plain files: this
 * host has no usable cgroup2 controllers). What it writes and reads, by the kernel's file names
 * (Documentation/admin-guide/cgroup-v2.rst); the real kernel is the VM matrix's (cgroup 2 guests).
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { CgroupV2Manager } from '../../services/cgroup/cgroup-v2.js';

const ID = 'ab'.repeat(32);
const MiB = 1024 * 1024;

/** own/ with the controllers delegated; own/nestbox/ already enabled (as after a first run). */
function fakeTree(): { own: string; dir: string; manager: CgroupV2Manager; done: () => void } {
  const base = mkdtempSync(join(tmpdir(), 'nbx-cg2-'));
  const own = join(base, 'own');
  mkdirSync(join(own, 'nestbox'), { recursive: true });
  writeFileSync(join(own, 'cgroup.subtree_control'), 'cpuset cpu memory pids\n');
  writeFileSync(join(own, 'nestbox', 'cgroup.controllers'), '');
  writeFileSync(join(own, 'nestbox', 'cgroup.subtree_control'), 'cpuset cpu memory pids\n');
  writeFileSync(join(own, 'nestbox', 'cpuset.cpus.effective'), '0-3\n');
  const manager = new CgroupV2Manager({ layout: 'unified', v1: [], v2: { controllers: [], mountPoint: base, ownDir: own } });
  return { own, dir: join(own, 'nestbox', ID), manager, done: () => rmSync(base, { recursive: true, force: true }) };
}

const read = (dir: string, f: string) => readFileSync(join(dir, f), 'utf8');

test('create writes memory.max, cpu.max, cpu.weight, cpuset.cpus, pids.max in nestbox/<id>', (t) => {
  const { own, dir, manager, done } = fakeTree();
  try {
    t.deepEqual(manager.describe().controllers, Object.fromEntries(['cpuset', 'cpu', 'memory', 'pids'].map((c) => [c, join(own, 'nestbox')])));
    const placement = manager.create(ID, { memory: 32 * MiB, cpus: 0.5, cpuShares: 512, cpusetCpus: '1-2', pidsLimit: 20 });
    t.deepEqual(placement, { driver: 'v2', paths: [dir] });
    t.is(read(dir, 'memory.max'), String(32 * MiB));
    t.is(read(dir, 'cpu.max'), '50000 100000');
    t.is(read(dir, 'cpu.weight'), '59');
    t.is(read(dir, 'cpuset.cpus'), '1-2');
    t.is(read(dir, 'pids.max'), '20');
  } finally {
    done();
  }
});

test('--memory-swap: swap.max = total - memory where swap is accounted; refused where it is not', async (t) => {
  const { dir, manager, done } = fakeTree();
  try {
    t.throws(() => manager.create(ID, { memory: 32 * MiB, memorySwap: 64 * MiB }), { message: /^cannot enforce --memory-swap: memory.swap.max is missing/ });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'memory.swap.max'), 'max\n');
    manager.create(ID, { memory: 32 * MiB, memorySwap: 48 * MiB });
    t.is(read(dir, 'memory.swap.max'), String(16 * MiB));
  } finally {
    done();
  }
});

test('CPUs outside the parent\'s effective set and controllers not enabled are refused', (t) => {
  const { own, manager, done } = fakeTree();
  try {
    t.throws(() => manager.create(ID, { cpusetCpus: '4' }), { message: 'invalid --cpuset-cpus 4: requested CPUs are not available (available: 0-3)' });
    writeFileSync(join(own, 'nestbox', 'cgroup.subtree_control'), 'memory\n');
    t.throws(() => manager.create(ID, { pidsLimit: 5 }), { message: /^cannot enforce --pids-limit: the cgroup v2 pids controller is not available in / });
  } finally {
    done();
  }
});

test('stats from memory.current/stat/max, cpu.stat usage_usec, pids.current; freeze via cgroup.freeze', async (t) => {
  const { dir, manager, done } = fakeTree();
  try {
    manager.create(ID, { memory: 64 * MiB });
    writeFileSync(join(dir, 'memory.current'), `${10 * MiB}\n`);
    writeFileSync(join(dir, 'memory.stat'), `anon 1000\ninactive_file ${2 * MiB}\nactive_file 5\n`);
    writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n');
    writeFileSync(join(dir, 'pids.current'), '3\n');
    const s = manager.stats(ID);
    t.like(s, { memoryUsage: 8 * MiB, memoryLimit: 64 * MiB, cpuUsageNs: 1_500_000, pids: 3 });
    t.true(s.onlineCpus > 0 && s.systemCpuNs > 0);
    writeFileSync(join(dir, 'memory.max'), 'max\n');
    t.true(manager.stats(ID).memoryLimit > 64 * MiB, 'no limit: the host\'s memory');

    writeFileSync(join(dir, 'cgroup.freeze'), '0\n');
    writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 1\n');
    await manager.freeze(ID);
    t.is(read(dir, 'cgroup.freeze'), '1');
    writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n');
    await manager.thaw(ID);
    t.is(read(dir, 'cgroup.freeze'), '0');
    t.throws(() => manager.stats('cd'.repeat(32)), { message: /has no cgroup/ });
  } finally {
    done();
  }
});
