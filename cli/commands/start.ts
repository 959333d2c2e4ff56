/**
 * `nestbox start [-a] [-i] CONTAINER...`: created or exited containers run again, on the same
 * record and layer. Without -a each name is echoed (docker's); with -a (one container) its output
 * is relayed from its shim and the exit code is the container's.
 */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import type { StartReply } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { consoleSize } from '../attach-relay.js';
import { followAttached } from '../attached-exit.js';
import { clientFor, ensureServices } from '../services.js';
import { forEachContainer } from './each-container.js';

export async function startCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, [
    { name: 'attach', short: 'a', takesValue: false },
    { name: 'interactive', short: 'i', takesValue: false },
  ], { stopAtFirstPositional: false });
  if (positionals.length === 0) throw new NestboxError('INVALID_ARGUMENT', '"nestbox start" requires at least 1 argument: CONTAINER...');
  const attach = options.get('attach')?.at(-1) === 'true';
  const interactive = options.get('interactive')?.at(-1) === 'true';
  if (!attach && !interactive) {
    // a container that ended during its start is an error of that start (exit 1 with the others')
    return forEachContainer(positionals, 120_000, async (client, ref) => {
      const reply = await client.request<StartReply>(LIFECYCLE.start, { container: ref });
      if (reply.exit?.error) throw new NestboxError('FAILED_PRECONDITION', `container ${reply.name}: ${reply.exit.error}`);
    });
  }
  if (positionals.length > 1) throw new NestboxError('INVALID_ARGUMENT', 'you cannot start and attach multiple containers at once');
  return startAttached(positionals[0], interactive);
}

/** -a (and -i: our stdin to the container's, when it was created with -i) */
async function startAttached(ref: string, interactive: boolean): Promise<number> {
  await ensureServices();
  const client = clientFor('lifecycle', 120_000);
  let reply: StartReply;
  try {
    reply = await client.request<StartReply>(LIFECYCLE.start, { container: ref, attach: true, ...consoleSize({ tty: process.stdout.isTTY }) });
  } finally {
    client.close();
  }
  if (reply.exit) {
    if (reply.exit.error) process.stderr.write(`nestbox: ${reply.exit.error}\n`);
    return reply.exit.exitCode;
  }
  if (!reply.attach) throw new NestboxError('INTERNAL', `the start of ${reply.name} gave no socket to attach to`);
  // -i feeds stdin only to a container created with -i (docker ignores it otherwise)
  return followAttached(reply.id, { socket: reply.attach, stdin: interactive && reply.stdin === true, tty: reply.tty === true });
}
