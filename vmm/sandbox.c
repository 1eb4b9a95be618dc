/* SPDX-License-Identifier: MIT
 * sandbox.c - per-thread seccomp allow-lists (see sandbox.h).
 *
 * The filters are built with libseccomp by the main thread before any
 * thread needs one, exported as classic BPF and kept; each thread then
 * installs its class's program with one seccomp(2) call, which allocates
 * nothing and cannot half-succeed. No filter is synchronised to other
 * threads (no TSYNC): every thread class gets exactly its own list.
 *
 * A call outside the list raises SIGSYS (SCMP_ACT_TRAP). The handler writes
 * one line with write(2) -- the names come from a table filled in
 * beforehand, nothing is allocated -- then sends itself SIGSYS again with
 * the default action (SA_RESETHAND), so the process dies of SIGSYS.
 *
 * The lists were taken from strace runs of real workloads (see
 * docs/security.md, "The seccomp sandbox"); libseccomp's syscall names are
 * the same on every architecture, a name the architecture lacks is skipped.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#define NAME_TABLE_LEN 512 /* syscall numbers named in the message */
#define NAME_LEN 28

/* Every thread: memory, locks, time, logging, leaving, signals. */
static const char *const common_calls[] = {
	"read", "write", "readv", "writev", "close",
	"futex", "madvise", "mmap", "munmap", "mprotect", "mremap", "brk",
	"clock_gettime", "clock_getres", "gettimeofday", "time",
	"clock_nanosleep", "nanosleep", "sched_yield",
	"gettid", "getpid", "exit", "exit_group",
	"rt_sigreturn", "rt_sigprocmask", "restart_syscall",
	NULL,
};

/* vCPU threads: KVM_RUN and the device models they run (port and MMIO
 * exits): disk I/O of the IDE disks, interrupt and ioeventfd ioctls, the
 * console's output (poll on stdout and the stop eventfd), the e1000 and
 * virtio registers that wake I/O threads or arm timers. */
static const char *const vcpu_calls[] = {
	"ioctl", "poll", "ppoll",
	"pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
	"fsync", "fdatasync", "fallocate", "ftruncate", "lseek",
	"timerfd_settime", "timerfd_gettime",
	"epoll_ctl",
	NULL,
};

/* Device I/O threads: an epoll loop over eventfds, taps and timerfds;
 * disk requests (virtio-blk, qcow2 growth; io_uring_enter submits and
 * waits on a queue's ring, which was set up and restricted before),
 * tap frames, interrupts, virtio-rng's entropy. */
static const char *const io_calls[] = {
	"epoll_wait", "epoll_pwait", "epoll_ctl", "ioctl", "poll", "ppoll",
	"pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
	"fsync", "fdatasync", "fallocate", "ftruncate", "lseek",
	"timerfd_settime", "timerfd_gettime", "getrandom", "io_uring_enter",
	NULL,
};

/* The API thread: the control socket's connections and the console
 * input, on an epoll loop; "regs" reads vCPU registers (ioctl), Ctrl-A x
 * puts the terminal back (ioctl). */
static const char *const api_calls[] = {
	"epoll_wait", "epoll_pwait", "epoll_ctl", "accept4", "accept", "ioctl",
	"poll", "ppoll", "fcntl",
	"timerfd_settime", /* the pause after accept4() ran out of fds */
	NULL,
};

/* The main thread: waits for a stop (poll on an eventfd and a signalfd),
 * then tears down: joins threads, closes, puts back a pre-existing tap's
 * settings (ioctls on a socket and on a new /dev/net/tun fd), removes the
 * control socket's name, restores the terminal. pthread_cancel() of the
 * console's file reader loads libgcc_s (openat, fstat, mmap). */
static const char *const main_calls[] = {
	"poll", "ppoll", "ioctl", "openat", "open", "fstat", "newfstatat",
	"rt_sigaction", "lseek", "pread64", "epoll_ctl", "unlink", "unlinkat",
	"fcntl",
	"fsync", "fdatasync", "ftruncate", "pwrite64", "pwritev", "preadv",
	NULL,
};

/* What the main thread needs besides to build the machine again after a
 * guest reboot (--on-reboot=restart): open the kernel, disks, /dev/kvm and
 * taps, create the VM, start threads (which install their own filters). */
static const char *const restart_calls[] = {
	"stat", "lstat", "statx", "access", "faccessat", "faccessat2",
	"openat2", "readlink", "readlinkat", "getcwd", "flock",
	"eventfd2", "epoll_create1", "timerfd_create", "memfd_create",
	"connect", "bind", "listen", "sendto", "recvfrom", "sendmsg", "recvmsg",
	"getsockname", "setsockopt", "getsockopt",
	"clone", "clone3", "set_robust_list", "rseq", "prctl", "seccomp",
	"sched_getaffinity", "getrlimit", "prlimit64", "uname",
	"fadvise64", "getdents64",
	"io_uring_setup", "io_uring_register", /* virtio-blk's rings */
	NULL,
};

static const char *const *const class_calls[SANDBOX_NR_CLASSES] = {
	[SANDBOX_VCPU] = vcpu_calls,
	[SANDBOX_IO] = io_calls,
	[SANDBOX_API] = api_calls,
	[SANDBOX_MAIN] = main_calls,
};

static const char *const class_names[SANDBOX_NR_CLASSES] = {
	[SANDBOX_VCPU] = "vcpu",
	[SANDBOX_IO] = "io",
	[SANDBOX_API] = "api",
	[SANDBOX_MAIN] = "main",
};

/* Process-wide sandbox policy, set up once by the main thread before the
 * threads that read it exist. */
static struct sock_fprog progs[SANDBOX_NR_CLASSES];
static bool prepared, main_entered;
static pid_t self_pid;
static int test_class = -1; /* MINIVMM_SECCOMP_TEST: see sandbox_enter */
static char names[NAME_TABLE_LEN][NAME_LEN];
static __thread int thread_class = -1;

const char *sandbox_class_name(enum sandbox_class c)
{
	return (unsigned)c < SANDBOX_NR_CLASSES ? class_names[c] : "?";
}

/* ---- the SIGSYS report ---- */

static size_t put(char *buf, size_t at, const char *s)
{
	while (*s && at < 255)
		buf[at++] = *s++;
	return at;
}

static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	char line[256], num[12];
	int nr = si->si_syscall;
	unsigned v = nr < 0 ? 0 : (unsigned)nr;
	size_t at = 0, k = sizeof(num);
	ssize_t r;

	(void)uctx;
	num[--k] = '\0';
	do {
		num[--k] = (char)('0' + v % 10);
		v /= 10;
	} while (v && k);
	at = put(line, at, "minivmm: seccomp: forbidden system call ");
	at = put(line, at, nr >= 0 && nr < NAME_TABLE_LEN && names[nr][0] ?
			   names[nr] : "?");
	at = put(line, at, " (");
	at = put(line, at, num + k);
	at = put(line, at, ") in ");
	at = put(line, at, thread_class >= 0 ? class_names[thread_class] : "?");
	at = put(line, at, " thread\n");
	r = write(STDERR_FILENO, line, at);
	(void)r;
	/* SA_RESETHAND made the action the default one again, SA_NODEFER
	 * left SIGSYS unblocked: this ends the process with SIGSYS. */
	syscall(SYS_tgkill, self_pid, (pid_t)syscall(SYS_gettid), sig);
	_exit(128 + SIGSYS); /* not reached */
}

/* ---- building the filters ---- */

static int add_calls(scmp_filter_ctx ctx, const char *const *list)
{
	for (; *list; list++) {
		int nr = seccomp_syscall_resolve_name(*list);
		int r;

		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (r)
			return r;
	}
	return 0;
}

/* tgkill only to threads of this process (a kick to a vCPU, the SIGSYS
 * report); socket only for the families teardown (and set-up) use. */
static int add_arg_rules(scmp_filter_ctx ctx, enum sandbox_class c,
			 bool restart)
{
	int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				 SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self_pid));

	if (r || c != SANDBOX_MAIN)
		return r;
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
			     SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	if (!r && restart)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				     SCMP_A0(SCMP_CMP_EQ, AF_NETLINK));
	return r;
}

/* Export ctx's BPF program into out (malloc'd instructions). */
static int export_prog(scmp_filter_ctx ctx, struct sock_fprog *out)
{
	int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
	off_t len;
	void *buf = NULL;
	int r;

	if (fd < 0)
		return -errno;
	r = seccomp_export_bpf(ctx, fd);
	if (r)
		goto out;
	len = lseek(fd, 0, SEEK_END);
	if (len <= 0 || len % (off_t)sizeof(struct sock_filter) ||
	    len / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
		r = -EINVAL;
		goto out;
	}
	buf = malloc((size_t)len);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	if (pread(fd, buf, (size_t)len, 0) != (ssize_t)len) {
		r = -EIO;
		free(buf);
		goto out;
	}
	out->filter = buf;
	out->len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
out:
	close(fd);
	return r;
}

static int build(enum sandbox_class c, bool restart, struct sock_fprog *out)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int r;

	if (!ctx)
		return -ENOMEM;
	/* a call through another ABI (int 0x80, x32) is not worth a name */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (!r)
		r = add_calls(ctx, common_calls);
	if (!r)
		r = add_calls(ctx, class_calls[c]);
	/* the main thread starts the threads of a restarted machine, which
	 * inherit its filter: it allows everything theirs do */
	for (int k = 0; !r && restart && c == SANDBOX_MAIN && k < SANDBOX_NR_CLASSES; k++)
		r = add_calls(ctx, class_calls[k]);
	if (!r && restart && c == SANDBOX_MAIN)
		r = add_calls(ctx, restart_calls);
	if (!r)
		r = add_arg_rules(ctx, c, restart);
	if (!r)
		r = export_prog(ctx, out);
	seccomp_release(ctx);
	return r;
}

static void fill_names(void)
{
	for (int nr = 0; nr < NAME_TABLE_LEN; nr++) {
		char *s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		names[nr][0] = '\0';
		if (s)
			strncat(names[nr], s, NAME_LEN - 1);
		free(s);
	}
}

int sandbox_prepare(bool restart)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys,
				.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER };
	const char *test = getenv("MINIVMM_SECCOMP_TEST");
	int r = 0;

	sandbox_release();
	self_pid = getpid();
	/* glibc loads the time zone (openat of /etc/localtime) on the first
	 * gmtime_r() or localtime_r(): the RTC's first read, on a vCPU */
	tzset();
	for (int c = 0; !r && c < SANDBOX_NR_CLASSES; c++)
		r = build((enum sandbox_class)c, restart, &progs[c]);
	if (r) {
		sandbox_release();
		return r < 0 ? r : -EINVAL;
	}
	fill_names();
	test_class = -1;
	for (int c = 0; test && c < SANDBOX_NR_CLASSES; c++)
		if (!strcmp(test, class_names[c]))
			test_class = c;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL)) {
		r = -errno;
		sandbox_release();
		return r;
	}
	prepared = true;
	return 0;
}

int sandbox_enter(enum sandbox_class c)
{
	sigset_t sys;

	if (!prepared || (unsigned)c >= SANDBOX_NR_CLASSES)
		return 0;
	if (c == SANDBOX_MAIN) {
		if (main_entered)
			return 0;
		main_entered = true;
	}
	/* SIGSYS must reach the handler in every thread */
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	thread_class = c;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &progs[c]))
		return -errno;
	/* Test hook (MINIVMM_SECCOMP_TEST=CLASS): the first thread of that
	 * class makes a call no list allows, as a compromised thread would. */
	if (test_class == (int)c &&
	    __atomic_exchange_n(&test_class, -1, __ATOMIC_RELAXED) == (int)c) {
		long fd = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);

		if (fd >= 0)
			close((int)fd);
	}
	return 0;
}

size_t sandbox_filter_len(enum sandbox_class c)
{
	return (unsigned)c < SANDBOX_NR_CLASSES ? progs[c].len : 0;
}

void sandbox_release(void)
{
	for (int c = 0; c < SANDBOX_NR_CLASSES; c++) {
		free(progs[c].filter);
		progs[c].filter = NULL;
		progs[c].len = 0;
	}
	prepared = false;
}
