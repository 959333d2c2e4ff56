/**
 * `nestbox top CONTAINER [ps OPTIONS]`: the container's processes as the host's ps shows them
 * (default -ef), in docker's layout: columns at least 20 wide, padded by three (Go's tabwriter).
 */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import type { TopReply } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';
import { serviceRefusal } from './service-refusal.js';

export async function topCommand(argv: string[]): Promise<number> {
  // the ps options are ps's, not ours: only the container is read as ours
  const { positionals } = parseArgs(argv, [], { stopAtFirstPositional: true });
  const [container, ...psOptions] = positionals;
  if (!container) throw new NestboxError('INVALID_ARGUMENT', '"nestbox top" requires at least 1 argument: CONTAINER [ps OPTIONS]');
  await ensureServices();
  const client = clientFor('lifecycle');
  let reply: TopReply;
  try {
    // docker joins the options into one string and the daemon splits it on blanks
    reply = await client.request<TopReply>(LIFECYCLE.top, { container, psArgs: psOptions.join(' ').split(/\s+/).filter(Boolean) });
  } catch (err) {
    return serviceRefusal(err);
  } finally {
    client.close();
  }
  process.stdout.write(tabwriter([reply.Titles, ...reply.Processes]));
  return 0;
}

/** Go's tabwriter.NewWriter(w, 20, 1, 3, ' ', 0) over tab-separated cells: the last cell is not padded */
export function tabwriter(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.slice(0, -1).forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 20, c.length + 3)));
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]) : c)).join('') + '\n').join('');
}
