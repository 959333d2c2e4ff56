/**
 * The kernel's cgroup delegation rules, driven through the CgroupManager an unprivileged user's
 * nestbox chooses (test/helpers/cgroup-as-user.ts, run as the test user):
 *  - a delegation made by `system setup-cgroups` (v1: per-hierarchy dirs; v2: a subtree whose
 *    leaf service/ root starts the user's nestbox in);
 *  - v2 only: a cgroup delegated the way systemd's Delegate=yes does it, found from
 *    /proc/self/cgroup: the user's processes move into nestbox/service, and a driver started
 *    again inside that leaf keeps the same base.
 * In the kernel matrix's quick subset, so both drivers meet 5.10, 6.1 and 6.12.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_USER, rootlessUnavailable, stageProject, unstage, userIds } from '../helpers/host.js';
import { probeCgroupHost } from '../../services/cgroup/cgroup-probe.js';
import { removeDelegation, setupDelegation } from '../../services/cgroup/cgroup-setup.js';
import { isWithin, readDelegationRecord, v2EntryLeaf } from '../../services/cgroup/cgroup-delegation.js';

const host = probeCgroupHost();
const unavailable = rootlessUnavailable() ?? (host.layout === 'none' ? 'no cgroup file system' : undefined);
const recordDir = mkdtempSync('/tmp/nbx-cgdeleg-');
chmodSync(recordDir, 0o755);
const ENV = { NESTBOX_CGROUP_DELEGATION_DIR: recordDir };
const user = unavailable ? undefined : { name: TEST_USER, ...userIds(TEST_USER)! };
const made: string[] = []; // cgroups this file made, removed children first
const MiB64 = String(64 * 1024 * 1024);

interface DriverResult { driver: string; ok?: boolean; error?: string; unavailable?: string; ownCgroup: string; pids?: number; placements?: Record<string, string[]> }

/** Runs the driver script as the test user, first moved by root into `cgroupDir` when given. */
function asUser(cgroupDir: string | undefined, args: string[]): DriverResult {
  const script = join(stageProject({ nodeModules: false }), 'dist', 'test', 'helpers', 'cgroup-as-user.js');
  const env = Object.entries({ PATH: '/usr/bin:/bin', HOME: `/home/${TEST_USER}`, USER: TEST_USER, ...ENV }).map(([k, v]) => `${k}=${v}`);
  const argv = ['setpriv', '--reuid', String(user!.uid), '--regid', String(user!.gid), '--init-groups', '--', 'env', '-i', ...env, process.execPath, script, ...args];
  const r = cgroupDir
    ? spawnSync('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroupDir, ...argv], { encoding: 'utf8', cwd: '/' })
    : spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', cwd: '/' });
  if (r.status !== 0) throw new Error(`driver script failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as DriverResult;
}

const knob = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8').trim();

/** Checks the limits the script asked for in each of a container's cgroup dirs. */
function assertLimited(t: import('ava').ExecutionContext, paths: string[]): void {
  for (const dir of paths) {
    t.is(statSync(dir).uid, user!.uid, `${dir} is the user's`);
    if (existsSync(join(dir, 'memory.max'))) t.is(knob(dir, 'memory.max'), MiB64);
    if (existsSync(join(dir, 'memory.limit_in_bytes'))) t.is(knob(dir, 'memory.limit_in_bytes'), MiB64);
    if (existsSync(join(dir, 'pids.max'))) t.is(knob(dir, 'pids.max'), '20');
    if (existsSync(join(dir, 'cpu.max'))) t.is(knob(dir, 'cpu.max'), '50000 100000');
    if (existsSync(join(dir, 'cpu.cfs_quota_us'))) t.is(knob(dir, 'cpu.cfs_quota_us'), '50000');
    t.true(knob(dir, 'cgroup.procs').length > 0, `${dir} holds the added process`);
  }
  const files = paths.flatMap((d) => ['memory.max', 'memory.limit_in_bytes', 'pids.max', 'cpu.max', 'cpu.cfs_quota_us'].filter((f) => existsSync(join(d, f))));
  t.true(files.some((f) => f.startsWith('memory')) && files.includes('pids.max') && files.some((f) => f.startsWith('cpu')), files.join(' '));
}

function removeTree(dir: string): void {
  for (let attempt = 0; existsSync(dir) && attempt < 100; attempt++) {
    try { rmdirSync(dir); } catch { spawnSync('sleep', ['0.05']); }
  }
}

test.after.always(() => {
  if (user) {
    const host2 = probeCgroupHost();
    try { process.env.NESTBOX_CGROUP_DELEGATION_DIR = recordDir; removeDelegation(host2, user); } catch { /* reported by the test */ }
  }
  for (const dir of made.reverse()) removeTree(dir);
  rmSync(recordDir, { recursive: true, force: true });
  unstage();
});

(unavailable ? test.skip : test.serial)(`setup-cgroups delegation: the user's driver limits containers in the delegated cgroups${unavailable ? ` (skipped: ${unavailable})` : ''}`, (t) => {
  process.env.NESTBOX_CGROUP_DELEGATION_DIR = recordDir;
  const lines = setupDelegation(host, user!);
  t.true(lines.some((l) => l.startsWith('wrote ')), lines.join('\n'));
  const record = readDelegationRecord(user!.uid)!;
  const roots = [...Object.values(record.v1), ...(record.v2 ? [record.v2] : [])];
  const id = randomBytes(32).toString('hex');
  // v2: the user's nestbox runs in the subtree's leaf (the move needs the common ancestor's cgroup.procs)
  const created = asUser(record.v2 ? v2EntryLeaf(record.v2) : undefined, ['create', id]);
  t.true(created.ok, created.error ?? created.unavailable);
  t.is(created.driver, host.layout === 'unified' ? 'v2' : 'v1');
  t.is(created.pids, 1);
  const paths = created.placements![id];
  t.true(paths.length > 0);
  for (const p of paths) t.true(p.endsWith(`/nestbox/${id}`) && roots.some((r) => isWithin(p, r)), `${p} is in a delegated cgroup`);
  assertLimited(t, paths);
  const destroyed = asUser(record.v2 ? v2EntryLeaf(record.v2) : undefined, ['destroy', id]);
  t.true(destroyed.ok, destroyed.error);
  t.true(paths.every((p) => !existsSync(p)), 'destroy removed the container cgroups');
  removeDelegation(host, user!);
  t.true(roots.every((r) => !existsSync(r)), 'undo removed the delegated cgroups');
});

const handsDown = (dir: string) => { try { return knob(dir, 'cgroup.subtree_control').split(/\s+/); } catch { return []; } };
const v2Why = unavailable ?? (host.layout !== 'unified' ? `cgroup v2 only; this host is ${host.layout}`
  : !['memory', 'pids', 'cpu'].every((c) => handsDown(host.v2!.ownDir).includes(c)) ? `${host.v2!.ownDir} hands down no memory, pids and cpu to delegate` : undefined);
(v2Why ? test.skip : test.serial)(`v2 delegated as systemd does (Delegate=yes), found from /proc/self/cgroup; a restart inside nestbox/service keeps the base${v2Why ? ` (skipped: ${v2Why})` : ''}`, (t) => {
  const own = host.v2!.ownDir;
  // our own nestbox/ subtree (as a root nestbox makes it), and in it the user's unit
  const parent = join(own, 'nestbox');
  if (!existsSync(parent)) { mkdirSync(parent); made.push(parent); }
  for (const c of ['cpu', 'memory', 'pids']) writeFileSync(join(parent, 'cgroup.subtree_control'), `+${c}`);
  const unit = join(parent, `nbx-sd-test-${process.pid}`);
  mkdirSync(unit);
  made.push(unit, join(unit, 'nestbox'), join(unit, 'nestbox', 'service'));
  // what systemd gives a Delegate=yes unit's user: the directory and these three files
  for (const f of ['', 'cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads']) chownSync(join(unit, f), user!.uid, user!.gid);

  const [a, b] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
  const first = asUser(unit, ['create', a]);
  const state = (dir: string) => ['cgroup.controllers', 'cgroup.subtree_control', 'cgroup.procs'].map((f) => { try { return `${f}: ${knob(dir, f)}`; } catch { return `${f}: -`; } }).join('; ');
  t.true(first.ok, `${first.error ?? first.unavailable}\n${[parent, unit, join(unit, 'nestbox'), join(unit, 'nestbox', 'service')].map((d) => `${d}: ${state(d)}`).join('\n')}`);
  t.is(first.driver, 'v2');
  t.regex(first.ownCgroup, new RegExp(`^0::.*/nbx-sd-test-${process.pid}$`, 'm'));
  t.deepEqual(first.placements![a], [join(unit, 'nestbox', a)]);
  assertLimited(t, first.placements![a]);
  t.true(existsSync(join(unit, 'nestbox', 'service')), 'the unit\'s processes moved into nestbox/service');
  t.is(knob(unit, 'cgroup.procs'), '', 'the unit itself holds no process (the no-internal-process rule)');

  // a service restarted by the supervisor starts inside the leaf: the same base, no nesting
  const leaf = join(unit, 'nestbox', 'service');
  const second = asUser(leaf, ['create', b]);
  t.true(second.ok, second.error ?? second.unavailable);
  t.deepEqual(second.placements![b], [join(unit, 'nestbox', b)]);
  assertLimited(t, second.placements![b]);
  const destroyed = asUser(leaf, ['destroy', a, b]);
  t.true(destroyed.ok, destroyed.error);
  t.false(existsSync(join(unit, 'nestbox', a)) || existsSync(join(unit, 'nestbox', b)), 'a restarted driver destroys what the earlier one made');
  t.false(existsSync(join(leaf, 'nestbox')), 'nothing nested below the leaf');
});
