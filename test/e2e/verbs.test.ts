/**
 * The verbs docker users reach for around a container: kill, wait, rename, port, logs, ps,
 * inspect -- flags, output, exit codes and one-line errors as docker's, by name and by id
 * prefix, as root and as the unprivileged user.
 */
import { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scaled } from '../helpers/time.js';
import { eachInstance } from '../helpers/each-instance.js';
import type { CliResult, NestboxInstance } from '../helpers/nestbox.js';

const each = eachInstance();

/** one line on stderr, starting as every nestbox error does */
function oneLine(t: ExecutionContext, r: CliResult, code: number, pattern: RegExp): void {
  t.is(r.code, code, r.stderr);
  t.regex(r.stderr, /^nestbox: [^\n]+\n$/);
  t.regex(r.stderr, pattern);
}

async function detached(t: ExecutionContext, nb: NestboxInstance, args: string[]): Promise<string> {
  const r = await nb.cli(['run', '-d', ...args]);
  t.is(r.code, 0, r.stderr);
  return r.stdout.trim();
}

const field = async (nb: NestboxInstance, format: string, ref: string) => (await nb.cli(['inspect', '-f', format, ref])).stdout.trim();

each('kill: KILL by default (137), -s TERM to a handler (143), names and numbers; bad signal, stopped and unknown refused', async (t, nb) => {
  const id = await detached(t, nb, ['--name', 'victim', 'busybox', 'sleep', '300']);
  oneLine(t, await nb.cli(['kill', '-s', 'NOPE', 'victim']), 125, /invalid signal: NOPE/);
  t.is(await field(nb, '{{.State.Status}}', 'victim'), 'running', 'a refused signal kills nothing');
  const kill = await nb.cli(['kill', id.slice(0, 10)]);
  t.is(kill.code, 0, kill.stderr);
  t.is(kill.stdout, `${id.slice(0, 10)}\n`, 'docker echoes each container as given');
  const wait = await nb.cli(['wait', 'victim']);
  t.is(wait.stdout, '137\n');
  oneLine(t, await nb.cli(['kill', 'victim']), 1, new RegExp(`cannot kill container: victim: container ${id} is not running`));
  oneLine(t, await nb.cli(['kill', 'nosuch']), 1, /no such container: nosuch/);

  await detached(t, nb, ['--name', 'polite', 'busybox', 'sh', '-c', 'trap "exit 143" TERM; while :; do sleep 0.1; done']);
  for (const sig of ['SIGTERM']) {
    const r = await nb.cli(['kill', '-s', sig, 'polite']);
    t.is(r.code, 0, r.stderr);
  }
  t.is((await nb.cli(['wait', 'polite'])).stdout, '143\n');
  await detached(t, nb, ['--name', 'numbered', 'busybox', 'sh', '-c', 'trap "exit 42" USR1; while :; do sleep 0.1; done']);
  t.is((await nb.cli(['kill', '--signal=10', 'numbered'])).code, 0);
  t.is((await nb.cli(['wait', 'numbered'])).stdout, '42\n');
  // one of several failing: the others are still signalled, exit 1
  await detached(t, nb, ['--name', 'other', 'busybox', 'sleep', '300']);
  const mixed = await nb.cli(['kill', 'nosuch', 'other']);
  t.is(mixed.code, 1);
  t.is(mixed.stdout, 'other\n');
  t.is((await nb.cli(['wait', 'other'])).stdout, '137\n');
  t.is((await nb.cli(['rm', 'victim', 'polite', 'numbered', 'other'])).code, 0);
});

each('wait: prints each exit code when the container ends; an exited one at once; --rm too; unknown is exit 1', async (t, nb) => {
  await detached(t, nb, ['--name', 'w1', 'busybox', 'sh', '-c', 'sleep 1; exit 3']);
  await detached(t, nb, ['--name', 'w2', 'busybox', 'sh', '-c', 'exit 0']);
  const r = await nb.cli(['wait', 'w1', 'w2']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, '3\n0\n');
  t.is(await field(nb, '{{.State.Status}} {{.State.ExitCode}}', 'w1'), 'exited 3', 'it returned once the container had ended');
  t.is((await nb.cli(['wait', 'w1'])).stdout, '3\n', 'an exited container answers at once');
  await detached(t, nb, ['--rm', '--name', 'w3', 'busybox', 'sh', '-c', 'sleep 1; exit 5']);
  t.is((await nb.cli(['wait', 'w3'])).stdout, '5\n', 'the code of a --rm container, gone by then');
  const missing = await nb.cli(['wait', 'w1', 'nosuch']);
  t.is(missing.stdout, '3\n');
  oneLine(t, missing, 1, /no such container: nosuch/);
  oneLine(t, await nb.cli(['wait']), 125, /requires at least 1 argument/);
  t.is((await nb.cli(['rm', 'w1', 'w2'])).code, 0);
});

each('rename: by name or id, running or not; the old name is free; refused when taken, invalid, the same or unknown', async (t, nb) => {
  const id = await detached(t, nb, ['--name', 'before', 'busybox', 'sleep', '300']);
  const r = await nb.cli(['rename', 'before', 'after']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, '', 'silent as docker');
  t.is(await field(nb, '{{.Name}}', id), '/after');
  t.is((await nb.cli(['ps', '--format', '{{.Names}}'])).stdout, 'after\n');
  // the old name can be used again
  await detached(t, nb, ['--name', 'before', 'busybox', 'sleep', '300']);
  oneLine(t, await nb.cli(['rename', id.slice(0, 12), 'before']), 1, /The container name "\/before" is already in use by container "[0-9a-f]{64}"/);
  oneLine(t, await nb.cli(['rename', 'after', 'bad/name']), 125, /Invalid container name \(bad\/name\)/);
  oneLine(t, await nb.cli(['rename', 'after', 'after']), 1, /same name as its current name/);
  oneLine(t, await nb.cli(['rename', 'nosuch', 'x']), 1, /no such container: nosuch/);
  oneLine(t, await nb.cli(['rename', 'after']), 125, /requires exactly 2 arguments/);
  t.is((await nb.cli(['rename', 'after', '/third'])).code, 0, "docker's leading slash");
  t.is(await field(nb, '{{.Name}}', id), '/third');
  t.is((await nb.cli(['rm', '-f', 'third', 'before'])).code, 0);
});

each('port: -p is refused at run; a container has no published ports: nothing, exit 0; a port asked for is not published', async (t, nb) => {
  const refused = await nb.cli(['run', '--rm', '-p', '8080:80', 'busybox', 'true']);
  oneLine(t, refused, 125, /not supported yet: -p/);
  await detached(t, nb, ['--name', 'portless', 'busybox', 'sleep', '300']);
  const none = await nb.cli(['port', 'portless']);
  t.is(none.code, 0, none.stderr);
  t.is(none.stdout, '');
  t.is(none.stderr, '');
  oneLine(t, await nb.cli(['port', 'portless', '80']), 1, /No public port '80\/tcp' published for portless/);
  oneLine(t, await nb.cli(['port', 'portless', '53/udp']), 1, /No public port '53\/udp' published for portless/);
  oneLine(t, await nb.cli(['port', 'portless', '80/xyz']), 125, /invalid port "80\/xyz"/);
  oneLine(t, await nb.cli(['port', 'nosuch']), 1, /no such container: nosuch/);
  t.is((await nb.cli(['rm', '-f', 'portless'])).code, 0);
});

each('logs: stdout to stdout, stderr to stderr; --tail; -t timestamps; -f follows until the end; --since/--until; errors', async (t, nb) => {
  await detached(t, nb, ['--name', 'talker', 'busybox', 'sh', '-c', 'echo out1; echo err1 >&2; sleep 0.3; echo out2; printf tail']);
  t.is((await nb.cli(['wait', 'talker'])).stdout, '0\n');
  const all = await nb.cli(['logs', 'talker']);
  t.is(all.code, 0, all.stderr);
  t.is(all.stdout, 'out1\nout2\ntail');
  t.is(all.stderr, 'err1\n');
  const last = await nb.cli(['logs', '--tail', '2', 'talker']);
  t.is(last.stdout, 'out2\ntail');
  t.is(last.stderr, '');
  t.is((await nb.cli(['logs', '-n', '0', 'talker'])).stdout, '');
  t.is((await nb.cli(['logs', '--tail', 'all', 'talker'])).stdout, 'out1\nout2\ntail');
  const stamped = await nb.cli(['logs', '-t', 'talker']);
  const lines = stamped.stdout.split('\n');
  t.regex(lines[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z out1$/);
  t.regex(stamped.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z err1\n$/);
  const started = Date.parse(await field(nb, '{{.State.StartedAt}}', 'talker'));
  t.true(Math.abs(Date.parse(lines[0].split(' ')[0]) - started) < 60_000, 'the time the line was written');

  await detached(t, nb, ['--name', 'slow', 'busybox', 'sh', '-c', 'echo first; sleep 3; echo second >&2; echo third']);
  const followed = await nb.cli(['logs', '-f', 'slow']);
  t.is(followed.code, 0, followed.stderr);
  t.is(followed.stdout, 'first\nthird\n');
  t.is(followed.stderr, 'second\n');
  t.is(await field(nb, '{{.State.Status}}', 'slow'), 'exited', 'logs -f returned once the container had ended');
  // --since/--until: a window on the lines' own times, both ends inclusive to the nanosecond
  const times = (await nb.cli(['logs', '-t', 'slow'])).stdout.split('\n').filter(Boolean).map((l) => l.split(' ')[0]);
  t.is(times.length, 2, 'first and third on stdout');
  const since = await nb.cli(['logs', '--since', times[1], 'slow']);
  t.is(since.stdout, 'third\n', 'first is 3 s before it'); // second, on the other pipe, may be stamped either side of third
  const until = await nb.cli(['logs', '--until', times[0], 'slow']);
  t.deepEqual([until.stdout, until.stderr], ['first\n', '']);
  t.is((await nb.cli(['logs', '--since', '1h', '--until', '1136073600', 'slow'])).stdout, '');
  t.is((await nb.cli(['logs', '--since', '10m', 'slow'])).stdout, 'first\nthird\n');
  oneLine(t, await nb.cli(['logs', '--since', 'yesterday', 'slow']), 125, /invalid value for --since: "yesterday"/);

  // a follower that goes away (Ctrl-C) is noticed by the service within a heartbeat or two: it stops reading the log
  const quiet = await detached(t, nb, ['--name', 'quiet', 'busybox', 'sh', '-c', 'echo hello; exec sleep 300']);
  const lifecycle = (JSON.parse((await nb.cli(['system', 'info'])).stdout) as { services: { name: string; pid: number }[] }).services.find((s) => s.name === 'lifecycle')!.pid;
  const readingLog = () => readdirSync(`/proc/${lifecycle}/fd`).some((fd) => {
    try { return readlinkSync(`/proc/${lifecycle}/fd/${fd}`).endsWith(`${quiet}/ctr.log`); } catch { return false; }
  });
  const [cmd, args, env] = nb.command(['logs', '-f', 'quiet']);
  const follower = spawn(cmd, args, { env: nb.kind === 'root' ? env : { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve) => follower.stdout.on('data', (d: Buffer) => d.toString().includes('hello') && resolve()));
  t.true(readingLog(), 'the service follows the log');
  follower.kill('SIGKILL');
  for (const until = Date.now() + scaled(20_000); readingLog() && Date.now() < until; ) await new Promise((r) => setTimeout(r, 200));
  t.false(readingLog(), 'the service stopped following for a caller that is gone');
  t.is((await nb.cli(['rm', '-f', 'quiet'])).code, 0);

  oneLine(t, await nb.cli(['logs', 'nosuch']), 1, /no such container: nosuch/);
  oneLine(t, await nb.cli(['logs', '--tail', 'x', 'talker']), 125, /invalid value for --tail: "x"/);
  oneLine(t, await nb.cli(['logs', 'talker', 'slow']), 125, /requires exactly 1 argument/);
  t.is((await nb.cli(['rm', 'talker', 'slow'])).code, 0);
});

each("ps: docker's STATUS, columns, -a, -q, -n, -l, --no-trunc, --filter, --format json and templates; a bad template or filter is one line", async (t, nb) => {
  const up = await detached(t, nb, ['--name', 'psup', 'busybox', 'sleep', '300']);
  const ended = await detached(t, nb, ['--name', 'psdone', 'busybox', 'sh', '-c', 'exit 4']);
  await nb.cli(['wait', 'psdone']);
  const table = await nb.cli(['ps']);
  t.is(table.code, 0, table.stderr);
  const [header, ...rows] = table.stdout.trimEnd().split('\n');
  t.regex(header, /^CONTAINER ID {3}IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$/);
  t.is(rows.length, 1, 'running ones only without -a');
  t.regex(rows[0], new RegExp(`^${up.slice(0, 12)} +busybox\\S* +"sleep 300" +(Less than a second|\\d+ seconds?) ago +Up (Less than a second|\\d+ seconds?) +psup$`));
  const all = (await nb.cli(['ps', '-a'])).stdout;
  t.regex(all, /"sh -c exit 4" .* Exited \(4\) (Less than a second|\d+ seconds?) ago +psdone\n/);
  t.is((await nb.cli(['ps', '-q'])).stdout, `${up.slice(0, 12)}\n`);
  const full = (await nb.cli(['ps', '-aq', '--no-trunc'])).stdout.split('\n');
  t.true(full.includes(up) && full.includes(ended), 'full ids of both with -a');
  // -n N / -l: the N last created (after the filters), in any state, newest first; `container ls` is ps
  const mine = ['-f', 'name=^/ps'];
  t.is((await nb.cli(['ps', ...mine, '-n', '1', '--format', '{{.Names}}'])).stdout, 'psdone\n');
  t.is((await nb.cli(['ps', ...mine, '-n', '2', '--format', '{{.Names}}'])).stdout, 'psdone\npsup\n');
  t.is((await nb.cli(['ps', ...mine, '-l', '-q'])).stdout, `${ended.slice(0, 12)}\n`);
  t.is((await nb.cli(['container', 'ls', ...mine, '-q'])).stdout, `${up.slice(0, 12)}\n`);
  oneLine(t, await nb.cli(['ps', '-n', 'x']), 125, /invalid argument "x" for "-n, --last" flag/);

  const json = (await nb.cli(['ps', '-a', '--format', 'json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
  const row = json.find((r) => r.Names === 'psdone')!;
  t.deepEqual(Object.keys(row), ['Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Ports', 'RunningFor', 'Size', 'State', 'Status']);
  t.like(row, { ID: ended.slice(0, 12), Command: '"sh -c exit 4"', State: 'exited', Ports: '', Networks: 'none' });
  t.regex(row.Status, /^Exited \(4\) /);
  t.regex(row.CreatedAt, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/);

  t.is((await nb.cli(['ps', '-a', '--format', '{{.Names}}:{{.State}}'])).stdout.split('\n').filter((l) => l.startsWith('ps')).sort().join(' '), 'psdone:exited psup:running');
  const custom = await nb.cli(['ps', '--format', 'table {{.ID}}\\t{{.Names}}']);
  t.is(custom.stdout, `CONTAINER ID   NAMES\n${up.slice(0, 12)}   psup\n`);
  t.is((await nb.cli(['ps', '--no-trunc', '--format', '{{json .ID}}'])).stdout, `"${up}"\n`);
  oneLine(t, await nb.cli(['ps', '--format', '{{.Nope}}']), 125, /template: map has no entry for key "Nope"/);
  oneLine(t, await nb.cli(['ps', '--format', '{{.ID']), 125, /template: unclosed action/);
  oneLine(t, await nb.cli(['ps', 'extra']), 125, /accepts no arguments/);
  // --filter: status lists stopped ones without -a; keys AND, values OR; ancestor by reference
  const names = async (...f: string[]) => (await nb.cli(['ps', ...f, '--format', '{{.Names}}'])).stdout.split('\n').filter((l) => l.startsWith('ps')).sort().join(' ');
  t.is(await names('-f', 'status=exited'), 'psdone');
  t.is(await names('-a', '--filter', 'exited=4', '--filter', 'name=^/psup$'), '');
  t.is(await names('-a', '-f', 'name=^/ps', '-f', 'ancestor=busybox:latest'), 'psdone psup');
  t.is(await names('-a', '-f', 'exited=4', '-f', 'exited=0'), 'psdone');
  t.is(await names('-f', `id=^${up.slice(0, 8)}`), 'psup');
  oneLine(t, await nb.cli(['ps', '-f', 'status=sleeping']), 125, /invalid filter 'status=sleeping'/);
  oneLine(t, await nb.cli(['ps', '-f', 'label']), 125, /bad format of filter \(expected name=value\)/);
  // before / since name a container (a stopped one too); labels from -l and --label-file
  t.is(await names('-a', '-f', 'since=psup'), 'psdone');
  t.is(await names('-a', '-f', 'before=psdone'), 'psup');
  oneLine(t, await nb.cli(['ps', '-f', 'before=nosuch']), 1, /No such container: nosuch/);
  const labelFile = join(nb.dataRoot, '..', 'labels');
  writeFileSync(labelFile, '# team labels\nteam=core\ntier=back\n');
  chmodSync(labelFile, 0o644);
  const labelled = await nb.cli(['create', '--name', 'pslab', '--label-file', labelFile, '-l', 'tier=front', '-l', 'flag', 'busybox', 'true']);
  t.is(labelled.code, 0, labelled.stderr);
  t.is(await field(nb, '{{json .Config.Labels}}', 'pslab'), '{"flag":"","team":"core","tier":"front"}');
  t.is(await names('-a', '-f', 'label=tier=front'), 'pslab');
  t.is(await names('-a', '-f', 'label=flag', '-f', 'network=none'), 'pslab');
  t.is((await nb.cli(['ps', '-a', '-f', 'name=pslab', '--format', '{{.Labels}}'])).stdout, 'flag=,team=core,tier=front\n');
  oneLine(t, await nb.cli(['create', '-l', '=x', 'busybox', 'true']), 125, /invalid label '=x': no key before '='/);
  t.is((await nb.cli(['rm', 'pslab'])).code, 0);
  t.is((await nb.cli(['rm', '-f', 'psup', 'psdone'])).code, 0);
});

each("inspect: docker's shape (State with the real pid, Config, HostConfig, Mounts), --format, several and missing", async (t, nb) => {
  const id = await detached(t, nb, ['--name', 'insp', '-e', 'GREETING=hi', '-w', '/tmp', '-u', '1000:1000', '-v', 'inspvol:/data',
    '--entrypoint', 'sh', 'busybox', '-c', 'sleep 300']);
  const r = await nb.cli(['inspect', 'insp']);
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.startsWith('[\n    {\n'), 'an array, indented as docker');
  const [c] = JSON.parse(r.stdout) as Record<string, any>[];
  t.is(c.Id, id);
  t.is(c.Name, '/insp');
  t.is(c.Path, 'sh');
  t.deepEqual(c.Args, ['-c', 'sleep 300']);
  t.like(c.State, { Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, ExitCode: 0, Error: '', FinishedAt: '0001-01-01T00:00:00Z' });
  t.regex(readFileSync(`/proc/${c.State.Pid}/cmdline`, 'utf8'), /^sleep\x00300\x00$/, "State.Pid is the container's pid 1 (sh -c execs its last command)");
  t.true(Date.parse(c.State.StartedAt) >= Date.parse(c.Created));
  t.like(c.Config, { User: '1000:1000', WorkingDir: '/tmp', Entrypoint: ['sh'], Cmd: ['-c', 'sleep 300'], Hostname: id.slice(0, 12), Tty: false, OpenStdin: false });
  t.true(c.Config.Env.includes('GREETING=hi'));
  t.true(c.Config.Env.some((e: string) => e.startsWith('PATH=')));
  t.like(c.HostConfig, { NetworkMode: 'none', AutoRemove: false, Memory: 0, NanoCpus: 0, PidsLimit: null, PortBindings: {}, Binds: ['inspvol:/data'] });
  t.deepEqual(c.Mounts.map((m: Record<string, unknown>) => [m.Type, m.Name, m.Destination, m.RW]), [['volume', 'inspvol', '/data', true]]);
  t.deepEqual(c.NetworkSettings.Ports, {});

  t.is((await nb.cli(['inspect', '--format', '{{.State.Status}} {{.Config.WorkingDir}}', 'insp'])).stdout, 'running /tmp\n');
  const state = JSON.parse((await nb.cli(['inspect', '-f', '{{json .State}}', id.slice(0, 8)])).stdout) as Record<string, unknown>;
  t.is(state.Pid, c.State.Pid);
  t.is((await nb.cli(['inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}} {{join .Args ","}}', 'insp'])).stdout, 'inspvol -c,sleep 300\n');

  t.is((await nb.cli(['kill', 'insp'])).code, 0);
  t.is((await nb.cli(['wait', 'insp'])).stdout, '137\n');
  const after = await nb.cli(['inspect', '-f', '{{.State.Status}} {{.State.Running}} {{.State.Pid}} {{.State.ExitCode}}', 'insp', 'nosuch']);
  t.is(after.stdout, 'exited false 0 137\n');
  oneLine(t, after, 1, /No such object: nosuch/);
  const missing = await nb.cli(['inspect', 'nosuch']);
  t.is(missing.stdout, '[]\n');
  t.is(missing.code, 1);
  oneLine(t, await nb.cli(['inspect', '--type', 'container', 'nosuch']), 1, /no such container: nosuch/);
  // as docker: a name no container has is looked up among the images
  const image = await nb.cli(['inspect', 'busybox']);
  t.is(image.code, 0, image.stderr);
  const [view] = JSON.parse(image.stdout) as Record<string, unknown>[];
  t.deepEqual(Object.keys(view), ['Id', 'RepoTags', 'RepoDigests', 'Parent', 'Comment', 'Created', 'Container', 'DockerVersion', 'Author', 'Config', 'Architecture', 'Os', 'Size', 'RootFS', 'Metadata']);
  t.like(view, { RepoTags: ['busybox:latest'], Os: 'linux', RootFS: { Type: 'layers' } });
  t.regex(view.Id as string, /^sha256:[0-9a-f]{64}$/);
  t.is((await nb.cli(['image', 'inspect', '-f', '{{json .Config.Cmd}} {{.Id}}', (view.Id as string).slice(7, 19)])).stdout, `["sh"] ${view.Id as string}\n`);
  oneLine(t, await nb.cli(['image', 'inspect', 'nosuch']), 1, /No such image: nosuch/);
  oneLine(t, await nb.cli(['inspect', '--type', 'volume', 'x']), 125, /"volume" is not a valid value for --type/);
  oneLine(t, await nb.cli(['inspect', '-f', '{{.State.Nope}}', 'insp']), 125, /map has no entry for key "Nope"/);
  t.is((await nb.cli(['rm', '-v', 'insp'])).code, 0);
});

each('a created container (never started): kill refused, wait and logs answer at once, inspect and ps say created, rename works', async (t, nb) => {
  const made = await nb.cli(['create', '--name', 'fresh', 'busybox', 'echo', 'hi']);
  t.is(made.code, 0, made.stderr);
  const id = made.stdout.trim();
  oneLine(t, await nb.cli(['kill', 'fresh']), 1, new RegExp(`cannot kill container: fresh: container ${id} is not running`));
  t.is((await nb.cli(['wait', 'fresh'])).stdout, '0\n', "docker's default condition: not running");
  const logs = await nb.cli(['logs', '-f', 'fresh']);
  t.is(logs.code, 0, logs.stderr);
  t.is(logs.stdout, '');
  t.is(await field(nb, '{{.State.Status}} {{.State.Running}} {{.State.Pid}} {{.State.StartedAt}}', 'fresh'), 'created false 0 0001-01-01T00:00:00Z');
  t.is((await nb.cli(['ps', '-a', '--format', '{{.Names}} {{.Status}} {{.State}}'])).stdout.split('\n').find((l) => l.startsWith('fresh')), 'fresh Created created');
  t.is((await nb.cli(['rename', 'fresh', 'fresher'])).code, 0);
  const start = await nb.cli(['start', '-a', 'fresher']);
  t.is(start.stdout, 'hi\n', start.stderr);
  t.is((await nb.cli(['logs', 'fresher'])).stdout, 'hi\n');
  t.is((await nb.cli(['rm', 'fresher'])).code, 0);
});

each("top: the container's processes (its exec'd ones too) and no other, as the host's ps shows them; ps options; errors", async (t, nb) => {
  const id = await detached(t, nb, ['--name', 'busy', 'busybox', 'sh', '-c', 'sleep 300 & exec sleep 301']);
  const exec = await nb.cli(['exec', '-d', 'busy', 'sleep', '302']);
  t.is(exec.code, 0, exec.stderr);
  const pid = Number(await field(nb, '{{.State.Pid}}', 'busy'));
  // the exec'd process is there once its shim has started it
  let top = await nb.cli(['top', 'busy']);
  for (let i = 0; i < 50 && !top.stdout.includes('sleep 302'); i++) {
    await new Promise((r) => setTimeout(r, scaled(20)));
    top = await nb.cli(['top', id.slice(0, 8)]);
  }
  t.is(top.code, 0, top.stderr);
  const [titles, ...rows] = top.stdout.trimEnd().split('\n');
  t.deepEqual(titles.split(/\s+/), ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  t.true(titles.startsWith('UID                 PID                 '), "docker's layout: columns 20 wide");
  const cmds = rows.map((r) => r.split(/\s{2,}/).at(-1)).sort();
  t.deepEqual(cmds, ['sleep 300', 'sleep 301', 'sleep 302'], top.stdout);
  t.true(rows.some((r) => r.split(/\s+/)[1] === String(pid)), `pid 1 of the container (${pid}) is listed`);
  // a ps of the options given
  const custom = await nb.cli(['top', 'busy', '-o', 'pid,args']);
  t.is(custom.code, 0, custom.stderr);
  t.deepEqual(custom.stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/)[1]).slice(1).sort(), ['sleep 300', 'sleep 301', 'sleep 302']);
  oneLine(t, await nb.cli(['top', 'busy', '-o', 'user=PID']), 1, /specifying "user=PID" is not allowed/);
  oneLine(t, await nb.cli(['top', 'busy', '--no-such-ps-option']), 1, /Error running ps: /);
  oneLine(t, await nb.cli(['top', 'nosuch']), 1, /no such container: nosuch/);
  oneLine(t, await nb.cli(['top']), 125, /requires at least 1 argument/);
  t.is((await nb.cli(['stop', '-t', '0', 'busy'])).code, 0);
  oneLine(t, await nb.cli(['top', 'busy']), 1, new RegExp(`container ${id} is not running`));
  t.is((await nb.cli(['rm', 'busy'])).code, 0);
});

each("history: an image's steps newest first, a commit's on top with its layer's size; unknown image is one line", async (t, nb) => {
  const run = await nb.cli(['run', '--name', 'hist', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/f bs=1k count=100 2>/dev/null']);
  t.is(run.code, 0, run.stderr);
  const commit = await nb.cli(['commit', '-m', 'a hundred k', 'hist', 'hist:1']);
  t.is(commit.code, 0, commit.stderr);
  const id = commit.stdout.trim();
  const h = await nb.cli(['history', 'hist:1']);
  t.is(h.code, 0, h.stderr);
  const [header, top, ...older] = h.stdout.trimEnd().split('\n');
  t.regex(header, /^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$/);
  t.regex(top, new RegExp(`^${id.slice(7, 19)} +(Less than a second|\\d+ seconds?) ago +sh -c dd if=/dev/zero of=/f bs=1k count=100 … +10\\dkB +a hundred k$`));
  t.true(older.length >= 1 && older.every((l) => l.startsWith('<missing> ')), h.stdout);
  t.is((await nb.cli(['history', '-q', 'hist:1'])).stdout.split('\n')[0], id.slice(7, 19));
  t.is((await nb.cli(['image', 'history', '--no-trunc', '--format', '{{.ID}}', 'hist:1'])).stdout.split('\n')[0], id);
  oneLine(t, await nb.cli(['history', 'nosuch:1']), 1, /No such image: nosuch:1/);
  t.is((await nb.cli(['rm', 'hist'])).code, 0);
  t.is((await nb.cli(['rmi', 'hist:1'])).code, 0);
});
