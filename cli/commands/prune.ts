/**
 * docker's prunes: `container prune [-f]` (every container not running), `image prune [-a] [-f]`
 * (images no container uses: untagged ones, with -a all), `system prune [-a] [-f]` (both). Asks
 * docker's question first unless -f (a line from stdin; anything but y/yes, or no stdin, keeps
 * everything). What went is listed as docker does, with the space it freed: the disk usage
 * measured before and after (lifecycle.df), so a layer another image still holds is not counted.
 */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import type { DiskUsage, ImageRemoval } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import type { RpcClient } from '../../lib/transport/rpc-client.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';
import { humanSize } from './units.js';

const NOT_RUNNING = new Set(['exited', 'created']);

export type PruneWhat = 'containers' | 'images' | 'system';

const WARNINGS: Record<PruneWhat, (all: boolean) => string> = {
  containers: () => 'WARNING! This will remove all stopped containers.',
  images: (all) => (all ? 'WARNING! This will remove all images without at least one container associated to them.' : 'WARNING! This will remove all dangling images.'),
  system: (all) => `WARNING! This will remove:\n  - all stopped containers\n  - ${all ? 'all images without at least one container associated to them' : 'all dangling images'}\n`,
};

export async function pruneCommand(what: PruneWhat, argv: string[]): Promise<number> {
  const specs = [{ name: 'force', short: 'f', takesValue: false }, ...(what === 'containers' ? [] : [{ name: 'all', short: 'a', takesValue: false }])];
  const { options, positionals } = parseArgs(argv, specs, { stopAtFirstPositional: false });
  if (positionals.length) throw new NestboxError('INVALID_ARGUMENT', `"nestbox ${what === 'containers' ? 'container' : what === 'images' ? 'image' : 'system'} prune" accepts no arguments`);
  const all = options.has('all');
  if (!options.has('force') && !(await confirmed(WARNINGS[what](all)))) return 0;
  await ensureServices();
  const client = clientFor('lifecycle', 120_000);
  try {
    const before = await client.request<DiskUsage>(LIFECYCLE.diskUsage, {});
    let out = '';
    if (what !== 'images') {
      const deleted = await pruneContainers(client, before);
      if (deleted.length) out += `Deleted Containers:\n${deleted.map((id) => `${id}\n`).join('')}\n`;
    }
    if (what !== 'containers') {
      const usage = what === 'system' ? await client.request<DiskUsage>(LIFECYCLE.diskUsage, {}) : before;
      const lines = await pruneImages(client, usage, all);
      if (lines) out += `Deleted Images:\n${lines}\n`;
    }
    const after = await client.request<DiskUsage>(LIFECYCLE.diskUsage, {});
    const freed = Math.max(0, before.containers.size + before.images.size - after.containers.size - after.images.size);
    process.stdout.write(`${out}Total reclaimed space: ${humanSize(freed)}\n`);
    return 0;
  } finally {
    client.close();
  }
}

/** each container not running, removed as `rm` would (one started meanwhile is refused and stays) */
async function pruneContainers(client: RpcClient, usage: DiskUsage): Promise<string[]> {
  const deleted: string[] = [];
  for (const c of usage.containers.rows.filter((r) => NOT_RUNNING.has(r.state))) {
    try {
      await client.request(LIFECYCLE.remove, { container: c.id, force: false });
      deleted.push(c.id);
    } catch (err) {
      if (err instanceof NestboxError && err.code === 'UNAVAILABLE') throw err;
    }
  }
  return deleted;
}

/** images no container uses (untagged only, unless ALL), through rmi's own checks: docker's lower-case lines */
async function pruneImages(client: RpcClient, usage: DiskUsage, all: boolean): Promise<string> {
  let lines = '';
  for (const image of usage.images.rows.filter((i) => i.containers === 0 && (all || i.refs.length === 0))) {
    try {
      // by id: every tag goes with it (-f), but never an image a container uses (rmi refuses)
      const r = await client.request<ImageRemoval>(LIFECYCLE.imageRemove, { image: image.id, force: true });
      lines += [...r.untagged.map((u) => `untagged: ${u}\n`), ...r.deleted.map((d) => `deleted: ${d}\n`)].join('');
    } catch (err) {
      if (err instanceof NestboxError && err.code === 'UNAVAILABLE') throw err;
    }
  }
  return lines;
}

/** docker's question on stdout, one answer line from stdin (none: no) */
async function confirmed(warning: string): Promise<boolean> {
  process.stdout.write(`${warning}\nAre you sure you want to continue? [y/N] `);
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    const done = () => {
      process.stdin.off('data', onData).off('end', done).off('error', done);
      process.stdin.pause();
      resolve(text);
    };
    const onData = (d: Buffer) => {
      text += d.toString('utf8');
      if (text.includes('\n')) done();
    };
    process.stdin.on('data', onData).once('end', done).once('error', done);
  });
  if (!process.stdin.isTTY && !answer.endsWith('\n')) process.stdout.write('\n');
  return /^\s*y(es)?\s*$/i.test(answer.split('\n')[0]);
}
