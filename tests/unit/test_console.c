/* SPDX-License-Identifier: MIT
 * Unit tests: the host side of the serial console (vmm/term.c) with the
 * real UART model and I/O thread; stdin and stdout are replaced by pipes or
 * a pty for each test. Input the guest does not read yet is held, never
 * dropped (also across Ctrl-A escapes); stdin's file flags are left alone;
 * guest output never drops a byte on EAGAIN and a stalled stdout gives the
 * vCPU back when the VM stops; a partial line goes out by the I/O thread's
 * timer, which a stalled stdout never blocks. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/uart16550.h"
#include "vmm/evloop.h"
#include "vmm/log.h"
#include "vmm/term.h"
#include "vmm/vm.h"

#define N_INPUT (5 * UART_RXBUF_SIZE) /* well past the UART's buffer */

static struct vm vm;
static struct evloop *loop;
static struct uart uart;
static struct console con;
static struct console_out out;
static int saved_in, saved_out;

static int setup(void **state)
{
	(void)state;
	log_quiet = true;
	assert_int_equal(vm_init_memory(&vm, 32ULL << 20, false, 1), 0);
	loop = evloop_new("console-test");
	assert_non_null(loop);
	assert_int_equal(evloop_start(loop), 0);
	console_out_init(&out, &vm);
	assert_int_equal(console_out_start(&out, loop), 0);
	uart_init(&uart, NULL, console_tx, &out);
	fflush(stdout);
	saved_in = dup(STDIN_FILENO);
	saved_out = dup(STDOUT_FILENO);
	assert_true(saved_in >= 0 && saved_out >= 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dup2(saved_in, STDIN_FILENO);
	dup2(saved_out, STDOUT_FILENO);
	close(saved_in);
	close(saved_out);
	console_out_stop(&out);
	evloop_free(loop);
	vm_destroy(&vm);
	log_quiet = false;
	return 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* The guest's side: poll LSR.DR and read RBR. -1 after 10 s without data. */
static int guest_getc(void)
{
	double deadline = now() + 10;
	uint8_t lsr, c;

	while (now() < deadline) {
		uart_io(&uart, UART_LSR, &lsr, 1, false);
		if (lsr & UART_LSR_DR) {
			uart_io(&uart, UART_RBR, &c, 1, false);
			return c;
		}
		usleep(50);
	}
	return -1;
}

struct feeder {
	int fd;
	const uint8_t *buf;
	size_t len;
};

static void *feed_thread(void *opaque)
{
	struct feeder *f = opaque;
	size_t done = 0;

	while (done < f->len) {
		ssize_t n = write(f->fd, f->buf + done, f->len - done);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return NULL;
}

/* Feed `in` through stdin_fd's peer (write_fd) and check the guest reads
 * exactly `want`. */
static void check_delivery(int write_fd, const uint8_t *in, size_t in_len,
			   const uint8_t *want, size_t want_len)
{
	struct feeder f = { write_fd, in, in_len };
	pthread_t t;
	size_t i;

	assert_int_equal(pthread_create(&t, NULL, feed_thread, &f), 0);
	for (i = 0; i < want_len; i++) {
		int c = guest_getc();
		if (c != want[i])
			break;
		/* a slow guest now and then: the host side must hold input */
		if (i % 1000 == 0)
			usleep(20000);
	}
	pthread_join(t, NULL);
	if (i < want_len)
		fail_msg("guest byte %zu of %zu wrong or missing", i, want_len);
}

static void test_pipe_input_held_not_dropped(void **state)
{
	static uint8_t in[N_INPUT];
	int p[2];

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i % 251);
	assert_int_equal(pipe(p), 0);
	dup2(p[0], STDIN_FILENO);
	close(p[0]);
	assert_int_equal(console_start(&con, &vm, &uart, loop), 0);
	/* stdin's file description (shared with stdout on a terminal) stays
	 * blocking */
	assert_int_equal(fcntl(STDIN_FILENO, F_GETFL) & O_NONBLOCK, 0);
	check_delivery(p[1], in, sizeof(in), in, sizeof(in));
	close(p[1]);
	console_stop(&con);
	assert_int_equal(fcntl(STDIN_FILENO, F_GETFL) & O_NONBLOCK, 0);
}

/* A terminal: raw mode, and the Ctrl-A escapes (Ctrl-A Ctrl-A is one
 * Ctrl-A, Ctrl-A c is both) whose output may not fit where their input did:
 * nothing may get lost while the UART is full. */
static void test_tty_escapes_held(void **state)
{
	static uint8_t in[N_INPUT], want[N_INPUT];
	size_t n_in = 0, n_want = 0;
	int master, slave;

	(void)state;
	while (n_in < sizeof(in) - 2) {
		uint8_t c = (uint8_t)('a' + n_in % 26);
		if (n_in % 7 == 0) {
			in[n_in++] = 0x01;
			in[n_in++] = 0x01;
			want[n_want++] = 0x01;
		} else if (n_in % 11 == 0 && c != 'x') { /* not Ctrl-A x */
			in[n_in++] = 0x01;
			in[n_in++] = c;
			want[n_want++] = 0x01;
			want[n_want++] = c;
		} else {
			in[n_in++] = c;
			want[n_want++] = c;
		}
	}
	assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
	dup2(slave, STDIN_FILENO);
	close(slave);
	assert_int_equal(console_start(&con, &vm, &uart, loop), 0);
	assert_int_equal(fcntl(STDIN_FILENO, F_GETFL) & O_NONBLOCK, 0);
	check_delivery(master, in, n_in, want, n_want);
	assert_false(vm_stopping(&vm));
	/* Ctrl-A x quits */
	assert_int_equal(write(master, "\001x", 2), 2);
	for (int i = 0; i < 500 && !vm_stopping(&vm); i++)
		usleep(10000);
	assert_true(vm_stopping(&vm));
	assert_int_equal(vm.exit_status, VM_EXIT_OK);
	console_stop(&con);
	close(master);
}

struct drainer {
	int fd;
	size_t got;
	bool bad;
};

static void *drain_thread(void *opaque)
{
	struct drainer *d = opaque;
	uint8_t buf[512];

	for (;;) {
		ssize_t n = read(d->fd, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EAGAIN) {
				usleep(500);
				continue;
			}
			d->bad = true;
			break;
		}
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != (uint8_t)((d->got + (size_t)i) % 253))
				d->bad = true;
		d->got += (size_t)n;
		usleep(1000); /* slower than the writer: the pipe fills */
	}
	return NULL;
}

/* Someone made stdout non-blocking: EAGAIN means wait, not drop. */
static void test_tx_nonblocking_stdout(void **state)
{
	struct drainer d = { 0 };
	size_t total = 400000;
	pthread_t t;
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	dup2(p[1], STDOUT_FILENO);
	close(p[1]);
	d.fd = p[0];
	assert_int_equal(pthread_create(&t, NULL, drain_thread, &d), 0);
	for (size_t i = 0; i < total; i++)
		console_tx(&out, (uint8_t)(i % 253));
	console_out_flush(&out); /* the last partial line */
	dup2(saved_out, STDOUT_FILENO); /* the last writer: EOF for the reader */
	pthread_join(t, NULL);
	close(p[0]);
	assert_false(d.bad);
	assert_int_equal(d.got, total);
}

static volatile bool tx_returned;

static void *tx_thread(void *opaque)
{
	(void)opaque;
	console_tx(&out, '\n'); /* a whole line: written at once */
	tx_returned = true;
	return NULL;
}

/* stdout is a full pipe nobody reads: the vCPU thread blocks in
 * console_tx (the UART lock held) until the VM stops, then returns. */
static void test_tx_stalled_stdout_released_by_stop(void **state)
{
	struct timespec deadline;
	char junk[4096] = { 0 };
	pthread_t t;
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	while (write(p[1], junk, sizeof(junk)) > 0)
		;
	fcntl(p[1], F_SETFL, 0); /* blocking again, and full */
	dup2(p[1], STDOUT_FILENO);
	close(p[1]);
	tx_returned = false;
	assert_int_equal(pthread_create(&t, NULL, tx_thread, NULL), 0);
	usleep(200000);
	assert_false(tx_returned);
	vm_request_stop(&vm, VM_EXIT_SIGNAL);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 5;
	if (pthread_timedjoin_np(t, NULL, &deadline)) {
		dup2(saved_out, STDOUT_FILENO);
		close(p[0]); /* EPIPE frees the thread */
		pthread_join(t, NULL);
		fail_msg("console_tx still blocked 5 s after the stop");
	}
	dup2(saved_out, STDOUT_FILENO);
	close(p[0]);
}

/* A partial line (a prompt) is written by the I/O thread's timer, without
 * a newline or another byte to push it. */
static void test_tx_partial_line_flushed_by_timer(void **state)
{
	char buf[16] = { 0 };
	double deadline = now() + 5;
	size_t got = 0;
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	dup2(p[1], STDOUT_FILENO);
	close(p[1]);
	console_tx(&out, '/');
	console_tx(&out, ' ');
	console_tx(&out, '#');
	while (got < 3 && now() < deadline) {
		ssize_t n = read(p[0], buf + got, sizeof(buf) - 1 - got);
		if (n > 0)
			got += (size_t)n;
		else
			usleep(1000);
	}
	dup2(saved_out, STDOUT_FILENO);
	close(p[0]);
	assert_string_equal(buf, "/ #");
}

static void mark(void *opaque)
{
	*(bool *)opaque = true;
}

/* stdout is a full pipe nobody reads: a partial line neither blocks the
 * vCPU (it is only gathered) nor the I/O thread (its timer writes only what
 * stdout takes now), which goes on serving its other work. */
static void test_tx_partial_line_stalled_stdout(void **state)
{
	char junk[4096] = { 0 };
	bool served = false;
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	while (write(p[1], junk, sizeof(junk)) > 0)
		;
	fcntl(p[1], F_SETFL, 0);
	dup2(p[1], STDOUT_FILENO);
	close(p[1]);
	console_tx(&out, 'a'); /* returns: gathered */
	usleep(20000);         /* the timer has fired, and found stdout full */
	evloop_call(loop, mark, &served);
	assert_true(served);
	vm_request_stop(&vm, VM_EXIT_SIGNAL); /* the final flush drops it */
	console_out_flush(&out);
	dup2(saved_out, STDOUT_FILENO);
	close(p[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pipe_input_held_not_dropped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_tty_escapes_held, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tx_nonblocking_stdout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tx_stalled_stdout_released_by_stop,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_partial_line_flushed_by_timer,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_partial_line_stalled_stdout,
						setup, teardown),
	};
	signal(SIGPIPE, SIG_IGN); /* as in minivmm: EPIPE instead */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
