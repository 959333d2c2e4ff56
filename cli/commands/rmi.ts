/**
 * `nestbox rmi [-f] IMAGE...`: per IMAGE docker's lines (`Untagged: REF`, `Deleted: sha256:...`)
 * or one error line (`Error: No such image: X`, a conflict naming the container); exit 1 when
 * any failed, as docker. Lifecycle decides (it knows the containers), storage removes.
 */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import type { ImageRemoval } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';

export function removalLines(r: ImageRemoval): string {
  return [...r.untagged.map((u) => `Untagged: ${u}\n`), ...r.deleted.map((d) => `Deleted: ${d}\n`)].join('');
}

export async function rmiCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, [{ name: 'force', short: 'f', takesValue: false }], { stopAtFirstPositional: false });
  if (positionals.length === 0) throw new NestboxError('INVALID_ARGUMENT', '"nestbox rmi" requires at least 1 argument: IMAGE...');
  await ensureServices();
  // deleting large layers takes a while; lifecycle's own call to storage bounds it too
  const client = clientFor('lifecycle', 120_000);
  let code = 0;
  try {
    for (const image of positionals) {
      try {
        process.stdout.write(removalLines(await client.request<ImageRemoval>(LIFECYCLE.imageRemove, { image, force: options.has('force') })));
      } catch (err) {
        process.stderr.write(`Error: ${(err as Error).message.split('\n')[0]}\n`);
        code = 1;
      }
    }
  } finally {
    client.close();
  }
  return code;
}
