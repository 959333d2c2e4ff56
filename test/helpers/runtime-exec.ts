/**
 * `nestbox-runtime exec` from the integration tests: a container left running for the test (its
 * pid 1 once its command runs), and one exec into it as the bundle's user, with its status file.
 */
import { spawn } from 'node:child_process';
import { existsSync, lchownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { type Bundle, type Config, type Mode, asUser, finish, makeBundle, readPid, removeBundle, runtimeBin, start, testUser, waitFor } from './runtime-bundle.js';

export interface ExecResult { code: number | null; stdout: string; stderr: string; status?: Record<string, unknown> }

/**
 * A container running ARGS, killed at the test's end. With COMMAND given, its pid 1 is returned
 * only once /proc/PID/comm is COMMAND: the pid file comes just before the exec of the command.
 */
export async function runningContainer(t: ExecutionContext, mode: Mode, args: string[], edit: (c: Config, b: Bundle) => void, command?: string): Promise<{ b: Bundle; pid: number }> {
  const b = makeBundle(mode, args, edit);
  const child = start(b);
  const done = finish(b, child);
  t.teardown(async () => {
    child.kill('SIGKILL');
    await done;
    removeBundle(b);
  });
  const pid = await waitFor('the container pid', () => readPid(b));
  if (command) await waitFor(`the container running ${command}`, () => (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === command ? true : undefined));
  return { b, pid };
}

/** `exec --pid PID [EXTRA]` as the bundle's user with a process.json (or `-- CMD` when PROCESS is an array). */
export function runtimeExec(b: Bundle, pid: number, process: Record<string, unknown> | string[], extra: string[] = []): Promise<ExecResult> {
  const status = join(b.base, 'exec-status.json');
  const args = [runtimeBin(b.mode), 'exec', '--pid', String(pid), '--status-file', status, ...extra];
  if (Array.isArray(process)) {
    if (process.length) args.push('--', ...process);
  } else {
    const file = join(b.base, 'process.json');
    writeFileSync(file, JSON.stringify(process));
    if (b.mode === 'rootless') lchownSync(file, testUser().uid, testUser().gid);
    args.splice(2, 0, '--process', file);
  }
  const cmd = asUser(b.mode, args);
  const child = spawn(cmd[0], cmd.slice(1), { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const r: ExecResult = { code, stdout, stderr };
      if (existsSync(status)) r.status = JSON.parse(readFileSync(status, 'utf8'));
      resolve(r);
    });
  });
}
