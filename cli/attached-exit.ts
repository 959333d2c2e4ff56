/**
 * The end of an attached container (run -i/-t, start -a, attach): its stdio relayed through its
 * shim until it ends, then the record's own outcome (lifecycle.wait: cleaned up, a --rm one
 * removed), so the exit code is the container's. Detached (Ctrl-P Ctrl-Q): it runs on; 0.
 */
import { LIFECYCLE } from '../lib/contracts/patterns.js';
import { NestboxError } from '../lib/errors.js';
import { relay, type RelayOptions } from './attach-relay.js';
import { clientFor } from './services.js';

export async function followAttached(containerId: string, o: RelayOptions): Promise<number> {
  const end = await relay(o);
  if (end.detached) return 0;
  const client = clientFor('lifecycle', 60_000);
  let recorded: { exitCode?: number };
  try {
    recorded = await client.request<{ exitCode?: number }>(LIFECYCLE.wait, { containerId });
  } finally {
    client.close();
  }
  if (end.exit?.error) process.stderr.write(`nestbox: ${end.exit.error}\n`);
  if (end.exit) return end.exit.exitCode;
  if (recorded.exitCode !== undefined) return recorded.exitCode;
  throw new NestboxError('INTERNAL', "the container's shim ended without an exit status");
}
