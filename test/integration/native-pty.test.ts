/**
 * process.terminal: a pty from the container's own devpts instance, its master handed to the
 * caller over --console-socket (received here by the test tool nbx-console-relay), as root and
 * rootless.
 */
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { type Bundle, type Config, type Mode, both, makeBundle, readPid, registerRuntimeHooks, removeBundle, run, runtimeBin, waitFor, assertNoHostMounts } from '../helpers/runtime-bundle.js';
import { startWithConsole } from '../helpers/console.js';
registerRuntimeHooks();

function ttyBundle(mode: Mode, args: string[], edit?: (c: Config) => void): Bundle {
  return makeBundle(mode, args, (c, b) => {
    c.process.terminal = true;
    c.process.env.push('TERM=xterm');
    for (const a of ['tty', 'stty']) symlinkSync('busybox', join(b.lower, 'bin', a));
    edit?.(c);
  });
}

function runArgs(b: Bundle, ...extra: string[]): string[] {
  return [runtimeBin(b.mode), 'run', '--bundle', b.dir, '--status-file', join(b.base, 'status.json'), '--pid-file', join(b.base, 'pid'),
    '--console-socket', join(b.base, 'console.sock'), ...extra, 'nbx-tty-1'];
}

const status = (b: Bundle) => JSON.parse(readFileSync(join(b.base, 'status.json'), 'utf8'));

/** the container's pid 1 has a child named NAME (seen from the host) */
function hasChild(pid: number, name: string): true | undefined {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.some((k) => readFileSync(`/proc/${k}/comm`, 'utf8').trim() === name) || undefined;
  } catch {
    return undefined;
  }
}

both('tty inside prints /dev/pts/0 (a new devpts instance) and the exit code comes back', async (t, mode) => {
  const b = ttyBundle(mode, ['sh', '-c', 'tty; ls -1 /dev/pts; exit 3']);
  t.teardown(() => removeBundle(b));
  const c = startWithConsole(t, mode, join(b.base, 'console.sock'), runArgs(b));
  const r = await c.done;
  t.is(r.code, 3, r.stderr);
  t.deepEqual(r.output.split('\r\n'), ['/dev/pts/0', '0', 'ptmx', '']);
  t.deepEqual(status(b), { exitCode: 3 });
  assertNoHostMounts(t, b);
});

both('consoleSize is the initial size; TIOCSWINSZ on the master reaches stty size after SIGWINCH', async (t, mode) => {
  const b = ttyBundle(mode, ['sh', '-c', 'trap "stty size; exit 0" WINCH; stty size; echo ready; while :; do sleep 0.05; done'], (c) => {
    c.process.consoleSize = { height: 24, width: 80 };
  });
  t.teardown(() => removeBundle(b));
  const c = startWithConsole(t, mode, join(b.base, 'console.sock'), runArgs(b));
  await c.waitFor(/ready\r\n/);
  t.true(c.output().startsWith('24 80\r\n'), c.output());
  c.resize(33, 111);
  const r = await c.done;
  t.is(r.code, 0, r.stderr);
  t.is(r.output, '24 80\r\nready\r\n33 111\r\n');
});

both('^C on the terminal interrupts the foreground sleep of an interactive shell, which goes on', async (t, mode) => {
  const b = ttyBundle(mode, ['sh', '-i']);
  t.teardown(() => removeBundle(b));
  const c = startWithConsole(t, mode, join(b.base, 'console.sock'), runArgs(b));
  c.write('sleep 30\n');
  const pid = await waitFor('the container pid', () => readPid(b));
  await waitFor('sleep running in the shell', () => hasChild(pid, 'sleep'));
  c.write('\x03');
  c.write('echo "after $?"\n');
  await c.waitFor(/after 130/);
  c.write('echo "still $((6*7))"; exit 5\n');
  const r = await c.done;
  t.is(r.code, 5, r.stderr);
  t.regex(r.output, /\^C/, 'the terminal echoes ^C');
  t.regex(r.output, /still 42/);
  t.deepEqual(status(b), { exitCode: 5 });
});

both('with --init, ^C reaches the command (the foreground group), init exits 128+2', async (t, mode) => {
  const b = ttyBundle(mode, ['sh', '-c', 'tty; echo $$ started; sleep 30; echo not reached'], (c) => {
    c.annotations['io.nestbox.init'] = 'true';
  });
  t.teardown(() => removeBundle(b));
  const c = startWithConsole(t, mode, join(b.base, 'console.sock'), runArgs(b));
  await c.waitFor(/started/);
  const pid = await waitFor('the container pid', () => readPid(b));
  const sh = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  await waitFor('sleep running', () => hasChild(Number(sh), 'sleep'));
  c.write('\x03');
  const r = await c.done;
  t.is(r.code, 130, r.output + r.stderr);
  t.regex(r.output, /^\/dev\/pts\/0\r\n2 started\r\n/, 'the command is pid 2, init pid 1');
  t.notRegex(r.output, /not reached/);
});

both('process.terminal without --console-socket, and the reverse, are clear errors', async (t, mode) => {
  const b = ttyBundle(mode, ['tty']);
  t.teardown(() => removeBundle(b));
  const r = await run(b);
  t.is(r.code, 125);
  t.deepEqual(r.status, { exitCode: 125, error: 'process.terminal needs --console-socket (the pty master is sent there)', stage: 'setup' });
  const b2 = makeBundle(mode, ['true']);
  t.teardown(() => removeBundle(b2));
  const r2 = await run(b2, ['--console-socket', join(b2.base, 'nope.sock')]);
  t.is(r2.code, 125);
  t.is(r2.status?.error, `--console-socket ${join(b2.base, 'nope.sock')} given but process.terminal is false`);
});

