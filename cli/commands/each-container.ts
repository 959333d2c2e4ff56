/**
 * Verbs that take CONTAINER... (rm, stop, kill, start, restart, wait, inspect): one request per
 * container, its name echoed on success (unless the verb prints its own answer) and one error
 * line on failure; exit 1 when any failed, as docker does. Services gone away end the verb at
 * once (exit 125): the next containers would fail the same way.
 */
import { NestboxError } from '../../lib/errors.js';
import { clientFor, ensureServices } from '../services.js';
import type { RpcClient } from '../../lib/transport/rpc-client.js';

export async function forEachContainer(
  refs: string[], timeoutMs: number, act: (client: RpcClient, ref: string) => Promise<unknown>, opts: { echo?: boolean } = {},
): Promise<number> {
  await ensureServices();
  const client = clientFor('lifecycle', timeoutMs);
  try {
    return await eachRef(refs, async (ref) => {
      await act(client, ref);
      if (opts.echo ?? true) process.stdout.write(`${ref}\n`);
    });
  } finally {
    client.close();
  }
}

/** ACT for each REF in turn: one error line for each that fails, 1 if any did; UNAVAILABLE ends it. */
export async function eachRef(refs: string[], act: (ref: string) => Promise<void>): Promise<number> {
  let code = 0;
  for (const ref of refs) {
    try {
      await act(ref);
    } catch (err) {
      if (err instanceof NestboxError && err.code === 'UNAVAILABLE') throw err;
      process.stderr.write(`nestbox: ${(err as Error).message.split('\n')[0]}\n`);
      code = 1;
    }
  }
  return code;
}
