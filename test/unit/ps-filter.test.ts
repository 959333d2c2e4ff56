/** ps --filter: docker's keys, alternatives within a key, all keys at once, one-line refusals. */
import test from 'ava';
import { filtersListAll, parsePsFilters, psFilterTest } from '../../cli/ps-filter.js';
import type { ContainerSummary } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';

const c = (over: Partial<ContainerSummary>): ContainerSummary => ({
  id: 'a'.repeat(64), name: 'web', image: 'busybox', imageId: `sha256:${'b'.repeat(64)}`, command: ['sh'],
  state: 'running', createdAt: '2026-12-05T00:00:00Z', ...over,
});
const pick = (filters: string[], list: ContainerSummary[]) => list.filter(psFilterTest(parsePsFilters(filters), list)).map((x) => x.name);

// newest first, as the lifecycle service lists them
const list = [
  c({ name: 'web', labels: { tier: 'front', owner: 'ann' }, mounts: ['data'], mountPoints: ['/data'] }),
  c({ name: 'web2', id: `ab${'0'.repeat(62)}`, state: 'stopping', labels: { tier: 'front' } }),
  c({ name: 'db', id: 'c'.repeat(64), state: 'exited', exitCode: 3, image: 'localhost:5000/app:1', imageId: `sha256:${'d'.repeat(64)}`, labels: { tier: '' }, mounts: ['/srv/db'], mountPoints: ['/var/lib/db'] }),
  c({ name: 'job', id: 'e'.repeat(64), state: 'exited', exitCode: 0, network: 'none' }),
  c({ name: 'new', id: 'f'.repeat(64), state: 'creating' }),
];

test('name and id are regular expressions; name is searched in /NAME', (t) => {
  t.deepEqual(pick(['name=web'], list), ['web', 'web2']);
  t.deepEqual(pick(['name=^/web$'], list), ['web']);
  t.deepEqual(pick(['name=^web'], list), [], 'docker names start with /');
  t.deepEqual(pick(['id=^ab'], list), ['web2']);
  t.deepEqual(pick(['id=cccc'], list), ['db']);
});

test("status in docker's words (stopping is running, creating is created); exited by code", (t) => {
  t.deepEqual(pick(['status=running'], list), ['web', 'web2']);
  t.deepEqual(pick(['status=exited'], list), ['db', 'job']);
  t.deepEqual(pick(['status=created'], list), ['new']);
  t.deepEqual(pick(['exited=0'], list), ['job']);
  t.deepEqual(pick(['exited=3', 'exited=0'], list), ['db', 'job'], 'values of one key are alternatives');
  t.deepEqual(pick(['status=exited', 'name=db'], list), ['db'], 'different keys must all match');
  t.true(filtersListAll(parsePsFilters(['status=exited'])));
  t.false(filtersListAll(parsePsFilters(['exited=0'])));
});

test('ancestor: a reference as docker normalizes it, or an image id prefix', (t) => {
  t.deepEqual(pick(['ancestor=localhost:5000/app:1'], list), ['db']);
  t.deepEqual(pick(['ancestor=busybox:latest', 'status=exited'], list), ['job']);
  t.deepEqual(pick(['ancestor=docker.io/library/busybox', 'status=exited'], list), ['job']);
  t.deepEqual(pick([`ancestor=sha256:${'d'.repeat(12)}`], list), ['db']);
  t.deepEqual(pick(['ancestor=dddd'], list), ['db']);
});

test('label: a key, or a key and its value', (t) => {
  t.deepEqual(pick(['label=tier'], list), ['web', 'web2', 'db']);
  t.deepEqual(pick(['label=tier=front'], list), ['web', 'web2']);
  t.deepEqual(pick(['label=tier='], list), ['db'], 'an empty value');
  t.deepEqual(pick(['label=tier=front', 'label=owner=ann'], list), ['web', 'web2'], 'values of one key are alternatives');
});

test('before and since: created before / after that container, by name or id prefix; unknown is No such container', (t) => {
  t.deepEqual(pick(['before=db'], list), ['job', 'new']);
  t.deepEqual(pick(['since=db'], list), ['web', 'web2']);
  t.deepEqual(pick(['since=ccc', 'before=web'], list), ['web2']);
  const err = t.throws(() => pick(['before=nosuch'], list)) as NestboxError;
  t.is(err.message, 'No such container: nosuch');
  t.is(err.code, 'NOT_FOUND');
});

test('volume: a volume name, a bind source or a mount point; network: its name', (t) => {
  t.deepEqual(pick(['volume=data'], list), ['web']);
  t.deepEqual(pick(['volume=/var/lib/db'], list), ['db']);
  t.deepEqual(pick(['volume=/srv/db'], list), ['db']);
  t.deepEqual(pick(['network=none'], list), ['web', 'web2', 'db', 'job', 'new'], 'a container without a network is in none');
  t.deepEqual(pick(['network=bridge'], list), []);
});

test('bad filters are one line each, named', (t) => {
  const refused = (f: string) => (t.throws(() => parsePsFilters([f])) as NestboxError);
  t.is(refused('label').message, 'bad format of filter (expected name=value): "label"');
  t.regex(refused('health=x').message, /^invalid filter 'health' \(ps filters: id, name, status, exited, ancestor, label, before, since, volume, network\)$/);
  t.regex(refused('status=sleeping').message, /^invalid filter 'status=sleeping': a status is one of created, /);
  t.is(refused('exited=x').message, "invalid filter 'exited=x': an exit code is a whole number");
  t.is(refused('ancestor=Bad:Ref!').code, 'INVALID_ARGUMENT');
});
