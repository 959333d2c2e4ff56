/**
 * The native runtime (native/build/nestbox-runtime) on the real kernel, as root and as the
 * unprivileged test user. Each test builds an OCI bundle in a temporary directory under /tmp:
 * a busybox root filesystem as the overlay's lower layer, an upper and a work dir, and a
 * config.json like the one the namespace service writes.
 *
 * The overlay driver of these bundles is what the runtime's probe (`check overlay`) finds for /tmp,
 * as the namespace service does: the kernel's overlay where it works in a user namespace
 * (>= 5.11), fuse-overlayfs before; NESTBOX_OVERLAY_DRIVER=kernel|fuse forces one. The "fuse
 * driver" tests always use fuse-overlayfs.
 *
 * Ownership matters and is part of what is tested:
 *  - as root, container root is host uid 1000000 (root's /etc/subuid range), so the layer, upper,
 *    work and merged dirs are owned by 1000000 and every directory above them is traversable (0711);
 *  - rootless, everything belongs to the test user (container root = that user), and the runtime
 *    is the staged copy, run through setpriv.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lchownSync, lstatSync, mkdirSync, readFileSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Mode, ROOT_SUBID, ROOTLESS_SUBID, registerRuntimeHooks, testUser, makeBundle, removeBundle, start, finish, run, waitFor, readPid, assertNoHostMounts, both, runIn,
  nsLink, defaultDriver,
} from '../helpers/runtime-bundle.js';
registerRuntimeHooks();

both('echo hello: stdout, exit 0, status file', async (t, mode) => {
  const r = await runIn(t, mode, ['echo', 'hello']);
  t.is(r.stdout, 'hello\n');
  t.is(r.stderr, '');
  t.is(r.code, 0);
  t.deepEqual(r.status, { exitCode: 0 });
});

both('the exit code of the command is the runtime exit code', async (t, mode) => {
  const r = await runIn(t, mode, ['sh', '-c', 'exit 7']);
  t.is(r.code, 7);
  t.deepEqual(r.status, { exitCode: 7 });
});

both('a missing command exits 127 and the status says why', async (t, mode) => {
  const r = await runIn(t, mode, ['nosuchcmd']);
  t.is(r.code, 127);
  t.deepEqual(r.status, {
    exitCode: 127,
    error: 'exec: "nosuchcmd": executable file not found in $PATH',
    stage: 'exec',
  });
  t.is(r.stderr, '', 'with --status-file the runtime writes nothing on stderr');
});

both('a file that cannot be executed exits 126', async (t, mode) => {
  const r = await runIn(t, mode, ['/etc/passwd']);
  t.is(r.code, 126);
  t.deepEqual(r.status, { exitCode: 126, error: 'exec: "/etc/passwd": permission denied', stage: 'exec' });
});

both('without --status-file a failure is one line on stderr', async (t, mode) => {
  const b = makeBundle(mode, ['/no/such/binary']);
  t.teardown(() => removeBundle(b));
  const r = await run(b, [], false);
  t.is(r.code, 127);
  t.is(r.stderr, 'nestbox-runtime: exec: "/no/such/binary": stat /no/such/binary: no such file or directory\n');
});

both('a setup failure exits 125 with stage setup', async (t, mode) => {
  const r = await runIn(t, mode, ['true'], (c) => {
    c.mounts.push({ destination: '/data', type: 'bind', source: '/no/such/dir', options: ['rbind'] });
  });
  t.is(r.code, 125);
  t.deepEqual(r.status, {
    exitCode: 125,
    error: 'bind mount /no/such/dir on /data: No such file or directory',
    stage: 'setup',
  });
});

both('the process runs as container root: id -u is 0', async (t, mode) => {
  const r = await runIn(t, mode, ['id', '-u']);
  t.is(r.stdout, '0\n');
  t.is(r.code, 0);
});

both('uid_map shows the mapping', async (t, mode) => {
  const r = await runIn(t, mode, ['cat', '/proc/self/uid_map', '/proc/self/gid_map']);
  const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
  const want = mode === 'root' ? [`0 ${ROOT_SUBID} 65536`] : [`0 ${testUser().uid} 1`, `1 ${ROOTLESS_SUBID} 65535`];
  t.deepEqual(lines, [...want, ...want]);
});

both('the hostname is set', async (t, mode) => {
  const r = await runIn(t, mode, ['hostname']);
  t.is(r.stdout, 'nbx-test\n');
});

both('ps sees only the container, with the command as PID 1', async (t, mode) => {
  const r = await runIn(t, mode, ['ps']);
  const rows = r.stdout.trim().split('\n').slice(1);
  t.deepEqual(rows.map((l) => l.trim().split(/\s+/)), [['1', 'root', 'ps']], r.stdout);
});

both('writes land in the upper dir, never in the lower layer', async (t, mode) => {
  await runIn(t, mode, ['sh', '-c', 'echo data > /root/new && touch /newfile'], undefined, (r, b) => {
    t.is(r.code, 0, r.stderr);
    t.is(readFileSync(join(b.upper, 'root', 'new'), 'utf8'), 'data\n');
    t.true(existsSync(join(b.upper, 'newfile')));
    t.false(existsSync(join(b.lower, 'newfile')));
    t.false(existsSync(join(b.lower, 'root', 'new')));
    t.is(lstatSync(join(b.upper, 'newfile')).uid, b.owner, 'owned by container root on the host');
  });
});

both('a new network namespace has only lo, and it is up', async (t, mode) => {
  const r = await runIn(t, mode, ['sh', '-c', 'cat /proc/net/dev; cat /sys/class/net/lo/flags; ls /sys/class/net']);
  const lines = r.stdout.trim().split('\n');
  const ifaces = lines.slice(2, -2).map((l) => l.split(':')[0].trim());
  t.deepEqual(ifaces, ['lo'], r.stdout);
  t.is(lines.at(-2), '0x9', 'IFF_UP|IFF_LOOPBACK');
  t.is(lines.at(-1), 'lo');
});

both('process.env, cwd and user are applied', async (t, mode) => {
  const r = await runIn(t, mode, ['sh', '-c', 'echo "$FOO"; pwd; id -u; id -g; id -G'], (c) => {
    c.process.env.push('FOO=bar baz');
    c.process.cwd = '/tmp';
    c.process.user = { uid: 1000, gid: 1000, additionalGids: [1000, 2000] };
  });
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'bar baz\n/tmp\n1000\n1000\n1000 2000\n');
});

both('the proc, sys and dev set-up: masks, read-only paths, devices, symlinks', async (t, mode) => {
  const script = [
    'cat /proc/kcore | wc -c',
    'ls /proc/acpi | wc -l',
    'echo x > /proc/sys/kernel/hostname 2>/dev/null && echo writable || echo ro',
    'echo x > /dev/null && echo null-ok',
    'head -c 4 /dev/zero | wc -c',
    'readlink /dev/fd; readlink /dev/stdin; readlink /dev/ptmx',
    'touch /sys/x 2>/dev/null && echo sys-writable || echo sys-ro',
  ].join('; ');
  const r = await runIn(t, mode, ['sh', '-c', script], (c, b) => {
    for (const a of ['wc', 'head', 'readlink']) symlinkSync('busybox', join(b.lower, 'bin', a));
  });
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, '0\n0\nro\nnull-ok\n4\n/proc/self/fd\n/proc/self/fd/0\npts/ptmx\nsys-ro\n');
});

both('root.readonly makes / read-only', async (t, mode) => {
  const r = await runIn(t, mode, ['touch', '/x'], (c) => (c.root.readonly = true));
  t.is(r.code, 1);
  t.regex(r.stderr, /Read-only file system/);
});

both('a read-only bind mount shows the host dir and refuses writes', async (t, mode) => {
  const r = await runIn(t, mode, ['sh', '-c', 'cat /data/f; touch /data/g'], (c, b) => {
    const data = join(b.base, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'f'), 'from host\n');
    c.mounts.push({ destination: '/data', type: 'bind', source: data, options: ['rbind', 'ro', 'nosuid', 'nodev'] });
  });
  t.is(r.stdout, 'from host\n');
  t.is(r.code, 1);
  t.regex(r.stderr, /Read-only file system/);
});

both('a mount destination through a symlink stays inside the root', async (t, mode) => {
  const b = makeBundle(mode, ['sh', '-c', 'ls -d /escape/sub'], (c, bb) => {
    // An image symlink pointing at a host path: resolved inside the root, never on the host.
    symlinkSync(join(bb.base, 'outside'), join(bb.lower, 'escape'));
    c.mounts.push({ destination: '/escape/sub', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
  });
  t.teardown(() => removeBundle(b));
  mkdirSync(join(b.base, 'outside'));
  const r = await run(b);
  t.is(r.code, 0, JSON.stringify(r.status));
  t.is(r.stdout, '/escape/sub\n');
  t.false(existsSync(join(b.base, 'outside', 'sub')), 'nothing was created outside the root');
  assertNoHostMounts(t, b);
});

both('a destination with .. is refused', async (t, mode) => {
  const r = await runIn(t, mode, ['true'], (c) => {
    c.mounts.push({ destination: '/tmp/../../etc', type: 'tmpfs', source: 'tmpfs' });
  });
  t.is(r.code, 125);
  t.is(r.status?.stage, 'setup');
  t.regex(String(r.status?.error), /without ".."/);
});

both('SIGKILL of the container process: 137 and the signal in the status', async (t, mode) => {
  const b = makeBundle(mode, ['sleep', '30']);
  t.teardown(() => removeBundle(b));
  const child = start(b);
  const done = finish(b, child);
  const pid = await waitFor('the pid file', () => readPid(b));
  // the pid file is written just before exec: on a slow machine the process may not be sleep yet
  const comm = () => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  await waitFor('the container process to exec sleep', () => (comm() === 'sleep' ? true : undefined));
  t.is(comm(), 'sleep', 'the pid file names the container process');
  process.kill(pid, 'SIGKILL');
  const r = await done;
  t.is(r.code, 137);
  t.deepEqual(r.status, { exitCode: 137, signal: 9 });
  t.false(existsSync(`/proc/${pid}`));
});

both('SIGTERM to the runtime is forwarded to the container', async (t, mode) => {
  const b = makeBundle(mode, ['sh', '-c', 'trap "echo got TERM; exit 42" TERM; echo ready; sleep 30 & wait']);
  t.teardown(() => removeBundle(b));
  const child = start(b);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const done = finish(b, child);
  await waitFor('the trap', () => (out.includes('ready') ? true : undefined));
  child.kill('SIGTERM');
  const r = await done;
  t.is(r.stdout, 'ready\ngot TERM\n');
  t.is(r.code, 42);
  t.deepEqual(r.status, { exitCode: 42 });
});

both('without a pid namespace a self-inflicted SIGTERM gives 143', async (t, mode) => {
  // As PID 1 of its own namespace a shell cannot die of an unhandled signal it sends itself.
  const r = await runIn(t, mode, ['sh', '-c', 'kill -TERM $$; sleep 5'], (c) => {
    c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
    c.mounts = c.mounts.filter((m: { type: string }) => m.type !== 'proc'); // proc needs our own pid namespace
  });
  t.is(r.code, 143);
  t.deepEqual(r.status, { exitCode: 143, signal: 15 });
});

/** A fresh cgroup for the test: v1 pids controller when mounted, else the v2 root. */
function makeCgroup(mode: Mode): { dir: string; line: RegExp } | string {
  const v1 = '/sys/fs/cgroup/pids';
  const isV1 = existsSync(join(v1, 'cgroup.procs'));
  if (!isV1 && !existsSync('/sys/fs/cgroup/cgroup.controllers')) return 'no pids cgroup v1 nor cgroup v2 here';
  if (!isV1 && mode === 'rootless') return 'rootless cgroup v2 needs a delegated subtree';
  const parent = isV1 ? v1 : '/sys/fs/cgroup';
  const name = `nbx-rt-test-${process.pid}-${mode}`;
  const dir = join(parent, name);
  mkdirSync(dir);
  if (mode === 'rootless') {
    const { uid, gid } = testUser();
    for (const p of [dir, join(dir, 'cgroup.procs')]) lchownSync(p, uid, gid);
  }
  return { dir, line: isV1 ? /^\d+:pids:(.*)$/m : /^0::(.*)$/m };
}

both('the process is in the annotated cgroup before it runs; the cgroup namespace hides the path', async (t, mode) => {
  const cg = makeCgroup(mode);
  if (typeof cg === 'string') {
    t.log(`cgroup part not checked: ${cg}`);
    t.pass();
    return;
  }
  t.teardown(() => rmdirSync(cg.dir));
  const name = cg.dir.split('/').at(-1);
  const withNs = await runIn(t, mode, ['cat', '/proc/self/cgroup'], (c) => {
    c.annotations['io.nestbox.cgroup.paths'] = cg.dir;
  });
  t.is(withNs.code, 0, JSON.stringify(withNs.status));
  t.is(cg.line.exec(withNs.stdout)?.[1], '/');
  const noNs = await runIn(t, mode, ['cat', '/proc/self/cgroup'], (c) => {
    c.annotations['io.nestbox.cgroup.paths'] = cg.dir;
    c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'cgroup');
  });
  t.is(cg.line.exec(noNs.stdout)?.[1], `/${name}`);
});

both('an rlimit above the hard limit is refused, a lower one applies', async (t, mode) => {
  const high = await runIn(t, mode, ['true'], (c) => {
    c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2 ** 40 }];
  });
  t.is(high.code, 125);
  t.regex(String(high.status?.error), /^rlimit RLIMIT_NOFILE: hard limit \d+ is above the current hard limit/);
  const low = await runIn(t, mode, ['sh', '-c', 'ulimit -n; ulimit -Hn'], (c) => {
    c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }];
  });
  t.is(low.stdout, '100\n200\n');
});

both('process.capabilities sets the bounding and effective sets', async (t, mode) => {
  const caps = ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE', 'CAP_NO_SUCH_CAP'];
  const r = await runIn(t, mode, ['grep', '-E', '^Cap(Eff|Prm|Bnd|Amb)', '/proc/self/status'], (c, b) => {
    symlinkSync('busybox', join(b.lower, 'bin', 'grep'));
    c.process.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] };
  });
  t.is(r.code, 0, JSON.stringify(r.status));
  // bits 0 (CHOWN) and 10 (NET_BIND_SERVICE); unknown names are skipped
  t.is(r.stdout, 'CapPrm:\t0000000000000401\nCapEff:\t0000000000000401\nCapBnd:\t0000000000000401\nCapAmb:\t0000000000000000\n');
});

both('a broken config.json fails before anything starts, naming the line', async (t, mode) => {
  const b = makeBundle(mode, ['true']);
  t.teardown(() => removeBundle(b));
  writeFileSync(join(b.dir, 'config.json'), '{"ociVersion": "1.0.2",\n "process": }\n');
  const r = await run(b);
  t.is(r.code, 125);
  t.is(r.status?.stage, 'setup');
  t.regex(String(r.status?.error), /config\.json: line 2: /);
  t.false(existsSync(join(b.base, 'pid')));
});

both('without upper and work dirs the root is a read-only view of the layer', async (t, mode) => {
  const r = await runIn(t, mode, ['sh', '-c', 'cat /etc/passwd; touch /x'], (c) => {
    delete c.annotations['io.nestbox.overlay.upperdir'];
    delete c.annotations['io.nestbox.overlay.workdir'];
  });
  t.is(r.stdout, 'root:x:0:0:root:/root:/bin/sh\n');
  t.is(r.code, 1);
  t.regex(r.stderr, /Read-only file system/);
});

/** A process holding namespaces to join: a network namespace (root), user + network (rootless). */
function startKeeper(mode: Mode): ChildProcess {
  if (mode === 'root') return spawn('unshare', ['--net', 'sleep', '60'], { stdio: 'ignore' });
  const { uid, gid } = testUser();
  return spawn(
    'setpriv',
    ['--reuid', String(uid), '--regid', String(gid), '--init-groups', '--', 'unshare', '--user', '--map-root-user', '--net', 'sleep', '60'],
    { stdio: 'ignore' },
  );
}

both('namespaces given by path are joined (user first), the others created', async (t, mode) => {
  const keeper = startKeeper(mode);
  t.teardown(() => keeper.kill('SIGKILL'));
  const kpid = keeper.pid!;
  const hostNet = nsLink('self', 'net');
  // unshare has run once the keeper's netns differs from ours
  const keeperNet = await waitFor('the keeper', () => {
    const n = nsLink(kpid, 'net');
    return n && n !== hostNet && readFileSync(`/proc/${kpid}/comm`, 'utf8').trim() === 'sleep' ? n : undefined;
  });
  const joined = mode === 'root' ? ['network'] : ['network', 'user'];
  const r = await runIn(t, mode, ['sh', '-c', 'readlink /proc/self/ns/net; readlink /proc/self/ns/user; cat /proc/self/uid_map; id -u'], (c, b) => {
    symlinkSync('busybox', join(b.lower, 'bin', 'readlink'));
    for (const n of c.linux.namespaces) if (joined.includes(n.type)) n.path = `/proc/${kpid}/ns/${n.type === 'network' ? 'net' : n.type}`;
  });
  t.is(r.code, 0, JSON.stringify(r.status));
  const [net, user, ...rest] = r.stdout.trim().split('\n');
  t.is(net, keeperNet);
  if (mode === 'root') {
    t.not(user, nsLink(kpid, 'user') ?? '', 'a new user namespace');
    t.deepEqual(rest.map((l) => l.trim().split(/\s+/).join(' ')), [`0 ${ROOT_SUBID} 65536`, '0']);
  } else {
    t.is(user, nsLink(kpid, 'user') ?? '', 'the keeper user namespace');
    t.deepEqual(rest.map((l) => l.trim().split(/\s+/).join(' ')), [`0 ${testUser().uid} 1`, '0']);
  }
});

both('process.oomScoreAdj is applied before the command runs', async (t, mode) => {
  const r = await runIn(t, mode, ['cat', '/proc/self/oom_score_adj'], (c) => (c.process.oomScoreAdj = 500));
  t.is(r.code, 0, JSON.stringify(r.status));
  t.is(r.stdout, '500\n');
});

/** The root's overlay super options, from the container's own mountinfo. */
const rootOverlayOptions = (mountinfo: string) => mountinfo.split('\n').map((l) => l.split(' ')).find((f) => f[4] === '/' && f[f.indexOf('-') + 1] === 'overlay')?.at(-1) ?? '';

both('io.nestbox.overlay.volatile: the kernel overlay of a run --rm root skips syncs; a bad value is refused', async (t, mode) => {
  const kernel = defaultDriver[mode] === 'kernel';
  const on = await runIn(t, mode, ['cat', '/proc/self/mountinfo'], (c) => { c.annotations['io.nestbox.overlay.volatile'] = 'true'; });
  t.is(on.code, 0, on.stderr);
  // fuse-overlayfs (5.10 guests) has no such option: it is not asked for there
  // shown as fsync=volatile since 6.6, volatile before
  if (kernel) t.regex(rootOverlayOptions(on.stdout), /(^|,)(fsync=)?volatile(,|$)/);
  const off = await runIn(t, mode, ['cat', '/proc/self/mountinfo']);
  if (kernel) t.true(rootOverlayOptions(off.stdout).includes('userxattr'), 'the root is the kernel overlay');
  t.notRegex(rootOverlayOptions(off.stdout), /volatile/);
  const bad = await runIn(t, mode, ['true'], (c) => { c.annotations['io.nestbox.overlay.volatile'] = 'yes'; });
  t.is(bad.code, 125);
  t.is(bad.status?.error, 'config.json: annotations: io.nestbox.overlay.volatile: "yes" must be true or false');
});
