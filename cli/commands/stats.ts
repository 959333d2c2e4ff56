/** `nestbox stats [--no-stream] [--no-trunc] [--format json|TEMPLATE] [CONTAINER...]`: docker's columns and fields */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';
import { parseFormat, render } from '../go-template.js';
import { statsRow, type StatsRow, type StatsSample } from './stats-format.js';

const DEFAULT_TABLE = '{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.PIDs}}';
const HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Container: 'CONTAINER', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', PIDs: 'PIDS',
};

/** docker's interval between two samples */
const INTERVAL_MS = 1000;

export async function statsCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, [
    { name: 'no-stream', takesValue: false },
    { name: 'all', short: 'a', takesValue: false },
    { name: 'no-trunc', takesValue: false },
    { name: 'format', takesValue: true },
  ], { stopAtFirstPositional: false });
  // parsed before the services are asked: a bad template is one line, nothing else
  const format = parseFormat(options.get('format')?.at(-1) || 'table', DEFAULT_TABLE);
  if (options.has('all')) throw new NestboxError('UNIMPLEMENTED', 'not supported yet: stats -a (name the stopped containers instead)');
  await ensureServices();
  const client = clientFor('lifecycle');
  const sample = () => client.request<StatsSample[]>(LIFECYCLE.stats, { containers: positionals });
  const noTrunc = options.has('no-trunc');
  const show = (rows: StatsRow[]) => render(format, rows, HEADERS);
  const rowsOf = (prev: StatsSample[], cur: StatsSample[]) =>
    cur.map((c) => statsRow(prev.find((p) => p.id === c.id), c, noTrunc ? c.id : c.id.slice(0, 12)));
  const tty = process.stdout.isTTY === true;
  let stopped = false;
  const onInterrupt = () => { stopped = true; };
  process.on('SIGINT', onInterrupt);
  try {
    let prev = await sample();
    for (;;) {
      await sleepUnless(INTERVAL_MS, () => stopped);
      if (stopped) return 0;
      const cur = await sample();
      // a TTY gets one table redrawn in place, anything else a table per interval
      process.stdout.write(`${tty && !options.has('no-stream') ? '\x1b[2J\x1b[H' : ''}${show(rowsOf(prev, cur))}`);
      if (options.has('no-stream')) return 0;
      prev = cur;
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    client.close();
  }
}

async function sleepUnless(ms: number, stop: () => boolean): Promise<void> {
  for (const until = Date.now() + ms; Date.now() < until && !stop(); ) await new Promise((r) => setTimeout(r, Math.min(50, until - Date.now())));
}
