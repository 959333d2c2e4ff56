/**
 * Layer extraction inside the keeper namespace (services/namespace/keeper.ts): the namespace
 * service names the live keeper, and `nestbox-runtime join --pid PID --start-time T -- node
 * extract-worker.js --dir DIR --runtime RUNTIME` runs the one extraction implementation (node-tar) as uid 0 of
 * the keeper's user namespace, the tar on its stdin. The worker's path comes from this file's
 * own location, so a staged or installed copy runs its own worker.
 */
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NestboxError } from '../../lib/errors.js';
import { nativeBin } from '../../lib/paths.js';
import { KeeperWorker, exitText, type KeeperSource } from './keeper-run.js';

export interface ExtractResult {
  /** entries whose owner the keeper does not map (single-id users), extracted as 0 */
  squashed: number;
  /** warning lines, one per entry skipped (device nodes), each naming it */
  skipped: string[];
}

export const EXTRACT_WORKER = fileURLToPath(new URL('./extract-worker.js', import.meta.url));

export class KeeperExtractor {
  private readonly worker: KeeperWorker;

  /** `workerRoot`: where root stages a copy of the worker that container root can read (worker-stage.ts) */
  constructor(keeper: KeeperSource, workerRoot: string, runtime = nativeBin('nestbox-runtime'), worker = EXTRACT_WORKER) {
    this.worker = new KeeperWorker(keeper, workerRoot, runtime, worker);
  }

  /** Extracts `tarFile` into the existing, empty directory `dir` (writable by keeper root). */
  async extract(tarFile: string, dir: string): Promise<ExtractResult> {
    for (let attempt = 1; ; attempt++) {
      const input = openSync(tarFile, 'r');
      let r;
      try {
        r = await this.worker.run('layer extraction', dir, [], { stdin: input });
      } finally {
        closeSync(input);
      }
      if (r.code === 0) return parseResult(r.stdout);
      // the worker refused the archive: its line names the entry, the caller names the archive
      if (r.code === 2) throw new NestboxError('INVALID_ARGUMENT', lastLine(r.stderr));
      const said = lastLine(r.stderr) || exitText(r);
      // it died between the namespace service's check and our join: ask again, once
      if (r.code === 125 && attempt === 1 && /the keeper died|has exited/.test(said)) continue;
      throw new NestboxError('INTERNAL', `extracting layer ${tarFile} in the keeper namespace: ${said}`);
    }
  }
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
