/**
 * `nestbox history [-q] [--no-trunc] [-H=false] [--format json|TEMPLATE] IMAGE`: an image's steps,
 * newest first, in docker's columns IMAGE CREATED CREATED BY SIZE COMMENT and fields (ID,
 * CreatedSince, CreatedAt, CreatedBy, Size, Comment); CREATED BY cut to 45 characters.
 */
import { STORAGE } from '../../lib/contracts/patterns.js';
import type { HistoryRow } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { goTimeString } from '../docker-time.js';
import { parseFormat, render } from '../go-template.js';
import { clientFor, ensureServices } from '../services.js';
import { serviceRefusal } from './service-refusal.js';
import { ago, ellipsis } from './table.js';
import { humanSize } from './units.js';

const DEFAULT_TABLE = '{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
const HEADERS: Record<string, string> = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };

export function historyFields(r: HistoryRow, opts: { noTrunc: boolean; human: boolean }, now = Date.now()): Record<string, string> {
  const createdBy = r.createdBy.replace(/\t/g, ' ');
  return {
    Comment: r.comment,
    // made only when shown (docker-time.ts)
    get CreatedAt() { return r.created ? (opts.human ? goTimeString(r.created) : r.created) : ''; },
    CreatedBy: opts.noTrunc ? createdBy : ellipsis(createdBy, 45),
    CreatedSince: r.created ? (opts.human ? ago(r.created, now) : r.created) : 'N/A',
    ID: r.id === '<missing>' || opts.noTrunc ? r.id : r.id.slice(7, 19),
    Size: opts.human ? humanSize(r.size) : String(r.size),
  };
}

export function historyOutput(rows: HistoryRow[], opts: { quiet: boolean; noTrunc: boolean; human: boolean; format?: string }, now = Date.now()): string {
  const format = parseFormat(opts.quiet ? '{{.ID}}' : opts.format || 'table', DEFAULT_TABLE);
  return render(format, rows.map((r) => historyFields(r, opts, now)), HEADERS);
}

export async function historyCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, [
    { name: 'quiet', short: 'q', takesValue: false },
    { name: 'no-trunc', takesValue: false },
    { name: 'human', short: 'H', takesValue: false },
    { name: 'format', takesValue: true },
  ], { stopAtFirstPositional: false });
  if (positionals.length !== 1) throw new NestboxError('INVALID_ARGUMENT', '"nestbox history" requires exactly 1 argument: IMAGE');
  const on = (n: string, dflt: boolean) => (options.has(n) ? options.get(n)!.at(-1) !== 'false' : dflt);
  const opts = { quiet: on('quiet', false), noTrunc: on('no-trunc', false), human: on('human', true), format: options.get('format')?.at(-1) };
  historyOutput([], opts); // a bad template is one line before the services are asked
  await ensureServices();
  const client = clientFor('storage');
  let rows: HistoryRow[];
  try {
    rows = await client.request<HistoryRow[]>(STORAGE.imageHistory, { image: positionals[0] });
  } catch (err) {
    return serviceRefusal(err);
  } finally {
    client.close();
  }
  process.stdout.write(historyOutput(rows, opts));
  return 0;
}
