/** `nestbox inspect CONTAINER...`: the records, docker-shaped (a JSON array, as docker prints it). */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';

export async function inspectCommand(argv: string[]): Promise<number> {
  const { positionals } = parseArgs(argv, [], { stopAtFirstPositional: false });
  if (!positionals.length) throw new NestboxError('INVALID_ARGUMENT', '"nestbox inspect" requires at least 1 argument: CONTAINER...');
  await ensureServices();
  const client = clientFor('lifecycle');
  const found: unknown[] = [];
  let code = 0;
  try {
    for (const ref of positionals) {
      try {
        found.push(await client.request(LIFECYCLE.inspect, { container: ref }));
      } catch (err) {
        process.stderr.write(`nestbox: ${(err as Error).message.split('\n')[0]}\n`);
        code = 1;
      }
    }
  } finally {
    client.close();
  }
  process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
  return code;
}
