/** `nestbox rename CONTAINER NEW_NAME`: silent on success, as docker. */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import { CONTAINER_NAME } from '../../lib/contracts/validators.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';
import { serviceRefusal } from './service-refusal.js';

export async function renameCommand(argv: string[]): Promise<number> {
  const { positionals } = parseArgs(argv, [], { stopAtFirstPositional: false });
  if (positionals.length !== 2) throw new NestboxError('INVALID_ARGUMENT', `"nestbox rename" requires exactly 2 arguments: CONTAINER NEW_NAME (got ${positionals.length})`);
  const [ref, raw] = positionals;
  // docker takes "/name" too
  const name = raw.startsWith('/') ? raw.slice(1) : raw;
  if (!name) throw new NestboxError('INVALID_ARGUMENT', 'Neither old nor new names may be empty');
  if (!CONTAINER_NAME.test(name)) throw new NestboxError('INVALID_ARGUMENT', `Invalid container name (${raw}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  await ensureServices();
  const client = clientFor('lifecycle');
  try {
    await client.request(LIFECYCLE.rename, { container: ref, name });
    return 0;
  } catch (err) {
    return serviceRefusal(err);
  } finally {
    client.close();
  }
}
