/**
 * Containers belong to their shims, not to the services: `run -d`, SIGKILL of nestboxd and all
 * five services, the container runs on; the services come back (the CLI starts them), `ps` shows
 * it Up, `stop` ends it within its grace, `rm` leaves nothing. As root and rootless.
 */
import { type ExecutionContext } from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eachInstance } from '../helpers/each-instance.js';
import type { NestboxInstance } from '../helpers/nestbox.js';
import { scaled } from '../helpers/time.js';
import { isSameProcess, procStartTime, readShimRecord, type ShimRecord } from '../../services/namespace/shim-files.js';

const each = eachInstance();

interface PsRow { id: string; name: string; status: string }
async function psRows(nb: NestboxInstance, all = true): Promise<PsRow[]> {
  const r = await nb.cli(['ps', ...(all ? ['-a'] : []), '--no-trunc', '--format', 'json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { ID: string; Names: string; Status: string })
    .map((c) => ({ id: c.ID, name: c.Names, status: c.Status }));
}

interface Info { pid: number; services: { name: string; pid: number }[] }
/** nestboxd and its five services (from `system info`); they are the instance's node processes */
async function servicePids(t: ExecutionContext, nb: NestboxInstance): Promise<number[]> {
  const r = await nb.cli(['system', 'info']);
  const info = JSON.parse(r.stdout) as Info;
  const pids = [info.pid, ...info.services.map((s) => s.pid)];
  t.is(new Set(pids).size, 6);
  const node = nb.processes().filter((p) => {
    try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').match(/\/services\/[a-z]+\/main\.js\0/) !== null; } catch { return false; }
  });
  t.deepEqual([...node].sort(), [...pids].sort(), 'every service process of the instance');
  return pids;
}

const waitUntil = async (what: string, ok: () => boolean, ms = 10_000) => {
  for (const until = Date.now() + scaled(ms); !ok(); ) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

/** the container's own cgroup directories (v1: one per hierarchy; v2: one) */
function cgroupDirs(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n').map((line) => {
    const [, controllers, path] = line.split(':');
    const hierarchy = controllers === '' ? '' : controllers.startsWith('name=') ? controllers.slice(5) : controllers;
    return join('/sys/fs/cgroup', hierarchy === '' && existsSync('/sys/fs/cgroup/unified') ? 'unified' : hierarchy, path);
  }).filter((d) => /[0-9a-f]{64}$/.test(d));
}

/** Nothing of the container is left: processes, mounts, cgroups, files. */
function assertNothingLeft(t: ExecutionContext, nb: NestboxInstance, id: string, rec: ShimRecord, cgroups: string[]) {
  t.false(isSameProcess(rec.pid, rec.startTime), 'the shim is gone');
  t.false(isSameProcess(rec.containerPid!, rec.containerStartTime!), 'the container is gone');
  t.deepEqual(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(id)), [], 'no mount');
  for (const dir of cgroups) t.false(existsSync(dir), `cgroup ${dir} removed`);
  t.false(existsSync(join(nb.dataRoot, 'containers', id)), 'no file');
}

each('run -d survives SIGKILL of nestboxd and every service; ps shows it Up; stop ends it; rm leaves nothing', async (t, nb) => {
  const run = await nb.cli(['run', '-d', 'busybox', 'sleep', '300']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /^[0-9a-f]{64}\n$/);
  const id = run.stdout.trim();
  const rec = readShimRecord(join(nb.dataRoot, 'containers', id))!;
  t.true(isSameProcess(rec.containerPid!, rec.containerStartTime!), 'the container runs when run -d returns');
  t.is(readFileSync(`/proc/${rec.containerPid}/cmdline`, 'utf8'), 'sleep\x00300\x00');
  const cgroups = cgroupDirs(rec.containerPid!);
  if (nb.kind === 'root') t.true(cgroups.length > 0, 'the container has cgroups of its own');

  const services = await servicePids(t, nb);
  for (const pid of services) process.kill(pid, 'SIGKILL');
  await waitUntil('the services to die', () => services.every((p) => procStartTime(p) === undefined));
  t.true(isSameProcess(rec.pid, rec.startTime), 'the shim runs on');
  t.true(isSameProcess(rec.containerPid!, rec.containerStartTime!), 'the container runs on');

  // the CLI starts the services again; the lifecycle service reconciles with the shim
  const up = (await psRows(nb, false)).find((c) => c.id === id);
  t.regex(up?.status ?? '', /^Up /);
  t.not((await servicePids(t, nb))[0], services[0], 'a new nestboxd');

  const rm = await nb.cli(['rm', id]);
  t.is(rm.code, 1);
  t.regex(rm.stderr, /container is running: stop the container before removing or force remove/);

  // busybox sleep as pid 1 has no handler for SIGTERM: the kill comes after the grace
  const began = Date.now();
  const stop = await nb.cli(['stop', '-t', '2', id.slice(0, 12)]);
  const took = Date.now() - began;
  t.is(stop.code, 0, stop.stderr);
  // it waited for the grace, then killed: not much longer (a busy machine's CLI start is in this)
  t.true(took >= 2000 && took < scaled(2000) + scaled(10_000), `stop took ${took} ms for a grace of 2 s`);
  t.false(isSameProcess(rec.containerPid!, rec.containerStartTime!));
  t.regex((await psRows(nb)).find((c) => c.id === id)?.status ?? '', /^Exited \(137\) /);

  t.is((await nb.cli(['rm', id])).code, 0);
  assertNothingLeft(t, nb, id, rec, cgroups);
});

each('stop of a container that handles SIGTERM ends it at once with 143', async (t, nb) => {
  const run = await nb.cli(['run', '-d', '--name', 'polite', 'busybox', 'sh', '-c', 'trap "exit 143" TERM; while :; do sleep 0.1; done']);
  t.is(run.code, 0, run.stderr);
  const stop = await nb.cli(['stop', 'polite']);
  t.is(stop.code, 0, stop.stderr);
  // 143, not 137: it ended on the SIGTERM, not on the SIGKILL after the default grace of 10 s
  t.regex((await psRows(nb)).find((c) => c.name === 'polite')?.status ?? '', /^Exited \(143\) /);
  t.is((await nb.cli(['rm', 'polite'])).code, 0);
});

each('rm -f kills a running container first', async (t, nb) => {
  const run = await nb.cli(['run', '-d', 'busybox', 'sleep', '300']);
  const id = run.stdout.trim();
  const rec = readShimRecord(join(nb.dataRoot, 'containers', id))!;
  const cgroups = cgroupDirs(rec.containerPid!);
  const rm = await nb.cli(['rm', '-f', id]);
  t.is(rm.code, 0, rm.stderr);
  assertNothingLeft(t, nb, id, rec, cgroups);
});

each('a --rm container that ends while no service runs is cleaned up when they start again', async (t, nb) => {
  // long enough to outlive the services (killed at once), short enough not to slow the suite
  const run = await nb.cli(['run', '-d', '--rm', 'busybox', 'sh', '-c', 'echo bye; sleep 4']);
  t.is(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  const dir = join(nb.dataRoot, 'containers', id);
  const rec = readShimRecord(dir);
  if (!rec) return t.fail('the container ended before the services could be killed (machine too slow for this test)');
  const cgroups = cgroupDirs(rec.containerPid!);
  for (const pid of await servicePids(t, nb)) process.kill(pid, 'SIGKILL');
  await waitUntil('the container to end', () => existsSync(join(dir, 'exit.json')), 20_000);
  const log = readFileSync(join(dir, 'ctr.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { log: string; stream: string });
  t.deepEqual(log.map((e) => [e.stream, e.log]), [['stdout', 'bye\n']]);
  t.true(existsSync(dir), 'nobody was there to remove it');
  t.deepEqual((await psRows(nb)).filter((c) => c.id === id), [], 'gone once the services are back');
  assertNothingLeft(t, nb, id, rec, cgroups);
});

each('foreground run through the shim after a restart: same output and exit code', async (t, nb) => {
  const r = await nb.cli(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 9']);
  t.is(r.stdout, 'out\n');
  t.is(r.stderr, 'err\n');
  t.is(r.code, 9);
  t.deepEqual(readdirSync(join(nb.dataRoot, 'containers')), []);
});
