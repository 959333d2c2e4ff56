/**
 * The seccomp profile the namespace service writes (seccomp-profile.ts): what it must never
 * allow, how clone/unshare flags are filtered, and that every bundle carries it.
 */
import test from 'ava';
import { allowedSyscalls, defaultSeccompProfile, DENIED, ENOSYS, EPERM, PTRACE_ALLOWED_REQUESTS, PTRACE_ATTACH, PTRACE_SEIZE, TIOCSTI } from '../../services/namespace/seccomp-profile.js';
import { buildSpec } from '../../services/namespace/oci-bundle.js';
import type { RunContainerDto } from '../../lib/contracts/namespace.dto.js';

/** reach past the container's namespaces or into the kernel: never allowed unconditionally */
const NEVER = [
  'mount', 'umount', 'umount2', 'pivot_root', 'move_mount', 'open_tree', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'mount_setattr',
  'unshare', 'setns', 'clone', 'clone3', 'ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp',
  'keyctl', 'add_key', 'request_key', 'bpf', 'perf_event_open', 'kexec_load', 'kexec_file_load',
  'init_module', 'finit_module', 'delete_module', 'create_module', 'reboot', 'swapon', 'swapoff', 'acct',
  'settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex', 'syslog', 'iopl', 'ioperm', 'open_by_handle_at',
  'userfaultfd', 'io_uring_setup', 'io_uring_enter', 'io_uring_register', 'quotactl', 'lookup_dcookie', 'vhangup',
  'personality', 'sethostname', 'setdomainname', 'fanotify_init', 'nfsservctl', 'uselib', 'ustat', 'sysfs', '_sysctl',
  'modify_ldt', 'vm86', 'vm86old', 'mbind', 'migrate_pages', 'move_pages',
];

test('unknown syscalls get ENOSYS; nothing that reaches past the namespaces is allowed outright, and each of them gets EPERM', (t) => {
  const p = defaultSeccompProfile('x64');
  t.is(p.defaultAction, 'SCMP_ACT_ERRNO');
  t.is(p.defaultErrnoRet, ENOSYS);
  const allowed = new Set(allowedSyscalls());
  t.deepEqual(NEVER.filter((n) => allowed.has(n)), []);
  t.is(allowed.size, allowedSyscalls().length, 'no name listed twice');
  t.deepEqual(p.syscalls[0], { names: allowedSyscalls(), action: 'SCMP_ACT_ALLOW' });
  t.deepEqual(DENIED.filter((n) => allowed.has(n)), []);
  // every never-allowed call is denied with EPERM, outright or (the conditional ones) by an EPERM rule of its own
  const eperm = new Set(p.syscalls.filter((r) => r.action === 'SCMP_ACT_ERRNO' && r.errnoRet === EPERM).flatMap((r) => r.names));
  t.deepEqual(NEVER.filter((n) => !eperm.has(n) && n !== 'clone3' && n !== 'personality'), []);
});

test('clone and unshare with any namespace flag, PTRACE_ATTACH/SEIZE and TIOCSTI get EPERM rules', (t) => {
  const p = defaultSeccompProfile('x64');
  const denyRule = (name: string) => p.syscalls.find((s) => s.names.includes(name) && s.action === 'SCMP_ACT_ERRNO' && s.errnoRet === EPERM && s.args)!;
  const matches = (name: string, v: bigint) => denyRule(name).args!.some((a) => (v & BigInt(a.value)) === BigInt(a.valueTwo ?? a.value));
  t.true(matches('clone', 0x10000000n | 0x11n), 'CLONE_NEWUSER');
  t.true(matches('clone', 0x40000000n), 'CLONE_NEWNET');
  t.false(matches('clone', 0x3d0f00n), 'a thread');
  t.true(matches('unshare', 0x80n), 'CLONE_NEWTIME');
  t.false(matches('unshare', 0x400n), 'CLONE_FILES');
  t.deepEqual(denyRule('ptrace').args!.map((a) => a.value).sort(), [PTRACE_ATTACH, PTRACE_SEIZE].sort());
  t.true(matches('ioctl', BigInt(TIOCSTI)));
  t.true(matches('ioctl', (1n << 32n) | BigInt(TIOCSTI)), 'only the low 32 bits count');
  t.false(matches('ioctl', 0x5413n), 'TIOCGWINSZ');
});

test('clone is allowed only without namespace flags; unshare also without CLONE_NEWTIME; clone3 is ENOSYS', (t) => {
  const p = defaultSeccompProfile('x64');
  const rule = (name: string) => p.syscalls.find((s) => s.names.includes(name))!;
  // CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
  t.deepEqual(rule('clone').args, [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
  t.deepEqual(rule('unshare').args, [{ index: 0, value: 0x7e020080, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
  t.deepEqual(rule('clone3'), { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
});

test('ptrace: requests on one\'s own tracee only, never PTRACE_ATTACH or PTRACE_SEIZE', (t) => {
  const p = defaultSeccompProfile('x64');
  const values = p.syscalls.find((s) => s.names.includes('ptrace'))!.args!.map((a) => a.value);
  t.deepEqual(values, PTRACE_ALLOWED_REQUESTS);
  t.false(values.includes(16), 'PTRACE_ATTACH');
  t.false(values.includes(0x4206), 'PTRACE_SEIZE');
  t.true(values.includes(0), 'PTRACE_TRACEME');
});

test('the native architecture only', (t) => {
  t.deepEqual(defaultSeccompProfile('x64').architectures, ['SCMP_ARCH_X86_64']);
  t.deepEqual(defaultSeccompProfile('arm64').architectures, ['SCMP_ARCH_AARCH64']);
  t.deepEqual(defaultSeccompProfile('riscv64').architectures, []);
});

test('every bundle the service writes carries the profile, with no_new_privs and docker\'s capabilities', (t) => {
  const req = {
    process: { args: ['true'], env: [], cwd: '/', uid: 0, gid: 0 },
    rootfs: { lowerDirs: ['/l'], upperDir: '/u', workDir: '/w', mergedDir: '/m' },
    hostname: 'h',
    mounts: [],
    cgroupPaths: [],
  } as unknown as RunContainerDto;
  const ids = { uidMappings: [], gidMappings: [], rootUid: 0, rootGid: 0 };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const spec = buildSpec(req, ids, 'kernel') as any;
  t.deepEqual(spec.linux.seccomp, defaultSeccompProfile());
  t.true(spec.process.noNewPrivileges);
  t.false(spec.process.capabilities.bounding.includes('CAP_SYS_ADMIN'));
});

test('ioctl: every request but TIOCSTI, compared on the 32 bits the kernel reads', (t) => {
  const rule = defaultSeccompProfile('x64').syscalls.find((s) => s.names.includes('ioctl'))!;
  t.false(allowedSyscalls().includes('ioctl'), 'not allowed unconditionally');
  // the rules are ORed (one index repeated): allowed when any (arg & value) == valueTwo
  const allowed = (req: bigint) => rule.args!.some((a) => (req & BigInt(a.value)) === BigInt(a.valueTwo ?? 0));
  t.false(allowed(BigInt(TIOCSTI)));
  t.false(allowed((1n << 32n) | BigInt(TIOCSTI)), 'high bits do not sneak TIOCSTI through');
  for (const req of [0x5401n /* TCGETS */, 0x5413n /* TIOCGWINSZ */, 0x541bn /* FIONREAD */, 0x5411n, 0x5410n, 0x80045430n, 0xc0045877n]) {
    t.true(allowed(req), req.toString(16));
  }
});
