/**
 * The native runtime's fuse overlay driver (io.nestbox.overlay.driver "fuse", the fallback for
 * kernels without overlay in a user namespace) and its probe `nestbox-runtime check overlay`,
 * as root and as the unprivileged test user.
 */
import { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, readFileSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import {
  type Config, type Bundle, registerRuntimeHooks, makeBundle, removeBundle, start, finish, waitFor, readPid, assertNoHostMounts, both, runIn, checkOverlay,
  nsLink,
} from '../helpers/runtime-bundle.js';
registerRuntimeHooks();

// ---- the fuse overlay driver (io.nestbox.overlay.driver "fuse"): fuse-overlayfs run by the runtime ----

const fuse = (c: Config) => {
  c.annotations['io.nestbox.overlay.driver'] = 'fuse';
};

/** fuse-overlayfs processes serving this bundle (their command line names its directories). */
function fuseDaemons(b: Bundle): number[] {
  const r = spawnSync('pgrep', ['-f', `^fuse-overlayfs .*${b.base}/`], { encoding: 'utf8' });
  return r.stdout.trim().split('\n').filter(Boolean).map(Number);
}

function assertNothingLeft(t: ExecutionContext, b: Bundle): void {
  t.deepEqual(fuseDaemons(b), [], 'a fuse-overlayfs daemon was left running');
  assertNoHostMounts(t, b);
}

/** The file system type of the mount at `/` in a mountinfo text. */
function rootFsType(mountinfo: string): string | undefined {
  const line = mountinfo.split('\n').find((l) => l.split(' ')[4] === '/');
  return line?.split(' - ')[1]?.split(' ')[0];
}

both('fuse driver: echo hello works, on a fuse-overlayfs root', async (t, mode) => {
  const r = await runIn(t, mode, ['sh', '-c', 'echo hello; cat /proc/self/mountinfo'], fuse, (_r, b) => assertNothingLeft(t, b));
  t.is(r.code, 0, JSON.stringify(r.status));
  t.is(r.stderr, '');
  t.deepEqual(r.status, { exitCode: 0 });
  const [hello, ...mountinfo] = r.stdout.split('\n');
  t.is(hello, 'hello');
  t.is(rootFsType(mountinfo.join('\n')), 'fuse.fuse-overlayfs');
});

both('fuse driver: new files and copy-ups land in the upper dir, owned by container root', async (t, mode) => {
  const script = 'echo data > /newfile && echo more >> /etc/passwd && mkdir /root/sub && stat -c "%u:%g %n" / /etc/passwd /newfile /root/sub';
  await runIn(t, mode, ['sh', '-c', script], (c, b) => {
    fuse(c);
    symlinkSync('busybox', join(b.lower, 'bin', 'stat'));
  }, (r, b) => {
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, '0:0 /\n0:0 /etc/passwd\n0:0 /newfile\n0:0 /root/sub\n', 'container root owns what it has and makes');
    t.is(readFileSync(join(b.upper, 'newfile'), 'utf8'), 'data\n');
    t.is(readFileSync(join(b.upper, 'etc', 'passwd'), 'utf8'), 'root:x:0:0:root:/root:/bin/sh\nmore\n', 'copied up, then appended');
    t.is(readFileSync(join(b.lower, 'etc', 'passwd'), 'utf8'), 'root:x:0:0:root:/root:/bin/sh\n', 'the layer is untouched');
    for (const f of ['newfile', 'etc/passwd', 'root/sub']) t.is(lstatSync(join(b.upper, f)).uid, b.owner, `${f} owned by container root on the host`);
    assertNothingLeft(t, b);
  });
});

both('fuse driver: ps sees only the container, not the fuse daemon', async (t, mode) => {
  const r = await runIn(t, mode, ['ps', '-o', 'pid,args'], fuse);
  const rows = r.stdout.trim().split('\n').slice(1);
  t.deepEqual(rows.map((l) => l.trim().split(/\s+/)), [['1', 'ps', '-o', 'pid,args']], r.stdout);
});

both('fuse driver: the daemon lives outside the container while it runs; both gone after it exits', async (t, mode) => {
  const b = makeBundle(mode, ['sleep', '30'], fuse);
  t.teardown(() => removeBundle(b));
  const done = finish(b, start(b));
  const pid = await waitFor('the pid file', () => readPid(b));
  const daemons = fuseDaemons(b);
  t.is(daemons.length, 1, 'one fuse-overlayfs for the container');
  const d = daemons[0];
  t.is(nsLink(d, 'user'), nsLink(pid, 'user'), 'in the container\'s user namespace: ownership as inside');
  t.not(nsLink(d, 'pid'), nsLink(pid, 'pid'), 'not in the container\'s pid namespace');
  t.not(nsLink(d, 'mnt'), nsLink(pid, 'mnt'), 'in a mount namespace of its own, which pivot_root leaves alone');
  t.is(rootFsType(readFileSync(`/proc/${pid}/mountinfo`, 'utf8')), 'fuse.fuse-overlayfs');
  process.kill(pid, 'SIGKILL');
  const r = await done;
  t.is(r.code, 137);
  assertNothingLeft(t, b);
});

both('fuse driver: a setup failure after the mount stops the daemon too', async (t, mode) => {
  const r = await runIn(t, mode, ['true'], (c) => {
    fuse(c);
    c.mounts.push({ destination: '/data', type: 'bind', source: '/no/such/dir', options: ['rbind'] });
  }, (_r, b) => assertNothingLeft(t, b));
  t.is(r.code, 125);
  t.deepEqual(r.status, { exitCode: 125, error: 'bind mount /no/such/dir on /data: No such file or directory', stage: 'setup' });
});

both('fuse driver: without fuse-overlayfs on PATH: 125 and a clear error', async (t, mode) => {
  const b = makeBundle(mode, ['true'], fuse);
  t.teardown(() => removeBundle(b));
  const r = await finish(b, start(b, [], true, { path: join(b.base, 'no-bin') }));
  t.is(r.code, 125);
  t.deepEqual(r.status, { exitCode: 125, error: 'fuse-overlayfs not found: install the fuse-overlayfs package', stage: 'setup' });
  t.false(existsSync(join(b.base, 'pid')), 'nothing ran');
});

both('fuse driver: a /dev/fuse that cannot be opened is named in the error', async (t, mode) => {
  const b = makeBundle(mode, ['true'], fuse);
  t.teardown(() => removeBundle(b));
  const denied = join(b.base, 'no-fuse');
  writeFileSync(denied, '', { mode: 0 });
  chmodSync(denied, 0);
  // only in a private mount namespace of this run: the host's /dev/fuse is left alone
  const prefix = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /dev/fuse && exec "$@"', denied];
  const r = await finish(b, start(b, [], true, { prefix }));
  t.is(r.code, 125);
  t.deepEqual(r.status, {
    exitCode: 125,
    error: 'open /dev/fuse: Permission denied (the fuse overlay driver needs it readable and writable by container root)',
    stage: 'setup',
  });
  assertNothingLeft(t, b);
});

both("fuse driver: fuse-overlayfs's own error reaches the status", async (t, mode) => {
  const r = await runIn(t, mode, ['true'], (c, b) => {
    fuse(c);
    c.annotations['io.nestbox.overlay.lowerdir'] = `${join(b.base, 'no-such-layer')}:${b.lower}`;
  }, (_r, b) => assertNothingLeft(t, b));
  t.is(r.code, 125);
  t.is(r.status?.stage, 'setup');
  t.regex(String(r.status?.error), /^mount fuse-overlayfs on \/tmp\/nbx-rt-\w+\/merged: .*No such file or directory$/);
});

both('an unknown overlay driver is refused before anything starts', async (t, mode) => {
  const r = await runIn(t, mode, ['true'], (c) => (c.annotations['io.nestbox.overlay.driver'] = 'zfs'));
  t.is(r.code, 125);
  t.deepEqual(r.status, {
    exitCode: 125,
    error: 'config.json: annotations: io.nestbox.overlay.driver: "zfs" must be kernel or fuse',
    stage: 'setup',
  });
});

// ---- nestbox-runtime check overlay: which driver works here ----
/** What the probe must answer for /tmp here, when that is predictable. */
function expectedProbe(): 'kernel' | 'fuse' | undefined {
  const [major, minor] = release().split('.').map(Number);
  const version = major * 1000 + minor;
  if (version < 5011) return 'fuse'; // no overlay in a user namespace (userxattr) before 5.11
  // tmpfs has user xattrs (overlay's whiteouts and opaque dirs with userxattr) from 6.6 on
  if (version < 6006 && statfsSync('/tmp').type === 0x01021994) return undefined;
  return 'kernel';
}

both('check overlay prints the driver that works here and leaves nothing behind', async (t, mode) => {
  const r = checkOverlay(mode);
  t.is(r.code, 0, r.stderr);
  const want = expectedProbe();
  if (want) t.is(r.stdout, `${want}\n`);
  else t.regex(r.stdout, /^(kernel|fuse)\n$/);
  if (r.stdout === 'kernel\n') t.is(r.stderr, '');
  else t.regex(r.stderr, /^nestbox-runtime: kernel overlay unusable in a user namespace: .+\n$/);
  t.deepEqual(r.left, [], 'the probe removed its directories');
});

both('check overlay with an unusable --dir is exit 125 and one line', async (t, mode) => {
  const r = checkOverlay(mode, '/no/such/dir');
  t.is(r.code, 125);
  t.is(r.stdout, '');
  t.is(r.stderr, 'nestbox-runtime: check overlay: create a directory in /no/such/dir: No such file or directory\n');
});
