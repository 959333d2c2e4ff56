/**
 * The CgroupManager chosen for this host, driven directly as root: create with limits, add a
 * process, sample its counters, freeze and thaw it, destroy. (The CLI paths are in e2e/cgroups.)
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot } from '../helpers/host.js';
import { selectCgroupManager } from '../../services/cgroup/select-manager.js';

const manager = isRoot ? selectCgroupManager() : undefined;
const why = !isRoot ? 'needs root' : manager!.driver === 'none' ? `no cgroups: ${manager!.describe().unavailable}` : undefined;

/** v1: "T"/"D"-like frozen tasks still read R/S in /proc; the freezer's own state file is the truth. */
const frozenState = (paths: string[]) => {
  const dir = paths.find((p) => existsSync(join(p, 'freezer.state'))) ?? paths.find((p) => existsSync(join(p, 'cgroup.events')))!;
  return existsSync(join(dir, 'freezer.state')) ? readFileSync(join(dir, 'freezer.state'), 'utf8').trim() : /^frozen 1$/m.test(readFileSync(join(dir, 'cgroup.events'), 'utf8')) ? 'FROZEN' : 'THAWED';
};

(why ? test.skip : test.serial)(`create, addProcess, stats, freeze/thaw, destroy${why ? ` (skipped: ${why})` : ''}`, async (t) => {
  const m = manager!;
  const id = randomBytes(32).toString('hex');
  const placement = m.create(id, { memory: 64 * 1024 * 1024, pidsLimit: 10 });
  t.is(placement.driver, m.driver);
  t.true(placement.paths.length > 0 && placement.paths.every((p) => p.endsWith(`/nestbox/${id}`)));
  // a shell that counts: CPU time to see, and a counter that stops while frozen
  const child = spawn('sh', ['-c', 'i=0; while :; do i=$((i+1)); done'], { stdio: 'ignore' });
  try {
    m.addProcess(id, child.pid!);
    for (const p of placement.paths) t.true(readFileSync(join(p, 'cgroup.procs'), 'utf8').split('\n').includes(String(child.pid)), p);
    await new Promise((r) => setTimeout(r, 300));
    const s = m.stats(id);
    t.is(s.memoryLimit, 64 * 1024 * 1024);
    t.is(s.pids, 1);
    t.true(s.cpuUsageNs > 0 && s.systemCpuNs > 0 && s.onlineCpus > 0, JSON.stringify(s));

    await m.freeze(id);
    t.is(frozenState(placement.paths), 'FROZEN');
    const a = m.stats(id).cpuUsageNs;
    await new Promise((r) => setTimeout(r, 300));
    t.is(m.stats(id).cpuUsageNs, a, 'no CPU time while frozen');
    await m.thaw(id);
    t.is(frozenState(placement.paths), 'THAWED');
    await new Promise((r) => setTimeout(r, 300));
    t.true(m.stats(id).cpuUsageNs > a, 'running again');
  } finally {
    await m.destroy(id);
    child.kill('SIGKILL');
  }
  t.true(placement.paths.every((p) => !existsSync(p)), 'destroy removed every dir (and killed what was inside)');
  t.throws(() => m.stats(id), { message: /has no .*cgroup/ });
  await t.throwsAsync(() => m.freeze(id), { message: /has no .*cgroup/ });
});
