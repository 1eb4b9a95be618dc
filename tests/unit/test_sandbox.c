/* SPDX-License-Identifier: MIT
 * Unit tests: the seccomp allow-list of every thread class builds (with
 * and without --on-reboot=restart), and a thread under one allows what its
 * class needs and dies of SIGSYS with one line naming a forbidden call.
 * The filters are installed in forked children only. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/sandbox.h"

static void test_every_class_builds(void **state)
{
	size_t plain[SANDBOX_NR_CLASSES];

	(void)state;
	assert_int_equal(sandbox_prepare(false), 0);
	for (int c = 0; c < SANDBOX_NR_CLASSES; c++) {
		plain[c] = sandbox_filter_len((enum sandbox_class)c);
		assert_true(plain[c] > 4);
	}
	assert_int_equal(sandbox_prepare(true), 0);
	for (int c = 0; c < SANDBOX_NR_CLASSES; c++) {
		size_t len = sandbox_filter_len((enum sandbox_class)c);

		if (c == SANDBOX_MAIN) /* restart: it sets the machine up again */
			assert_true(len > plain[c]);
		else
			assert_int_equal(len, plain[c]);
	}
	sandbox_release();
	assert_int_equal(sandbox_filter_len(SANDBOX_VCPU), 0);
	assert_string_equal(sandbox_class_name(SANDBOX_API), "api");
}

/* Fork; the child enters class c then runs fn. Returns the child's wait
 * status; its stderr lands in err. */
static int in_child(enum sandbox_class c, void (*fn)(void), char *err,
		    size_t errlen)
{
	int p[2], status;
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core);
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		if (sandbox_prepare(false) || sandbox_enter(c))
			_exit(100);
		fn();
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], err, errlen - 1);
	err[n > 0 ? n : 0] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* pipe2 is on no list */
static void pipe_call(void)
{
	int fds[2];

	if (pipe(fds) == 0)
		_exit(3);
	_exit(4);
}

static void io_work(void)
{
	struct timespec ts;
	void *p = malloc(4 << 20); /* mmap'd, then munmap'd */

	if (!p || clock_gettime(CLOCK_MONOTONIC, &ts))
		_exit(2);
	free(p);
	if (write(STDOUT_FILENO, "", 0) < 0)
		_exit(2);
}

static void forbidden_socket(void)
{
	syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	_exit(1); /* not reached: SIGSYS */
}

static void test_io_thread_allowed(void **state)
{
	char err[512];
	int st;

	(void)state;
	st = in_child(SANDBOX_IO, io_work, err, sizeof(err));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_string_equal(err, "");
}

static void test_forbidden_call_kills(void **state)
{
	static const enum sandbox_class classes[] = {
		SANDBOX_VCPU, SANDBOX_IO, SANDBOX_API, SANDBOX_MAIN,
	};
	char err[512], want[128];

	(void)state;
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		int st = in_child(classes[i], forbidden_socket, err, sizeof(err));

		assert_true(WIFSIGNALED(st));
		assert_int_equal(WTERMSIG(st), SIGSYS);
		snprintf(want, sizeof(want),
			 "minivmm: seccomp: forbidden system call socket (%d) in %s thread\n",
			 (int)SYS_socket, sandbox_class_name(classes[i]));
		assert_string_equal(err, want);
	}
	/* another name from the table */
	int st = in_child(SANDBOX_VCPU, pipe_call, err, sizeof(err));
	assert_true(WIFSIGNALED(st));
	assert_non_null(strstr(err, "forbidden system call pipe"));
	assert_non_null(strstr(err, "in vcpu thread"));
}

int main(void)
{
#ifdef MINIVMM_SANITIZERS
	/* the sanitizer runtimes' own calls are on no list (vmm/sandbox.h) */
	puts("1..0 # SKIP the seccomp sandbox is off in sanitizer builds");
	return 77;
#endif
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_class_builds),
		cmocka_unit_test(test_io_thread_allowed),
		cmocka_unit_test(test_forbidden_call_kills),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
