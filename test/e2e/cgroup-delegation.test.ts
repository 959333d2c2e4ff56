/**
 * `nestbox system setup-cgroups --user NAME [--undo]` end to end, as root for the test user:
 * without delegation a rootless limit is refused with one line naming the fix; setup makes the
 * delegated directories with the user as owner; a rootless `run -m 64m` lands in them with the
 * limit set; after --undo the limit is refused again and nothing is left behind.
 *
 * On a v2 host the user's nestbox must run inside the delegated subtree (the kernel checks the
 * common ancestor's cgroup.procs on a move): root starts its services in the subtree's leaf
 * `service`. That path runs only in the kernel matrix's v2 guests.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_USER, rootlessUnavailable, unstage, userIds } from '../helpers/host.js';
import { NestboxInstance, type CliResult } from '../helpers/nestbox.js';
import { scaled } from '../helpers/time.js';

const skip = rootlessUnavailable();
// records in a directory of this test's own (the default is /etc/nestbox/cgroups): other test
// files' rootless instances, running at the same time, must not pick this delegation up
const recordDir = mkdtempSync('/tmp/nbx-cgdel-');
chmodSync(recordDir, 0o755);
const DELEGATION_ENV = { NESTBOX_CGROUP_DELEGATION_DIR: recordDir };
const record = (uid: number) => join(recordDir, `${uid}.json`);
const instances: NestboxInstance[] = [];
let madeDirs: string[] = [];

function rootCli(args: string[]): Promise<CliResult> {
  const nb = NestboxInstance.root(DELEGATION_ENV);
  instances.push(nb);
  return nb.cli(args);
}

/** Runs `nestbox ARGS` as the test user with root first moving the process into `cgroupDir` (v2). */
function cliInside(nb: NestboxInstance, cgroupDir: string, args: string[]): Promise<CliResult> {
  const [cmd, argv] = nb.command(args);
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroupDir, cmd, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), scaled(60_000));
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

function assertRefused(t: import('ava').ExecutionContext, r: CliResult): void {
  t.is(r.code, 125, r.stderr);
  t.is(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
  t.regex(r.stderr, /^nestbox: cannot enforce --memory: .*nestbox system setup-cgroups --user nbxtest/);
}

test.after.always(async () => {
  if (!skip && madeDirs.length) await rootCli(['system', 'setup-cgroups', '--user', TEST_USER, '--undo']);
  await Promise.all(instances.map((i) => i.stop()));
  rmSync(recordDir, { recursive: true, force: true });
  unstage();
});

const serial = skip ? test.skip : test.serial;

serial('setup-cgroups refuses a bad user, a stray argument and a non-root caller with one line', async (t) => {
  for (const args of [['--user', 'no-such-user-nbx'], ['--user', '-x'], ['--user', TEST_USER, 'extra'], []]) {
    const r = await rootCli(['system', 'setup-cgroups', ...args]);
    t.is(r.code, 125, args.join(' '));
    t.is(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
  }
  const nb = NestboxInstance.rootless();
  instances.push(nb);
  const r = await nb.cli(['system', 'setup-cgroups', '--user', TEST_USER]);
  t.is(r.code, 125);
  t.is(r.stderr, 'nestbox: setup-cgroups must be run as root\n');
});

serial('delegation for the test user: refused before, limits inside after, refused again after --undo', async (t) => {
  const { uid } = userIds(TEST_USER)!;
  const nb = NestboxInstance.rootless(DELEGATION_ENV);
  instances.push(nb);

  // no delegation: a run without limits works, one with a limit is refused
  t.is((await nb.cli(['run', '--rm', 'busybox', 'true'])).code, 0);
  assertRefused(t, await nb.cli(['run', '--rm', '-m', '64m', 'busybox', 'true']));

  const setup = await rootCli(['system', 'setup-cgroups', '--user', TEST_USER]);
  t.is(setup.code, 0, setup.stderr);
  const made = JSON.parse(readFileSync(record(uid), 'utf8')) as { v1: Record<string, string>; v2?: string };
  madeDirs = [...Object.values(made.v1), ...(made.v2 ? [made.v2] : [])];
  t.true(madeDirs.length > 0);
  if (made.v2) {
    t.regex(setup.stdout, new RegExp(`^made ${made.v2}/service \\(owner ${TEST_USER}\\)$`, 'm'));
    for (const f of ['', 'cgroup.procs']) t.is(statSync(join(made.v2, 'service', f)).uid, uid, `service/${f}`);
  }
  for (const dir of madeDirs) {
    t.regex(setup.stdout, new RegExp(`^made ${dir} \\(owner ${TEST_USER}\\)$`, 'm'));
    t.is(statSync(dir).uid, uid, dir);
    const files = made.v2 === dir ? ['cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads'] : ['cgroup.procs'];
    for (const f of files) t.is(statSync(join(dir, f)).uid, uid, `${dir}/${f}`);
  }
  t.is(statSync(record(uid)).uid, 0);
  t.is(statSync(record(uid)).mode & 0o777, 0o644);
  const again = await rootCli(['system', 'setup-cgroups', '--user', TEST_USER]);
  t.is(again.code, 0);
  t.notRegex(again.stdout, /^made /m, 'a second setup makes nothing');

  // the service picks the delegation up when it starts (v2: started inside the subtree by root)
  await nb.cli(['system', 'stop']);
  if (made.v2) {
    // everything of the user's nestbox restarts inside the subtree, the keeper too
    const keeper = nb.keeper();
    if (keeper) process.kill(keeper.pid, 'SIGKILL');
    t.is((await cliInside(nb, join(made.v2, 'service'), ['system', 'info'])).code, 0);
  }
  const run = await nb.cli(['run', '-d', '-m', '64m', '--pids-limit', '20', '--cpus', '0.5', 'busybox', 'sleep', '60']);
  t.is(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  const memoryDir = made.v2 ?? made.v1.memory;
  const cgroup = join(memoryDir, 'nestbox', id);
  const limitFile = made.v2 ? 'memory.max' : 'memory.limit_in_bytes';
  t.is(readFileSync(join(cgroup, limitFile), 'utf8').trim(), String(64 * 1024 * 1024));
  t.true(readFileSync(join(cgroup, 'cgroup.procs'), 'utf8').trim().length > 0, 'the container is in its cgroup');
  const knob = (controller: string, file: string) => readFileSync(join(made.v2 ?? made.v1[controller], 'nestbox', id, file), 'utf8').trim();
  t.is(knob('pids', 'pids.max'), '20');
  if (made.v2) t.is(knob('cpu', 'cpu.max'), '50000 100000');
  else t.is(knob(Object.keys(made.v1).find((k) => k.split(',').includes('cpu'))!, 'cpu.cfs_quota_us'), '50000');
  t.is(statSync(cgroup).uid, uid);
  const busy = await rootCli(['system', 'setup-cgroups', '--user', TEST_USER, '--undo']);
  t.is(busy.code, 125, 'no undo under a running container');
  t.regex(busy.stderr, /^nestbox: setup-cgroups: .* still holds processes; stop that user's nestbox/);
  t.true(existsSync(cgroup) && existsSync(record(uid)));
  t.is((await nb.cli(['rm', '-f', id])).code, 0);
  t.false(existsSync(cgroup), 'rm removes the container cgroup');

  // undo: services stopped first (v2: they and the keeper live in the subtree)
  await nb.cli(['system', 'stop']);
  const keeper = nb.keeper();
  if (made.v2 && keeper) process.kill(keeper.pid, 'SIGKILL');
  const undo = await rootCli(['system', 'setup-cgroups', '--user', TEST_USER, '--undo']);
  t.is(undo.code, 0, undo.stderr);
  for (const dir of madeDirs) {
    t.regex(undo.stdout, new RegExp(`^removed ${dir}$`, 'm'));
    t.false(existsSync(dir), dir);
  }
  t.false(existsSync(record(uid)));
  madeDirs = [];
  assertRefused(t, await nb.cli(['run', '--rm', '-m', '64m', 'busybox', 'true']));
  const none = await rootCli(['system', 'setup-cgroups', '--user', TEST_USER, '--undo']);
  t.is(none.code, 0);
  t.is(none.stdout, `nothing to remove: no cgroup delegation for ${TEST_USER}\n`);
});
