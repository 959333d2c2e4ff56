/**
 * `top CONTAINER [ps OPTIONS]`: the host's `ps` (default -ef), run with the given options, and its
 * lines of the container's processes (ps-table.ts), as docker's daemon does. The pids come from
 * the namespace service (the container's pid namespace); ps is asked for just those first
 * (`-q PIDS`), and for everything when the options do not mix with -q (ps f).
 */
import { execFile } from 'node:child_process';
import { NestboxError } from '../../lib/errors.js';
import { NAMESPACE } from '../../lib/contracts/patterns.js';
import type { TopReply } from '../../lib/contracts/types.js';
import type { ContainerStore } from './container-store.js';
import { checkPsArgs, parsePsOutput } from './ps-table.js';
import type { ServiceCaller } from './service-caller.js';

const PS_TIMEOUT_MS = 30_000;
const PS_MAX_OUTPUT = 16 * 1024 * 1024;

export class TopFlow {
  constructor(private readonly services: ServiceCaller, private readonly store: ContainerStore) {}

  async top(ref: string, psArgs: string[] = []): Promise<TopReply> {
    const args = psArgs.length ? psArgs : ['-ef'];
    checkPsArgs(args);
    const record = this.store.find(ref);
    const notRunning = () => new NestboxError('FAILED_PRECONDITION', `container ${record.id} is not running`);
    if (record.state !== 'running' && (record.state as string) !== 'stopping') throw notRunning();
    let pids: number[];
    try {
      ({ pids } = await this.services.call<{ pids: number[] }>('namespace', NAMESPACE.pids, { containerId: record.id }));
    } catch (err) {
      if (err instanceof NestboxError && err.code === 'NOT_FOUND') throw notRunning();
      throw err;
    }
    let output: string;
    try {
      output = await ps([...args, '-q', pids.join(',')]);
    } catch {
      output = await ps(args); // some options (f) do not go with -q: all processes, filtered below
    }
    return parsePsOutput(output, new Set(pids));
  }
}

function ps(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ps', args, { encoding: 'utf8', timeout: PS_TIMEOUT_MS, maxBuffer: PS_MAX_OUTPUT, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'ps is not installed on this host (Debian: procps)'
        : stderr.trim().split('\n')[0] || (typeof code === 'number' ? `exit status ${code}` : err.message);
      reject(new NestboxError('INVALID_ARGUMENT', `Error running ps: ${why}`));
    });
  });
}
