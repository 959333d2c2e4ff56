/** `nestbox volume create NAME | ls [-q] | inspect NAME... | rm NAME...` */
import { LIFECYCLE, NAMESPACE, STORAGE } from '../../lib/contracts/patterns.js';
import { NestboxError } from '../../lib/errors.js';
import { VOLUME_NAME } from '../../lib/volume-spec.js';
import { HelpRequested, parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';
import { table } from './table.js';

interface VolumeInfo { Name: string; Driver: string; Mountpoint: string; CreatedAt: string }

const USAGE = 'usage: nestbox volume create NAME | ls [-q] | inspect NAME... | rm NAME...';

function names(args: string[], verb: string, one = false): string[] {
  if (args.length === 0 || (one && args.length > 1)) throw new NestboxError('INVALID_ARGUMENT', `"nestbox volume ${verb}" requires ${one ? 'exactly 1 argument' : 'at least 1 argument'}: NAME`);
  for (const n of args) if (!VOLUME_NAME.test(n)) throw new NestboxError('INVALID_ARGUMENT', `invalid volume name "${n}": it must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
  return args;
}

export async function volumeCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === '--help' || verb === '-h') throw new HelpRequested([]);
  const { options, positionals } = parseArgs(rest, verb === 'ls' ? [{ name: 'quiet', short: 'q', takesValue: false }] : [], { stopAtFirstPositional: false });
  if (!['create', 'ls', 'inspect', 'rm'].includes(verb ?? '')) throw new NestboxError('INVALID_ARGUMENT', verb ? `unknown volume command "${verb}"; ${USAGE}` : USAGE);
  if (verb === 'ls' && positionals.length) throw new NestboxError('INVALID_ARGUMENT', '"nestbox volume ls" takes no arguments');
  const targets = verb === 'ls' ? [] : names(positionals, verb, verb === 'create');
  await ensureServices();
  const storage = clientFor('storage');
  const lifecycle = clientFor('lifecycle', 30_000);
  try {
    if (verb === 'create') {
      const owner = await containerRoot();
      await storage.request(STORAGE.volumeEnsure, { name: targets[0], ...owner });
      process.stdout.write(`${targets[0]}\n`);
    } else if (verb === 'ls') {
      const list = await storage.request<VolumeInfo[]>(STORAGE.volumeList, {});
      process.stdout.write(options.has('quiet') ? list.map((v) => `${v.Name}\n`).join('') : table(['DRIVER', 'VOLUME NAME'], list.map((v) => [v.Driver, v.Name])));
    } else if (verb === 'inspect') {
      const found = [];
      for (const name of targets) found.push(await storage.request<VolumeInfo>(STORAGE.volumeInspect, { name }));
      process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
    } else {
      let code = 0;
      for (const name of targets) {
        try {
          await lifecycle.request(LIFECYCLE.volumeRemove, { name });
          process.stdout.write(`${name}\n`);
        } catch (err) {
          process.stderr.write(`nestbox: ${(err as Error).message}\n`);
          code = 1;
        }
      }
      return code;
    }
    return 0;
  } finally {
    storage.close();
    lifecycle.close();
  }
}

/** container root's host ids, which a new volume's data belongs to (the namespace service's id maps) */
async function containerRoot(): Promise<{ rootUid: number; rootGid: number }> {
  const ns = clientFor('namespace');
  try {
    const ids = await ns.request<{ rootUid: number; rootGid: number }>(NAMESPACE.idMap, {});
    return { rootUid: ids.rootUid, rootGid: ids.rootGid };
  } finally {
    ns.close();
  }
}
