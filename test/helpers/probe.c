/*
 * probe: tries one privileged operation from inside a container and prints what happened, one
 * line: "ok" (it worked) or "errno ENAME" (it failed). Built static by test/helpers/probe.ts and
 * copied into the test root filesystem, so the escape and seccomp tests assert the exact errno.
 * Every operation is harmless on the host too (bad magic numbers, empty module images, a
 * chroot break that only reads), should a filter or a namespace ever fail to stop it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static int report(long rc)
{
	if (rc < 0)
		printf("errno %s\n", strerrorname_np(errno));
	else
		printf("ok\n");
	return 0;
}

static long ns_flag(const char *name)
{
	static const struct { const char *n; long f; } t[] = {
		{"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS}, {"pid", CLONE_NEWPID}, {"net", CLONE_NEWNET},
		{"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC}, {"cgroup", CLONE_NEWCGROUP}, {"time", 0x80},
		{"files", CLONE_FILES},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (!strcmp(name, t[i].n))
			return t[i].f;
	fprintf(stderr, "probe: unknown namespace %s\n", name);
	exit(2);
}

/* clone with FLAGS; the child exits at once. */
static long try_clone(long flags)
{
	long pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid;
}

/* fork, the child asks to be traced and stops; the parent continues it: ptrace of one's own child. */
static long traceme(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
			_exit(10 + errno);
		raise(SIGSTOP);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	if (WIFEXITED(st)) {
		errno = WEXITSTATUS(st) - 10;
		return -1;
	}
	long rc = ptrace(PTRACE_CONT, pid, NULL, NULL);
	waitpid(pid, &st, 0);
	return rc;
}

/* The classic chroot break, then an absolute path: it must still resolve inside the container. */
static long chroot_break(const char *path)
{
	mkdir("/tmp/jail", 0755);
	if (chroot("/tmp/jail") < 0)
		return -1;
	for (int i = 0; i < 64; i++)
		if (chdir("..") < 0)
			return -1;
	if (chroot(".") < 0)
		return -1;
	return open(path, O_RDONLY);
}

/* Writes TEXT to PATH. */
static long write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	return write(fd, text, strlen(text));
}

int main(int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";
	const char *a = argc > 2 ? argv[2] : "";
	const char *b = argc > 3 ? argv[3] : "";
	if (!strcmp(op, "unshare"))
		return report(unshare((int)ns_flag(a)));
	if (!strcmp(op, "clone"))
		return report(try_clone(ns_flag(a)));
	if (!strcmp(op, "clone3")) {
		/* A zeroed clone_args: what libc's pthread_create would start with. */
		unsigned long args[11] = {0};
		args[4] = SIGCHLD; /* exit_signal */
		long pid = syscall(SYS_clone3, args, sizeof args);
		if (pid == 0)
			_exit(0);
		if (pid > 0)
			waitpid((pid_t)pid, NULL, 0);
		return report(pid);
	}
	if (!strcmp(op, "setns"))
		return report(setns(open(a, O_RDONLY), 0));
	if (!strcmp(op, "mount"))
		return report(mount("none", a, "tmpfs", 0, NULL));
	if (!strcmp(op, "remount-rw"))
		return report(mount(NULL, a, NULL, MS_REMOUNT | MS_BIND, NULL));
	if (!strcmp(op, "umount"))
		return report(umount2(a, MNT_DETACH));
	if (!strcmp(op, "pivot_root"))
		return report(syscall(SYS_pivot_root, a, b));
	if (!strcmp(op, "keyctl"))
		return report(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
	if (!strcmp(op, "add_key"))
		return report(syscall(SYS_add_key, "user", "nbx-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING));
	if (!strcmp(op, "bpf"))
		return report(syscall(SYS_bpf, 0, NULL, 0));
	if (!strcmp(op, "perf_event_open")) {
		struct perf_event_attr attr = {.type = PERF_TYPE_SOFTWARE, .size = sizeof attr, .config = PERF_COUNT_SW_CPU_CLOCK};
		return report(syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
	}
	if (!strcmp(op, "init_module"))
		return report(syscall(SYS_init_module, "", 0, ""));
	if (!strcmp(op, "finit_module"))
		return report(syscall(SYS_finit_module, open("/bin/probe", O_RDONLY), "", 0));
	if (!strcmp(op, "delete_module"))
		return report(syscall(SYS_delete_module, "nbx_no_such_module", O_NONBLOCK));
	if (!strcmp(op, "kexec_load"))
		return report(syscall(SYS_kexec_load, 0, 0, NULL, 0));
	if (!strcmp(op, "reboot")) /* bad magic: EINVAL if it ever got through */
		return report(syscall(SYS_reboot, 0, 0, 0, NULL));
	if (!strcmp(op, "swapon"))
		return report(swapon("/nbx-no-such-swap", 0));
	if (!strcmp(op, "ptrace-attach"))
		return report(ptrace(PTRACE_ATTACH, (pid_t)atoi(a), NULL, NULL));
	if (!strcmp(op, "ptrace-seize"))
		return report(ptrace(PTRACE_SEIZE, (pid_t)atoi(a), NULL, NULL));
	if (!strcmp(op, "ptrace-traceme"))
		return report(traceme());
	if (!strcmp(op, "mknod-char"))
		return report(mknod(a, S_IFCHR | 0666, makedev(1, 3)));
	if (!strcmp(op, "mknod-fifo"))
		return report(mknod(a, S_IFIFO | 0666, 0));
	if (!strcmp(op, "open"))
		return report(open(a, O_RDONLY));
	if (!strcmp(op, "write"))
		return report(write_file(a, b));
	if (!strcmp(op, "chroot-break"))
		return report(chroot_break(a));
	if (!strcmp(op, "setuid0"))
		return report(setuid(0));
	if (!strcmp(op, "fchmodat2")) /* 452, Linux 6.6: newer than libseccomp 2.5 knows */
		return report(syscall(452, AT_FDCWD, "/nbx-no-such-file", 0644, 0));
	if (!strcmp(op, "getpid32")) { /* getpid through the 32-bit entry point (x86_64 only) */
#ifdef __x86_64__
		long rc = 20; /* __NR_getpid on i386 */
		__asm__ volatile("int $0x80" : "+a"(rc) : : "memory");
		if (rc < 0 && rc > -4096) {
			errno = (int)-rc;
			rc = -1;
		}
		return report(rc);
#else
		return report((errno = ENOSYS, -1));
#endif
	}
	if (!strcmp(op, "tiocsti")) { /* push a newline into stdin's terminal */
		char c = '\n';
		return report(ioctl(0, TIOCSTI, &c));
	}
	if (!strcmp(op, "tiocsti-high")) { /* the same with bit 32 set: the kernel reads 32 bits */
		char c = '\n';
		return report(syscall(SYS_ioctl, 0, (1UL << 32) | TIOCSTI, &c));
	}
	if (!strcmp(op, "ids")) {
		uid_t r, e, s;
		getresuid(&r, &e, &s);
		printf("ruid=%u euid=%u suid=%u\n", r, e, s);
		return 0;
	}
	fprintf(stderr, "probe: unknown operation \"%s\"\n", op);
	return 2;
}
