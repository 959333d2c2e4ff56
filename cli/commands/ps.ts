/** `nestbox ps [-a] [-q] [--no-trunc] [--format json]` */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import type { ContainerSummary } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';
import { ago, table } from './table.js';

export async function psCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, [
    { name: 'all', short: 'a', takesValue: false },
    { name: 'quiet', short: 'q', takesValue: false },
    { name: 'no-trunc', takesValue: false },
    { name: 'format', takesValue: true },
  ], { stopAtFirstPositional: false });
  if (positionals.length) throw new NestboxError('INVALID_ARGUMENT', `"nestbox ps" accepts no arguments (got ${positionals[0]})`);
  const format = options.get('format')?.at(-1);
  if (format !== undefined && format !== 'json') throw new NestboxError('INVALID_ARGUMENT', `--format supports only json for now (got "${format}")`);
  await ensureServices();
  const client = clientFor('lifecycle');
  let list: ContainerSummary[];
  try {
    list = await client.request<ContainerSummary[]>(LIFECYCLE.list, { all: options.has('all') });
  } finally {
    client.close();
  }
  const trunc = !options.has('no-trunc');
  const id = (c: ContainerSummary) => (trunc ? c.id.slice(0, 12) : c.id);
  if (options.has('quiet')) {
    process.stdout.write(list.map((c) => `${id(c)}\n`).join(''));
  } else if (format === 'json') {
    process.stdout.write(list.map((c) => `${JSON.stringify({ ...c, status: status(c) })}\n`).join(''));
  } else {
    const command = (c: ContainerSummary) => {
      const text = c.command.join(' ');
      return JSON.stringify(trunc && text.length > 20 ? `${text.slice(0, 19)}…` : text);
    };
    process.stdout.write(table(
      ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'NAMES'],
      list.map((c) => [id(c), c.image, command(c), ago(c.createdAt), status(c), c.name]),
    ));
  }
  return 0;
}

function status(c: ContainerSummary): string {
  if (c.state === 'running') return 'Up';
  if (c.state === 'exited') return `Exited (${c.exitCode ?? 0})`;
  return c.state.charAt(0).toUpperCase() + c.state.slice(1);
}
