/**
 * `nestbox logs [-f] [--tail N|all] [-t] [--since T] [--until T] CONTAINER`: the container's output from its log, stdout
 * entries to stdout and stderr entries to stderr (a terminal's output is all stdout, as in
 * docker); -t prefixes each with its time (docker's fixed nine-digit RFC3339Nano); -f follows
 * until the container has ended; --since/--until keep a time window (docker's values:
 * cli/docker-time.ts parseLogTime), --until also ends a follow.
 */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import type { LogChunk } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';
import { serviceRefusal } from './service-refusal.js';
import { parseLogTime } from '../docker-time.js';

export async function logsCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, [
    { name: 'follow', short: 'f', takesValue: false },
    { name: 'tail', short: 'n', takesValue: true },
    { name: 'timestamps', short: 't', takesValue: false },
    { name: 'since', takesValue: true },
    { name: 'until', takesValue: true },
  ], { stopAtFirstPositional: false });
  if (positionals.length !== 1) throw new NestboxError('INVALID_ARGUMENT', `"nestbox logs" requires exactly 1 argument: CONTAINER (got ${positionals.length})`);
  const tail = parseTail(options.get('tail')?.at(-1));
  const stamps = options.get('timestamps')?.at(-1) === 'true';
  const window: Record<string, string> = {};
  for (const flag of ['since', 'until']) {
    const value = options.get(flag)?.at(-1);
    if (value) window[flag] = parseLogTime(value, flag).toString(); // docker: an empty value is none
  }
  await ensureServices();
  const client = clientFor('lifecycle');
  try {
    const request = { container: positionals[0], follow: options.get('follow')?.at(-1) === 'true', ...(tail !== undefined ? { tail } : {}), ...window };
    for await (const chunk of client.stream<LogChunk>(LIFECYCLE.logs, request)) {
      let out = '';
      let err = '';
      for (const e of chunk.entries) {
        const line = stamps ? `${fixedNano(e.time)} ${e.log}` : e.log;
        if (e.stream === 'stderr') err += line;
        else out += line;
      }
      // the order between the two streams is kept per chunk, as far as two pipes can keep it
      await Promise.all([write(process.stdout, out), write(process.stderr, err)]);
    }
    return 0;
  } catch (err) {
    return serviceRefusal(err);
  } finally {
    client.close();
  }
}

function parseTail(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === 'all') return undefined;
  // docker: a negative number is all
  if (/^-\d+$/.test(raw)) return undefined;
  if (!/^\d+$/.test(raw)) throw new NestboxError('INVALID_ARGUMENT', `invalid value for --tail: "${raw}" (a number of lines or "all")`);
  return Number(raw);
}

/** docker's RFC3339NanoFixed: nine fraction digits always */
export function fixedNano(time: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}${m[3]}` : time;
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  if (!text) return Promise.resolve();
  return new Promise((resolve) => {
    if (stream.write(text)) resolve();
    else stream.once('drain', () => resolve());
  });
}
