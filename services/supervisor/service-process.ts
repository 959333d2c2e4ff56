/**
 * One supervised service process: started with an IPC channel (so it exits if the supervisor
 * dies), restarted with exponential backoff when it crashes, stopped with TERM then KILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import type { ServiceName } from '../../lib/paths.js';

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;
/** a process that ran this long is healthy again: its next crash restarts quickly */
const STABLE_MS = 10_000;

export interface ServiceStatus {
  name: ServiceName;
  pid?: number;
  state: 'starting' | 'running' | 'backoff' | 'stopped';
  restarts: number;
}

export class ServiceProcess {
  private child?: ChildProcess;
  private restarts = 0;
  private backoff = BACKOFF_MIN_MS;
  private timer?: NodeJS.Timeout;
  private stopping = false;
  private startedAt = 0;

  constructor(
    readonly name: ServiceName,
    private readonly entry: string,
    private readonly logFile: string,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    this.stopping = false;
    const fd = openSync(this.logFile, 'a', 0o600);
    try {
      this.child = spawn(process.execPath, [this.entry], { stdio: ['ignore', fd, fd, 'ipc'], env: process.env });
    } finally {
      closeSync(fd);
    }
    this.startedAt = Date.now();
    const child = this.child;
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
  }

  status(): ServiceStatus {
    const state = this.stopping ? 'stopped' : this.timer ? 'backoff' : this.child?.exitCode === null ? 'running' : 'starting';
    return { name: this.name, pid: this.child?.pid, state, restarts: this.restarts };
  }

  async stop(graceMs = 5_000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(kill);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child || this.stopping) return;
    if (Date.now() - this.startedAt > STABLE_MS) this.backoff = BACKOFF_MIN_MS;
    this.log(`service ${this.name} (pid ${child.pid}) exited (${signal ?? code}); restarting in ${this.backoff} ms`);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.restarts++;
      this.start();
    }, this.backoff);
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
  }
}
