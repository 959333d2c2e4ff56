/** `nestbox restart [-t S] CONTAINER...`: stop (SIGTERM, SIGKILL after S seconds, default 10), then start. */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import type { StartReply } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs, parseNumber } from '../args.js';
import { forEachContainer } from './each-container.js';

export async function restartCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, [
    { name: 'time', short: 't', takesValue: true },
    { name: 'timeout', takesValue: true },
  ], { stopAtFirstPositional: false });
  if (positionals.length === 0) throw new NestboxError('INVALID_ARGUMENT', '"nestbox restart" requires at least 1 argument: CONTAINER...');
  const raw = options.get('timeout')?.at(-1) ?? options.get('time')?.at(-1);
  const timeout = raw === undefined ? undefined : parseNumber(raw, '--time', true);
  if (timeout !== undefined && (timeout < 0 || timeout > 86_400)) throw new NestboxError('INVALID_ARGUMENT', `invalid value for --time: "${raw}" (0 to 86400 seconds)`);
  // the reply comes after the grace period, the kill and the start
  return forEachContainer(positionals, ((timeout ?? 10) + 120) * 1000, async (client, ref) => {
    const reply = await client.request<StartReply>(LIFECYCLE.restart, { container: ref, ...(timeout !== undefined ? { timeout } : {}) });
    if (reply.exit?.error) throw new NestboxError('FAILED_PRECONDITION', `container ${reply.name}: ${reply.exit.error}`);
  });
}
