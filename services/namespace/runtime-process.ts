/**
 * One run of native/nestbox-runtime for a container: its output as chunks, its exit status from
 * the status file the runtime writes atomically (so a container's own exit code 125 is never
 * mistaken for a runtime failure).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { nativeBin } from '../../lib/paths.js';
import type { ExitStatus } from '../../lib/contracts/types.js';

export interface RuntimeOutput {
  onChunk(stream: 'stdout' | 'stderr', data: Buffer): void;
}

export class RuntimeProcess {
  private readonly child: ChildProcess;
  readonly done: Promise<ExitStatus>;

  constructor(readonly containerId: string, bundleDir: string, containerDir: string, out: RuntimeOutput) {
    const statusFile = join(containerDir, 'exit.json');
    rmSync(statusFile, { force: true });
    this.child = spawn(
      nativeBin('nestbox-runtime'),
      ['run', '--bundle', bundleDir, '--status-file', statusFile, '--pid-file', join(containerDir, 'pid'), containerId],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stdout!.on('data', (d: Buffer) => out.onChunk('stdout', d));
    this.child.stderr!.on('data', (d: Buffer) => out.onChunk('stderr', d));
    this.done = new Promise((resolve) => {
      this.child.on('error', (err) => resolve({ exitCode: 125, error: `cannot start the runtime: ${err.message}`, stage: 'setup' }));
      this.child.on('close', (code, signal) => resolve(readStatus(statusFile, code, signal)));
    });
  }

  kill(signal: number | NodeJS.Signals): void {
    this.child.kill(signal);
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
