/**
 * create, start [-a], restart and the state machine behind them, through the built CLI as root and
 * as the unprivileged user: a container keeps its record and layer across stop and start, and
 * impossible moves are refused in one line with docker's exit codes.
 */
import { type ExecutionContext } from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eachInstance } from '../helpers/each-instance.js';
import type { NestboxInstance } from '../helpers/nestbox.js';
import { isSameProcess, readShimRecord } from '../../services/namespace/shim-files.js';

const each = eachInstance();

interface PsRow { ID: string; Names: string; Status: string }
/** ps's STATUS without its time (docker's `Up 3 seconds` -> `Up`, `Exited (0) 5 seconds ago` -> `Exited (0)`) */
async function status(nb: NestboxInstance, id: string): Promise<string | undefined> {
  const r = await nb.cli(['ps', '-a', '--no-trunc', '--format', 'json']);
  if (r.code !== 0) throw new Error(r.stderr);
  const row = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as PsRow).find((c) => c.ID === id);
  return row?.Status.replace(/^(Up|Exited \(\d+\)) .*$/, '$1');
}

async function create(t: ExecutionContext, nb: NestboxInstance, args: string[]): Promise<string> {
  const r = await nb.cli(['create', ...args]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^[0-9a-f]{64}\n$/);
  return r.stdout.trim();
}

/** the container's pid 1 as its shim recorded it (with its start time: a pid alone can be reused) */
function containerProcess(nb: NestboxInstance, id: string): { pid: number; start: number } | undefined {
  const rec = readShimRecord(join(nb.dataRoot, 'containers', id));
  return rec?.containerPid && rec.containerStartTime ? { pid: rec.containerPid, start: rec.containerStartTime } : undefined;
}

function oneLine(t: ExecutionContext, stderr: string, pattern: RegExp): void {
  t.regex(stderr.trim(), pattern);
  t.is(stderr.trim().split('\n').length, 1, `one line: ${stderr}`);
}

each('create -> Created; start -> Up; a file written before stop is there after start (same record and layer)', async (t, nb) => {
  const id = await create(t, nb, ['--name', 'keeper1', 'busybox', 'sleep', '300']);
  t.is(await status(nb, id), 'Created');
  t.false(existsSync(join(nb.dataRoot, 'containers', id, 'shim.json')), 'nothing runs yet');
  const created = JSON.parse((await nb.cli(['inspect', id])).stdout) as { State: { Status: string; Running: boolean } }[];
  t.like(created[0].State, { Status: 'created', Running: false });

  const start = await nb.cli(['start', 'keeper1']);
  t.is(start.code, 0, start.stderr);
  t.is(start.stdout, 'keeper1\n');
  t.is(await status(nb, id), 'Up');
  const first = containerProcess(nb, id)!;
  t.true(isSameProcess(first.pid, first.start));

  t.is((await nb.cli(['exec', id, 'sh', '-c', 'echo kept > /before-stop'])).code, 0);
  t.is((await nb.cli(['stop', '-t', '1', id])).code, 0);
  t.is(await status(nb, id), 'Exited (137)');
  t.false(isSameProcess(first.pid, first.start));
  t.is(readFileSync(join(nb.dataRoot, 'containers', id, 'upper', 'before-stop'), 'utf8'), 'kept\n', 'the layer stays while stopped');

  const again = await nb.cli(['start', id.slice(0, 12)]);
  t.is(again.code, 0, again.stderr);
  t.is(await status(nb, id), 'Up');
  const second = containerProcess(nb, id)!;
  t.not(second.pid, first.pid, 'a new process');
  const cat = await nb.cli(['exec', id, 'cat', '/before-stop']);
  t.is(cat.stdout, 'kept\n', cat.stderr);
  const inspect = JSON.parse((await nb.cli(['inspect', id])).stdout) as { Id: string; State: { Status: string; ExitCode: number } }[];
  t.like(inspect[0], { Id: id, State: { Status: 'running', ExitCode: 0 } });

  t.is((await nb.cli(['rm', '-f', id])).code, 0);
  t.false(existsSync(join(nb.dataRoot, 'containers', id)));
});

each('start of a running container succeeds and changes nothing; stop of a created one too', async (t, nb) => {
  const id = await create(t, nb, ['busybox', 'sleep', '300']);
  const stop = await nb.cli(['stop', id]);
  t.is(stop.code, 0, stop.stderr);
  t.is(await status(nb, id), 'Created');
  t.is((await nb.cli(['start', id])).code, 0);
  const before = containerProcess(nb, id)!;
  const again = await nb.cli(['start', id]);
  t.is(again.code, 0);
  t.is(again.stderr, '');
  t.is(again.stdout, `${id}\n`);
  t.deepEqual(containerProcess(nb, id), before);
  t.is((await nb.cli(['rm', '-f', id])).code, 0);
});

each('restart: a running container runs again with a new process, its layer kept; a created one just starts', async (t, nb) => {
  const run = await nb.cli(['run', '-d', '--name', 'again1', 'busybox', 'sleep', '300']);
  t.is(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  t.is((await nb.cli(['exec', id, 'touch', '/mark'])).code, 0);
  const before = containerProcess(nb, id)!;
  const restart = await nb.cli(['restart', '-t', '1', 'again1']);
  t.is(restart.code, 0, restart.stderr);
  t.is(restart.stdout, 'again1\n');
  t.is(await status(nb, id), 'Up');
  t.false(isSameProcess(before.pid, before.start), 'the old process is gone');
  const after = containerProcess(nb, id)!;
  t.true(isSameProcess(after.pid, after.start), 'a new one runs');
  t.is((await nb.cli(['exec', id, 'ls', '/mark'])).code, 0);

  const fresh = await create(t, nb, ['busybox', 'sleep', '300']);
  t.is((await nb.cli(['restart', fresh])).code, 0);
  t.is(await status(nb, fresh), 'Up');
  t.is((await nb.cli(['rm', '-f', id, fresh])).code, 0);
});

each('restart of a --rm container keeps it, its layer too (docker\'s); its end then removes it', async (t, nb) => {
  const run = await nb.cli(['run', '-d', '--rm', '--name', 'again2', 'busybox', 'sleep', '300']);
  t.is(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  t.is((await nb.cli(['exec', id, 'touch', '/mark'])).code, 0);
  const restart = await nb.cli(['restart', '-t', '0', 'again2']);
  t.is(restart.code, 0, restart.stderr);
  t.is(await status(nb, id), 'Up');
  t.is((await nb.cli(['exec', id, 'ls', '/mark'])).code, 0, 'the same layer, mounted again');
  const inspect = await nb.cli(['inspect', '-f', '{{.HostConfig.AutoRemove}}', id]);
  t.is(inspect.stdout, 'true\n', inspect.stderr);
  t.is((await nb.cli(['stop', '-t', '0', id])).code, 0);
  const gone = await nb.cli(['inspect', id]);
  t.is(gone.code, 1, 'removed at its end');
});

each("start -a: the container's output on stdout and stderr, its exit code; again on a second start", async (t, nb) => {
  const id = await create(t, nb, ['busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  for (const round of [1, 2]) {
    const r = await nb.cli(['start', '-a', id]);
    t.is(r.code, 3, `round ${round}: ${r.stderr}`);
    t.is(r.stdout, 'out\n');
    t.is(r.stderr, 'err\n');
    t.is(await status(nb, id), 'Exited (3)');
  }
  t.is((await nb.cli(['rm', id])).code, 0);
});

each('start -ai: stdin reaches a container created with -i; its exit code comes back', async (t, nb) => {
  const id = await create(t, nb, ['-i', 'busybox', 'sh', '-c', 'cat; exit 5']);
  const r = await nb.cli(['start', '-ai', id], { input: 'hello in\n' });
  t.is(r.code, 5, r.stderr);
  t.is(r.stdout, 'hello in\n');
  t.is((await nb.cli(['rm', id])).code, 0);
});

each('a --rm container goes at its exit: it cannot be started twice', async (t, nb) => {
  const id = await create(t, nb, ['--rm', 'busybox', 'echo', 'once']);
  t.is(await status(nb, id), 'Created');
  const r = await nb.cli(['start', '-a', id]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'once\n');
  t.is(await status(nb, id), undefined);
  const again = await nb.cli(['start', id]);
  t.is(again.code, 1);
  oneLine(t, again.stderr, new RegExp(`^nestbox: no such container: ${id}$`));
});

each('refused moves: one line on stderr, exit codes as docker', async (t, nb) => {
  const run = await nb.cli(['run', '-d', '--name', 'busy1', 'busybox', 'sleep', '300']);
  t.is(run.code, 0, run.stderr);
  const rm = await nb.cli(['rm', 'busy1']);
  t.is(rm.code, 1);
  oneLine(t, rm.stderr, /^nestbox: cannot remove container busy1: container is running: stop the container before removing or force remove$/);
  t.is(await status(nb, run.stdout.trim()), 'Up', 'still running');

  const used = await nb.cli(['create', '--name', 'busy1', 'busybox', 'true']);
  t.is(used.code, 125);
  oneLine(t, used.stderr, /^nestbox: the container name "busy1" is already in use by container "[0-9a-f]{64}": remove \(or rename\) that container to be able to reuse that name$/);

  const nosuch = await nb.cli(['start', 'nosuch']);
  t.is(nosuch.code, 1);
  oneLine(t, nosuch.stderr, /^nestbox: no such container: nosuch$/);

  const detach = await nb.cli(['create', '-d', 'busybox', 'true']);
  t.is(detach.code, 125);
  oneLine(t, detach.stderr, /^nestbox: unknown shorthand flag: 'd' in -d$/);

  const two = await nb.cli(['start', '-a', 'busy1', 'busy1']);
  t.is(two.code, 125);
  oneLine(t, two.stderr, /^nestbox: you cannot start and attach multiple containers at once$/);

  // a refused create leaves nothing: its name is free
  const bad = await nb.cli(['create', '--name', 'nolimit', '--cpus', '100000', 'busybox', 'true']);
  t.is(bad.code, 125);
  t.is(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  t.false((await nb.cli(['ps', '-a'])).stdout.includes('nolimit'));

  t.is((await nb.cli(['rm', '-f', 'busy1'])).code, 0);
});

each('a create or rm cut short by a crash is finished at the next start: the name is free, nothing left', async (t, nb) => {
  const half = await create(t, nb, ['--name', 'halfmade', 'busybox', 'true']);
  const gone = await create(t, nb, ['--name', 'halfgone', 'busybox', 'true']);
  t.is((await nb.cli(['system', 'stop'])).code, 0);
  // what a kill -9 in the middle of create and rm leaves: the record says so
  for (const [id, state] of [[half, 'creating'], [gone, 'removing']] as const) {
    const path = join(nb.dataRoot, 'containers', id, 'record.json');
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), state }));
  }
  const ps = await nb.cli(['ps', '-a']);
  t.is(ps.code, 0, ps.stderr);
  t.false(ps.stdout.includes('halfmade'));
  t.false(ps.stdout.includes('halfgone'));
  for (const id of [half, gone]) t.false(existsSync(join(nb.dataRoot, 'containers', id)), 'no file left');
  const reuse = await create(t, nb, ['--name', 'halfmade', 'busybox', 'true']);
  t.is((await nb.cli(['rm', reuse])).code, 0);
});
