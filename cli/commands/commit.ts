/**
 * `nestbox commit [-a AUTHOR] [-m MESSAGE] CONTAINER [REPOSITORY[:TAG]]`: the container's changes
 * as a new image on top of its own; prints the image id as docker does. The container is not
 * paused while its changes are read (see services/storage/storage.ts commit).
 */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import type { CommitChunk } from '../../lib/contracts/types.js';
import { IMAGE_REF } from '../../lib/contracts/validators.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';

export interface CommitRequest { container: string; ref?: string; author?: string; comment?: string }

export function buildCommitRequest(argv: string[]): CommitRequest {
  const { options, positionals } = parseArgs(argv, [
    { name: 'author', short: 'a', takesValue: true },
    { name: 'message', short: 'm', takesValue: true },
  ], { stopAtFirstPositional: false });
  if (positionals.length < 1 || positionals.length > 2) {
    throw new NestboxError('INVALID_ARGUMENT', '"nestbox commit" requires 1 or 2 arguments: CONTAINER [REPOSITORY[:TAG]]');
  }
  const [container, ref] = positionals;
  if (ref !== undefined && ref.includes('@')) throw new NestboxError('INVALID_ARGUMENT', `commit: refusing to create a tag with a digest reference: ${ref}`);
  if (ref !== undefined && !IMAGE_REF.test(ref)) {
    throw new NestboxError('INVALID_ARGUMENT', `commit: invalid reference format "${ref}": a lower-case name, like name or name:tag`);
  }
  const author = options.get('author')?.at(-1);
  const comment = options.get('message')?.at(-1);
  return { container, ...(ref !== undefined ? { ref } : {}), ...(author ? { author } : {}), ...(comment ? { comment } : {}) };
}

export async function commitCommand(argv: string[]): Promise<number> {
  const request = buildCommitRequest(argv);
  await ensureServices();
  const client = clientFor('lifecycle', 60_000);
  try {
    for await (const chunk of client.stream<CommitChunk>(LIFECYCLE.commit, request)) {
      if ('id' in chunk) {
        for (const w of chunk.warnings) process.stderr.write(`nestbox: warning: ${w}\n`);
        process.stdout.write(`${chunk.id}\n`);
        return 0;
      }
    }
    throw new NestboxError('INTERNAL', 'the commit ended without an image');
  } finally {
    client.close();
  }
}
