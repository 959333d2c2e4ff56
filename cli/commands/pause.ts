/** `nestbox pause|unpause CONTAINER...`: each one's processes frozen / thawed; its name echoed, as docker's. */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { forEachContainer } from './each-container.js';

export async function pauseCommand(verb: 'pause' | 'unpause', argv: string[]): Promise<number> {
  const { positionals } = parseArgs(argv, [], { stopAtFirstPositional: false });
  if (!positionals.length) throw new NestboxError('INVALID_ARGUMENT', `"nestbox ${verb}" requires at least 1 argument: CONTAINER...`);
  return forEachContainer(positionals, 30_000, (client, ref) => client.request(verb === 'pause' ? LIFECYCLE.pause : LIFECYCLE.unpause, { container: ref }));
}
