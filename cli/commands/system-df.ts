/** `nestbox system df [-v]`: docker's disk usage table (TYPE TOTAL ACTIVE SIZE RECLAIMABLE), -v: the rows behind it. */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import type { DiskUsage, UsageTotals } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { clientFor, ensureServices } from '../services.js';
import { splitRef } from './images.js';
import { ago, ellipsis, table } from './table.js';
import { humanSize } from './units.js';

/** docker's df sizes: 4 significant digits */
const size = (bytes: number) => humanSize(bytes, 4);

function reclaimable(t: UsageTotals): string {
  return t.size > 0 ? `${size(t.reclaimable)} (${Math.floor((t.reclaimable * 100) / t.size)}%)` : size(t.reclaimable);
}

export function dfOutput(u: DiskUsage, verbose: boolean, now = Date.now()): string {
  if (!verbose) {
    return table(['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'], ([['Images', u.images], ['Containers', u.containers], ['Local Volumes', u.volumes]] as const)
      .map(([type, t]) => [type, String(t.total), String(t.active), size(t.size), reclaimable(t)]));
  }
  const images = u.images.rows.flatMap((i) => (i.refs.length ? i.refs : [undefined]).map((ref) => [
    ...splitRef(ref), i.id.slice(7, 19), i.created ? ago(i.created, now) : 'N/A', size(i.size), size(i.shared), size(i.unique), String(i.containers),
  ]));
  const command = (args: string[]) => JSON.stringify(ellipsis(args.join(' '), 20));
  const status = (state: string, exitCode?: number) => (state === 'running' ? 'Up' : state === 'exited' ? `Exited (${exitCode ?? 0})` : state.charAt(0).toUpperCase() + state.slice(1));
  const containers = u.containers.rows.map((c) => [
    c.id.slice(0, 12), c.image, command(c.command), String(c.volumes), size(c.size), ago(c.createdAt, now), status(c.state, c.exitCode), c.name,
  ]);
  return [
    'Images space usage:\n\n',
    table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS'], images),
    '\nContainers space usage:\n\n',
    table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'LOCAL VOLUMES', 'SIZE', 'CREATED', 'STATUS', 'NAMES'], containers),
    '\nLocal Volumes space usage:\n\n',
    table(['VOLUME NAME', 'LINKS', 'SIZE'], u.volumes.rows.map((v) => [v.name, String(v.links), size(v.size)])),
  ].join('');
}

export async function systemDfCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, [{ name: 'verbose', short: 'v', takesValue: false }], { stopAtFirstPositional: false });
  if (positionals.length) throw new NestboxError('INVALID_ARGUMENT', '"nestbox system df" accepts no arguments');
  await ensureServices();
  // measuring walks every layer, upper dir and volume
  const client = clientFor('lifecycle', 300_000);
  try {
    process.stdout.write(dfOutput(await client.request<DiskUsage>(LIFECYCLE.diskUsage, {}), options.has('verbose')));
    return 0;
  } finally {
    client.close();
  }
}
