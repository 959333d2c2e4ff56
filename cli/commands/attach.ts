/**
 * `nestbox attach [--no-stdin] CONTAINER`: our stdio to a running container's, through its shim's
 * socket, as docker attach: its output from now on, our stdin to its stdin when it was made with
 * -i (our end of input leaves its stdin open), our terminal raw with -t, Ctrl-P Ctrl-Q detaches;
 * without a terminal our signals go to it (--sig-proxy, as run's); the exit code is the
 * container's when it ends.
 */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import type { StartReply } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { followAttached } from '../attached-exit.js';
import { SignalProxy } from '../signal-proxy.js';
import { clientFor, ensureServices } from '../services.js';
import { serviceRefusal } from './service-refusal.js';

export async function attachCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, [
    { name: 'no-stdin', takesValue: false },
    { name: 'sig-proxy', takesValue: false },
  ], { stopAtFirstPositional: false });
  if (positionals.length !== 1) throw new NestboxError('INVALID_ARGUMENT', '"nestbox attach" requires exactly 1 argument: CONTAINER');
  const noStdin = options.has('no-stdin') && options.get('no-stdin')!.at(-1) !== 'false';
  await ensureServices();
  const client = clientFor('lifecycle');
  let reply: StartReply;
  try {
    reply = await client.request<StartReply>(LIFECYCLE.attach, { container: positionals[0] });
  } catch (err) {
    return serviceRefusal(err);
  } finally {
    client.close();
  }
  if (!reply.attach) throw new NestboxError('INTERNAL', `no socket to attach to ${reply.name}`);
  const stdin = !noStdin && reply.stdin === true;
  if (stdin && reply.tty && !process.stdin.isTTY) throw new NestboxError('INVALID_ARGUMENT', 'the input device is not a TTY');
  const proxy = !reply.tty && options.get('sig-proxy')?.at(-1) !== 'false' ? new SignalProxy() : undefined;
  proxy?.attach(reply.id);
  try {
    return await followAttached(reply.id, { socket: reply.attach, stdin, tty: reply.tty === true, closeStdin: false });
  } finally {
    proxy?.stop();
  }
}
