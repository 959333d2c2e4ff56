/**
 * The seccomp filter every container gets: an OCI `linux.seccomp` allowlist in the spirit of
 * docker's default profile, written from the syscall man pages for docker's default capability
 * set (oci-bundle.ts). What it denies fails with EPERM, as under docker; a syscall it does not
 * know (newer than this profile or than the libseccomp compiling it) fails with ENOSYS, as under
 * podman, so a libc that probes a new syscall falls back to the old one instead of failing.
 *
 * Denied, because they reach past the container's namespaces or into the kernel itself: new
 * namespaces (clone/unshare namespace flags, setns), mounting (mount, umount2, pivot_root and the
 * new mount API), attaching to another process (ptrace ATTACH/SEIZE, process_vm_*, kcmp),
 * keyrings, bpf, perf_event_open, kexec, modules, reboot, swap, clocks, accounting, quotas,
 * syslog, raw I/O ports, open_by_handle_at, userfaultfd, io_uring, personalities other than the
 * harmless ones, obsolete syscalls, and the TIOCSTI ioctl (typing into a terminal the container
 * inherited). clone3 gets ENOSYS: its flags live in memory a filter
 * cannot read, so libc must fall back to clone, whose flags are checked.
 */

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';
}

export interface SeccompRule {
  names: string[];
  action: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO';
  errnoRet?: number;
  args?: SeccompArg[];
}

export interface SeccompProfile {
  defaultAction: 'SCMP_ACT_ERRNO';
  defaultErrnoRet: number;
  architectures: string[];
  syscalls: SeccompRule[];
}

export const EPERM = 1;
export const ENOSYS = 38;

/** clone(2)/unshare(2) flags that create namespaces (CLONE_NEWTIME only through unshare/clone3). */
export const CLONE_NS_FLAGS = {
  CLONE_NEWTIME: 0x80,
  CLONE_NEWNS: 0x20000,
  CLONE_NEWCGROUP: 0x2000000,
  CLONE_NEWUTS: 0x4000000,
  CLONE_NEWIPC: 0x8000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
} as const;

/**
 * Denied outright with EPERM. The calls allowed only with some arguments (clone, unshare, ptrace,
 * ioctl, personality) get their EPERM rules next to their allow rules in defaultSeccompProfile.
 */
export const DENIED = [
  // mounting, the new mount API, and other namespaces
  'mount', 'umount', 'umount2', 'pivot_root', 'move_mount', 'open_tree', 'fsopen', 'fsconfig', 'fsmount', 'fspick',
  'mount_setattr', 'setns',
  // other processes' memory
  'process_vm_readv', 'process_vm_writev', 'kcmp',
  // the kernel itself
  'keyctl', 'add_key', 'request_key', 'bpf', 'perf_event_open', 'kexec_load', 'kexec_file_load', 'init_module',
  'finit_module', 'delete_module', 'create_module', 'query_module', 'get_kernel_syms', 'reboot', 'swapon', 'swapoff',
  'acct', 'settimeofday', 'stime', 'clock_settime', 'clock_settime64', 'clock_adjtime', 'clock_adjtime64', 'adjtimex',
  'syslog', 'iopl', 'ioperm', 'open_by_handle_at', 'userfaultfd', 'io_uring_setup', 'io_uring_enter',
  'io_uring_register', 'quotactl', 'quotactl_fd', 'lookup_dcookie', 'vhangup', 'sethostname', 'setdomainname',
  'fanotify_init', 'nfsservctl', 'uselib', 'ustat', 'sysfs', '_sysctl', 'modify_ldt', 'vm86', 'vm86old', 'mbind',
  'set_mempolicy', 'migrate_pages', 'move_pages', 'pciconfig_read', 'pciconfig_write', 'pciconfig_iobase',
  'afs_syscall', 'tuxcall', 'vserver', 'security', 'getpmsg', 'putpmsg', 'bdflush',
];

/** Grouped by what they are for; several exist only on some architectures (libseccomp skips the rest). */
const ALLOWED: Record<string, string[]> = {
  files: [
    'read', 'write', 'readv', 'writev', 'pread64', 'pwrite64', 'preadv', 'pwritev', 'preadv2', 'pwritev2',
    'open', 'openat', 'openat2', 'creat', 'close', 'close_range', 'lseek', '_llseek', 'dup', 'dup2', 'dup3',
    'fcntl', 'fcntl64', 'flock', 'fsync', 'fdatasync', 'sync', 'syncfs', 'sync_file_range', 'sync_file_range2',
    'truncate', 'truncate64', 'ftruncate', 'ftruncate64', 'fallocate', 'fadvise64', 'fadvise64_64', 'arm_fadvise64_64',
    'readahead', 'sendfile', 'sendfile64', 'splice', 'tee', 'vmsplice', 'copy_file_range',
  ],
  metadata: [
    'stat', 'stat64', 'lstat', 'lstat64', 'fstat', 'fstat64', 'newfstatat', 'fstatat64', 'statx', 'statfs',
    'statfs64', 'fstatfs', 'fstatfs64', 'access', 'faccessat', 'faccessat2', 'readlink', 'readlinkat', 'getdents',
    'getdents64', 'chdir', 'fchdir', 'getcwd', 'chroot', 'mkdir', 'mkdirat', 'rmdir', 'rename', 'renameat', 'renameat2',
    'link', 'linkat', 'symlink', 'symlinkat', 'unlink', 'unlinkat', 'chmod', 'fchmod', 'fchmodat', 'chown', 'chown32',
    'fchown', 'fchown32', 'fchownat', 'lchown', 'lchown32', 'utime', 'utimes', 'utimensat', 'utimensat_time64',
    'futimesat', 'umask', 'mknod', 'mknodat', 'name_to_handle_at',
    'getxattr', 'lgetxattr', 'fgetxattr', 'setxattr', 'lsetxattr', 'fsetxattr', 'listxattr', 'llistxattr',
    'flistxattr', 'removexattr', 'lremovexattr', 'fremovexattr',
    'inotify_init', 'inotify_init1', 'inotify_add_watch', 'inotify_rm_watch', 'fanotify_mark',
  ],
  memory: [
    'brk', 'mmap', 'mmap2', 'munmap', 'mremap', 'mprotect', 'pkey_mprotect', 'pkey_alloc', 'pkey_free', 'madvise',
    'mincore', 'mlock', 'mlock2', 'munlock', 'mlockall', 'munlockall', 'msync', 'membarrier', 'memfd_create',
    'remap_file_pages', 'get_mempolicy', 'cacheflush', 'set_thread_area', 'get_thread_area', 'arch_prctl',
  ],
  processes: [
    'fork', 'vfork', 'execve', 'execveat', 'exit', 'exit_group', 'wait4', 'waitid', 'waitpid',
    'getpid', 'getppid', 'gettid', 'getpgid', 'setpgid', 'getpgrp', 'getsid', 'setsid',
    'set_tid_address', 'set_robust_list', 'get_robust_list', 'futex', 'futex_time64', 'futex_waitv', 'rseq',
    'prctl', 'getrlimit', 'setrlimit', 'ugetrlimit', 'prlimit64', 'getrusage', 'times', 'getpriority', 'setpriority',
    'ioprio_get', 'ioprio_set', 'sched_yield', 'sched_getaffinity', 'sched_setaffinity', 'sched_getparam',
    'sched_setparam', 'sched_getscheduler', 'sched_setscheduler', 'sched_get_priority_max', 'sched_get_priority_min',
    'sched_rr_get_interval', 'sched_rr_get_interval_time64', 'sched_getattr', 'sched_setattr',
    'pidfd_open', 'pidfd_send_signal', 'process_mrelease', 'restart_syscall', 'uname', 'getcpu', 'sysinfo',
    'landlock_create_ruleset', 'landlock_add_rule', 'landlock_restrict_self', 'seccomp',
  ],
  credentials: [
    'getuid', 'getuid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getegid', 'getegid32', 'getresuid',
    'getresuid32', 'getresgid', 'getresgid32', 'getgroups', 'getgroups32', 'setuid', 'setuid32', 'setgid', 'setgid32',
    'setreuid', 'setreuid32', 'setregid', 'setregid32', 'setresuid', 'setresuid32', 'setresgid', 'setresgid32',
    'setfsuid', 'setfsuid32', 'setfsgid', 'setfsgid32', 'setgroups', 'setgroups32', 'capget', 'capset',
  ],
  signals: [
    'kill', 'tkill', 'tgkill', 'rt_sigqueueinfo', 'rt_tgsigqueueinfo', 'rt_sigaction', 'rt_sigprocmask',
    'rt_sigreturn', 'rt_sigpending', 'rt_sigsuspend', 'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'sigaltstack',
    'signalfd', 'signalfd4', 'sigaction', 'sigprocmask', 'sigpending', 'sigsuspend', 'sigreturn', 'signal', 'pause',
  ],
  time: [
    'time', 'gettimeofday', 'clock_gettime', 'clock_gettime64', 'clock_getres', 'clock_getres_time64',
    'clock_nanosleep', 'clock_nanosleep_time64', 'nanosleep', 'alarm', 'getitimer', 'setitimer', 'timer_create',
    'timer_settime', 'timer_settime64', 'timer_gettime', 'timer_gettime64', 'timer_getoverrun', 'timer_delete',
    'timerfd_create', 'timerfd_settime', 'timerfd_settime64', 'timerfd_gettime', 'timerfd_gettime64',
  ],
  waiting: [
    'select', '_newselect', 'pselect6', 'pselect6_time64', 'poll', 'ppoll', 'ppoll_time64', 'epoll_create',
    'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_wait', 'epoll_wait_old', 'epoll_pwait', 'epoll_pwait2',
    'eventfd', 'eventfd2', 'io_setup', 'io_destroy', 'io_submit', 'io_cancel', 'io_getevents', 'io_pgetevents',
    'io_pgetevents_time64',
  ],
  ipc: [
    'pipe', 'pipe2', 'shmget', 'shmat', 'shmdt', 'shmctl', 'semget', 'semop', 'semtimedop', 'semtimedop_time64',
    'semctl', 'msgget', 'msgsnd', 'msgrcv', 'msgctl', 'ipc', 'mq_open', 'mq_unlink', 'mq_timedsend',
    'mq_timedsend_time64', 'mq_timedreceive', 'mq_timedreceive_time64', 'mq_notify', 'mq_getsetattr',
  ],
  network: [
    'socket', 'socketpair', 'socketcall', 'bind', 'listen', 'accept', 'accept4', 'connect', 'getsockname',
    'getpeername', 'sendto', 'recvfrom', 'send', 'recv', 'sendmsg', 'recvmsg', 'sendmmsg', 'recvmmsg', 'shutdown',
    'setsockopt', 'getsockopt',
  ],
  random: ['getrandom'],
  // Newer kernels' variants of calls allowed above (skipped by a libseccomp too old to know them,
  // and then ENOSYS like any syscall the filter does not know, so libc falls back to the old call).
  newer: [
    'fchmodat2', 'cachestat', 'futex_wake', 'futex_wait', 'futex_requeue', 'map_shadow_stack', 'mseal',
    'getxattrat', 'setxattrat', 'listxattrat', 'removexattrat',
  ],
};

/**
 * ptrace(2) requests that act on a tracee the caller already has (or make the caller a tracee:
 * PTRACE_TRACEME, what gdb and strace use to start a program). PTRACE_ATTACH (16) and
 * PTRACE_SEIZE (0x4206), which take hold of some other process, are not among them.
 */
export const PTRACE_ALLOWED_REQUESTS = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 17, 18, 19, 24, 25, 26, 30, 31, 32, 33,
  0x4200, 0x4201, 0x4202, 0x4203, 0x4204, 0x4205, 0x4207, 0x4208, 0x4209, 0x420a, 0x420b, 0x420e, 0x420f,
];

/** TIOCSTI: pushes a byte into a terminal's input, as if typed: into the caller's shell, from a container that inherited its terminal. */
export const TIOCSTI = 0x5412;

/**
 * ioctl with any request but TIOCSTI. The kernel reads the request as 32 bits, so 1<<32|TIOCSTI
 * is TIOCSTI too: the filter compares the low 32 bits only. An allowlist cannot say "not equal
 * under a mask", so it says "differs in some low bit": one rule per bit (ORed), each matching the
 * requests whose bit k is not TIOCSTI's bit k.
 */
function ioctlWithoutTiocsti(): SeccompArg[] {
  const args: SeccompArg[] = [];
  for (let k = 0; k < 32; k++) {
    const bit = 2 ** k;
    args.push({ index: 1, value: bit, valueTwo: TIOCSTI & bit ? 0 : bit, op: 'SCMP_CMP_MASKED_EQ' });
  }
  return args;
}

/** personality(2) values docker also allows: Linux, with ADDR_NO_RANDOMIZE and/or UNAME26, and the query. */
const PERSONALITIES = [0x0, 0x0008, 0x20000, 0x20008, 0xffffffff];

/** the syscalls the profile allows unconditionally (for tests and docs) */
export function allowedSyscalls(): string[] {
  return Object.values(ALLOWED).flat();
}

/**
 * Only the native architecture: a 32-bit (or x32) program's syscalls fail with ENOSYS. Docker
 * also lists the compat architectures; we do not, for a smaller kernel surface (the compat entry
 * points have had their own bugs) and because each extra architecture costs libseccomp several
 * ms more per run to compile (measured for this profile: ~1.3 ms x86_64 alone, ~5 ms with x86,
 * ~15 ms with x86 and x32). A bundle may still list more; the runtime compiles what it is given.
 */
function architectures(arch: string): string[] {
  switch (arch) {
    case 'x64': return ['SCMP_ARCH_X86_64'];
    case 'arm64': return ['SCMP_ARCH_AARCH64'];
    case 'ia32': return ['SCMP_ARCH_X86'];
    case 'arm': return ['SCMP_ARCH_ARM'];
    default: return []; // the runtime's native architecture
  }
}

const nsMask = (flags: number[]): number => flags.reduce((a, f) => a | f, 0) >>> 0;
/** (arg0 & f) == f for any of `flags`: one comparison per flag on the same index, ORed */
const anyFlag = (flags: number[]): SeccompArg[] => flags.map((f) => ({ index: 0, value: f, valueTwo: f, op: 'SCMP_CMP_MASKED_EQ' as const }));
export const PTRACE_ATTACH = 16;
export const PTRACE_SEIZE = 0x4206;

export function defaultSeccompProfile(arch: string = process.arch): SeccompProfile {
  const { CLONE_NEWTIME, ...cloneFlags } = CLONE_NS_FLAGS;
  const cloneMask = nsMask(Object.values(cloneFlags));
  const unshareMask = nsMask([...Object.values(cloneFlags), CLONE_NEWTIME]);
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: ENOSYS,
    architectures: architectures(arch),
    syscalls: [
      { names: allowedSyscalls(), action: 'SCMP_ACT_ALLOW' },
      { names: DENIED, action: 'SCMP_ACT_ERRNO', errnoRet: EPERM },
      // Threads and processes, but no new namespace: (flags & mask) == 0; any namespace flag: EPERM.
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: cloneMask, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['clone'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: anyFlag(Object.values(cloneFlags)) },
      // unshare of CLONE_FILES/CLONE_FS/CLONE_SYSVSEM only.
      { names: ['unshare'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: unshareMask, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['unshare'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: anyFlag([...Object.values(cloneFlags), CLONE_NEWTIME]) },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
      // One rule per value (the same index repeated: ORed).
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: PERSONALITIES.map((value) => ({ index: 0, value, op: 'SCMP_CMP_EQ' as const })) },
      { names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: ioctlWithoutTiocsti() },
      { names: ['ioctl'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 1, value: 0xffffffff, valueTwo: TIOCSTI, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', args: PTRACE_ALLOWED_REQUESTS.map((value) => ({ index: 0, value, op: 'SCMP_CMP_EQ' as const })) },
      { names: ['ptrace'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [PTRACE_ATTACH, PTRACE_SEIZE].map((value) => ({ index: 0, value, op: 'SCMP_CMP_EQ' as const })) },
    ],
  };
}
