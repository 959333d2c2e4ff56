/**
 * Escape attempts from inside a container configured as the namespace service configures every
 * container (oci-bundle.ts: namespaces, masked and read-only paths, docker's capabilities,
 * no_new_privs, the seccomp filter), as root and rootless. Each asserts how the attack fails: the
 * errno the probe (test/helpers/probe.c) prints, or what a program shows.
 *
 * Host paths the container must never reach are a marker file next to the bundle, readable by
 * anyone: if any trick resolved outside the root, the open would succeed.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Bundle, type Config, type Mode, registerRuntimeHooks, both, makeBundle, removeBundle, run, assertNoHostMounts, serviceProfile, start, finish,
} from '../helpers/runtime-bundle.js';
import { installProbe, registerProbeHooks } from '../helpers/probe.js';
import type { ExecutionContext } from 'ava';
registerRuntimeHooks();
registerProbeHooks();

const APPLETS = ['grep', 'kill', 'stat', 'readlink', 'wc'];

interface Attempt {
  b: Bundle;
  marker: string;
  /** "label: output" lines of the script, as {label: output} */
  got: Record<string, string>;
  stdout: string;
}

/**
 * Runs SCRIPT (sh, MARKER replaced by the host marker's path) in a service-profile container with
 * the probe; lines "label: output" come back as a map.
 */
async function attempt(t: ExecutionContext, mode: Mode, script: (marker: string) => string, edit?: (c: Config, b: Bundle) => void,
  after?: (b: Bundle) => void): Promise<Attempt> {
  let marker = '';
  const b = makeBundle(mode, ['sh', '-c', ''], (c, bb) => {
    serviceProfile(c);
    installProbe(bb.lower);
    for (const a of APPLETS) symlinkSync('busybox', join(bb.lower, 'bin', a));
    marker = join(bb.base, 'host-marker');
    c.process.args = ['sh', '-c', script(marker)];
    edit?.(c, bb);
  });
  t.teardown(() => removeBundle(b));
  writeFileSync(marker, 'host secret\n');
  chmodSync(marker, 0o644);
  after?.(b);
  const r = await run(b);
  assertNoHostMounts(t, b);
  t.is(r.code, 0, `${r.stderr} ${JSON.stringify(r.status)}`);
  const got: Record<string, string> = {};
  for (const l of r.stdout.trim().split('\n')) {
    const i = l.indexOf(': ');
    if (i > 0) got[l.slice(0, i)] = l.slice(i + 2);
  }
  return { b, marker, got, stdout: r.stdout };
}

/** `echo "LABEL: $(CMD)"`, with stderr folded in */
const line = (label: string, cmd: string) => `echo "${label}: $(${cmd} 2>&1)"`;

both('host processes cannot be seen, signalled or read', async (t, mode) => {
  const host = process.pid;
  const { got } = await attempt(t, mode, () => [
    line('pids', 'echo $(ls /proc | grep -E "^[0-9]+$")'),
    line('environ', `probe open /proc/${host}/environ`),
    line('kill', `kill -0 ${host}`),
    line('pid1', 'readlink /proc/1/exe'),
  ].join('; '));
  const pids = got.pids.split(' ').map(Number);
  t.true(pids.includes(1) && pids.every((p) => p < 20), `only the container's few processes: ${got.pids}`);
  t.deepEqual({ ...got, pids: undefined }, {
    pids: undefined,
    environ: 'errno ENOENT',
    kill: `sh: can't kill pid ${host}: No such process`,
    pid1: '/bin/busybox', // the container's own shell
  });
});

both('mounting, unmounting and remounting inside the container fail with EPERM', async (t, mode) => {
  const { got } = await attempt(t, mode, () => [
    line('mount', 'probe mount /tmp'),
    line('umount', 'probe umount /proc/sys'),
    line('remount', 'probe remount-rw /proc/sys'),
    line('pivot', 'probe pivot_root /tmp /tmp'),
    line('busybox', 'mount -t tmpfs none /tmp'),
  ].join('; '));
  t.deepEqual(got, {
    mount: 'errno EPERM',
    umount: 'errno EPERM',
    remount: 'errno EPERM',
    pivot: 'errno EPERM',
    busybox: 'mount: permission denied (are you root?)', // busybox's words for EPERM
  });
});

/** the errno of a write to a global file under /proc: EACCES (owned by host root), ENOENT where this kernel lacks it */
const hostOnly = (path: string) => (existsSync(path) ? 'errno EACCES' : 'errno ENOENT');

both('/proc/sys and /proc/sysrq-trigger cannot be written; masked files read empty', async (t, mode) => {
  const { got } = await attempt(t, mode, () => [
    line('ip_forward', 'probe write /proc/sys/net/ipv4/ip_forward 1'),
    line('ro', 'grep -c -E " /proc/(sys|sysrq-trigger) ro," /proc/self/mountinfo'),
    line('hostname', 'probe write /proc/sys/kernel/hostname evil'),
    line('core_pattern', 'probe write /proc/sys/kernel/core_pattern "|/evil"'),
    line('drop_caches', 'probe write /proc/sys/vm/drop_caches 3'),
    line('modprobe', 'probe write /proc/sys/kernel/modprobe /evil'),
    line('sysrq', 'probe write /proc/sysrq-trigger h'),
    line('keys', 'cat /proc/keys | wc -c'),
    line('kcore', 'cat /proc/kcore | wc -c'),
  ].join('; '));
  t.deepEqual(got, {
    // not container root's to write (no CAP_NET_ADMIN, global files), and on a read-only mount besides
    ip_forward: 'errno EACCES',
    ro: existsSync('/proc/sysrq-trigger') ? '2' : '1',
    hostname: 'errno EACCES',
    core_pattern: 'errno EACCES',
    drop_caches: 'errno EACCES',
    modprobe: hostOnly('/proc/sys/kernel/modprobe'),
    sysrq: hostOnly('/proc/sysrq-trigger'),
    keys: '0', // /dev/null over it
    kcore: existsSync('/proc/kcore') ? '0' : got.kcore,
  });
});

both('device nodes cannot be created (FIFOs can)', async (t, mode) => {
  const { got } = await attempt(t, mode, () => [
    line('char', 'probe mknod-char /tmp/mem'),
    line('dev', 'probe mknod-char /dev/evil'),
    line('fifo', 'probe mknod-fifo /tmp/fifo'),
  ].join('; '));
  t.deepEqual(got, { char: 'errno EPERM', dev: 'errno EPERM', fifo: 'ok' });
});

both('a host process cannot be ptraced', async (t, mode) => {
  const victim = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => victim.kill('SIGKILL'));
  const pid = victim.pid!;
  const { got } = await attempt(t, mode, () => [
    line('attach', `probe ptrace-attach ${pid}`),
    line('seize', `probe ptrace-seize ${pid}`),
    line('attach1', 'probe ptrace-attach 1'),
  ].join('; '));
  t.deepEqual(got, { attach: 'errno EPERM', seize: 'errno EPERM', attach1: 'errno EPERM' });
  t.regex(readFileSync(`/proc/${pid}/status`, 'utf8'), /^TracerPid:\s+0$/m, 'the host process is not traced');
});

both('kernel modules cannot be loaded or removed', async (t, mode) => {
  const { got } = await attempt(t, mode, () => [
    line('init', 'probe init_module'),
    line('finit', 'probe finit_module'),
    line('delete', 'probe delete_module'),
    line('kexec', 'probe kexec_load'),
  ].join('; '));
  t.deepEqual(got, { init: 'errno EPERM', finit: 'errno EPERM', delete: 'errno EPERM', kexec: 'errno EPERM' });
});

both('.. , a chroot break, symlinks and /proc/1/root all stay inside the root', async (t, mode) => {
  const { got, marker } = await attempt(t, mode, (m) => [
    line('dotdot', `probe open /../../../../../..${m}`),
    line('cd', 'cd /../../../.. && echo $(pwd) $(ls -d bin/probe)'),
    line('chroot', `probe chroot-break ${m}`),
    line('abslink', 'probe open /abslink'),
    line('rellink', 'probe open /rellink'),
    line('proc1', `probe open /proc/1/root${m}`),
    line('proc1dotdot', `probe open /proc/1/root/../../../..${m}`),
    line('proc1ls', 'ls /proc/1/root/bin/probe'),
    line('procself', `probe open /proc/self/root/../..${m}`),
  ].join('; '), (c, b) => {
    // image symlinks aiming at the host path, absolutely and through ..
    symlinkSync(join(b.base, 'host-marker'), join(b.lower, 'abslink'));
    symlinkSync(`../../../../../..${join(b.base, 'host-marker')}`, join(b.lower, 'rellink'));
  });
  t.is(readFileSync(marker, 'utf8'), 'host secret\n', 'the marker is there on the host');
  t.deepEqual(got, {
    dotdot: 'errno ENOENT',
    cd: '/ bin/probe',
    chroot: 'errno ENOENT',
    abslink: 'errno ENOENT',
    rellink: 'errno ENOENT',
    proc1: 'errno ENOENT',
    proc1dotdot: 'errno ENOENT',
    proc1ls: '/proc/1/root/bin/probe',
    procself: 'errno ENOENT',
  });
});

/** A setuid-root copy of the probe in the image, run by uid 1000: prints its ids, then tries setuid(0). */
async function setuidAttempt(t: ExecutionContext, mode: Mode, noNewPrivs: boolean) {
  return attempt(t, mode, () => [
    line('mode', 'stat -c "%A %u" /bin/suprobe'),
    line('ids', 'suprobe ids'),
    line('setuid', 'suprobe setuid0'),
    line('caps', 'grep CapEff /proc/self/status'),
  ].join('; '), (c, b) => {
    installProbe(b.lower, 'suprobe');
    c.process.user = { uid: 1000, gid: 1000 };
    c.process.noNewPrivileges = noNewPrivs;
  }, (b) => {
    // after makeBundle's chown (which clears set-id bits): owned by container root, setuid
    chmodSync(join(b.lower, 'bin', 'suprobe'), 0o4755);
  });
}

both('a setuid-root binary in the image does not raise a non-root user', async (t, mode) => {
  const { got } = await setuidAttempt(t, mode, true);
  t.deepEqual(got, {
    mode: '-rwsr-xr-x 0', // it is setuid root inside the container
    ids: 'ruid=1000 euid=1000 suid=1000',
    setuid: 'errno EPERM',
    caps: 'CapEff:\t0000000000000000',
  });
});

both('(control) without no_new_privs the same binary does run setuid', async (t, mode) => {
  // Shows the test above can fail: the bit works, no_new_privs is what stops it. Container root
  // is still not host root.
  const { got } = await setuidAttempt(t, mode, false);
  t.is(got.ids, 'ruid=1000 euid=0 suid=0');
});

/**
 * Runs the probe's TIOCSTI attempts with the runtime on a terminal (script(1) gives it one as its
 * controlling terminal, as when someone runs it from a shell): a container that inherits the
 * terminal could otherwise type commands into the caller's shell.
 */
async function tiocsti(t: ExecutionContext, mode: Mode, filter: boolean): Promise<string[]> {
  const b = makeBundle(mode, ['sh', '-c', 'probe tiocsti; probe tiocsti-high'], (c, bb) => {
    serviceProfile(c);
    if (!filter) delete c.linux.seccomp;
    installProbe(bb.lower);
  });
  t.teardown(() => removeBundle(b));
  const onTerminal = ['bash', '-c', 'exec script -qec "$(printf "%q " "$@")" /dev/null', 'bash'];
  const r = await finish(b, start(b, [], true, { prefix: onTerminal }));
  assertNoHostMounts(t, b);
  t.is(r.code, 0, `${r.stderr} ${JSON.stringify(r.status)}`);
  return r.stdout.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}

both('a container on the caller\'s terminal cannot type into it (TIOCSTI)', async (t, mode) => {
  t.deepEqual(await tiocsti(t, mode, true), ['errno EPERM', 'errno EPERM']);
});

both('(control) without the filter TIOCSTI reaches the terminal', async (t, mode) => {
  // The kernel itself refuses it with EIO where dev.tty.legacy_tiocsti is 0 (6.2+).
  let legacy = true;
  try {
    legacy = readFileSync('/proc/sys/dev/tty/legacy_tiocsti', 'utf8').trim() === '1';
  } catch {
    // older kernels: always allowed
  }
  const want = legacy ? 'ok' : 'errno EIO';
  t.deepEqual(await tiocsti(t, mode, false), [want, want]);
});
