/** `nestbox rm [-f] CONTAINER...` */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';

export async function rmCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, [
    { name: 'force', short: 'f', takesValue: false },
    { name: 'volumes', short: 'v', takesValue: false },
  ], { stopAtFirstPositional: false });
  if (positionals.length === 0) throw new NestboxError('INVALID_ARGUMENT', '"nestbox rm" requires at least 1 argument: CONTAINER...');
  await ensureServices();
  const client = clientFor('lifecycle');
  let code = 0;
  try {
    for (const ref of positionals) {
      try {
        await client.request(LIFECYCLE.remove, { container: ref, force: options.has('force') });
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
