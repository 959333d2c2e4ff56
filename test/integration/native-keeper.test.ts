/**
 * `nestbox-runtime keeper` and `join` on the real kernel, as root and as the unprivileged test
 * user, and the namespace service's Keeper class over them (root): the keeper is detached (own
 * session, stdio on /dev/null, nothing else open), has exactly the maps it was given, is
 * recognised by pid + start time, and join runs a command as uid 0 inside it.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Keeper, parseIdMap, parseKeeperRecord, parseProcStat } from '../../services/namespace/keeper.js';
import { hostIdMaps } from '../../services/namespace/id-maps.js';
import { TEST_USER, isRoot, projectRoot, rootlessUnavailable, runAsUser, stageProject, unstage, userIds } from '../helpers/host.js';
import { scaled } from '../helpers/time.js';

type Mode = 'root' | 'rootless';
const skipWhy: Record<Mode, string | undefined> = { root: isRoot ? undefined : 'needs root', rootless: rootlessUnavailable() };
const started: { pid: number; startTime: number }[] = [];
const dirs: string[] = [];

/** Still that process: pids are recycled quickly on a busy machine, never kill a bare pid. */
function stillRunning(k: { pid: number; startTime: number }): boolean {
  let text = '';
  try { text = readFileSync(`/proc/${k.pid}/stat`, 'utf8'); } catch { /* gone */ }
  const stat = parseProcStat(text);
  return !!stat && stat.startTime === k.startTime && stat.state !== 'Z';
}

test.after.always(() => {
  for (const k of started.filter(stillRunning)) {
    try { process.kill(k.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  unstage();
});

function subStart(file: string, user: string): number {
  return Number(readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${user}:`))!.split(':')[1]);
}

/** The maps containers get, as keeper arguments. */
function mapArgs(mode: Mode): string[] {
  if (mode === 'root') {
    return ['--uid-map', `0:${subStart('/etc/subuid', 'root')}:65536`, '--gid-map', `0:${subStart('/etc/subgid', 'root')}:65536`];
  }
  const ids = userIds(TEST_USER)!;
  return ['--uid-map', `0:${ids.uid}:1`, '--uid-map', `1:${subStart('/etc/subuid', TEST_USER)}:65535`,
    '--gid-map', `0:${ids.gid}:1`, '--gid-map', `1:${subStart('/etc/subgid', TEST_USER)}:65535`];
}

/** A directory of container root's (what the keeper's uid 0 is on the host). */
function workDir(mode: Mode): string {
  const dir = mkdtempSync('/tmp/nbx-keeper-');
  dirs.push(dir);
  if (mode === 'rootless') chownSync(dir, userIds(TEST_USER)!.uid, userIds(TEST_USER)!.gid);
  else chownSync(dir, subStart('/etc/subuid', 'root'), subStart('/etc/subgid', 'root'));
  chmodSync(dir, 0o755);
  return dir;
}

function runtime(mode: Mode, args: string[]): { status: number | null; stdout: string; stderr: string } {
  if (mode === 'root') {
    const r = spawnSync(join(projectRoot(), 'native', 'build', 'nestbox-runtime'), args, { encoding: 'utf8', cwd: '/' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  const r = runAsUser(join(stageProject(), 'native', 'build', 'nestbox-runtime'), args);
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

function startKeeper(t: ExecutionContext, mode: Mode, dir: string): { pid: number; startTime: number } {
  const r = runtime(mode, ['keeper', '--pid-file', join(dir, 'keeper.pid'), ...mapArgs(mode)]);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, '');
  const rec = parseKeeperRecord(readFileSync(join(dir, 'keeper.pid'), 'utf8'));
  t.truthy(rec, 'the pid file holds "PID STARTTIME"');
  started.push(rec!);
  return rec!;
}

async function waitGone(pid: number): Promise<boolean> {
  const deadline = Date.now() + scaled(5000);
  while (Date.now() < deadline) {
    let text = '';
    try { text = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { /* gone (reaped between two looks) */ }
    const stat = parseProcStat(text);
    if (!stat || stat.state === 'Z') return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

function both(title: string, fn: (t: ExecutionContext, mode: Mode) => Promise<void> | void) {
  for (const mode of ['root', 'rootless'] as const) {
    const why = skipWhy[mode];
    if (why) test.skip(`${mode}: ${title} (skipped: ${why})`, () => undefined);
    else test.serial(`${mode}: ${title}`, (t) => fn(t, mode));
  }
}

both('keeper: detached, with exactly the given maps, recognised by pid and start time', async (t, mode) => {
  const dir = workDir(mode);
  const k = startKeeper(t, mode, dir);
  // it reports itself just before it goes to sleep: on a slow guest it may still be running
  let stat = readFileSync(`/proc/${k.pid}/stat`, 'utf8');
  for (const until = Date.now() + scaled(10_000); parseProcStat(stat)?.state === 'R' && Date.now() < until;) {
    await new Promise((r) => setTimeout(r, 20));
    stat = readFileSync(`/proc/${k.pid}/stat`, 'utf8');
  }
  t.is(parseProcStat(stat)!.startTime, k.startTime);
  t.regex(stat, /^\d+ \(nestbox-keeper\) S /);
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  t.is(Number(fields[3]), k.pid, 'its own session');
  t.not(Number(fields[1]), process.pid, 'not our child');
  const fds = readdirSync(`/proc/${k.pid}/fd`).map(Number).sort();
  t.deepEqual(fds, [0, 1, 2], 'nothing inherited');
  for (const fd of fds) t.is(readlinkSync(`/proc/${k.pid}/fd/${fd}`), '/dev/null');
  const args = mapArgs(mode);
  const want = (flag: string) => args.flatMap((a, i) => (args[i - 1] === flag ? [a.split(':').map(Number)] : []))
    .map(([containerID, hostID, size]) => ({ containerID, hostID, size }));
  t.deepEqual(parseIdMap(readFileSync(`/proc/${k.pid}/uid_map`, 'utf8')), want('--uid-map'));
  t.deepEqual(parseIdMap(readFileSync(`/proc/${k.pid}/gid_map`, 'utf8')), want('--gid-map'));
  t.not(readlinkSync(`/proc/${k.pid}/ns/mnt`), readlinkSync('/proc/self/ns/mnt'), 'its own mount namespace');
  process.kill(k.pid, 'SIGTERM');
  t.true(await waitGone(k.pid), 'SIGTERM ends it');
});

both('join: uid 0 in the keeper, files land on the mapped host ids, the keeper is checked first', async (t, mode) => {
  const dir = workDir(mode);
  const k = startKeeper(t, mode, dir);
  const target = join(dir, 'made');
  const r = runtime(mode, ['join', '--pid', String(k.pid), '--start-time', String(k.startTime), '--', 'sh', '-c',
    `id -u; id -g; readlink /proc/self/ns/user; readlink /proc/self/ns/mnt; mkdir ${target} && touch ${target}/f && chown 1000:1000 ${target}/f`]);
  t.is(r.status, 0, r.stderr);
  const [uid, gid, userns, mntns] = r.stdout.trim().split('\n');
  t.deepEqual([uid, gid], ['0', '0']);
  t.is(userns, readlinkSync(`/proc/${k.pid}/ns/user`));
  t.is(mntns, readlinkSync(`/proc/${k.pid}/ns/mnt`));
  const root = mode === 'root' ? subStart('/etc/subuid', 'root') : userIds(TEST_USER)!.uid;
  const of1000 = mode === 'root' ? subStart('/etc/subuid', 'root') + 1000 : subStart('/etc/subuid', TEST_USER) + 999;
  t.is(lstatSync(target).uid, root);
  t.is(lstatSync(join(target, 'f')).uid, of1000);

  const exit = runtime(mode, ['join', '--pid', String(k.pid), '--start-time', String(k.startTime), '--', 'sh', '-c', 'exit 9']);
  t.is(exit.status, 9, "the command's exit code");
  const missing = runtime(mode, ['join', '--pid', String(k.pid), '--', 'no-such-command']);
  t.is(missing.status, 127);
  t.regex(missing.stderr, /^nestbox-runtime: join: exec no-such-command: No such file or directory\n$/);
  const other = runtime(mode, ['join', '--pid', String(k.pid), '--start-time', String(k.startTime + 1), '--', 'true']);
  t.is(other.status, 125);
  t.regex(other.stderr, /^nestbox-runtime: join: process \d+ is not the keeper \(start time \d+, expected \d+\): the keeper died\n$/);
  process.kill(k.pid, 'SIGKILL');
  t.true(await waitGone(k.pid));
  const gone = runtime(mode, ['join', '--pid', String(k.pid), '--start-time', String(k.startTime), '--', 'true']);
  t.is(gone.status, 125);
  t.regex(gone.stderr, /^nestbox-runtime: join: /);
  t.is(gone.stderr.split('\n').length, 2, 'one line');
});

both('bad arguments are one line and exit 125', (t, mode) => {
  const cases: [string[], RegExp][] = [
    [['keeper', '--uid-map', '0:1:1', '--gid-map', '0:1:1'], /keeper: --pid-file FILE is required/],
    [['keeper', '--pid-file', '/tmp/x', '--uid-map', '0:1', '--gid-map', '0:1:1'], /keeper: --uid-map 0:1: expected CONTAINER:HOST:SIZE/],
    [['keeper', '--pid-file', '/tmp/x', '--uid-map', '0:1:0', '--gid-map', '0:1:1'], /SIZE > 0/],
    [['keeper', '--pid-file', '/tmp/x'], /at least one --uid-map and one --gid-map/],
    [['join', '--pid', 'abc', '--', 'true'], /join: --pid abc: not a process id/],
    [['join', '--pid', '1'], /join: no command/],
    [['join', '--', 'true'], /join: --pid PID is required/],
  ];
  for (const [args, re] of cases) {
    const r = runtime(mode, args);
    t.is(r.status, 125, args.join(' '));
    t.regex(r.stderr, re);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

(skipWhy.root ? test.skip : test.serial)(`Keeper: started on demand, reused, replaced when dead, adopted by a new instance${skipWhy.root ? ` (skipped: ${skipWhy.root})` : ''}`, async (t) => {
  const dir = workDir('root');
  const pidFile = join(dir, 'keeper.pid');
  const logs: string[] = [];
  const make = () => new Keeper(join(projectRoot(), 'native', 'build', 'nestbox-runtime'), pidFile, () => hostIdMaps(), (l) => logs.push(l));
  const keeper = make();
  t.is(keeper.current(), undefined);
  const first = keeper.ensure('a test');
  started.push(first);
  t.true(first.started);
  t.deepEqual(first.uidMappings, hostIdMaps().uidMappings);
  const again = keeper.ensure();
  t.false(again.started);
  t.is(again.pid, first.pid);
  // a service restart: a new Keeper adopts the recorded, live process
  const adopted = make().ensure();
  t.false(adopted.started);
  t.deepEqual([adopted.pid, adopted.startTime], [first.pid, first.startTime]);

  process.kill(first.pid, 'SIGKILL');
  t.true(await waitGone(first.pid));
  const replaced = keeper.ensure();
  started.push(replaced);
  t.true(replaced.started);
  t.not(replaced.pid, first.pid);
  t.true(logs.some((l) => /keeper \d+ is gone; starting a new one/.test(l)), logs.join('\n'));

  // a record whose pid is alive but with another start time is not the keeper
  const self = parseProcStat(readFileSync('/proc/self/stat', 'utf8'))!;
  const stale = new Keeper('/bin/false', join(dir, 'stale.pid'), () => hostIdMaps(), () => undefined);
  writeFileSync(join(dir, 'stale.pid'), `${process.pid} ${self.startTime + 1}\n`);
  t.is(stale.current(), undefined);
  t.throws(() => stale.ensure(), { message: /cannot start the keeper namespace/ });

  keeper.stop();
  t.true(await waitGone(replaced.pid));
  t.is(keeper.current(), undefined);
});
