/**
 * Verbs that take CONTAINER... (rm, stop): one request per container, its name echoed on success
 * and one error line on failure; exit 1 when any failed, as docker does.
 */
import { clientFor, ensureServices } from '../services.js';
import type { RpcClient } from '../../lib/transport/rpc-client.js';

export async function forEachContainer(refs: string[], timeoutMs: number, act: (client: RpcClient, ref: string) => Promise<unknown>): Promise<number> {
  await ensureServices();
  const client = clientFor('lifecycle', timeoutMs);
  let code = 0;
  try {
    for (const ref of refs) {
      try {
        await act(client, ref);
        process.stdout.write(`${ref}\n`);
      } catch (err) {
        process.stderr.write(`nestbox: ${(err as Error).message}\n`);
        code = 1;
      }
    }
  } finally {
    client.close();
  }
  return code;
}
