/** `nestbox kill [-s SIGNAL] CONTAINER...`: a signal (default KILL) to running containers' pid 1. */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { parseSignal } from '../signals.js';
import { forEachContainer } from './each-container.js';

export async function killCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, [{ name: 'signal', short: 's', takesValue: true }], { stopAtFirstPositional: false });
  if (positionals.length === 0) throw new NestboxError('INVALID_ARGUMENT', '"nestbox kill" requires at least 1 argument: CONTAINER...');
  // checked before anything is asked: a bad signal kills nothing
  const signal = parseSignal(options.get('signal')?.at(-1) ?? 'KILL');
  return forEachContainer(positionals, 30_000, (client, ref) => client.request(LIFECYCLE.kill, { container: ref, signal }));
}
