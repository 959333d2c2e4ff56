/**
 * `ps --filter KEY=VALUE` (`-f`), docker's rules: values of one key are alternatives, different
 * keys must all match. Keys: id and name (a regular expression searched in the full id, and in
 * "/NAME" as docker's names are), status (created|restarting|running|removing|paused|exited|dead;
 * it lists stopped containers without -a), exited (an exit code; stopped containers, so with -a),
 * ancestor (an image reference or id; not its descendants: nestbox keeps no image parents), label
 * (KEY or KEY=VALUE), before and since (created before / after that container, by name or id),
 * volume (a volume name, bind source or mount point), network (its network's name).
 * Anything else is refused in one line before the services are asked.
 */
import type { ContainerSummary } from '../lib/contracts/types.js';
import { NestboxError } from '../lib/errors.js';
import { dockerStatus } from '../lib/docker-state.js';
import { parseImageRef, storedName } from '../lib/image-ref.js';

const KEYS = ['id', 'name', 'status', 'exited', 'ancestor', 'label', 'before', 'since', 'volume', 'network'] as const;
type Key = (typeof KEYS)[number];
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

export type PsFilters = Map<Key, string[]>;

export function parsePsFilters(given: string[]): PsFilters {
  const filters: PsFilters = new Map();
  for (const f of given) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new NestboxError('INVALID_ARGUMENT', `bad format of filter (expected name=value): ${JSON.stringify(f)}`);
    const key = f.slice(0, eq) as Key;
    const value = f.slice(eq + 1);
    if (!KEYS.includes(key)) throw new NestboxError('INVALID_ARGUMENT', `invalid filter '${f.slice(0, eq)}' (ps filters: ${KEYS.join(', ')})`);
    if (key === 'status' && !STATUSES.includes(value)) {
      throw new NestboxError('INVALID_ARGUMENT', `invalid filter 'status=${value}': a status is one of ${STATUSES.join(', ')}`);
    }
    if (key === 'exited' && !/^-?\d+$/.test(value)) throw new NestboxError('INVALID_ARGUMENT', `invalid filter 'exited=${value}': an exit code is a whole number`);
    if (key === 'ancestor' && !isImageId(value)) parseImageRef(value); // a bad reference is its own one line
    filters.set(key, [...(filters.get(key) ?? []), value]);
  }
  return filters;
}

/** With a status filter docker lists what it asks for, stopped containers too. */
export function filtersListAll(filters: PsFilters): boolean {
  return filters.has('status');
}

const isImageId = (v: string) => /^(sha256:)?[0-9a-f]{1,64}$/.test(v);

function searches(pattern: string, text: string): boolean {
  try {
    return new RegExp(pattern).test(text);
  } catch {
    return text === pattern; // not a regular expression: docker compares it as it is
  }
}

function sameImage(value: string, c: ContainerSummary): boolean {
  if (isImageId(value) && c.imageId?.replace(/^sha256:/, '').startsWith(value.replace(/^sha256:/, ''))) return true;
  try {
    return storedName(parseImageRef(value)) === storedName(parseImageRef(c.image));
  } catch {
    return false;
  }
}

function hasLabel(value: string, c: ContainerSummary): boolean {
  const eq = value.indexOf('=');
  const key = eq < 0 ? value : value.slice(0, eq);
  return c.labels !== undefined && Object.hasOwn(c.labels, key) && (eq < 0 || c.labels[key] === value.slice(eq + 1));
}

/** the container `before=` / `since=` names, by name or unique id prefix, among all of them */
function reference(value: string, all: ContainerSummary[]): ContainerSummary {
  const byName = all.find((c) => c.name === value.replace(/^\//, ''));
  if (byName) return byName;
  const byId = /^[0-9a-f]+$/.test(value) ? all.filter((c) => c.id.startsWith(value)) : [];
  if (byId.length === 1) return byId[0];
  throw new NestboxError('NOT_FOUND', `No such container: ${value}`);
}

/**
 * The filters as one test of a container. ALL (every container, in any state, newest first)
 * finds the containers before and since name; each one is created before the ones listed above it.
 */
export function psFilterTest(filters: PsFilters, all: ContainerSummary[]): (c: ContainerSummary) => boolean {
  const position = (c: ContainerSummary) => all.findIndex((x) => x.id === c.id); // 0: the newest
  const refs = new Map<string, number>();
  for (const v of [...(filters.get('before') ?? []), ...(filters.get('since') ?? [])]) refs.set(v, position(reference(v, all)));
  const matches: Record<Key, (value: string, c: ContainerSummary) => boolean> = {
    id: (v, c) => searches(v, c.id),
    name: (v, c) => searches(v, `/${c.name}`),
    status: (v, c) => dockerStatus(c) === v,
    exited: (v, c) => dockerStatus(c) === 'exited' && c.exitCode === Number(v),
    ancestor: sameImage,
    label: hasLabel,
    before: (v, c) => position(c) > refs.get(v)!,
    since: (v, c) => position(c) < refs.get(v)!,
    volume: (v, c) => [...(c.mounts ?? []), ...(c.mountPoints ?? [])].includes(v),
    network: (v, c) => (c.network ?? 'none') === v,
  };
  return (c) => {
    for (const [key, values] of filters) if (!values.some((v) => matches[key](v, c))) return false;
    return true;
  };
}
