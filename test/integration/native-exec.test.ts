/**
 * nestbox-runtime exec: one more process in a running container (found by its pid 1), joining
 * its namespaces (user first), cgroups and root, set up from an OCI process.json. Root and
 * rootless (the test user joins the user namespace of its own container without privilege).
 */
import { spawn } from 'node:child_process';
import { existsSync, lchownSync, mkdirSync, readFileSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import {
  type Bundle, type Config, type Mode, asUser, both, nsLink, registerRuntimeHooks, runtimeBin, testUser, waitFor,
} from '../helpers/runtime-bundle.js';
import { startWithConsole } from '../helpers/console.js';
import { type ExecResult, runningContainer, runtimeExec } from '../helpers/runtime-exec.js';
registerRuntimeHooks();

/** A container running `sh -c SCRIPT` (default: mark a file, then sleep); its pid 1 once set up. */
const SLEEPER = 'echo mark > /tmp/mark; exec sleep 60';

function container(t: ExecutionContext, mode: Mode, edit?: (c: Config, b: Bundle) => void, script = SLEEPER): Promise<{ b: Bundle; pid: number }> {
  return runningContainer(t, mode, ['sh', '-c', script], (c, bb) => {
    symlinkSync('busybox', join(bb.lower, 'bin', 'tty'));
    symlinkSync('busybox', join(bb.lower, 'bin', 'readlink'));
    edit?.(c, bb);
  }, script === SLEEPER ? 'sleep' : undefined);
}

const exec = runtimeExec;

const why = (r: ExecResult) => `${r.stderr} ${JSON.stringify(r.status)}`;

const proc = (args: string[], more: Record<string, unknown> = {}) => ({
  args, env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 }, noNewPrivileges: true, ...more,
});

const NS = ['user', 'mnt', 'pid', 'uts', 'ipc', 'net', 'cgroup'];

both('exec joins every namespace of the container and sees its pid 1, hostname and files', async (t, mode) => {
  const { b, pid } = await container(t, mode);
  const script = `hostname; cat /tmp/mark; echo $$; cat /proc/1/comm; for n in ${NS.join(' ')}; do readlink /proc/self/ns/$n; done`;
  const r = await exec(b, pid, proc(['sh', '-c', script]));
  t.is(r.code, 0, why(r));
  const lines = r.stdout.trim().split('\n');
  t.is(lines[0], 'nbx-test');
  t.is(lines[1], 'mark', 'the container root with its overlay upper');
  t.true(Number(lines[2]) > 1, 'a new process in the container pid namespace');
  t.is(lines[3], 'sleep', 'its pid 1 is the container command');
  const host = NS.map((n) => nsLink(pid, n));
  t.deepEqual(lines.slice(4), host);
  t.deepEqual(r.status, { exitCode: 0 });
});

both('exec: the mount table is the container\'s', async (t, mode) => {
  const { b, pid } = await container(t, mode);
  const r = await exec(b, pid, proc(['sh', '-c', 'cut -d" " -f1,5 /proc/self/mountinfo; echo --; cut -d" " -f1,5 /proc/1/mountinfo']));
  t.is(r.code, 0, why(r));
  const [self, one] = r.stdout.split('--\n');
  t.is(self.trim(), one.trim());
  t.regex(self, /^\d+ \/$/m);
});

/** A fresh cgroup (v1 pids, or v2), delegated to the test user for rootless. */
function makeCgroup(mode: Mode): string | undefined {
  const v1 = '/sys/fs/cgroup/pids';
  const isV1 = existsSync(join(v1, 'cgroup.procs'));
  if (!isV1 && (mode === 'rootless' || !existsSync('/sys/fs/cgroup/cgroup.controllers'))) return undefined;
  const dir = join(isV1 ? v1 : '/sys/fs/cgroup', `nbx-exec-test-${process.pid}-${mode}`);
  mkdirSync(dir);
  if (mode === 'rootless') for (const p of [dir, join(dir, 'cgroup.procs')]) lchownSync(p, testUser().uid, testUser().gid);
  return dir;
}

both('exec joins the container\'s cgroups', async (t, mode) => {
  const dir = makeCgroup(mode);
  if (!dir) {
    t.log('not checked: no pids v1 hierarchy, and rootless v2 needs a delegated subtree');
    t.pass();
    return;
  }
  // Registered first, run last (after the container's); its processes leave the cgroup once reaped.
  t.teardown(() => waitFor('the test cgroup to empty', () => {
    try {
      rmdirSync(dir);
      return true;
    } catch {
      return undefined;
    }
  }));
  const { b, pid } = await container(t, mode, (c) => {
    c.annotations['io.nestbox.cgroup.paths'] = dir;
  });
  const r = await exec(b, pid, proc(['sh', '-c', 'cat /proc/self/cgroup; echo --; cat /proc/1/cgroup']));
  t.is(r.code, 0, why(r));
  const [self, one] = r.stdout.split('--\n');
  t.is(self, one, 'the same cgroups as pid 1 (seen through its cgroup namespace)');
  t.regex(self, /:pids:\/$|^0::\/$/m);
  const members = readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim().split('\n');
  t.deepEqual(members, [String(pid)], 'the exec\'d process has left the cgroup (it exited)');
});

both('exec: env, cwd and user come from process.json (-e, -w, -u)', async (t, mode) => {
  const { b, pid } = await container(t, mode);
  const r = await exec(b, pid, proc(['sh', '-c', 'echo "$FOO"; pwd; id -u; id -g; echo $PATH'], {
    env: ['PATH=/bin:/sbin', 'FOO=bar baz'], cwd: '/tmp', user: { uid: 1000, gid: 1001 },
  }));
  t.is(r.code, 0, why(r));
  t.is(r.stdout, 'bar baz\n/tmp\n1000\n1001\n/bin:/sbin\n');
});

both('exec: the exit code comes back; a missing command is 127', async (t, mode) => {
  const { b, pid } = await container(t, mode);
  const r = await exec(b, pid, proc(['sh', '-c', 'exit 42']));
  t.is(r.code, 42);
  t.deepEqual(r.status, { exitCode: 42 });
  const missing = await exec(b, pid, proc(['nosuchcmd']));
  t.is(missing.code, 127, why(missing));
  t.deepEqual(missing.status, { exitCode: 127, error: 'exec: "nosuchcmd": executable file not found in $PATH', stage: 'exec' });
  const bare = await exec(b, pid, ['sh', '-c', 'echo $PATH; id -u; exit 4']);
  t.is(bare.code, 4);
  t.is(bare.stdout, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n0\n');
});

both('exec -t: a terminal from the container\'s devpts over --console-socket', async (t, mode) => {
  const { b, pid } = await container(t, mode);
  const file = join(b.base, 'process.json');
  writeFileSync(file, JSON.stringify(proc(['sh', '-c', 'tty; exit 6'], { terminal: true })));
  if (mode === 'rootless') lchownSync(file, testUser().uid, testUser().gid);
  const sock = join(b.base, 'exec.sock');
  const c = startWithConsole(t, mode, sock, [runtimeBin(mode), 'exec', '--pid', String(pid), '--process', file, '--console-socket', sock]);
  const r = await c.done;
  t.is(r.code, 6, r.stderr);
  t.is(r.output, '/dev/pts/0\r\n');
});

both('exec into a container that is gone, or a pid that never was: one line, 125', async (t, mode) => {
  const { b, pid } = await container(t, mode, undefined, 'exit 0');
  await waitFor('the container to exit', () => (existsSync(`/proc/${pid}`) ? undefined : true));
  const r = await exec(b, pid, proc(['true']));
  t.is(r.code, 125);
  t.deepEqual(r.status, { exitCode: 125, error: `container process ${pid} is not running`, stage: 'setup' });
  const cmd = asUser(mode, [runtimeBin(mode), 'exec', '--pid', '4194000', '--', 'true']);
  const none = await new Promise<{ code: number | null; err: string }>((resolve) => {
    const ch = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    ch.stderr.on('data', (d: Buffer) => (err += d.toString()));
    ch.on('close', (code) => resolve({ code, err }));
  });
  t.is(none.code, 125);
  t.is(none.err, 'nestbox-runtime: container process 4194000 is not running\n');
});

both('exec: bad arguments are one-line errors', async (t, mode) => {
  const { b, pid } = await container(t, mode);
  const both_ = await exec(b, pid, proc(['true']), ['--', 'true']);
  t.is(both_.status?.error, 'exec: give --process FILE or -- CMD, not both');
  const file = join(b.base, 'bad.json');
  writeFileSync(file, JSON.stringify({ args: ['true'], cwd: 'relative' }));
  const bad = await exec(b, pid, [], ['--process', file]);
  t.is(bad.code, 125);
  t.is(bad.status?.error, `${file}: process.cwd: must be an absolute path`);
});
