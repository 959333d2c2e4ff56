/** ps --filter: docker's keys, alternatives within a key, all keys at once, one-line refusals. */
import test from 'ava';
import { filtersListAll, matchesPsFilters, parsePsFilters } from '../../cli/ps-filter.js';
import type { ContainerSummary } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';

const c = (over: Partial<ContainerSummary>): ContainerSummary => ({
  id: 'a'.repeat(64), name: 'web', image: 'busybox', imageId: `sha256:${'b'.repeat(64)}`, command: ['sh'],
  state: 'running', createdAt: '2026-12-05T00:00:00Z', ...over,
});
const pick = (filters: string[], list: ContainerSummary[]) => list.filter((x) => matchesPsFilters(parsePsFilters(filters), x)).map((x) => x.name);

const list = [
  c({ name: 'web' }),
  c({ name: 'web2', id: `ab${'0'.repeat(62)}`, state: 'stopping' }),
  c({ name: 'db', id: 'c'.repeat(64), state: 'exited', exitCode: 3, image: 'localhost:5000/app:1', imageId: `sha256:${'d'.repeat(64)}` }),
  c({ name: 'job', id: 'e'.repeat(64), state: 'exited', exitCode: 0 }),
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

test('bad filters are one line each, named', (t) => {
  const refused = (f: string) => (t.throws(() => parsePsFilters([f])) as NestboxError);
  t.is(refused('label').message, 'bad format of filter (expected name=value): "label"');
  t.regex(refused('volume=x').message, /^invalid filter 'volume' \(ps filters: id, name, status, exited, ancestor\)$/);
  t.regex(refused('status=sleeping').message, /^invalid filter 'status=sleeping': a status is one of created, /);
  t.is(refused('exited=x').message, "invalid filter 'exited=x': an exit code is a whole number");
  t.is(refused('ancestor=Bad:Ref!').code, 'INVALID_ARGUMENT');
});
