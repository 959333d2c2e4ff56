/**
 * One `nestbox-runtime exec` into a running container: the process (an OCI process.json made
 * from the container's own process and the request) in a file, the runtime started with the pid
 * of the container's pid 1, its output as chunks, its exit status from the status file.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nativeBin } from '../../lib/paths.js';
import type { ExecContainerDto } from '../../lib/contracts/namespace.dto.js';
import type { ExitStatus } from '../../lib/contracts/types.js';
import type { RuntimeOutput } from './container-runner.js';

export type OciProcess = Record<string, unknown> & { env?: string[]; cwd?: string; user?: { uid: number; gid: number; username?: string } };

/** docker exec's rules: the container's process, then the request's args, env by key, cwd, user. */
export function execProcessSpec(container: OciProcess, req: ExecContainerDto): OciProcess {
  const env = new Map<string, string>();
  for (const e of [...(container.env ?? []), ...(req.env ?? [])]) env.set(e.slice(0, e.indexOf('=')), e);
  const user = container.user ?? { uid: 0, gid: 0 };
  return {
    ...container,
    terminal: false,
    args: req.args,
    env: [...env.values()],
    cwd: req.cwd ?? container.cwd ?? '/',
    // -u USER[:GROUP] is resolved by the runtime in the container, as docker does
    user: req.username !== undefined ? { uid: 0, gid: 0, username: req.username }
      : req.uid !== undefined || req.gid !== undefined ? { uid: req.uid ?? user.uid, gid: req.gid ?? (req.uid !== undefined ? req.uid : user.gid) }
        : user,
  };
}

/**
 * The process file the runtime reads as it starts: a new file (never a link planted by someone),
 * not fsync'd nor renamed into place, as nothing reads it before it is whole and it means nothing
 * after a crash; an fsync here was a millisecond or more of every exec.
 */
export function writeProcessFile(file: string, process: OciProcess): void {
  writeFileSync(file, JSON.stringify(process), { mode: 0o600, flag: 'wx' });
}

let sequence = 0;

export class ExecProcess {
  readonly done: Promise<ExitStatus>;

  constructor(pid: number, process: OciProcess, containerDir: string, out: RuntimeOutput) {
    const name = `exec-${globalThis.process.pid}-${++sequence}`;
    const processFile = join(containerDir, `${name}.json`);
    const statusFile = join(containerDir, `${name}.status.json`);
    writeProcessFile(processFile, process);
    const child = spawn(
      nativeBin('nestbox-runtime'),
      // --config: the container's seccomp filter, which a process.json does not carry
      ['exec', '--pid', String(pid), '--process', processFile, '--config', join(containerDir, 'bundle', 'config.json'), '--status-file', statusFile],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (d: Buffer) => out.onChunk('stdout', d));
    child.stderr!.on('data', (d: Buffer) => out.onChunk('stderr', d));
    this.done = new Promise<ExitStatus>((resolve) => {
      child.on('error', (err) => resolve({ exitCode: 125, error: `cannot start the runtime: ${err.message}`, stage: 'setup' }));
      child.on('close', (code, signal) => resolve(readStatus(statusFile, code, signal)));
    }).finally(() => {
      rmSync(processFile, { force: true });
      rmSync(statusFile, { force: true });
    });
  }
}

/** The status file the runtime wrote; a runtime that died without one is a 125 of stage `runtime`. */
export function readStatus(file: string, code: number | null, signal: NodeJS.Signals | null): ExitStatus {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as ExitStatus;
    if (typeof s.exitCode === 'number') return s;
  } catch {
    /* no status: the runtime itself died */
  }
  return {
    exitCode: 125,
    error: `the runtime ended without a status (${signal ? `signal ${signal}` : `exit ${code}`})`,
    stage: 'runtime',
  };
}
