/**
 * The per-container shim (native/build/nestbox-shim) on its own, as root and as the unprivileged
 * test user: it daemonizes, logs the container's output as docker json-file lines, serves the
 * attach socket, records the exit atomically, and outlives whoever started it.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AttachConnection, type ShimExit } from '../../services/namespace/attach-client.js';
import { isSameProcess, procStartTime, readShimRecord } from '../../services/namespace/shim-files.js';
import { isRoot, projectRoot, stageProject, TEST_USER } from '../helpers/host.js';
import {
  type Bundle, type Mode, both, makeBundle, registerRuntimeHooks, removeBundle, testUser, waitFor, assertNoHostMounts,
} from '../helpers/runtime-bundle.js';
registerRuntimeHooks();

const bin = (mode: Mode, name: string) => join(mode === 'root' ? projectRoot() : stageProject(), 'native', 'build', name);

interface Started {
  dir: string;
  handshake: { pid: number; startTime: number; exited?: boolean };
}

/** The command line that starts the shim as MODE's user. */
function shimCommand(mode: Mode, b: Bundle, dir: string, extra: string[]): string[] {
  const args = [bin(mode, 'nestbox-shim'), '--dir', dir, '--bundle', b.dir, '--runtime', bin(mode, 'nestbox-runtime'), ...extra, 'nbx-shim-1'];
  if (mode === 'root') return args;
  const { uid, gid } = testUser();
  return ['setpriv', '--reuid', String(uid), '--regid', String(gid), '--init-groups', '--', 'env', '-i',
    'PATH=/usr/local/bin:/usr/bin:/bin', `HOME=/home/${TEST_USER}`, ...args];
}

function containerDir(mode: Mode, b: Bundle): string {
  const dir = join(b.base, 'ctr');
  mkdirSync(dir, { mode: 0o700 });
  if (mode === 'rootless') chownSync(dir, testUser().uid, testUser().gid);
  return dir;
}

/** Starts the shim and reads its handshake (the process we spawn exits at once). */
function startShim(mode: Mode, b: Bundle, extra: string[] = []): Promise<Started> {
  const dir = containerDir(mode, b);
  const [cmd, ...args] = shimCommand(mode, b, dir, extra);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], cwd: '/' });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stdout.on('end', () => {
      try {
        resolve({ dir, handshake: JSON.parse(out) as Started['handshake'] });
      } catch {
        reject(new Error(`no handshake: ${JSON.stringify(out)}`));
      }
    });
  });
}

interface LogEntry { log: string; stream: string; time: string }
const logOf = (dir: string): LogEntry[] =>
  readFileSync(join(dir, 'ctr.log'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogEntry);
const exitOf = (dir: string) => waitFor('exit.json', () => {
  try { return JSON.parse(readFileSync(join(dir, 'exit.json'), 'utf8')) as ShimExit; } catch { return undefined; }
});
const gone = (pid: number) => waitFor(`pid ${pid} to end`, () => (procStartTime(pid) === undefined ? true : undefined));

function withBundle(t: ExecutionContext, mode: Mode, args: string[]): Bundle {
  const b = makeBundle(mode, args);
  t.teardown(async () => {
    // a failed test may leave the container running: end it (its runtime and shim follow)
    const rec = existsSync(join(b.base, 'ctr')) ? readShimRecord(join(b.base, 'ctr')) : undefined;
    if (rec?.containerPid && isSameProcess(rec.containerPid, rec.containerStartTime!)) process.kill(rec.containerPid, 'SIGKILL');
    if (rec && isSameProcess(rec.pid, rec.startTime)) await gone(rec.pid).catch(() => undefined);
    removeBundle(b);
  });
  return b;
}

both('output goes to ctr.log as json-file lines with their stream; exit.json has the code', async (t, mode) => {
  const b = withBundle(t, mode, ['sh', '-c', 'echo out; echo err >&2; printf partial; exit 3']);
  const { dir, handshake } = await startShim(mode, b);
  t.true(Number.isInteger(handshake.pid) && handshake.pid > 0);
  const exit = await exitOf(dir);
  t.is(exit.exitCode, 3);
  t.is(exit.signal, undefined);
  t.false(exit.oomKilled);
  t.regex(exit.finishedAt!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
  const log = logOf(dir);
  const byStream = (s: string) => log.filter((e) => e.stream === s).map((e) => e.log).join('');
  t.is(byStream('stdout'), 'out\npartial');
  t.is(byStream('stderr'), 'err\n');
  t.true(log.some((e) => e.log === 'out\n' && e.stream === 'stdout'), 'one entry per line, newline kept');
  for (const e of log) t.regex(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
  await gone(handshake.pid);
  // what stays: the log, the exit, the runtime's status and pid; no socket, no shim record
  t.deepEqual(readdirSync(dir).sort(), ['ctr.log', 'exit.json', 'pid', 'status.json']);
  assertNoHostMounts(t, b);
});

both('a container killed by a signal: exit.json has 137 and signal 9; the pid was recorded with its start time', async (t, mode) => {
  const b = withBundle(t, mode, ['sleep', '100']);
  const { dir, handshake } = await startShim(mode, b);
  t.falsy(handshake.exited);
  // the handshake comes once the container runs: its pid is known by then
  const rec = readShimRecord(dir)!;
  t.is(rec.pid, handshake.pid);
  t.true(isSameProcess(rec.pid, rec.startTime));
  t.true(isSameProcess(rec.containerPid!, rec.containerStartTime!));
  // the pid is recorded just before the exec: on a slow machine the command may not run yet
  await waitFor('the container to exec sleep', () => (readFileSync(`/proc/${rec.containerPid}/cmdline`, 'utf8') === 'sleep\x00100\x00' ? true : undefined));
  process.kill(rec.containerPid!, 'SIGKILL');
  const exit = await exitOf(dir);
  t.like(exit, { exitCode: 137, signal: 9, oomKilled: false });
  await gone(handshake.pid);
});

both('a setup failure is in exit.json with its stage, and the handshake says the run ended', async (t, mode) => {
  const b = withBundle(t, mode, ['nosuchcmd']);
  const { dir, handshake } = await startShim(mode, b);
  const exit = await exitOf(dir);
  t.like(exit, { exitCode: 127, stage: 'exec', error: 'exec: "nosuchcmd": executable file not found in $PATH' });
  t.true(typeof handshake.pid === 'number');
});

both('it survives SIGKILL of its starter; an attach client then gets live output, sends stdin, sees the exit', async (t, mode) => {
  const b = withBundle(t, mode, ['sh', '-c', 'echo ready; read line; echo "got $line"; echo bye >&2; exit 5']);
  const dir = containerDir(mode, b);
  // the starter: a shell that runs the shim, then stays; killed with its whole process group
  const starter = spawn('sh', ['-c', '"$@" > "$0.handshake"; exec sleep 1000', join(b.base, 'hs'), ...shimCommand(mode, b, dir, ['--stdin'])],
    { stdio: 'ignore', detached: true, cwd: '/' });
  const hsFile = join(b.base, 'hs.handshake');
  const hs = await waitFor('the handshake', () => {
    try { return JSON.parse(readFileSync(hsFile, 'utf8')) as { pid: number; startTime: number }; } catch { return undefined; }
  });
  process.kill(-starter.pid!, 'SIGKILL');
  await gone(starter.pid!);
  const rec = readShimRecord(dir)!;
  t.true(isSameProcess(hs.pid, hs.startTime), 'the shim is alive');
  t.true(isSameProcess(rec.containerPid!, rec.containerStartTime!), 'the container is alive');
  const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${hs.pid}/status`, 'utf8'))![1]);
  t.not(ppid, starter.pid);
  const sid = (pid: number | 'self') => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[3]);
  // a session of its own, whose leader (the first fork) is gone: it can never get a terminal
  t.not(sid(hs.pid), sid('self'));
  t.not(sid(hs.pid), starter.pid);
  t.not(sid(hs.pid), hs.pid);
  for (const fd of ['0', '1', '2']) t.is(readlinkSync(`/proc/${hs.pid}/fd/${fd}`), '/dev/null', `fd ${fd} of the shim`);

  // attach after "ready" is in the log: output from before the attach is not sent to a client
  await waitFor('ready in the log', () => { try { return logOf(dir).length > 0 ? true : undefined; } catch { return undefined; } });
  let out = '';
  let err = '';
  const ended = new Promise<ShimExit | undefined>((resolve) => {
    void AttachConnection.open(dir, {
      onOutput: (stream, data) => { if (stream === 'stdout') out += data.toString(); else err += data.toString(); },
      onEnd: resolve,
    }).then((conn) => {
      conn.write(Buffer.from('hello\n'));
      conn.closeStdin();
    });
  });
  const exit = await ended;
  t.like(exit, { exitCode: 5, oomKilled: false });
  t.is(out, 'got hello\n');
  t.is(err, 'bye\n');
  t.deepEqual(logOf(dir).map((e) => [e.stream, e.log]), [['stdout', 'ready\n'], ['stdout', 'got hello\n'], ['stderr', 'bye\n']]);
  await gone(hs.pid);
  t.false(existsSync(join(dir, 'attach.sock')));
});

both('--wait-attach: output waits for the first client, which gets all of it', async (t, mode) => {
  const b = withBundle(t, mode, ['sh', '-c', 'echo first; echo second >&2; exit 0']);
  const { dir, handshake } = await startShim(mode, b, ['--wait-attach']);
  // the container runs (and here ends) meanwhile; what it wrote is held for the client
  await waitFor('the runtime to end', () => (existsSync(join(dir, 'status.json')) ? true : undefined));
  t.false(existsSync(join(dir, 'exit.json')), 'the run is not over before the client has the output');
  let text = '';
  const exit = await new Promise<ShimExit | undefined>((resolve) => {
    void AttachConnection.open(dir, { onOutput: (s, d) => (text += `${s}:${d.toString()}`), onEnd: resolve });
  });
  t.is(exit?.exitCode, 0);
  t.is(text, 'stdout:first\nstderr:second\n');
  await gone(handshake.pid);
});

/** the calling process's own v1 memory cgroup directory, if there is one */
function ownMemoryCgroup(): string | undefined {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.split(':')[1]?.split(',').includes('memory'));
  const dir = line && join('/sys/fs/cgroup/memory', line.split(':')[2]);
  return dir && existsSync(join(dir, 'memory.oom_control')) ? dir : undefined;
}

const memcg = isRoot ? ownMemoryCgroup() : undefined;
(memcg ? test : test.skip)(`root: an OOM kill in the container's memory cgroup is in exit.json${memcg ? '' : ' (skipped: needs root and a cgroup v1 memory hierarchy; the v2 reading of memory.events has no test yet)'}`, async (t) => {
  const cg = join(memcg!, `nbx-shim-oom-${process.pid}`);
  mkdirSync(cg);
  t.teardown(() => rmdirSync(cg));
  writeFileSync(join(cg, 'memory.limit_in_bytes'), String(32 * 1024 * 1024));
  const b = withBundle(t, 'root', ['sh', '-c', 'a=xxxxxxxxxxxxxxxx; while :; do a=$a$a; done']);
  const config = JSON.parse(readFileSync(join(b.dir, 'config.json'), 'utf8'));
  config.annotations['io.nestbox.cgroup.paths'] = cg;
  writeFileSync(join(b.dir, 'config.json'), JSON.stringify(config));
  const { dir, handshake } = await startShim('root', b, ['--cgroup', cg]);
  const exit = await exitOf(dir);
  t.like(exit, { exitCode: 137, signal: 9, oomKilled: true });
  await gone(handshake.pid);
});

/** the runtime can hand over a pty master (process.terminal with --console-socket) */
const runtimeHasTerminal = (() => {
  try {
    return execFileSync(bin('root', 'nestbox-runtime'), ['--help'], { encoding: 'utf8' }).includes('--console-socket');
  } catch {
    return false;
  }
})();
const withTerminal = (title: string, body: Parameters<typeof both>[1]) =>
  runtimeHasTerminal ? both(title, body) : test.skip(`${title} (skipped: this nestbox-runtime has no --console-socket)`, () => undefined);

withTerminal('--terminal: the pty master comes over the console socket; output, input and window size go through it', async (t, mode) => {
  const b = withBundle(t, mode, ['sh', '-c', 'busybox tty; read line; echo "got $line"; busybox stty size; exit 4']);
  const config = JSON.parse(readFileSync(join(b.dir, 'config.json'), 'utf8'));
  config.process.terminal = true;
  writeFileSync(join(b.dir, 'config.json'), JSON.stringify(config));
  const { dir, handshake } = await startShim(mode, b, ['--terminal', '--wait-attach']);
  let text = '';
  let typed = false;
  const exit = await new Promise<ShimExit | undefined>((resolve) => {
    let conn: AttachConnection | undefined;
    // type only after the prompt-like output: typed earlier, the echo would come first on a slow machine
    const typeWhenReady = () => {
      if (!typed && conn && text.includes('/dev/pts/0\r\n')) {
        typed = true;
        conn.write(Buffer.from('hello\n'));
      }
    };
    void AttachConnection.open(dir, {
      onOutput: (s, d) => { text += `${s === 'stdout' ? '' : '[stderr]'}${d.toString()}`; typeWhenReady(); },
      onEnd: resolve,
    }).then((c) => {
      conn = c;
      c.resize(33, 101);
      typeWhenReady();
    });
  });
  t.is(exit?.exitCode, 4);
  // a terminal: CRLF line ends, the input echoed, one stream
  t.is(text, '/dev/pts/0\r\nhello\r\ngot hello\r\n33 101\r\n');
  t.true(logOf(dir).every((e) => e.stream === 'stdout'));
  await gone(handshake.pid);
  t.false(existsSync(join(dir, 'console.sock')));
});
