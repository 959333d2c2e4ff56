/**
 * Docker habits for stdio and exec: `run -it` in a real terminal (script(1) gives the CLI one):
 * the container's own /dev/pts/0, its size follows ours, typed input is echoed and runs, Ctrl-C
 * interrupts the shell's foreground command only, the shell's exit code comes back; `-i` pipes
 * stdin; `exec` with -e/-w/-u and docker's exit codes, and exec -it / -i / -d under a shim of
 * their own. As root and rootless.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { eachInstance } from '../helpers/each-instance.js';
import type { NestboxInstance } from '../helpers/nestbox.js';
import { scaled } from '../helpers/time.js';

const each = eachInstance();

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The shell line that runs the CLI as the instance's user, with its environment. */
function cliLine(nb: NestboxInstance, args: string[]): string {
  const [cmd, argv, env] = nb.command(args);
  const words = nb.kind === 'root' ? ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...argv] : [cmd, ...argv];
  return words.map(quote).join(' ');
}

/** A CLI in a terminal of its own (script's pty, ROWSxCOLS), driven by writes to that terminal. */
class TerminalSession {
  output = '';
  readonly done: Promise<number | null>;
  private readonly child;

  constructor(line: string) {
    this.child = spawn('script', ['-qec', `stty rows 30 cols 100; exec ${line}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d: Buffer) => (this.output += d.toString('utf8')));
    this.child.stderr.on('data', (d: Buffer) => (this.output += d.toString('utf8')));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), scaled(60_000));
    this.done = new Promise((resolve) => this.child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    }));
  }

  type(text: string): void {
    this.child.stdin.write(text);
  }

  async expect(pattern: RegExp, from = 0, ms = 15_000): Promise<number> {
    for (const until = Date.now() + scaled(ms); ; ) {
      const m = pattern.exec(this.output.slice(from));
      if (m) return from + m.index + m[0].length;
      if (Date.now() > until) throw new Error(`timed out waiting for ${pattern} in ${JSON.stringify(this.output)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The pty script made for the CLI (its child's stdin). */
  terminal(): string {
    const kids = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try { return readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[1] === String(this.child.pid); } catch { return false; }
    });
    if (kids.length !== 1) throw new Error(`script has ${kids.length} children`);
    return readlinkSync(`/proc/${kids[0]}/fd/0`);
  }
}

function stty(dev: string, rows: number, cols: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn('stty', ['-F', dev, 'rows', String(rows), 'cols', String(cols)], { stdio: 'ignore' });
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`stty -F ${dev} failed`))));
  });
}

function containerDirs(nb: NestboxInstance): string[] {
  const dir = join(nb.dataRoot, 'containers');
  return existsSync(dir) ? readdirSync(dir) : [];
}

each('run -t: the container has /dev/pts/0 of its own devpts, made with our size', async (t, nb) => {
  // the size travels with the request (process.consoleSize): right before any resize frame
  const s = new TerminalSession(cliLine(nb, ['run', '-t', '--rm', 'busybox', 'sh', '-c', 'tty; stty size']));
  t.is(await s.done, 0);
  t.regex(s.output, /^\/dev\/pts\/0\r?\r?\n30 100\r?\r?\n$/m);
  t.deepEqual(containerDirs(nb), []);
});

each('run -it: echo, window size (SIGWINCH), Ctrl-C to the foreground command, exit code', async (t, nb) => {
  const s = new TerminalSession(cliLine(nb, ['run', '-it', '--rm', 'busybox', 'sh']));
  let at = await s.expect(/# (\x1b\[6n)?$/); // ash asks the cursor position: no terminal emulator answers here
  s.type('stty size\r');
  at = await s.expect(/\n30 100\r/, at);
  await stty(s.terminal(), 40, 120); // the kernel sends the CLI SIGWINCH
  await new Promise((r) => setTimeout(r, scaled(300)));
  s.type('stty size\r');
  at = await s.expect(/\n40 120\r/, at);
  s.type('echo h""i\r');
  at = await s.expect(/echo h""i/, at); // echoed by the container's terminal
  at = await s.expect(/\nhi\r/, at);
  s.type('sleep 30\r');
  await s.expect(/sleep 30/, at);
  await new Promise((r) => setTimeout(r, scaled(500)));
  const sent = Date.now();
  s.type('\x03');
  s.type('echo after-$?\r');
  at = await s.expect(/\nafter-130\r/, at, 10_000); // SIGINT ended sleep; the shell goes on
  t.true(Date.now() - sent < scaled(10_000));
  s.type('exit 7\r');
  t.is(await s.done, 7);
  t.deepEqual(containerDirs(nb), []);
});

each('run -it without a terminal on stdin: one clear line, 125', async (t, nb) => {
  const r = await nb.cli(['run', '-it', '--rm', 'busybox', 'sh'], { input: 'exit 3\n' });
  t.is(r.code, 125);
  t.is(r.stderr, 'nestbox: the input device is not a TTY\n');
  t.deepEqual(containerDirs(nb), []);
});

each('run -i: stdin is piped to the container', async (t, nb) => {
  const r = await nb.cli(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'hi\n' });
  t.is(r.stderr, '');
  t.is(r.stdout, 'hi\n');
  t.is(r.code, 0, r.stderr);
  const code = await nb.cli(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'read x; exit $x'], { input: '9\n' });
  t.is(code.code, 9, code.stderr);
  t.deepEqual(containerDirs(nb), []);
});

each('exec: -e, -w, -u, exit codes, stopped and unknown containers', async (t, nb) => {
  const run = await nb.cli(['run', '-d', 'busybox', 'sleep', '300']);
  t.is(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  const e = await nb.cli(['exec', '-e', 'A=b', '-w', '/etc', '-u', '5:6', id, 'sh', '-c', 'echo $A $(pwd) $(id -u) $(id -g); exit 3']);
  t.is(e.stdout, 'b /etc 5 6\n');
  t.is(e.code, 3);
  const missing = await nb.cli(['exec', id, 'nosuch']);
  t.is(missing.code, 127);
  t.regex(missing.stderr, /^nestbox: .*nosuch.*\n$/);
  const notExec = await nb.cli(['exec', id, '/etc']);
  t.is(notExec.code, 126);
  // -d too: a command that cannot start is said at once, not left to a shim nobody reads
  const missingDetached = await nb.cli(['exec', '-d', id, 'nosuch']);
  t.is(missingDetached.code, 127);
  t.is(missingDetached.stderr, 'nestbox: exec: "nosuch": executable file not found in $PATH\n');
  t.is((await nb.cli(['exec', '-d', id, '/etc'])).code, 126);
  const unknown = await nb.cli(['exec', 'no-such-box', 'true']);
  t.is(unknown.code, 125);
  t.is(unknown.stderr, 'nestbox: no such container: no-such-box\n');
  const usage = await nb.cli(['exec', id]);
  t.is(usage.code, 125);
  t.is((await nb.cli(['stop', '-t', '0', id])).code, 0);
  const stopped = await nb.cli(['exec', id, 'true']);
  t.is(stopped.code, 125);
  t.regex(stopped.stderr, /^nestbox: container \S+ is not running\n$/);
  t.is((await nb.cli(['rm', id])).code, 0);
  t.deepEqual(containerDirs(nb), []);
});

/** The exec shims' directories left in a container's (each removes its own when it ends). */
function execDirs(nb: NestboxInstance, id: string): string[] {
  const dir = join(nb.dataRoot, 'containers', id, 'exec');
  return existsSync(dir) ? readdirSync(dir) : [];
}

each('exec -it / -i / -d: a terminal of the container\'s devpts, piped stdin, a process that outlives the CLI', async (t, nb) => {
  const run = await nb.cli(['run', '-d', 'busybox', 'sleep', '300']);
  t.is(run.code, 0, run.stderr);
  const id = run.stdout.trim();

  const s = new TerminalSession(cliLine(nb, ['exec', '-it', id, 'sh']));
  let at = await s.expect(/# (\x1b\[6n)?$/);
  s.type('tty; stty size; echo $TERM\r');
  at = await s.expect(/\n\/dev\/pts\/\d+\r\r?\n30 100\r\r?\nxterm\r/, at);
  s.type('sleep 30\r');
  await s.expect(/sleep 30/, at);
  await new Promise((r) => setTimeout(r, scaled(500)));
  s.type('\x03');
  s.type('echo after-$?\r');
  at = await s.expect(/\nafter-130\r/, at, 10_000); // Ctrl-C reached the exec's foreground command only
  s.type('exit 6\r');
  t.is(await s.done, 6);

  const piped = await nb.cli(['exec', '-i', id, 'sh', '-c', 'read x; echo "got $x"; echo err >&2; exit 4'], { input: 'hello\n' });
  t.is(piped.stdout, 'got hello\n');
  t.is(piped.stderr, 'err\n');
  t.is(piped.code, 4);
  const noTty = await nb.cli(['exec', '-it', id, 'sh'], { input: 'exit 3\n' });
  t.is(noTty.code, 125);
  t.is(noTty.stderr, 'nestbox: the input device is not a TTY\n');

  const detached = await nb.cli(['exec', '-d', id, 'sh', '-c', 'sleep 1; echo done > /tmp/marker']);
  t.is(detached.code, 0, detached.stderr);
  t.is(detached.stdout, '');
  t.is(execDirs(nb, id).length, 1, 'the detached exec runs under its shim');
  await nb.cli(['system', 'stop'], { timeoutMs: 20_000 }); // it outlives the services
  const until = Date.now() + scaled(10_000);
  while (execDirs(nb, id).length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(execDirs(nb, id), [], 'its shim removed its directory when it ended');
  const marker = await nb.cli(['exec', id, 'cat', '/tmp/marker']);
  t.is(marker.stdout, 'done\n', marker.stderr);

  const stop = await nb.cli(['rm', '-f', id]);
  t.is(stop.code, 0, stop.stderr);
  t.deepEqual(containerDirs(nb), []);
});

each('attach: to a running -it container through a terminal, Ctrl-P Ctrl-Q detaches (it runs on), again, exit code; -d output; stopped refused', async (t, nb) => {
  const run = await nb.cli(['run', '-dit', '--name', 'att', 'busybox', 'sh']);
  t.is(run.code, 0, run.stderr);
  const first = new TerminalSession(cliLine(nb, ['attach', 'att']));
  await new Promise((r) => setTimeout(r, scaled(300)));
  first.type('echo o""ne\r');
  await first.expect(/\none\r/);
  first.type('\x10\x11'); // docker's detach keys
  t.is(await first.done, 0);
  t.is((await nb.cli(['inspect', '-f', '{{.State.Status}}', 'att'])).stdout, 'running\n', 'detached, not stopped');
  // again: the same shell, and its exit is the CLI's
  const second = new TerminalSession(cliLine(nb, ['container', 'attach', 'att']));
  await new Promise((r) => setTimeout(r, scaled(300)));
  second.type('echo t""wo\r');
  await second.expect(/\ntwo\r/);
  second.type('exit 6\r');
  t.is(await second.done, 6);
  t.is((await nb.cli(['wait', 'att'])).stdout, '6\n');
  // no terminal: the output from now on (what it prints once told to, after the attach), its exit code
  const late = await nb.cli(['run', '-d', '--name', 'late', 'busybox', 'sh', '-c', 'trap "echo late; exit 5" USR1; while :; do sleep 0.1; done']);
  t.is(late.code, 0, late.stderr);
  const attached = nb.cli(['attach', '--sig-proxy=false', 'late']);
  await new Promise((r) => setTimeout(r, scaled(1500))); // attached by then
  t.is((await nb.cli(['kill', '-s', 'USR1', 'late'])).code, 0);
  const plain = await attached;
  t.is(plain.stdout, 'late\n');
  t.is(plain.code, 5, plain.stderr);
  const stopped = await nb.cli(['attach', 'att']);
  t.is(stopped.code, 1);
  t.is(stopped.stderr, 'nestbox: You cannot attach to a stopped container, start it first\n');
  t.is((await nb.cli(['rm', 'att', 'late'])).code, 0);
});

each("attach without a terminal: the CLI's signals go to the container (--sig-proxy), which decides the exit", async (t, nb) => {
  const run = await nb.cli(['run', '-d', '--name', 'sigatt', 'busybox', 'sh', '-c', 'trap "echo got INT; exit 4" INT; echo ready; while :; do sleep 0.1; done']);
  t.is(run.code, 0, run.stderr);
  for (let i = 0; i < 100 && !(await nb.cli(['logs', 'sigatt'])).stdout.includes('ready'); i++) await new Promise((r) => setTimeout(r, 20));
  const [cmd, argv, env] = nb.command(['attach', 'sigatt']);
  const child = spawn(cmd, argv, { env: nb.kind === 'root' ? env : { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const ended = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  await new Promise((r) => setTimeout(r, scaled(800))); // attached by then
  child.kill('SIGINT');
  t.is(await ended, 4);
  t.is(out, 'got INT\n');
  t.is((await nb.cli(['rm', 'sigatt'])).code, 0);
});
