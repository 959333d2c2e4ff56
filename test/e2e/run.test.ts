/**
 * The walking skeleton end to end: the built CLI -> lifecycle -> storage, cgroup, network,
 * namespace -> native runtime, as root and as the unprivileged test user.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { TEST_USER, userIds } from '../helpers/host.js';
import { eachInstance } from '../helpers/each-instance.js';
import { scaled } from '../helpers/time.js';

function subRange(file: string, user: string): [number, number] {
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${user}:`))!;
  const [, start, count] = line.split(':');
  return [Number(start), Number(count)];
}

const each = eachInstance();

each('run --rm busybox echo hello prints hello and exits 0', async (t, nb) => {
  const r = await nb.cli(['run', '--rm', 'busybox', 'echo', 'hello']);
  t.is(r.stderr, '');
  t.is(r.stdout, 'hello\n');
  t.is(r.code, 0);
});

each("the container's exit code comes back", async (t, nb) => {
  const r = await nb.cli(['run', '--rm', 'busybox', 'sh', '-c', 'exit 7']);
  t.is(r.code, 7);
});

each('a container killed by a signal exits 128+N', async (t, nb) => {
  // pid 1 ignores signals it has no handler for, so the shell kills a child and reports it
  const r = await nb.cli(['run', '--rm', 'busybox', 'sh', '-c', 'sleep 5 & kill -KILL $!; wait $!; exit $?']);
  t.is(r.code, 137);
});

each('the process runs as container root', async (t, nb) => {
  const r = await nb.cli(['run', '--rm', 'busybox', 'id', '-u']);
  t.is(r.stdout, '0\n');
  t.is(r.code, 0);
});

each('uid_map and gid_map show the full subordinate ranges', async (t, nb, kind) => {
  for (const [map, file, self] of [['uid_map', '/etc/subuid', 'uid'], ['gid_map', '/etc/subgid', 'gid']] as const) {
    const r = await nb.cli(['run', '--rm', 'busybox', 'cat', `/proc/self/${map}`]);
    t.is(r.code, 0);
    const rows = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
    if (kind === 'root') {
      const [start] = subRange(file, 'root');
      t.deepEqual(rows, [[0, start, 65536]], map);
    } else {
      const [start] = subRange(file, TEST_USER);
      t.deepEqual(rows, [[0, userIds(TEST_USER)![self], 1], [1, start, 65535]], map);
    }
  }
});

each("the hostname is the container's, not the host's", async (t, nb) => {
  const r = await nb.cli(['run', '--rm', 'busybox', 'hostname']);
  t.is(r.code, 0);
  t.not(r.stdout.trim(), hostname());
  t.regex(r.stdout.trim(), /^[0-9a-f]{12}$/);
  const named = await nb.cli(['run', '--rm', '--hostname', 'sandbox1', 'busybox', 'cat', '/etc/hostname']);
  t.is(named.stdout, 'sandbox1\n');
});

each('env, working directory and user reach the process', async (t, nb) => {
  const r = await nb.cli(['run', '--rm', '-e', 'GREETING=hi there', '-w', '/tmp', '-u', '1000:1000', 'busybox', 'sh', '-c', 'echo "$GREETING"; pwd; id -u; id -g; echo $HOSTNAME']);
  t.is(r.code, 0, r.stderr);
  const [greeting, cwd, uid, gid, host] = r.stdout.trim().split('\n');
  t.is(greeting, 'hi there');
  t.is(cwd, '/tmp');
  t.is(uid, '1000');
  t.is(gid, '1000');
  t.regex(host, /^[0-9a-f]{12}$/);
  // --env-file, read by the CLI as its caller: files first, then -e
  const dir = mkdtempSync('/tmp/nbx-envfile-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'env'), '# settings\nGREETING=from the file\nOTHER=kept\n', { mode: 0o644 });
  const f = await nb.cli(['run', '--rm', '--env-file', join(dir, 'env'), '-e', 'GREETING=from -e', 'busybox', 'sh', '-c', 'echo "$GREETING/$OTHER"']);
  t.is(f.stdout, 'from -e/kept\n', f.stderr);
  const missing = await nb.cli(['run', '--rm', '--env-file', join(dir, 'nope'), 'busybox', 'true']);
  t.is(missing.code, 125);
  t.is(missing.stderr, `nestbox: --env-file ${join(dir, 'nope')}: no such file\n`);
});

each('-u names resolve in the container\'s /etc/passwd and /etc/group as docker\'s (uid, gid, groups, HOME); unknown ones are one line, 125', async (t, nb) => {
  const show = 'echo "$(id -u) $(id -g) [$(id -G)] $HOME"';
  const cases: [string[], string][] = [
    [[], '0 0 [0 10] /root'], // root's passwd entry, and wheel lists root (id -G: the gid, then the groups)
    [['-u', 'nobody'], '65534 65534 [65534] /home'],
    [['-u', 'nobody:users'], '65534 100 [100] /home'],
    [['-u', '1000'], '1000 0 [0] /'], // no passwd entry: docker's gid 0 and HOME /
    [['-u', '33:adm'], '33 4 [4] /var/www'],
    [['-u', 'www-data', '-e', 'HOME=/x'], '33 33 [33] /x'], // a HOME given stays
  ];
  for (const [args, want] of cases) {
    const r = await nb.cli(['run', '--rm', ...args, 'busybox', 'sh', '-c', show]);
    t.is(r.stdout, `${want}\n`, `${args.join(' ')}: ${r.stderr}`);
  }
  for (const [spec, line] of [['nosuch', 'unable to find user nosuch: no matching entries in passwd file'], ['root:nosuch', 'unable to find group nosuch: no matching entries in group file']]) {
    const r = await nb.cli(['run', '--rm', '-u', spec, 'busybox', 'true']);
    t.is(r.code, 125, spec);
    t.is(r.stderr, `nestbox: ${line}\n`);
  }
  const bad = await nb.cli(['run', '--rm', '-u', 'a b', 'busybox', 'true']);
  t.is(bad.code, 125);
  t.is(bad.stderr, 'nestbox: user "a b" must be USER[:GROUP] (names or numeric ids)\n');
  // exec -u too, and a plain exec is the container's user
  const id = (await nb.cli(['run', '-d', '-u', 'nobody', 'busybox', 'sleep', '60'])).stdout.trim();
  t.teardown(() => nb.cli(['rm', '-f', id]).then(() => undefined));
  t.is((await nb.cli(['exec', id, 'sh', '-c', show])).stdout, '65534 65534 [65534] /home\n');
  t.is((await nb.cli(['exec', '-u', 'daemon', id, 'sh', '-c', show])).stdout, '1 1 [1] /usr/sbin\n');
  t.is((await nb.cli(['exec', '-u', 'root', id, 'sh', '-c', show])).stdout, '0 0 [0 10] /root\n');
});

each('ps lists only the container, with the command as PID 1', async (t, nb) => {
  const r = await nb.cli(['run', '--rm', 'busybox', 'ps', '-o', 'pid,args']);
  t.is(r.code, 0);
  const rows = r.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
  t.deepEqual(rows, [['1', 'ps', '-o', 'pid,args']]);
});

each('the process has docker\'s capabilities, no_new_privs and the seccomp filter', async (t, nb) => {
  const r = await nb.cli(['run', '--rm', 'busybox', 'grep', '-E', '^(CapEff|NoNewPrivs|Seccomp):', '/proc/self/status']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.replace(/[ \t]+/g, ' '), 'CapEff: 00000000a80425fb\nNoNewPrivs: 1\nSeccomp: 2\n');
  const u = await nb.cli(['run', '--rm', 'busybox', 'unshare', '-U', 'true']);
  t.is(u.code, 1);
  t.regex(u.stderr, /unshare\(0x10000000\): Operation not permitted/);
});

each('touch /x writes into the container layer only, and --rm leaves nothing', async (t, nb) => {
  t.false(existsSync('/x'), 'precondition: the host has no /x');
  const r = await nb.cli(['run', '--rm', 'busybox', 'sh', '-c', 'touch /x && ls /x']);
  t.is(r.stdout, '/x\n');
  t.is(r.code, 0);
  t.false(existsSync('/x'));
  t.deepEqual(readdirSync(join(nb.dataRoot, 'containers')), []);
});

each('network none: only lo, and it is up', async (t, nb) => {
  const r = await nb.cli(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net; cat /sys/class/net/lo/operstate /sys/class/net/lo/flags']);
  t.is(r.code, 0, r.stderr);
  const [ifaces, , flags] = r.stdout.trim().split('\n');
  t.is(ifaces, 'lo');
  t.true((Number(flags) & 1) === 1, `IFF_UP in ${flags}`);
});

each('a missing command exits 127 with one clear line', async (t, nb) => {
  const r = await nb.cli(['run', '--rm', 'busybox', 'nosuchcmd']);
  t.is(r.code, 127);
  t.is(r.stdout, '');
  t.is(r.stderr.trim().split('\n').length, 1);
  t.regex(r.stderr, /^nestbox: .*"nosuchcmd".*not found/);
});

each('run -d of a missing command fails its start: 127 and one line, every time', async (t, nb) => {
  // the runtime looks the command up before it reports the container started (runc's order), so
  // no race with the start decides the answer
  for (let i = 0; i < 3; i++) {
    const r = await nb.cli(['run', '-d', '--name', `nocmd${i}`, 'busybox', 'nosuchcmd']);
    t.is(r.code, 127, r.stderr);
    t.is(r.stdout, '');
    t.is(r.stderr, 'nestbox: exec: "nosuchcmd": executable file not found in $PATH\n');
    t.is((await nb.cli(['inspect', '-f', '{{.State.ExitCode}}', `nocmd${i}`])).stdout, '127\n');
    t.is((await nb.cli(['rm', `nocmd${i}`])).code, 0);
  }
  const dir = await nb.cli(['run', '-d', '--rm', 'busybox', '/etc']);
  t.is(dir.code, 126, dir.stderr);
  t.is(dir.stderr, 'nestbox: exec: "/etc": is a directory\n');
});

each('a missing image exits 125 with one clear line', async (t, nb) => {
  // --pull never: a Hub name would otherwise be pulled, and tests reach nothing but loopback
  const r = await nb.cli(['run', '--rm', '--pull', 'never', 'nosuchimage', 'true']);
  t.is(r.code, 125);
  t.is(r.stderr.trim().split('\n').length, 1);
  t.regex(r.stderr, /^nestbox: .*nosuchimage/);
});

each('bad flags and refused features are one line and exit 125', async (t, nb) => {
  for (const args of [['run', '--bogus', 'busybox'], ['run', '-p', '80:80', 'busybox', 'true'], ['run', '--network', 'bridge', 'busybox', 'true'], ['run', '-m', 'lots', 'busybox']]) {
    const r = await nb.cli(args);
    t.is(r.code, 125, args.join(' '));
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    t.regex(r.stderr, /^nestbox: /);
  }
});

each('without --rm the container stays until rm', async (t, nb) => {
  const r = await nb.cli(['run', '--name', 'keeper1', 'busybox', 'sh', '-c', 'echo data > /kept; exit 3']);
  t.is(r.code, 3);
  const ps = await nb.cli(['ps', '-a', '--format', 'json']);
  const rows = ps.stdout.trim().split('\n').map((l) => JSON.parse(l) as { Names: string; Status: string; ID: string });
  const row = rows.find((c) => c.Names === 'keeper1');
  t.truthy(row);
  t.regex(row!.Status, /^Exited \(3\) /);
  const id = (await nb.cli(['inspect', '-f', '{{.Id}}', 'keeper1'])).stdout.trim();
  t.true(existsSync(join(nb.dataRoot, 'containers', id, 'upper', 'kept')));
  const again = await nb.cli(['run', '--name', 'keeper1', 'busybox', 'true']);
  t.is(again.code, 125);
  t.regex(again.stderr, /already in use/);
  const rm = await nb.cli(['rm', 'keeper1']);
  t.is(rm.code, 0, rm.stderr);
  t.false(existsSync(join(nb.dataRoot, 'containers', id)));
});

each("run: the CLI's signals go to the container (docker's --sig-proxy), which decides; --sig-proxy=false leaves them the CLI's", async (t, nb) => {
  const script = (sig: string) => `trap "echo got ${sig}; exit 3" ${sig}; echo ready; while :; do sleep 0.1; done`;
  const start = (args: string[]) => {
    const [cmd, argv, env] = nb.command(args);
    const child = spawn(cmd, argv, { env: nb.kind === 'root' ? env : { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const ended = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('close', (code, signal) => r({ code, signal })));
    const ready = async () => {
      for (const until = Date.now() + scaled(15_000); !out.includes('ready\n'); await new Promise((r) => setTimeout(r, 20))) {
        if (Date.now() > until) throw new Error(`no "ready" from the container: ${out}`);
      }
    };
    return { child, ended, ready, out: () => out };
  };
  for (const sig of ['TERM', 'INT'] as const) {
    const run = start(['run', '--rm', 'busybox', 'sh', '-c', script(sig)]);
    await run.ready();
    run.child.kill(`SIG${sig}`);
    t.deepEqual(await run.ended, { code: 3, signal: null }, `SIG${sig}: the container's trap decided the exit`);
    t.is(run.out(), `ready\ngot ${sig}\n`);
  }
  const own = start(['run', '--name', 'noproxy', '--sig-proxy=false', 'busybox', 'sh', '-c', script('TERM')]);
  await own.ready();
  own.child.kill('SIGTERM');
  t.deepEqual(await own.ended, { code: null, signal: 'SIGTERM' }, 'the CLI ends by it');
  t.is((await nb.cli(['inspect', '-f', '{{.State.Status}}', 'noproxy'])).stdout, 'running\n', 'the container never got it');
  t.is((await nb.cli(['rm', '-f', 'noproxy'])).code, 0);
});
