/**
 * `nestbox ps [-a] [-q] [-n N] [-l] [--no-trunc] [-f KEY=VALUE] [--format json|TEMPLATE]`: docker's columns and fields
 * (ID, Image, Command, CreatedAt, RunningFor, Ports, State, Status, Size, Names, Labels, Mounts,
 * Networks, LocalVolumes); `--format json` is `{{json .}}`, one object per line.
 */
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import type { ContainerSummary } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { parseArgs } from '../args.js';
import { goTimeString, humanDuration, psStatus } from '../docker-time.js';
import { parseFormat, render } from '../go-template.js';
import { clientFor, ensureServices } from '../services.js';
import { filtersListAll, parsePsFilters, psFilterTest } from '../ps-filter.js';
import { dockerStatus } from '../../lib/docker-state.js';
import { serviceRefusal } from './service-refusal.js';
import { ellipsis } from './table.js';

const DEFAULT_TABLE = '{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

const HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS',
  State: 'STATE', Status: 'STATUS', Size: 'SIZE', Names: 'NAMES', Labels: 'LABELS', Mounts: 'MOUNTS', Networks: 'NETWORKS',
  LocalVolumes: 'LOCAL VOLUMES',
};

/** The fields docker's ps context has, keys sorted as its json shows them. */
export function psFields(c: ContainerSummary, trunc: boolean, now = Date.now()): Record<string, string> {
  const command = c.command.join(' ');
  return {
    Command: JSON.stringify(trunc ? ellipsis(command, 20) : command),
    // made only when shown: its zone name costs ICU's start (docker-time.ts)
    get CreatedAt() { return goTimeString(c.createdAt); },
    ID: trunc ? c.id.slice(0, 12) : c.id,
    Image: c.image,
    Labels: Object.entries(c.labels ?? {}).map(([k, v]) => `${k}=${v}`).sort().join(','),
    LocalVolumes: String(c.localVolumes ?? 0),
    Mounts: (c.mounts ?? []).map((m) => (trunc ? ellipsis(m, 15) : m)).join(','),
    Names: c.name,
    Networks: c.network ?? 'none',
    Ports: '',
    RunningFor: `${humanDuration(Math.max(0, now - Date.parse(c.createdAt)))} ago`,
    Size: '0B',
    State: dockerStatus(c),
    Status: psStatus(c, now),
  };
}

export async function psCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, [
    { name: 'all', short: 'a', takesValue: false },
    { name: 'quiet', short: 'q', takesValue: false },
    { name: 'no-trunc', takesValue: false },
    { name: 'format', takesValue: true },
    { name: 'filter', short: 'f', takesValue: true, repeatable: true },
    { name: 'last', short: 'n', takesValue: true },
    { name: 'latest', short: 'l', takesValue: false },
  ], { stopAtFirstPositional: false });
  if (positionals.length) throw new NestboxError('INVALID_ARGUMENT', `"nestbox ps" accepts no arguments (got ${positionals[0]})`);
  const on = (n: string) => options.has(n) && options.get(n)!.at(-1) !== 'false';
  // parsed before the services are asked: a bad template is one line, nothing else
  const format = on('quiet')
    ? parseFormat('{{.ID}}', DEFAULT_TABLE)
    // docker: an empty --format is the default table
    : parseFormat(options.get('format')?.at(-1) || 'table', DEFAULT_TABLE);
  const filters = parsePsFilters(options.get('filter') ?? []);
  // docker's -n N / -l: the N last created (newest first, as listed), in any state
  const lastText = options.get('last')?.at(-1) ?? '-1';
  if (!/^-?\d+$/.test(lastText)) throw new NestboxError('INVALID_ARGUMENT', `invalid argument "${lastText}" for "-n, --last" flag: not a whole number`);
  const last = on('latest') ? 1 : Number(lastText);
  await ensureServices();
  const client = clientFor('lifecycle');
  let list: ContainerSummary[];
  try {
    // all of them: before= and since= may name a stopped one
    list = await client.request<ContainerSummary[]>(LIFECYCLE.list, { all: true });
  } finally {
    client.close();
  }
  const listAll = on('all') || last >= 0 || filtersListAll(filters);
  let matches: (c: ContainerSummary) => boolean;
  try {
    matches = psFilterTest(filters, list);
  } catch (err) {
    return serviceRefusal(err); // docker's daemon says it: exit 1
  }
  list = list.filter((c) => (listAll || ['running', 'paused'].includes(dockerStatus(c))) && matches(c));
  if (last >= 0) list = list.slice(0, last);
  const now = Date.now();
  process.stdout.write(render(format, list.map((c) => psFields(c, !on('no-trunc'), now)), HEADERS));
  return 0;
}
