/**
 * Privileges inside a container, as the namespace service configures them (oci-bundle.ts):
 * docker's default capability set, no_new_privs and the seccomp filter of seccomp-profile.ts,
 * compiled by the runtime with libseccomp. Read from inside (/proc/self/status) and tried out with
 * the probe (test/helpers/probe.c), which prints "ok" or the errno of one operation.
 */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Config, type Mode, registerRuntimeHooks, both, runIn, serviceProfile,
} from '../helpers/runtime-bundle.js';
import { installProbe, registerProbeHooks } from '../helpers/probe.js';
import { scaled } from '../helpers/time.js';
registerRuntimeHooks();
registerProbeHooks();

/** CapEff/CapPrm/CapBnd of docker's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP */
const DOCKER_CAPS = '00000000a80425fb';

function withProbe(more?: (c: Config) => void) {
  return (c: Config, b: { lower: string }) => {
    serviceProfile(c);
    installProbe(b.lower);
    for (const a of ['grep', 'wc', 'nc', 'mkfifo', 'rm', 'mkdir', 'date', 'sort']) symlinkSync('busybox', join(b.lower, 'bin', a));
    more?.(c);
  };
}

/** Runs `probe OP ARGS` for each line of OPS in one container; returns {"OP ARGS": "ok" | "errno X"}. */
async function probeAll(t: Parameters<Parameters<typeof both>[1]>[0], mode: Mode, ops: string[], more?: (c: Config) => void) {
  const script = ops.map((o) => `echo "${o}: $(probe ${o})"`).join('; ');
  const r = await runIn(t, mode, ['sh', '-c', script], withProbe(more));
  t.is(r.code, 0, `${r.stderr} ${JSON.stringify(r.status)}`);
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(': ') as [string, string]));
}

both('/proc/self/status: Seccomp 2, NoNewPrivs 1, docker\'s capability set', async (t, mode) => {
  const r = await runIn(t, mode, ['grep', '-E', '^(Cap(Eff|Prm|Bnd|Inh|Amb)|NoNewPrivs|Seccomp|Seccomp_filters):', '/proc/self/status'], withProbe());
  t.is(r.code, 0, JSON.stringify(r.status));
  const f = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(/:\s+/) as [string, string]));
  t.deepEqual(f, {
    CapInh: '0000000000000000', CapPrm: DOCKER_CAPS, CapEff: DOCKER_CAPS, CapBnd: DOCKER_CAPS, CapAmb: '0000000000000000',
    NoNewPrivs: '1', Seccomp: '2', Seccomp_filters: '1',
  });
});

both('the filter denies namespaces, mounts, attaching, keyrings, bpf, perf, modules, kexec, reboot, swap', async (t, mode) => {
  const got = await probeAll(t, mode, [
    'unshare user', 'unshare mnt', 'unshare net', 'unshare pid', 'unshare uts', 'unshare ipc', 'unshare cgroup', 'unshare time',
    'clone user', 'clone mnt', 'clone net', 'clone3', 'setns /proc/self/ns/net',
    'mount /tmp', 'umount /proc', 'pivot_root /tmp /tmp',
    'ptrace-attach 1', 'ptrace-seize 1', 'keyctl', 'add_key', 'bpf', 'perf_event_open',
    'init_module', 'finit_module', 'delete_module', 'kexec_load', 'reboot', 'swapon',
  ]);
  const want: Record<string, string> = Object.fromEntries(Object.keys(got).map((k) => [k, 'errno EPERM']));
  want.clone3 = 'errno ENOSYS'; // so libc falls back to clone, whose flags the filter can read
  t.deepEqual(got, want);
});

both('a syscall the filter does not know (fchmodat2, newer than the libseccomp here) fails with ENOSYS, never EPERM: libc falls back', async (t, mode) => {
  const { fchmodat2 } = await probeAll(t, mode, ['fchmodat2']);
  // ENOENT: a libseccomp that knows it allows it and the kernel has it; ENOSYS: the filter's default, or an older kernel
  t.true(['errno ENOSYS', 'errno ENOENT'].includes(fchmodat2), fchmodat2);
});

both('a syscall of another architecture (32-bit int 0x80 on x86_64) fails with ENOSYS', async (t, mode) => {
  if (process.arch !== 'x64') {
    t.pass('x86_64 only');
    return;
  }
  t.deepEqual(await probeAll(t, mode, ['getpid32']), { getpid32: 'errno ENOSYS' });
  t.deepEqual(await probeAll(t, mode, ['getpid32'], (c) => delete c.linux.seccomp), { getpid32: 'ok' }, 'the kernel has the 32-bit entry');
});

both('what ordinary programs do still works under the filter', async (t, mode) => {
  const got = await probeAll(t, mode, ['unshare files', 'clone files', 'ptrace-traceme', 'mknod-fifo /tmp/fifo', 'open /etc/passwd']);
  t.deepEqual(got, { 'unshare files': 'ok', 'clone files': 'ok', 'ptrace-traceme': 'ok', 'mknod-fifo /tmp/fifo': 'ok', 'open /etc/passwd': 'ok' });
  const script = [
    'ls /bin/probe', 'ps -o pid,comm >/tmp/ps; wc -l </tmp/ps', 'cat /etc/passwd', 'mkdir -p /tmp/a/b && echo x > /tmp/a/b/f && rm -r /tmp/a && echo files',
    'mkfifo /tmp/p && (echo through > /tmp/p &) && cat /tmp/p', 'sleep 0.01 & wait $! && echo waited',
    'printf "b\\na\\n" | sort | wc -l', 'date +%Y >/dev/null && echo date',
    // sockets on the container's own loopback: a refused connection, then a listener and a client
    'nc 127.0.0.1 1 </dev/null 2>&1 | grep -o refused',
    // the listener may take a while to start on a slow (emulated) machine: retry the client
    `nc -l -p 5555 >/tmp/got & i=0; while [ $i -lt ${Math.ceil(scaled(3000) / 100)} ]; do echo hi | nc 127.0.0.1 5555 2>/dev/null && break; i=$((i+1)); sleep 0.1; done; wait; cat /tmp/got`,
  ].join('; ');
  const r = await runIn(t, mode, ['sh', '-c', script], withProbe());
  t.is(r.code, 0, `${r.stderr} ${JSON.stringify(r.status)}`);
  t.deepEqual(r.stdout.trim().split('\n').map((l) => l.trim()), [
    '/bin/probe', '3', 'root:x:0:0:root:/root:/bin/sh', 'files', 'through', 'waited', '2', 'date', 'refused', 'hi',
  ]);
});

both('without the seccomp section the same calls reach the kernel (the filter is what denies)', async (t, mode) => {
  const got = await probeAll(t, mode, ['keyctl', 'clone3', 'unshare user'], (c) => delete c.linux.seccomp);
  // keyctl and clone3 work in a user namespace; a nested user namespace too (unshare is not capability-checked)
  t.deepEqual(got, { keyctl: 'ok', clone3: 'ok', 'unshare user': 'ok' });
});

both('without no_new_privs the filter is loaded before the capabilities go (non-root user)', async (t, mode) => {
  const r = await runIn(t, mode, ['sh', '-c', 'grep -E "^(NoNewPrivs|Seccomp|CapEff):" /proc/self/status; probe keyctl'], withProbe((c) => {
    c.process.noNewPrivileges = false;
    c.process.user = { uid: 1000, gid: 1000 };
  }));
  t.is(r.code, 0, JSON.stringify(r.status));
  t.is(r.stdout.replace(/[ \t]+/g, ' '), 'CapEff: 0000000000000000\nNoNewPrivs: 0\nSeccomp: 2\nerrno EPERM\n');
});

const malformed: Array<[string, (s: Config) => void, string]> = [
  ['an unknown action', (s) => (s.syscalls[0].action = 'SCMP_ACT_MAYBE'), 'linux.seccomp.syscalls[0].action: unknown action "SCMP_ACT_MAYBE"'],
  ['an unknown operator', (s) => (s.syscalls[2].args[0].op = 'SCMP_CMP_ABOUT'), 'linux.seccomp.syscalls[2].args[0].op: unknown operator "SCMP_CMP_ABOUT"'],
  ['an argument index above 5', (s) => (s.syscalls[2].args[0].index = 6), 'linux.seccomp.syscalls[2].args[0].index: must be a non-negative integer in range'],
  ['an unknown architecture', (s) => (s.architectures = ['SCMP_ARCH_PDP11']), 'linux.seccomp.architectures[0]: unknown architecture "SCMP_ARCH_PDP11"'],
  ['names not an array', (s) => (s.syscalls[0].names = 'read'), 'linux.seccomp.syscalls[0].names: must be an array of strings'],
  ['no default action', (s) => delete s.defaultAction, 'linux.seccomp.defaultAction: is required and must be a string'],
  ['an errno out of range', (s) => (s.defaultErrnoRet = 70000), 'linux.seccomp.defaultErrnoRet: must be a non-negative integer in range'],
];
for (const [what, edit, error] of malformed) {
  both(`a seccomp section with ${what} is a one-line setup error`, async (t, mode) => {
    const r = await runIn(t, mode, ['true'], withProbe((c) => edit(c.linux.seccomp)));
    t.is(r.code, 125);
    t.deepEqual(r.status, { exitCode: 125, error: `config.json: ${error}`, stage: 'setup' });
  });
}

