/**
 * `nestbox top CONTAINER [ps OPTIONS]`: the container's processes as the host's ps shows them
 * (default -ef), in docker's layout: columns at least 20 wide, padded by three.
 */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import type { TopReply } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { tabwrite } from '../go-template.js';
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
  process.stdout.write(topTable(reply));
  return 0;
}

/** docker's top table: its CLI's tabwriter with columns at least 20 wide */
export function topTable(reply: TopReply): string {
  return tabwrite([reply.Titles, ...reply.Processes].map((row) => row.join('\t')), 20);
}
