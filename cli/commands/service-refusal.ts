/**
 * A verb on one container that the service refused (no such container, a name in use...): one
 * line and exit 1, as docker's "Error response from daemon". nestbox itself failing (a service
 * not answering) is thrown on: exit 125.
 */
import { NestboxError } from '../../lib/errors.js';

export function serviceRefusal(err: unknown): number {
  if (!(err instanceof NestboxError) || err.code === 'UNAVAILABLE' || err.code === 'INTERNAL') throw err;
  process.stderr.write(`nestbox: ${err.message.split('\n')[0]}\n`);
  return 1;
}
