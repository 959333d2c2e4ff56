/** `nestbox rm [-f] [-v] CONTAINER...` (-v: also the named volumes no other container uses) */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { forEachContainer } from './each-container.js';

export async function rmCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, [
    { name: 'force', short: 'f', takesValue: false },
    { name: 'volumes', short: 'v', takesValue: false },
  ], { stopAtFirstPositional: false });
  if (positionals.length === 0) throw new NestboxError('INVALID_ARGUMENT', '"nestbox rm" requires at least 1 argument: CONTAINER...');
  return forEachContainer(positionals, 30_000, (client, ref) => client.request(LIFECYCLE.remove, { container: ref, force: options.has('force'), volumes: options.has('volumes') }));
}
