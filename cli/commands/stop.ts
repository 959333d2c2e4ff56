/** `nestbox stop [-t S] CONTAINER...`: SIGTERM, then SIGKILL after S seconds (default 10). */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs, parseNumber } from '../args.js';
import { forEachContainer } from './each-container.js';

export async function stopCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, [
    { name: 'time', short: 't', takesValue: true },
    { name: 'timeout', takesValue: true },
  ], { stopAtFirstPositional: false });
  if (positionals.length === 0) throw new NestboxError('INVALID_ARGUMENT', '"nestbox stop" requires at least 1 argument: CONTAINER...');
  const raw = options.get('timeout')?.at(-1) ?? options.get('time')?.at(-1);
  const timeout = raw === undefined ? undefined : parseNumber(raw, '--time', true);
  if (timeout !== undefined && (timeout < 0 || timeout > 86_400)) throw new NestboxError('INVALID_ARGUMENT', `invalid value for --time: "${raw}" (0 to 86400 seconds)`);
  // the reply comes after the grace period and the kill
  return forEachContainer(positionals, ((timeout ?? 10) + 60) * 1000, (client, ref) =>
    client.request(LIFECYCLE.stop, { container: ref, ...(timeout !== undefined ? { timeout } : {}) }));
}
