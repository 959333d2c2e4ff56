/**
 * nestboxd: the CLI starts it, it runs the five services as processes (or one, embedded),
 * restarts a crashed one, and `system stop` ends them all. The cgroup service makes and removes a
 * container cgroup as root.
 */
import test from 'ava';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, rootlessUnavailable, unstage } from '../helpers/host.js';
import { NestboxInstance } from '../helpers/nestbox.js';
import { scaled } from '../helpers/time.js';

interface Info { pid: number; mode: string; services: { name: string; pid: number; state: string; restarts: number }[] }

const SERVICES = ['namespace', 'storage', 'network', 'cgroup', 'lifecycle'];
const made: NestboxInstance[] = [];
const instance = (make: () => NestboxInstance) => {
  const nb = make();
  made.push(nb);
  return nb;
};

test.after.always(async () => {
  await Promise.all(made.map((i) => i.stop()));
  unstage();
});

async function info(nb: NestboxInstance): Promise<Info> {
  const r = await nb.cli(['system', 'info']);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Info;
}

/** running, not a zombie waiting for its parent */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

for (const kind of ['root', 'rootless'] as const) {
  const why = kind === 'root' ? (isRoot ? undefined : 'needs root') : rootlessUnavailable();
  const t0 = why ? test.skip : test.serial;
  t0(`${kind}: the CLI starts nestboxd; five service processes; a killed one comes back; system stop ends all${why ? ` (skipped: ${why})` : ''}`, async (t) => {
    const nb = instance(() => (kind === 'root' ? NestboxInstance.root() : NestboxInstance.rootless()));
    const first = await nb.cli(['run', '--rm', 'busybox', 'true']);
    t.is(first.code, 0, first.stderr);
    t.is(statSync(nb.runtimeDir).mode & 0o777, 0o700);
    const before = await info(nb);
    t.is(before.mode, 'split');
    t.deepEqual(before.services.map((s) => s.name).sort(), [...SERVICES].sort());
    const pids = new Set(before.services.map((s) => s.pid));
    t.is(pids.size, 5, 'each service is its own process');
    t.false(pids.has(before.pid));

    const storage = before.services.find((s) => s.name === 'storage')!;
    process.kill(storage.pid, 'SIGKILL');
    let after = before;
    for (const until = Date.now() + scaled(10_000); Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 50));
      after = await info(nb);
      const s = after.services.find((x) => x.name === 'storage')!;
      if (s.pid !== storage.pid && s.state === 'running') break;
    }
    const restarted = after.services.find((s) => s.name === 'storage')!;
    t.not(restarted.pid, storage.pid);
    t.is(restarted.restarts, 1);
    const again = await nb.cli(['run', '--rm', 'busybox', 'echo', 'back']);
    t.is(again.stdout, 'back\n', again.stderr);

    const keeper = nb.keeper();
    t.truthy(keeper, 'the keeper namespace layers were extracted in');
    const stop = await nb.cli(['system', 'stop']);
    t.is(stop.code, 0, stop.stderr);
    t.false(alive(after.pid));
    for (const s of after.services) t.false(alive(s.pid), `${s.name} stopped`);
    // the keeper stays, as podman keeps its pause process (the instance's stop() kills it)
    t.deepEqual(nb.keeper(), keeper);
    t.deepEqual(nb.processes(), [keeper!.pid]);
    t.deepEqual(readdirSync(nb.runtimeDir).filter((f) => f.endsWith('.sock') || f.endsWith('.lock')), []);
  });
}

(isRoot ? test.serial : test.skip)(`embedded: all five services in one process${isRoot ? '' : ' (skipped: needs root)'}`, async (t) => {
  const nb = instance(() => NestboxInstance.root({ NESTBOX_MODE: 'embedded' }));
  const r = await nb.cli(['run', '--rm', 'busybox', 'echo', 'one process']);
  t.is(r.stdout, 'one process\n', r.stderr);
  const i = await info(nb);
  t.is(i.mode, 'embedded');
  t.deepEqual(new Set(i.services.map((s) => s.pid)), new Set([i.pid]));
  t.is((await nb.cli(['system', 'stop'])).code, 0);
  t.false(alive(i.pid));
});

function ownCgroupDir(controller: string): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller))!;
  return join('/sys/fs/cgroup', controller, line.split(':')[2]);
}

const v1Pids = existsSync('/sys/fs/cgroup/pids/cgroup.procs');
(isRoot && v1Pids ? test.serial : test.skip)(`root: the container runs in its own v1 cgroup, removed on exit${!isRoot ? ' (skipped: needs root)' : !v1Pids ? ' (skipped: no cgroup v1 pids hierarchy; v2 cgroups come with the cgroup issue)' : ''}`, async (t) => {
  const nb = instance(() => NestboxInstance.root());
  const parent = join(ownCgroupDir('pids'), 'nestbox');
  // start the services first: under load a cold start takes seconds, and the window below is for the run
  t.is((await nb.cli(['run', '--rm', 'busybox', 'true'])).code, 0);
  // other test files run containers at the same time: find ours by its unusual command line
  const marker = '2.3456';
  const running = nb.cli(['run', '--rm', '--pids-limit', '50', 'busybox', 'sleep', marker]);
  const isOurs = (pid: string) => {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `sleep\0${marker}\0`; } catch { return false; }
  };
  let seen: { dir: string; procs: string; max: string } | undefined;
  for (const until = Date.now() + scaled(20_000); Date.now() < until && !seen; ) {
    await new Promise((r) => setTimeout(r, 50));
    if (!existsSync(parent)) continue;
    for (const id of readdirSync(parent).filter((d) => /^[0-9a-f]{64}$/.test(d))) {
      try {
        const procs = readFileSync(join(parent, id, 'cgroup.procs'), 'utf8').trim();
        if (procs.split('\n').some(isOurs)) seen = { dir: join(parent, id), procs, max: readFileSync(join(parent, id, 'pids.max'), 'utf8').trim() };
      } catch { /* another container's cgroup went away while we looked */ }
    }
  }
  t.truthy(seen, 'a nestbox/<id> cgroup with the container in it');
  t.is(seen!.max, '50');
  const r = await running;
  t.is(r.code, 0, r.stderr);
  t.false(existsSync(seen!.dir));
});
