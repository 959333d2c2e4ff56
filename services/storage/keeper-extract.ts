/**
 * Layer extraction inside the keeper namespace (services/namespace/keeper.ts): the namespace
 * service names the live keeper, and `nestbox-runtime join --pid PID --start-time T -- node
 * extract-worker.js --dir DIR --runtime RUNTIME` runs the one extraction implementation (node-tar) as uid 0 of
 * the keeper's user namespace, the tar on its stdin. The worker's path comes from this file's
 * own location, so a staged or installed copy runs its own worker.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NestboxError } from '../../lib/errors.js';
import { nativeBin } from '../../lib/paths.js';
import type { KeeperInfo } from '../../lib/contracts/types.js';
import { stageWorker } from './worker-stage.js';

/** Asks the namespace service for the live keeper (it starts or replaces one as needed). */
export type KeeperSource = (purpose: string) => Promise<KeeperInfo>;

export interface ExtractResult {
  /** entries whose owner the keeper does not map (single-id users), extracted as 0 */
  squashed: number;
  /** warning lines, one per entry skipped (device nodes), each naming it */
  skipped: string[];
}

export const EXTRACT_WORKER = fileURLToPath(new URL('./extract-worker.js', import.meta.url));

interface Exit { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export class KeeperExtractor {
  private runnable?: { worker: string; runtime: string };

  /** `workerRoot`: where root stages a copy of the worker that container root can read (worker-stage.ts) */
  constructor(
    private readonly keeper: KeeperSource,
    private readonly workerRoot: string,
    private readonly runtime = nativeBin('nestbox-runtime'),
    private readonly worker = EXTRACT_WORKER,
  ) {}

  /** Extracts `tarFile` into the existing, empty directory `dir` (writable by keeper root). */
  async extract(tarFile: string, dir: string): Promise<ExtractResult> {
    for (let attempt = 1; ; attempt++) {
      const keeper = await this.keeper('layer extraction');
      this.runnable ??= stagedTools(this.workerRoot, this.worker, this.runtime);
      const r = await this.join(keeper, tarFile, dir, this.runnable);
      if (r.code === 0) return parseResult(r.stdout);
      // the worker refused the archive: its line names the entry, the caller names the archive
      if (r.code === 2) throw new NestboxError('INVALID_ARGUMENT', lastLine(r.stderr));
      const said = lastLine(r.stderr) || (r.signal ? `killed by ${r.signal}` : `exit ${r.code}`);
      // it died between the namespace service's check and our join: ask again, once
      if (r.code === 125 && attempt === 1 && /the keeper died|has exited/.test(said)) continue;
      throw new NestboxError('INTERNAL', `extracting layer ${tarFile} in the keeper namespace: ${said}`);
    }
  }

  private join(k: KeeperInfo, tarFile: string, dir: string, run: { worker: string; runtime: string }): Promise<Exit> {
    const input = openSync(tarFile, 'r');
    try {
      const child = spawn(
        this.runtime,
        ['join', '--pid', String(k.pid), '--start-time', String(k.startTime), '--', process.execPath, run.worker, '--dir', dir, '--runtime', run.runtime],
        { stdio: [input, 'pipe', 'pipe'], cwd: '/' },
      );
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      return new Promise((resolve) => {
        child.on('error', (err) => resolve({ code: null, signal: null, stdout, stderr: `cannot start ${this.runtime}: ${err.message}` }));
        child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
      });
    } finally {
      closeSync(input); // the child has its own copy
    }
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

/** The line that says what went wrong: a node crash ends with "Node.js vX" after its Error line. */
function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  const error = /^node:|Node\.js v\d/.test(lines[0] ?? '') || /^Node\.js v\d/.test(lines.at(-1) ?? '') ? lines.find((l) => /^\w*Error\b/.test(l)) : undefined;
  return (error ?? lines.at(-1) ?? '').replace(/^nestbox-runtime: /, '');
}

function parseResult(stdout: string): ExtractResult {
  try {
    const r = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Partial<ExtractResult>;
    if (typeof r.squashed === 'number') return { squashed: r.squashed, skipped: Array.isArray(r.skipped) ? r.skipped.map(String) : [] };
  } catch { /* below */ }
  throw new NestboxError('INTERNAL', `the extraction worker answered ${JSON.stringify(stdout.slice(0, 200))}`);
}
