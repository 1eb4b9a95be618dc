/* SPDX-License-Identifier: MIT
 * Unit tests: the control socket (vmm/api.c) over a real Unix socket and
 * an I/O thread, and the lifecycle calls it drives (vmm/kvm.c: pause,
 * resume, stop; the first stop reason wins; the kick gate), on a VM that
 * has guest RAM but neither /dev/kvm nor vCPU threads. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/api.h"
#include "vmm/evloop.h"
#include "vmm/log.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

static struct vm vm;
static struct evloop *loop;
static struct api api;
static char path[64];
static bool have_button;
static unsigned buttons;

static bool power_button(void *opaque)
{
	(void)opaque;
	buttons++;
	return have_button;
}

static int setup(void **state)
{
	(void)state;
	log_quiet = true;
	signal(SIGPIPE, SIG_IGN); /* minivmm blocks it (machine_run) */
	assert_int_equal(vm_init_memory(&vm, 32ULL << 20, false, 1), 0);
	loop = evloop_new("api-test");
	assert_non_null(loop);
	assert_int_equal(evloop_start(loop), 0);
	snprintf(path, sizeof(path), "/tmp/minivmm-test-api.%d.sock", (int)getpid());
	have_button = false;
	buttons = 0;
	assert_int_equal(api_start(&api, &vm, loop, path, power_button, NULL), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	api_stop(&api);
	evloop_free(loop);
	vm_destroy(&vm);
	log_quiet = false;
	return 0;
}

static int client(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* Read one answer line (or until the server hangs up: EOF, or ECONNRESET
 * when it closed with input unread); returns its length, -1 on a hang-up
 * with nothing read. Fails the test after 5 s. */
static int read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		assert_int_equal(poll(&p, 1, 5000), 1);
		r = read(fd, buf + n, 1);
		if (r < 0 && errno == ECONNRESET)
			r = 0;
		assert_true(r >= 0);
		if (r == 0)
			break;
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = '\0';
	return n ? (int)n : -1;
}

static void ask(int fd, const char *cmd, char *buf, size_t size)
{
	assert_int_equal(write(fd, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
	assert_true(read_line(fd, buf, size) > 0);
}

/* An answer contains this fragment. */
#define assert_has(buf, frag)                                                  \
	do {                                                                   \
		if (!strstr(buf, frag))                                        \
			fail_msg("answer '%s' lacks '%s'", buf, frag);         \
	} while (0)

static void test_commands(void **state)
{
	char buf[4096];
	int fd = client();

	(void)state;
	ask(fd, "info\n", buf, sizeof(buf));
	assert_has(buf, "{\"ok\":true,\"state\":\"running\"");
	assert_has(buf, "\"vcpus\":1,\"memory_mib\":32,");
	assert_has(buf, "}\n");
	/* stats: every counter, one JSON object that ends the line */
	ask(fd, "stats\n", buf, sizeof(buf));
	assert_has(buf, "{\"ok\":true,\"minivmm\":\"stats\",\"state\":\"running\"");
	assert_has(buf, "\"exits\":{\"all\":");
	assert_has(buf, "\"bus_exits\":{");
	assert_has(buf, "\"devices\":{},\"bus_regs\":{},\"bus_regs_left_out\":0}\n");
	/* asked once, the buses count exits by register from now on */
	assert_true(vm.pio.watch_regs && vm.mmio.watch_regs);
	ask(fd, "pause\n", buf, sizeof(buf));
	assert_string_equal(buf, "{\"ok\":true,\"state\":\"paused\"}\n");
	assert_int_equal(vm.paused, 1);
	ask(fd, "info\r\n", buf, sizeof(buf)); /* CRLF works too */
	assert_has(buf, "\"state\":\"paused\"");
	ask(fd, "resume\n", buf, sizeof(buf));
	assert_string_equal(buf, "{\"ok\":true,\"state\":\"running\"}\n");
	assert_int_equal(vm.paused, 0);
	/* shutdown: the power button, when the machine has one */
	ask(fd, "shutdown\n", buf, sizeof(buf));
	assert_string_equal(buf, "{\"ok\":false,\"error\":\"no ACPI power button\"}\n");
	have_button = true;
	ask(fd, "shutdown\n", buf, sizeof(buf));
	assert_string_equal(buf, "{\"ok\":true,\"state\":\"shutting-down\"}\n");
	assert_int_equal(buttons, 2);
	assert_false(vm_stopping(&vm));
	/* malformed lines get an error, and the connection stays usable */
	ask(fd, "bogus\n", buf, sizeof(buf));
	assert_has(buf, "{\"ok\":false,\"error\":\"unknown command");
	ask(fd, "\n", buf, sizeof(buf));
	assert_has(buf, "\"ok\":false");
	ask(fd, "info extra\n", buf, sizeof(buf));
	assert_has(buf, "\"ok\":false");
	/* two commands in one write, one command in two writes */
	ask(fd, "pause\nresume\n", buf, sizeof(buf));
	assert_has(buf, "paused");
	assert_true(read_line(fd, buf, sizeof(buf)) > 0);
	assert_has(buf, "running");
	assert_int_equal(write(fd, "in", 2), 2);
	ask(fd, "fo\n", buf, sizeof(buf));
	assert_has(buf, "\"ok\":true");
	/* stop: the VM stops with status 0, a paused one too */
	ask(fd, "pause\n", buf, sizeof(buf));
	ask(fd, "stop\n", buf, sizeof(buf));
	assert_string_equal(buf, "{\"ok\":true,\"state\":\"stopping\"}\n");
	assert_true(vm_stopping(&vm));
	assert_int_equal(vm.exit_status, VM_EXIT_OK);
	assert_int_equal(vm.paused, 0);
	close(fd);
}

static void test_long_line(void **state)
{
	char line[1000], buf[512];
	int fd = client();

	(void)state;
	memset(line, 'a', sizeof(line));
	assert_int_equal(write(fd, line, sizeof(line)), (ssize_t)sizeof(line));
	assert_true(read_line(fd, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "{\"ok\":false,\"error\":\"line too long\"}\n");
	/* then the server hangs up (and frees the connection: ASan) */
	assert_int_equal(read_line(fd, buf, sizeof(buf)), -1);
	close(fd);
	/* the socket still serves others */
	fd = client();
	ask(fd, "info\n", buf, sizeof(buf));
	assert_has(buf, "\"ok\":true");
	/* a NUL byte inside a line: an error, not the command before it */
	assert_int_equal(write(fd, "stop\0x\n", 7), 7);
	assert_true(read_line(fd, buf, sizeof(buf)) > 0);
	assert_has(buf, "NUL byte");
	/* commands then EOF (echo info | socat): every answer, then EOF */
	assert_int_equal(write(fd, "info\npause\nresume\n", 19), 19);
	shutdown(fd, SHUT_WR);
	assert_true(read_line(fd, buf, sizeof(buf)) > 0);
	assert_has(buf, "\"ok\":true");
	assert_true(read_line(fd, buf, sizeof(buf)) > 0);
	assert_has(buf, "paused");
	assert_true(read_line(fd, buf, sizeof(buf)) > 0);
	assert_has(buf, "running");
	assert_int_equal(read_line(fd, buf, sizeof(buf)), -1);
	close(fd);
	assert_false(vm_stopping(&vm));
}

/* api_stop closes the connections still open (at a VM restart they would
 * otherwise leak, fd and memory) and removes the socket file. */
static void test_stop_closes_connections(void **state)
{
	char buf[512];
	int a = client(), b = client(), c = client();

	(void)state;
	ask(a, "info\n", buf, sizeof(buf)); /* accepted for sure */
	ask(b, "info\n", buf, sizeof(buf));
	ask(c, "info\n", buf, sizeof(buf));
	assert_int_equal(write(c, "in", 2), 2); /* half a line pending */
	api_stop(&api);
	assert_int_equal(read_line(a, buf, sizeof(buf)), -1);
	assert_int_equal(read_line(b, buf, sizeof(buf)), -1);
	assert_int_equal(read_line(c, buf, sizeof(buf)), -1);
	assert_int_equal(access(path, F_OK), -1);
	api_stop(&api); /* twice is fine */
	close(a);
	close(b);
	close(c);
}

static void test_socket_path(void **state)
{
	struct api other;
	char file[80];
	int fd;

	(void)state;
	/* an existing non-socket is not replaced */
	snprintf(file, sizeof(file), "%s.file", path);
	fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(api_start(&other, &vm, loop, file, NULL, NULL), -EEXIST);
	api_stop(&other);
	unlink(file);
	/* the socket of a running VM (ours, listening) is not taken over */
	assert_int_equal(api_start(&other, &vm, loop, path, NULL, NULL),
			 -EADDRINUSE);
	api_stop(&other);
	fd = client(); /* and it still answers */
	close(fd);
	/* a socket file left behind (our own server stopped) is taken over */
	api_stop(&api);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(api_start(&api, &vm, loop, path, power_button, NULL), 0);
	fd = client();
	close(fd);
}

/* The first reason to stop wins, and a reboot is only a restart when the
 * reboot itself won: SIGINT racing a guest reset must not restart. */
static void test_first_stop_wins(void **state)
{
	(void)state;
	vm.on_reboot = VM_REBOOT_RESTART;
	vm_request_stop(&vm, VM_EXIT_SIGNAL);
	vm_request_reboot(&vm);
	assert_true(vm_stopping(&vm));
	assert_int_equal(vm.exit_status, VM_EXIT_SIGNAL);
	assert_int_equal(vm.reboot_requested, 0);
}

static void test_reboot_first(void **state)
{
	(void)state;
	vm.on_reboot = VM_REBOOT_RESTART;
	vm_request_reboot(&vm);
	vm_request_stop(&vm, VM_EXIT_SIGNAL);
	assert_int_equal(vm.exit_status, VM_EXIT_OK);
	assert_int_equal(vm.reboot_requested, 1);
}

static void test_reboot_exit_policy(void **state)
{
	(void)state;
	vm.on_reboot = VM_REBOOT_EXIT;
	vm_request_reboot(&vm);
	assert_int_equal(vm.exit_status, VM_EXIT_OK);
	assert_int_equal(vm.reboot_requested, 0);
}

/* After vm_close_kicks no stop or pause touches a vCPU's kvm_run (teardown
 * unmaps it); before, both kick. A vCPU that was never started has a
 * kvm_run but no thread: only immediate_exit is set. */
static void test_kick_gate(void **state)
{
	struct kvm_run *run = calloc(1, sizeof(*run));

	(void)state;
	assert_non_null(run);
	vm.vcpus[0].run = run;
	vm_pause(&vm);
	assert_int_equal(run->immediate_exit, 1);
	vm_resume(&vm);
	run->immediate_exit = 0;
	vm_close_kicks(&vm);
	vm_pause(&vm);
	vm_request_stop(&vm, VM_EXIT_OK);
	assert_true(vm_stopping(&vm));
	assert_int_equal(run->immediate_exit, 0);
	vm.vcpus[0].run = NULL;
	free(run);
}

static void test_json_escape(void **state)
{
	char b[64], tiny[4];

	(void)state;
	assert_int_equal(json_escape(b, sizeof(b), "tap0"), 4);
	assert_string_equal(b, "tap0");
	assert_int_equal(json_escape(b, sizeof(b), "a\"b\\c"), 7);
	assert_string_equal(b, "a\\\"b\\\\c");
	assert_int_equal(json_escape(b, sizeof(b), "\n\x7f\xe9"), 18);
	assert_string_equal(b, "\\u000a\\u007f\\u00e9");
	/* never half an escape; the length of the whole, as snprintf */
	assert_int_equal(json_escape(tiny, sizeof(tiny), "ab\"c"), 5);
	assert_string_equal(tiny, "ab");
	assert_int_equal(json_escape(tiny, 0, "abc"), 3);
}

/* A client that sends many commands before it reads: the answers fill the
 * socket, and each one still arrives whole (none cut short, none lost);
 * the server reads no further lines while an answer is waiting. */
#define MANY 3000

static void *send_many(void *arg)
{
	int fd = *(int *)arg;

	for (int i = 0; i < MANY; i++)
		if (send(fd, "info\n", 5, MSG_NOSIGNAL) != 5)
			break;
	return NULL;
}

static void test_answers_not_cut(void **state)
{
	static char buf[1 << 16];
	unsigned lines = 0, good = 0;
	size_t have = 0;
	pthread_t t;
	int fd = client();

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, send_many, &fd), 0);
	usleep(300 * 1000); /* let the answers pile up */
	while (lines < MANY) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;
		char *nl;

		if (poll(&p, 1, 5000) != 1)
			break;
		r = read(fd, buf + have, sizeof(buf) - have);
		if (r <= 0)
			break;
		have += (size_t)r;
		while ((nl = memchr(buf, '\n', have))) {
			size_t l = (size_t)(nl + 1 - buf);

			lines++;
			if (!strncmp(buf, "{\"ok\":true,", 11) && l > 2 &&
			    nl[-1] == '}')
				good++;
			memmove(buf, nl + 1, have - l);
			have -= l;
		}
	}
	pthread_join(t, NULL);
	close(fd);
	assert_int_equal(lines, MANY);
	assert_int_equal(good, MANY);
}

/* Out of file descriptors: accept4() fails with EMFILE while the client
 * waits in the backlog. The server pauses accepting and tries again later
 * instead of spinning on a listening socket that stays readable. */
static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void test_accept_emfile_no_spin(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct rlimit old, low;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int fds[256], nfds = 0, probe;
	char buf[512];
	double cpu;

	(void)state;
	assert_true(fd >= 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	/* use up every descriptor under a limit a little above what is open */
	probe = dup(0);
	assert_true(probe >= 0);
	close(probe);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)probe + 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (nfds < 256 && (fds[nfds] = dup(0)) >= 0)
		nfds++;
	assert_true(nfds < 256);
	assert_int_equal(errno, EMFILE);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	cpu = cpu_seconds();
	usleep(500 * 1000);
	cpu = cpu_seconds() - cpu;
	while (nfds)
		close(fds[--nfds]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	print_message("0.5 s out of fds: %.3f s of CPU\n", cpu);
	assert_true(cpu < 0.15);
	/* descriptors are back: the client waiting in the backlog is served */
	ask(fd, "info\n", buf, sizeof(buf));
	assert_has(buf, "\"ok\":true");
	close(fd);
}

/* At most API_CONNS_MAX connections at a time: the next one waits in the
 * backlog until one of them closes. */
static void test_connection_limit(void **state)
{
	int fds[API_CONNS_MAX], extra;
	struct pollfd p;
	char buf[512];

	(void)state;
	for (unsigned i = 0; i < API_CONNS_MAX; i++) {
		fds[i] = client();
		ask(fds[i], "info\n", buf, sizeof(buf));
	}
	extra = client();
	assert_int_equal(write(extra, "info\n", 5), 5);
	p = (struct pollfd){ .fd = extra, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 300), 0); /* not accepted yet */
	close(fds[0]);
	assert_true(read_line(extra, buf, sizeof(buf)) > 0);
	assert_has(buf, "\"ok\":true");
	for (unsigned i = 1; i < API_CONNS_MAX; i++)
		close(fds[i]);
	close(extra);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_closes_connections,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_stop_wins, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reboot_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reboot_exit_policy, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kick_gate, setup, teardown),
		cmocka_unit_test(test_json_escape),
		cmocka_unit_test_setup_teardown(test_answers_not_cut, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_accept_emfile_no_spin,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_limit, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
