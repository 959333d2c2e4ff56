/**
 * Crash safety of the lifecycle service: it is SIGKILLed (lib/fault-point.ts, NESTBOX_CRASH_AT) at
 * each step of `run -d`, `stop` and `rm`, the supervisor restarts it, and then every container is
 * in a true state: a record says running only while its process runs, and not running only
 * while it does not; a create cut short leaves no record that holds its name; nothing is left of
 * a removed container (cgroup, container dir, shim, mount). As root and as the unprivileged user.
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, rootlessUnavailable, unstage } from '../helpers/host.js';
import { NestboxInstance } from '../helpers/nestbox.js';
import { isSameProcess, readShimRecord } from '../../services/namespace/shim-files.js';
import { probeCgroupHost } from '../../services/cgroup/cgroup-probe.js';

/** every crash point of the flows, each firing once (in this order along the test's steps) */
const POINTS = [
  'create:after-record', 'create:after-rootfs', 'create:after-cgroup', 'start:after-cgroup', 'start:after-launch',
  'stop:after-stopping', 'stop:after-term', 'rm:after-removing', 'rm:after-kill',
];
const instances: NestboxInstance[] = [];
test.after.always(async () => {
  await Promise.all(instances.map((i) => i.stop()));
  unstage();
});

interface PsRow { id: string; name: string; status: string }
async function containers(nb: NestboxInstance): Promise<PsRow[]> {
  const r = await nb.cli(['ps', '-a', '--no-trunc', '--format', 'json']);
  if (r.code !== 0) throw new Error(`ps: ${r.stderr}`);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { ID: string; Names: string; Status: string })
    .map((c) => ({ id: c.ID, name: c.Names, status: c.Status }));
}

/** Every cgroup dir a root nestbox of this test process makes (rootless here has none). */
function cgroupDirs(): string[] {
  const host = probeCgroupHost();
  const parents = host.layout === 'unified' ? [join(host.v2!.ownDir, 'nestbox')] : host.v1.map((h) => join(h.ownDir, 'nestbox'));
  return parents.flatMap((p) => (existsSync(p) ? readdirSync(p).filter((d) => /^[0-9a-f]{64}$/.test(d)).map((d) => join(p, d)) : []));
}

/**
 * The truth about every container, checked against the host: Up <=> its recorded process lives;
 * container dirs and (root) cgroups only for listed containers, and no cgroup for an exited one;
 * no mount below the instance's directory.
 */
async function assertTrueStates(t: ExecutionContext, nb: NestboxInstance, step: string): Promise<PsRow[]> {
  const rows = await containers(nb);
  const ids = new Set(rows.map((r) => r.id));
  for (const row of rows) {
    const shim = readShimRecord(join(nb.dataRoot, 'containers', row.id));
    const alive = !!shim?.containerPid && !!shim.containerStartTime && isSameProcess(shim.containerPid, shim.containerStartTime);
    t.is(row.status.startsWith('Up'), alive, `${step}: ${row.name} says "${row.status}" and its process ${alive ? 'runs' : 'does not run'}`);
  }
  const dirs = existsSync(join(nb.dataRoot, 'containers')) ? readdirSync(join(nb.dataRoot, 'containers')).filter((d) => /^[0-9a-f]{64}$/.test(d)) : [];
  t.deepEqual(dirs.filter((d) => !ids.has(d)), [], `${step}: no container dir without a record`);
  if (nb.kind === 'root') {
    const mine = cgroupDirs().filter((d) => dirs.some((id) => d.endsWith(id)) || [...ids].some((id) => d.endsWith(id)));
    const exited = rows.filter((r) => r.status.startsWith('Exited')).map((r) => r.id);
    t.deepEqual(mine.filter((d) => !rows.some((r) => d.endsWith(r.id))), [], `${step}: no cgroup of a container without a record`);
    t.deepEqual(mine.filter((d) => exited.some((id) => d.endsWith(id))), [], `${step}: no cgroup of an exited container`);
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(nb.base));
  t.deepEqual(mounts, [], `${step}: no mount below ${nb.base}`);
  return rows;
}

/** Runs `nestbox ARGS`, expected to be cut short by the crash at POINT (the marker says it fired). */
async function crashed(t: ExecutionContext, nb: NestboxInstance, point: string, args: string[]): Promise<void> {
  const r = await nb.cli(args);
  t.true(existsSync(join(nb.runtimeDir, `crashed-at-${point.replace(/[^a-z0-9-]/gi, '_')}`)), `${args.join(' ')} reached ${point}: ${r.stderr}`);
  t.not(r.code, 0, `${args.join(' ')} cut short by the crash at ${point} reports a failure`);
  t.is(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
}

const row = (rows: PsRow[], name: string) => rows.find((r) => r.name === name);

for (const kind of ['root', 'rootless'] as const) {
  const why = kind === 'root' ? (isRoot ? undefined : 'needs root') : rootlessUnavailable();
  (why ? test.skip : test.serial)(`${kind}: lifecycle killed -9 during run -d, stop and rm, restarted: true states, names free, nothing left${why ? ` (skipped: ${why})` : ''}`, async (t) => {
    const env = { NESTBOX_CRASH_AT: POINTS.join(',') };
    const nb = kind === 'root' ? NestboxInstance.root(env) : NestboxInstance.rootless(env);
    instances.push(nb);
    t.is((await nb.cli(['system', 'info'])).code, 0); // services up, image not yet needed
    const sleeper = ['busybox', 'sleep', '600'];

    // run -d cut short while the container is being created: no record, the name is free again
    for (const point of ['create:after-record', 'create:after-rootfs', 'create:after-cgroup']) {
      await crashed(t, nb, point, ['run', '-d', '--name', 'half', ...sleeper]);
      t.is(row(await assertTrueStates(t, nb, point), 'half'), undefined, `${point}: the half-made container is gone`);
    }
    // cut short after create, before its process ran: a created container (docker's too)
    await crashed(t, nb, 'start:after-cgroup', ['run', '-d', '--name', 'half', ...sleeper]);
    t.is(row(await assertTrueStates(t, nb, 'start:after-cgroup'), 'half')?.status, 'Created');
    // start cut short after the shim has it: it runs, and the restarted service follows it
    await crashed(t, nb, 'start:after-launch', ['start', 'half']);
    t.regex(row(await assertTrueStates(t, nb, 'start:after-launch'), 'half')?.status ?? '', /^Up/);
    t.is((await nb.cli(['exec', 'half', 'true'])).code, 0, 'exec reaches it');

    const runner = await nb.cli(['run', '-d', '--name', 'runner', ...sleeper]);
    t.is(runner.code, 0, runner.stderr);
    // stop cut short: sleep as pid 1 ignores TERM, so it still runs (and says so)
    for (const point of ['stop:after-stopping', 'stop:after-term']) {
      await crashed(t, nb, point, ['stop', '-t', '1', 'runner']);
      t.regex(row(await assertTrueStates(t, nb, point), 'runner')?.status ?? '', /^Up/, `${point}: still running`);
    }
    const stop = await nb.cli(['stop', '-t', '1', 'runner']);
    t.is(stop.code, 0, stop.stderr);
    t.regex(row(await assertTrueStates(t, nb, 'stop'), 'runner')?.status ?? '', /^Exited \(137\)/);

    // a start of an exited container cut short (the point armed again): still exited, no cgroup
    unlinkSync(join(nb.runtimeDir, 'crashed-at-start_after-cgroup'));
    await crashed(t, nb, 'start:after-cgroup', ['start', 'runner']);
    t.regex(row(await assertTrueStates(t, nb, 'start:after-cgroup of an exited one'), 'runner')?.status ?? '', /^Exited \(137\)/);

    // rm cut short: the restarted service finishes the removal
    await crashed(t, nb, 'rm:after-removing', ['rm', 'runner']);
    t.is(row(await assertTrueStates(t, nb, 'rm:after-removing'), 'runner'), undefined);
    await crashed(t, nb, 'rm:after-kill', ['rm', '-f', 'half']);
    t.is(row(await assertTrueStates(t, nb, 'rm:after-kill'), 'half'), undefined);

    // every name is free again
    for (const name of ['half', 'runner']) {
      const r = await nb.cli(['run', '-d', '--name', name, ...sleeper]);
      t.is(r.code, 0, `${name}: ${r.stderr}`);
    }
    t.is((await nb.cli(['rm', '-f', 'half', 'runner'])).code, 0);
    t.deepEqual(await assertTrueStates(t, nb, 'end'), []);
  });
}
