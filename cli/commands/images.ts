/** `nestbox images [-q] [--no-trunc] [--format json|TEMPLATE]`: docker's columns and fields (REPOSITORY TAG IMAGE ID CREATED SIZE). */
import { STORAGE } from '../../lib/contracts/patterns.js';
import type { ImageSummary } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';
import { goTimeString } from '../docker-time.js';
import { parseFormat, render } from '../go-template.js';
import { ago } from './table.js';
import { humanSize } from './units.js';

/** `name:tag` -> [name, tag]; a registry's port stays in the name (`host:5000/a/b:tag`); `name@sha256:...` -> [name, <none>] */
export function splitRef(ref: string | undefined): [string, string] {
  if (!ref) return ['<none>', '<none>'];
  if (ref.includes('@')) return [ref.slice(0, ref.indexOf('@')), '<none>']; // pulled by digest
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, '<none>'];
}

const DEFAULT_TABLE = '{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';

const HEADERS: Record<string, string> = {
  Containers: 'CONTAINERS', CreatedAt: 'CREATED AT', CreatedSince: 'CREATED', Digest: 'DIGEST', ID: 'IMAGE ID', Repository: 'REPOSITORY',
  SharedSize: 'SHARED SIZE', Size: 'SIZE', Tag: 'TAG', UniqueSize: 'UNIQUE SIZE', VirtualSize: 'VIRTUAL SIZE',
};

/** The fields docker's image context has, keys sorted as its json shows them. */
export function imageFields(i: ImageSummary, noTrunc: boolean, now = Date.now()): Record<string, string> {
  const [repository, tag] = splitRef(i.ref);
  return {
    Containers: 'N/A',
    // made only when shown (docker-time.ts)
    get CreatedAt() { return i.created ? goTimeString(i.created) : ''; },
    CreatedSince: i.created ? ago(i.created, now) : 'N/A',
    Digest: i.ref?.includes('@') ? i.ref.slice(i.ref.indexOf('@') + 1) : '<none>',
    ID: noTrunc ? i.id : i.id.slice(7, 19),
    Repository: repository,
    SharedSize: 'N/A',
    Size: humanSize(i.size),
    Tag: tag,
    UniqueSize: 'N/A',
    VirtualSize: humanSize(i.size),
  };
}

/** `images` output for FORMAT (`table`, `json`, a template; -q: the ids) */
export function imagesOutput(list: ImageSummary[], opts: { quiet: boolean; noTrunc: boolean; format?: string }, now = Date.now()): string {
  // docker: an empty --format is the default table
  const format = parseFormat(opts.quiet ? '{{.ID}}' : opts.format || 'table', DEFAULT_TABLE);
  return render(format, list.map((i) => imageFields(i, opts.noTrunc, now)), HEADERS);
}

export async function imagesCommand(argv: string[] = []): Promise<number> {
  const { options, positionals } = parseArgs(argv, [
    { name: 'quiet', short: 'q', takesValue: false },
    { name: 'no-trunc', takesValue: false },
    { name: 'format', takesValue: true },
  ], { stopAtFirstPositional: false });
  if (positionals.length) throw new NestboxError('INVALID_ARGUMENT', `"nestbox images" accepts no arguments (got ${positionals[0]}); filtering by repository is not supported`);
  const opts = { quiet: options.has('quiet'), noTrunc: options.has('no-trunc'), format: options.get('format')?.at(-1) };
  imagesOutput([], opts); // a bad template is one line before the services are asked
  await ensureServices();
  const client = clientFor('storage');
  try {
    const list = await client.request<ImageSummary[]>(STORAGE.listImages, {});
    process.stdout.write(imagesOutput(list, opts));
    return 0;
  } finally {
    client.close();
  }
}
