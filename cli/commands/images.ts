/** `nestbox images [-q] [--no-trunc]`: docker's columns REPOSITORY TAG IMAGE ID CREATED SIZE. */
import { STORAGE } from '../../lib/contracts/patterns.js';
import type { ImageSummary } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';
import { ago, table } from './table.js';
import { humanSize } from './units.js';

/** `name:tag` -> [name, tag]; a registry's port stays in the name (`host:5000/a/b:tag`); `name@sha256:...` -> [name, <none>] */
export function splitRef(ref: string | undefined): [string, string] {
  if (!ref) return ['<none>', '<none>'];
  if (ref.includes('@')) return [ref.slice(0, ref.indexOf('@')), '<none>']; // pulled by digest
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, '<none>'];
}

export function imagesOutput(list: ImageSummary[], opts: { quiet: boolean; noTrunc: boolean }, now = Date.now()): string {
  const id = (i: ImageSummary) => (opts.noTrunc ? i.id : i.id.slice(7, 19));
  if (opts.quiet) return list.map((i) => `${id(i)}\n`).join('');
  return table(
    ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
    list.map((i) => [...splitRef(i.ref), id(i), i.created ? ago(i.created, now) : 'N/A', humanSize(i.size)]),
  );
}

export async function imagesCommand(argv: string[] = []): Promise<number> {
  const { options, positionals } = parseArgs(argv, [
    { name: 'quiet', short: 'q', takesValue: false },
    { name: 'no-trunc', takesValue: false },
  ], { stopAtFirstPositional: false });
  if (positionals.length) throw new NestboxError('INVALID_ARGUMENT', `"nestbox images" accepts no arguments (got ${positionals[0]}); filtering by repository is not supported`);
  await ensureServices();
  const client = clientFor('storage');
  try {
    const list = await client.request<ImageSummary[]>(STORAGE.listImages, {});
    process.stdout.write(imagesOutput(list, { quiet: options.has('quiet'), noTrunc: options.has('no-trunc') }));
    return 0;
  } finally {
    client.close();
  }
}
