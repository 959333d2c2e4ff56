/**
 * One program run inside the keeper namespace (services/namespace/keeper.ts): `nestbox-runtime
 * join --pid PID --start-time T -- ARGV`, as uid 0 of the keeper's user namespace, so owners read
 * and write as a container sees them. Extraction, commit and export all go this way; the node
 * workers (extract-worker.js, commit-worker.js) through KeeperWorker, which stages them first.
 */
import { spawn } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import type { KeeperInfo } from '../../lib/contracts/types.js';
import { stageWorker } from './worker-stage.js';

/** Asks the namespace service for the live keeper (it starts or replaces one as needed). */
export type KeeperSource = (purpose: string) => Promise<KeeperInfo>;

export interface KeeperExit { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export interface KeeperIo {
  /** the program's stdin (a descriptor the caller closes once this returns); none by default */
  stdin?: number;
  /** where the program's stdout goes; without one it is collected into KeeperExit.stdout */
  stdout?: number;
  /** keep only the last this many characters of stderr (a long-running program's chatter) */
  stderrTail?: number;
}

/** Runs ARGV in the keeper and collects its exit; a runtime that cannot start is an exit with no code. */
export function runInKeeper(runtime: string, keeper: KeeperInfo, argv: string[], io: KeeperIo = {}): Promise<KeeperExit> {
  return new Promise((resolve) => {
    const child = spawn(runtime, ['join', '--pid', String(keeper.pid), '--start-time', String(keeper.startTime), '--', ...argv], {
      stdio: [io.stdin ?? 'ignore', io.stdout ?? 'pipe', 'pipe'],
      cwd: '/',
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (io.stderrTail !== undefined) stderr = stderr.slice(-io.stderrTail);
    });
    child.on('error', (err) => resolve({ code: null, signal: null, stdout, stderr: `cannot start ${runtime}: ${err.message}` }));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** How a run ended, for a message when the program said nothing. */
export function exitText(r: KeeperExit): string {
  return r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
}

/**
 * A node worker run in the keeper: `node WORKER --dir DIR --runtime RUNTIME ARGS...`, the staged
 * copies when we are root (worker-stage.ts: container root cannot read a private checkout).
 */
export class KeeperWorker {
  private runnable?: { worker: string; runtime: string };

  constructor(
    private readonly keeper: KeeperSource,
    /** where root stages a copy of the worker that container root can read */
    private readonly workerRoot: string,
    private readonly runtime: string,
    private readonly worker: string,
  ) {}

  /** `purpose` names the work to the namespace service (which starts a keeper if none lives). */
  async run(purpose: string, dir: string, args: string[], io: KeeperIo = {}): Promise<KeeperExit> {
    const keeper = await this.keeper(purpose);
    this.runnable ??= stagedTools(this.workerRoot, this.worker, this.runtime);
    return runInKeeper(this.runtime, keeper, [process.execPath, this.runnable.worker, '--dir', dir, '--runtime', this.runnable.runtime, ...args], io);
  }
}

/**
 * The worker and the runtime it runs (`layer apply|xattrs`) as keeper root may run them: the
 * staged copies when we are root (worker-stage.ts), else the originals.
 */
export function stagedTools(workerRoot: string, worker: string, runtime: string): { worker: string; runtime: string } {
  const staged = stageWorker(workerRoot, worker, [runtime]);
  return { worker: staged, runtime: staged === worker ? runtime : join(dirname(staged), basename(runtime)) };
}
