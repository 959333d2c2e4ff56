/**
 * An isolated nestbox for one test file: its own runtime dir and data root (removed by stop()),
 * driven through the built CLI as root or as the unprivileged test user.
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, mkdirSync, rmSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_USER, distRoot, stageProject, userIds } from './host.js';
import { scaled } from './time.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class NestboxInstance {
  private constructor(
    readonly kind: 'root' | 'rootless',
    readonly user: string,
    readonly base: string,
    /** the compiled tree holding cli/nestbox.cjs (the bundled CLI) */
    private readonly distDir: string,
    private readonly extraEnv: Record<string, string>,
  ) {}

  get runtimeDir(): string { return join(this.base, 'run'); }
  get dataRoot(): string { return join(this.base, 'data'); }

  static root(env: Record<string, string> = {}): NestboxInstance {
    const base = mkdtempSync('/tmp/nbx-r-');
    chmodSync(base, 0o711); // container root (a subordinate uid) walks to its layers
    return new NestboxInstance('root', 'root', base, distRoot(), env);
  }

  static rootless(env: Record<string, string> = {}, user = TEST_USER): NestboxInstance {
    const ids = userIds(user)!;
    const base = mkdtempSync('/tmp/nbx-u-');
    chownSync(base, ids.uid, ids.gid);
    chmodSync(base, 0o700);
    for (const d of ['run', 'data']) {
      mkdirSync(join(base, d), { mode: 0o700 });
      chownSync(join(base, d), ids.uid, ids.gid);
    }
    return new NestboxInstance('rootless', user, base, join(stageProject(), 'dist'), env);
  }

  private env(): Record<string, string> {
    // passed through from the suite's environment: one overlay driver forced
    // (NESTBOX_OVERLAY_DRIVER=fuse), a longer start on slow guests (NESTBOX_START_TIMEOUT_MS)
    const passed = Object.fromEntries(['NESTBOX_OVERLAY_DRIVER', 'NESTBOX_START_TIMEOUT_MS']
      .filter((k) => process.env[k]).map((k) => [k, process.env[k]!]));
    return {
      PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
      NESTBOX_RUNTIME_DIR: this.runtimeDir,
      NESTBOX_DATA_ROOT: this.dataRoot,
      ...passed,
      ...this.extraEnv,
      // `run` of an image not stored pulls it (a Hub name from the Hub): tests reach loopback only
      NESTBOX_REGISTRY_LOOPBACK_ONLY: '1',
    };
  }

  /** argv and env that run the CLI as this instance's user (for a caller that wraps it, e.g. in script(1)) */
  command(args: string[], extraEnv: Record<string, string> = {}): [string, string[], Record<string, string>] {
    const cli = join(this.distDir, 'cli', 'nestbox.cjs');
    if (this.kind === 'root') return [process.execPath, ['--', cli, ...args], { ...this.env(), HOME: '/root', ...extraEnv }];
    const ids = userIds(this.user)!;
    const env = { ...this.env(), HOME: `/home/${this.user}`, USER: this.user, LOGNAME: this.user, ...extraEnv };
    return ['setpriv', ['--reuid', String(ids.uid), '--regid', String(ids.gid), '--init-groups', '--', 'env', '-i',
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, '--', cli, ...args], {}];
  }

  /** Runs `nestbox ARGS...` to completion (`env`: more variables for this command only; `cwd`: its directory, / by default). */
  cli(args: string[], opts: { input?: string; timeoutMs?: number; env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
    const [cmd, argv, env] = this.command(args, opts.env);
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, argv, { env: this.kind === 'root' ? env : { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: opts.cwd ?? '/', stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.stdin.end(opts.input ?? '');
      const timer = setTimeout(() => child.kill('SIGKILL'), scaled(opts.timeoutMs ?? 60_000));
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** pid of the supervisor, from its endpoint lock */
  supervisorPid(): number | undefined {
    const lock = join(this.runtimeDir, 'supervisor.sock.lock');
    return existsSync(lock) ? Number.parseInt(readFileSync(lock, 'utf8'), 10) : undefined;
  }

  /** Processes started for this instance (they carry its runtime dir in their environment). */
  processes(): number[] {
    const marker = `NESTBOX_RUNTIME_DIR=${this.runtimeDir}`;
    const pids: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      try {
        if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(marker)) pids.push(Number(entry));
      } catch { /* exited, or not ours to read */ }
    }
    return pids;
  }

  /**
   * The instance's keeper namespace process (services/namespace/keeper.ts) if it is alive: the
   * pid recorded in the runtime dir, still with the recorded start time.
   */
  keeper(): { pid: number; startTime: number } | undefined {
    try {
      const [pid, startTime] = readFileSync(join(this.runtimeDir, 'keeper.pid'), 'utf8').trim().split(' ').map(Number);
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[19]) !== startTime || fields[0] === 'Z') return undefined;
      return { pid, startTime };
    } catch {
      return undefined;
    }
  }

  /** Resolves once `exec CONTAINER ARGS...` succeeds (a detached container's own setup is done); throws after `ms` (scaled). */
  async untilExec(container: string, args: string[], ms = 10_000): Promise<void> {
    for (const until = Date.now() + scaled(ms); Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
      if ((await this.cli(['exec', container, ...args])).code === 0) return;
    }
    throw new Error(`${container} never became ready: exec ${args.join(' ')} kept failing`);
  }

  /** Stops the services and removes every file the instance made. */
  async stop(): Promise<void> {
    await this.cli(['system', 'stop'], { timeoutMs: 20_000 }).catch(() => undefined);
    const pid = this.supervisorPid();
    if (pid) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    // `system stop` leaves the keeper running (as podman keeps its pause process); a test must not
    const keeper = this.keeper();
    if (keeper) {
      try { process.kill(keeper.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    for (const leftover of this.processes()) {
      try { process.kill(leftover, 'SIGKILL'); } catch { /* gone */ }
    }
    rmSync(this.base, { recursive: true, force: true });
  }
}
