/**
 * `nestbox inspect [-f|--format TEMPLATE] CONTAINER...`: the records in docker's shape
 * (services/lifecycle/inspect-view.ts) as a JSON array, or TEMPLATE run on each
 * (`{{.State.Status}}`, `{{json .State}}`: cli/go-template.ts). Exit 1 when any is not found.
 */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { parseFormat, render } from '../go-template.js';
import { forEachContainer } from './each-container.js';

export async function inspectCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, [
    { name: 'format', short: 'f', takesValue: true },
    { name: 'type', takesValue: true },
    { name: 'size', short: 's', takesValue: false },
  ], { stopAtFirstPositional: false });
  if (!positionals.length) throw new NestboxError('INVALID_ARGUMENT', '"nestbox inspect" requires at least 1 argument: CONTAINER...');
  const type = options.get('type')?.at(-1);
  if (type !== undefined && type !== 'container') throw new NestboxError('INVALID_ARGUMENT', `unsupported --type "${type}": only container is inspected here (images: nestbox images)`);
  const raw = options.get('format')?.at(-1);
  const format = raw === undefined || raw.trim() === '' || raw.trim() === 'json' ? undefined : parseFormat(raw, '');
  if (format?.table) throw new NestboxError('INVALID_ARGUMENT', 'inspect takes no "table" format');
  const found: unknown[] = [];
  const code = await forEachContainer(positionals, 30_000, async (client, ref) => {
    found.push(await client.request(LIFECYCLE.inspect, { container: ref }));
  }, { echo: false });
  process.stdout.write(format ? render(format, found) : `${JSON.stringify(found, null, 4)}\n`);
  return code;
}
