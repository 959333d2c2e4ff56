/**
 * `nestbox inspect [-f|--format TEMPLATE] [--type container|image] NAME|ID...`: containers'
 * records in docker's shape (services/lifecycle/inspect-view.ts), and as docker, an image where
 * no container has the name (storage's image-inspect-view.ts); a JSON array, or TEMPLATE run on
 * each (`{{.State.Status}}`, `{{json .Config}}`: cli/go-template.ts). Exit 1 when any is not found.
 */
import { LIFECYCLE, STORAGE } from '../../lib/contracts/patterns.js';
import { NestboxError } from '../../lib/errors.js';
import type { RpcClient } from '../../lib/transport/rpc-client.js';
import { parseArgs } from '../args.js';
import { parseFormat, render } from '../go-template.js';
import { clientFor, ensureServices } from '../services.js';
import { eachRef } from './each-container.js';

type Kind = 'container' | 'image' | undefined;

export async function inspectCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, [
    { name: 'format', short: 'f', takesValue: true },
    { name: 'type', takesValue: true },
    { name: 'size', short: 's', takesValue: false },
  ], { stopAtFirstPositional: false });
  if (!positionals.length) throw new NestboxError('INVALID_ARGUMENT', '"nestbox inspect" requires at least 1 argument: NAME|ID...');
  const type = options.get('type')?.at(-1) as Kind | string;
  if (type !== undefined && type !== 'container' && type !== 'image') throw new NestboxError('INVALID_ARGUMENT', `"${type}" is not a valid value for --type (container or image)`);
  const raw = options.get('format')?.at(-1);
  const format = raw === undefined || raw.trim() === '' || raw.trim() === 'json' ? undefined : parseFormat(raw, '');
  if (format?.table) throw new NestboxError('INVALID_ARGUMENT', 'inspect takes no "table" format');
  await ensureServices();
  const clients = new InspectClients();
  const found: unknown[] = [];
  let code: number;
  try {
    code = await eachRef(positionals, async (ref) => {
      found.push(await inspectOne(clients, ref, type as Kind));
    });
  } finally {
    clients.close();
  }
  process.stdout.write(format ? render(format, found) : `${JSON.stringify(found, null, 4)}\n`);
  return code;
}

/** a container by that name or id, else (without --type container) an image; docker's words when neither */
async function inspectOne(clients: InspectClients, ref: string, type: Kind): Promise<unknown> {
  const missing = (err: unknown) => err instanceof NestboxError && (err.code === 'NOT_FOUND' || err.code === 'INVALID_ARGUMENT');
  if (type !== 'image') {
    try {
      return await clients.lifecycle().request(LIFECYCLE.inspect, { container: ref });
    } catch (err) {
      if (type === 'container' || !missing(err)) throw err;
    }
  }
  try {
    return await clients.storage().request(STORAGE.inspectImage, { image: ref });
  } catch (err) {
    if (type === undefined && missing(err)) throw new NestboxError('NOT_FOUND', `No such object: ${ref}`);
    throw err;
  }
}

/** a client per service, made when first needed */
class InspectClients {
  private readonly made = new Map<string, RpcClient>();

  lifecycle(): RpcClient {
    return this.get('lifecycle');
  }

  storage(): RpcClient {
    return this.get('storage');
  }

  close(): void {
    for (const c of this.made.values()) c.close();
  }

  private get(service: 'lifecycle' | 'storage'): RpcClient {
    let c = this.made.get(service);
    if (!c) this.made.set(service, (c = clientFor(service, 30_000)));
    return c;
  }
}
