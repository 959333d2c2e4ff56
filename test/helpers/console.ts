/**
 * A terminal for runtime tests: native/build/test/nbx-console-relay listens on a console socket,
 * runs the runtime (as MODE's user), receives the pty master and relays it: what the test writes
 * goes to the master (keys, ^C), what the container prints comes back; `resize` sets the master's
 * window size (TIOCSWINSZ) as a terminal emulator does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import type { ExecutionContext } from 'ava';
import { scaled } from './time.js';
import { asUser, type Mode, testTool } from './runtime-bundle.js';

export interface ConsoleRun {
  child: ChildProcess;
  /** everything the terminal showed so far */
  output(): string;
  write(data: string): void;
  resize(rows: number, cols: number): void;
  /** resolves with the output once RE matches it */
  waitFor(re: RegExp, ms?: number): Promise<string>;
  done: Promise<{ code: number | null; output: string; stderr: string }>;
}

/** Killed at the end of test T whatever happens (the relay takes the runtime with it). */
export function startWithConsole(t: ExecutionContext, mode: Mode, socket: string, command: string[]): ConsoleRun {
  const cmd = asUser(mode, [testTool(mode, 'nbx-console-relay'), socket, '--', ...command]);
  const child = spawn(cmd[0], cmd.slice(1), { cwd: '/', stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const ctl = child.stdio[3] as Writable;
  const done = new Promise<{ code: number | null; output: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output: out, stderr: err }));
  });
  return {
    child,
    output: () => out,
    write: (data) => child.stdin!.write(data),
    resize: (rows, cols) => ctl.write(`winsize ${rows} ${cols}\n`),
    async waitFor(re, ms = 10000) {
      const until = Date.now() + scaled(ms);
      while (!re.test(out)) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${re} on the terminal; it shows ${JSON.stringify(out)}; stderr ${JSON.stringify(err)}`);
        if (child.exitCode !== null) throw new Error(`the runtime ended before ${re} showed; terminal ${JSON.stringify(out)}; stderr ${JSON.stringify(err)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return out;
    },
    done,
  };
}
