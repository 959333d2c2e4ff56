import test from 'ava';
import { goTimeString, humanDuration, parseLogTime, psStatus } from '../../cli/docker-time.js';
import { psFields } from '../../cli/commands/ps.js';
import { fixedNano } from '../../cli/commands/logs.js';
import { parseSignal } from '../../cli/signals.js';

// ps's CreatedAt is in the local zone: these expectations are written for UTC
process.env.TZ = 'UTC';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

test("humanDuration words durations as go-units' HumanDuration", (t) => {
  const cases: [number, string][] = [
    [0, 'Less than a second'], [999, 'Less than a second'], [S, '1 second'], [1999, '1 second'], [2 * S, '2 seconds'],
    [59 * S, '59 seconds'], [60 * S, 'About a minute'], [119 * S, 'About a minute'], [2 * M, '2 minutes'], [59 * M, '59 minutes'],
    [60 * M, 'About an hour'], [89 * M, 'About an hour'], [90 * M, '2 hours'], [47 * H, '47 hours'], [48 * H, '2 days'],
    [13 * D, '13 days'], [14 * D, '2 weeks'], [59 * D, '8 weeks'], [60 * D, '2 months'], [729 * D, '24 months'], [730 * D, '2 years'],
  ];
  for (const [ms, words] of cases) t.is(humanDuration(ms), words, `${ms} ms`);
});

test("ps STATUS as docker's: Up, Exited (N) ... ago, Created", (t) => {
  const now = Date.parse('2026-12-05T10:00:00Z');
  t.is(psStatus({ state: 'running', startedAt: '2026-12-05T09:59:57Z' }, now), 'Up 3 seconds');
  t.is(psStatus({ state: 'running', startedAt: '2026-12-05T09:59:59.500Z' }, now), 'Up Less than a second');
  t.is(psStatus({ state: 'exited', exitCode: 0, finishedAt: '2026-12-05T09:59:55Z' }, now), 'Exited (0) 5 seconds ago');
  t.is(psStatus({ state: 'exited', exitCode: 137, finishedAt: '2026-12-05T07:00:00Z' }, now), 'Exited (137) 3 hours ago');
  t.is(psStatus({ state: 'created' }, now), 'Created');
  t.is(psStatus({ state: 'removing' }, now), 'Removal In Progress');
});

test("ps fields: docker's names, truncation and quoting", (t) => {
  const now = Date.parse('2026-12-05T10:01:30Z');
  const id = 'a'.repeat(64);
  const c = { id, name: 'web', image: 'busybox', command: ['sh', '-c', 'while :; do sleep 1; done'], state: 'running', createdAt: '2026-12-05T10:00:00Z', startedAt: '2026-12-05T10:00:01Z', mounts: ['data', '/a/very/long/host/path'], localVolumes: 1 };
  const f = psFields(c, true, now);
  t.like(f, { ID: id.slice(0, 12), Command: '"sh -c while :; do s…"', Names: 'web', Status: 'Up About a minute', RunningFor: 'About a minute ago', State: 'running', CreatedAt: '2026-12-05 10:00:00 +0000 UTC', Ports: '', LocalVolumes: '1', Mounts: 'data,/a/very/long/h…' });
  t.deepEqual(Object.keys(f), [...Object.keys(f)].sort(), 'keys in the order docker json prints them');
  const full = psFields(c, false, now);
  t.is(full.ID, id);
  t.is(full.Command, '"sh -c while :; do sleep 1; done"');
  t.is(goTimeString('2026-01-02T03:04:05.678Z', 'UTC'), '2026-01-02 03:04:05 +0000 UTC');
  // the local zone, as Go's String(): its abbreviation where it has one, else its offset
  t.is(goTimeString('2026-01-02T03:04:05Z', 'America/New_York'), '2026-01-01 22:04:05 -0500 EST');
  t.is(goTimeString('2026-07-02T03:04:05Z', 'America/New_York'), '2026-07-01 23:04:05 -0400 EDT');
  t.is(goTimeString('2026-01-02T03:04:05Z', 'Asia/Kolkata'), '2026-01-02 08:34:05 +0530 IST');
  t.is(goTimeString('2026-01-02T03:04:05Z', 'Asia/Kathmandu'), '2026-01-02 08:49:05 +0545 +0545');
  t.is(goTimeString('2026-01-02T03:04:05Z', 'Europe/Istanbul'), '2026-01-02 06:04:05 +0300 +03');
  t.is(goTimeString('2026-01-02T03:04:05Z', 'Europe/Berlin'), '2026-01-02 04:04:05 +0100 CET');
  t.is(goTimeString('2026-01-02T03:04:05Z', 'Asia/Tokyo'), '2026-01-02 12:04:05 +0900 JST');
  t.is(goTimeString('not a time'), 'not a time');
});

test("logs -t: docker's fixed nine-digit fraction", (t) => {
  t.is(fixedNano('2026-12-05T04:31:14.5427113Z'), '2026-12-05T04:31:14.542711300Z');
  t.is(fixedNano('2026-12-05T04:31:14Z'), '2026-12-05T04:31:14.000000000Z');
  t.is(fixedNano('2026-12-05T04:31:14.123456789Z'), '2026-12-05T04:31:14.123456789Z');
});

test('kill -s: names with or without SIG, any case, numbers; anything else refused', (t) => {
  t.is(parseSignal('KILL'), 9);
  t.is(parseSignal('SIGTERM'), 15);
  t.is(parseSignal('term'), 15);
  t.is(parseSignal('hup'), 1);
  t.is(parseSignal('9'), 9);
  t.is(parseSignal('USR1'), 10);
  t.is(parseSignal('RTMIN+2'), 36);
  t.is(parseSignal('SIGRTMAX'), 64);
  for (const bad of ['FOO', 'SIGFOO', '0', '65', '-9', '', '9x', 'RTMIN+40']) {
    t.throws(() => parseSignal(bad), { message: `invalid signal: ${bad}` }, bad);
  }
});

test("logs --since/--until values as docker takes them: durations, unix times, RFC3339 with or without a zone", (t) => {
  const now = Date.UTC(2026, 11, 5, 12, 0, 0);
  const ns = (ms: number) => BigInt(ms) * 1_000_000n;
  t.is(parseLogTime('10m', 'since', now), ns(now - 600_000));
  t.is(parseLogTime('1h30m', 'since', now), ns(now - 5_400_000));
  t.is(parseLogTime('1.5s', 'since', now), ns(now - 1500));
  t.is(parseLogTime('1136073600', 'since', now), 1136073600n * 1_000_000_000n);
  t.is(parseLogTime('1136073600.000000001', 'since', now), 1136073600n * 1_000_000_000n + 1n);
  t.is(parseLogTime('0', 'since', now), 0n, '"0" is the unix epoch, not a duration');
  t.is(parseLogTime('2026-12-05T11:00:00Z', 'since', now), ns(Date.UTC(2026, 11, 5, 11)));
  t.is(parseLogTime('2026-12-05T11:00:00.123456789+01:00', 'until', now), ns(Date.UTC(2026, 11, 5, 10)) + 123456789n);
  t.is(parseLogTime('2026-12-05T11:30', 'since', now), ns(new Date(2026, 11, 5, 11, 30).getTime()), 'no zone: local time');
  t.is(parseLogTime('2026-12-05', 'since', now), ns(new Date(2026, 11, 5).getTime()));
  for (const bad of ['yesterday', '10 minutes', '2026-13-45T99', '-']) {
    t.regex((t.throws(() => parseLogTime(bad, 'since', now)) as Error).message, /^invalid value for --since: ".*" \(a duration before now like 10m, a unix time, or an RFC3339 date-time\)$/, bad);
  }
});
