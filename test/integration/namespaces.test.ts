/**
 * What a container sees of its namespaces and file systems, as the namespace service sets them
 * up (oci-bundle.ts), read from inside, as root and rootless: the seven namespaces, /proc of its
 * own pid namespace, /dev as a tmpfs with the standard nodes, a new devpts instance, /dev/shm,
 * /dev/mqueue, /sys read-only, and the OCI default spec's masked and read-only paths.
 */
import { existsSync, readlinkSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { type Mode, registerRuntimeHooks, both, runIn, serviceProfile } from '../helpers/runtime-bundle.js';
import { MASKED_PATHS, READONLY_PATHS } from '../../services/namespace/oci-bundle.js';
import type { ExecutionContext } from 'ava';
registerRuntimeHooks();

const NAMESPACES = ['user', 'pid', 'mnt', 'uts', 'ipc', 'net', 'cgroup'];
const NODES = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'];

interface Mount {
  point: string;
  fstype: string;
  options: string[];
  root: string;
}

interface View {
  /** "key rest" lines, by key, in order */
  lines: Map<string, string[]>;
  mounts: Mount[];
}

/** Runs SCRIPT in a container with the service's profile; lines "key value..." by key, and its mountinfo. */
async function look(t: ExecutionContext, mode: Mode, script: string[]): Promise<View> {
  const r = await runIn(t, mode, ['sh', '-c', [...script, 'sed "s/^/mountinfo /" /proc/self/mountinfo'].join('; ')], (c, b) => {
    serviceProfile(c);
    for (const a of ['readlink', 'stat', 'grep', 'wc', 'sed', 'head']) symlinkSync('busybox', join(b.lower, 'bin', a));
  });
  t.is(r.code, 0, `${r.stderr} ${JSON.stringify(r.status)}`);
  const lines = new Map<string, string[]>();
  for (const l of r.stdout.split('\n').filter(Boolean)) {
    const i = l.indexOf(' ');
    const k = i < 0 ? l : l.slice(0, i);
    lines.set(k, [...(lines.get(k) ?? []), i < 0 ? '' : l.slice(i + 1)]);
  }
  const mounts = (lines.get('mountinfo') ?? []).map((l) => {
    const [pre, post] = l.split(' - ');
    const f = pre.split(' ');
    return { root: f[3], point: f[4], options: f[5].split(','), fstype: post.split(' ')[0] };
  });
  return { lines, mounts };
}

/** the mount on POINT that is visible (the last one stacked there) */
function mountAt(v: View, point: string): Mount | undefined {
  return v.mounts.filter((m) => m.point === point).at(-1);
}

both('the seven namespaces are the container\'s own; /proc is its pid namespace\'s', async (t, mode) => {
  const v = await look(t, mode, [
    ...NAMESPACES.map((n) => `echo ns ${n} $(readlink /proc/self/ns/${n})`),
    'echo nspid $(grep NSpid /proc/1/status)',
    'echo pid1 $(readlink /proc/1/exe)',
    'grep -v ":/$" /proc/self/cgroup | sed "s/^/cgroup-not-root /"',
  ]);
  for (const l of v.lines.get('ns') ?? []) {
    const [name, link] = l.split(' ');
    t.not(link, readlinkSync(`/proc/self/ns/${name}`), `${name} namespace differs from the host's`);
    t.regex(link, new RegExp(`^${name}:\\[\\d+\\]$`));
  }
  t.is(v.lines.get('ns')?.length, NAMESPACES.length);
  t.deepEqual(v.lines.get('nspid'), ['NSpid: 1'], 'pid 1 has a single pid: /proc belongs to the container\'s pid namespace');
  t.deepEqual(v.lines.get('pid1'), ['/bin/busybox']);
  t.is(v.lines.get('cgroup-not-root'), undefined, 'the cgroup namespace\'s root is the container\'s cgroup');
  const proc = mountAt(v, '/proc');
  t.is(proc?.fstype, 'proc');
  t.true(['nosuid', 'nodev', 'noexec'].every((o) => proc!.options.includes(o)), String(proc?.options));
});

both('/dev: a tmpfs with the standard nodes, a new devpts instance, shm and mqueue', async (t, mode) => {
  const v = await look(t, mode, [
    'echo dev $(ls /dev)',
    'echo pts $(ls /dev/pts)',
    'echo ptmx $(readlink /dev/ptmx)',
    `stat -c "node %n %F %t:%T" ${NODES.join(' ')}`,
    'echo null $(echo x > /dev/null && echo written)',
    'echo zero $(head -c 3 /dev/zero | wc -c)',
    'echo full $(echo x 2>&1 > /dev/full)',
    'echo urandom $(head -c 16 /dev/urandom | wc -c)',
  ]);
  t.deepEqual(v.lines.get('dev'), ['fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero']);
  t.deepEqual(v.lines.get('pts'), ['ptmx'], 'no pty of the host: a new instance');
  t.deepEqual(v.lines.get('ptmx'), ['pts/ptmx']);
  const hex = (n: number) => n.toString(16);
  t.deepEqual(v.lines.get('node'), NODES.map((n) => {
    const rdev = statSync(n).rdev;
    return `${n} character special file ${hex(Math.floor(rdev / 256) & 0xfff)}:${hex(rdev & 0xff)}`;
  }));
  t.deepEqual(v.lines.get('null'), ['written']);
  t.deepEqual(v.lines.get('zero'), ['3']);
  t.deepEqual(v.lines.get('full'), ['sh: write error: No space left on device']);
  t.deepEqual(v.lines.get('urandom'), ['16']);

  t.is(mountAt(v, '/dev')?.fstype, 'tmpfs');
  const pts = mountAt(v, '/dev/pts');
  t.is(pts?.fstype, 'devpts');
  t.is(mountAt(v, '/dev/shm')?.fstype, 'tmpfs');
  t.is(mountAt(v, '/dev/mqueue')?.fstype, 'mqueue');
  // The nodes are the host's, bind-mounted (no mknod in a user namespace), nosuid/noexec not needed: they are files
  for (const n of NODES) t.is(mountAt(v, n)?.fstype, 'devtmpfs', `${n} is a bind of the host's node`);
});

both('/sys is read-only; the OCI default masked and read-only paths are applied', async (t, mode) => {
  const masked = MASKED_PATHS.filter((p) => existsSync(p));
  const readonly = READONLY_PATHS.filter((p) => existsSync(p));
  const v = await look(t, mode, [
    'echo sys $(touch /sys/kernel/x 2>&1)',
    ...masked.map((p) => `if [ -d ${p} ]; then echo masked ${p} dir $(ls -A ${p} | wc -l); else echo masked ${p} file $(cat ${p} | wc -c); fi`),
  ]);
  t.deepEqual(v.lines.get('sys'), ['touch: /sys/kernel/x: Read-only file system']);
  const sys = mountAt(v, '/sys');
  t.is(sys?.fstype, 'sysfs');
  t.true(sys?.options.includes('ro'), String(sys?.options));

  t.true(masked.length >= 2, `this host has some of the masked paths: ${masked}`);
  t.deepEqual(v.lines.get('masked'), masked.map((p) => `${p} ${statSync(p).isDirectory() ? 'dir' : 'file'} 0`));
  for (const p of masked) {
    const m = mountAt(v, p);
    // a directory gets an empty read-only tmpfs, a file /dev/null bound over it
    if (statSync(p).isDirectory()) t.deepEqual([m?.fstype, m?.options.includes('ro')], ['tmpfs', true], p);
    else t.is(m?.fstype, 'devtmpfs', p);
  }
  t.true(readonly.includes('/proc/sys'));
  for (const p of readonly) t.true(mountAt(v, p)?.options.includes('ro'), `${p} is mounted read-only`);
});
