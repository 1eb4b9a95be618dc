/* SPDX-License-Identifier: MIT
 * Unit tests: the event loop's busy-polling (vmm/evloop.c,
 * evloop_set_poll), one round at a time on the test's thread
 * (evloop_run_ready): the poll function runs before the loop sleeps, work
 * it did keeps the loop from sleeping, nothing due sends it to sleep at
 * once, and the window grows while sleeps with work due end within the
 * limit, is cut to a lower limit, and shrinks to 0 while sleeps last
 * longer; a limit of 0 is no polling at all.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/evloop.h"

static struct evloop *loop;
static int efd = -1;
static unsigned fired;

/* What the poll function answers, and how often it was asked. */
static int poll_answer;
static unsigned polls;

static int poll_fn(void *opaque)
{
	(void)opaque;
	polls++;
	return poll_answer;
}

static void on_event(void *opaque, uint32_t events)
{
	uint64_t v;

	(void)opaque;
	(void)events;
	fired++;
	assert_int_equal(read(efd, &v, sizeof(v)), sizeof(v));
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int setup(void **state)
{
	(void)state;
	loop = evloop_new("test");
	assert_non_null(loop);
	efd = eventfd(0, EFD_NONBLOCK);
	assert_true(efd >= 0);
	assert_int_equal(evloop_add(loop, efd, EPOLLIN, on_event, NULL), 0);
	fired = polls = 0;
	poll_answer = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	evloop_free(loop);
	close(efd);
	return 0;
}

static void signal_fd(void)
{
	uint64_t one = 1;

	assert_int_equal(write(efd, &one, sizeof(one)), sizeof(one));
}

/* Work done by the poll function: the loop looks at its fds without
 * waiting (a 10 s timeout would otherwise expire). */
static void test_work_does_not_sleep(void **state)
{
	double t0 = now_ms();

	(void)state;
	evloop_set_poll(loop, poll_fn, NULL, 50000);
	poll_answer = 1;
	assert_int_equal(evloop_run_ready(loop, 10000), 0);
	assert_int_equal(polls, 1);
	assert_true(now_ms() - t0 < 5000);
	/* and an fd that is ready is served in that same round */
	signal_fd();
	assert_int_equal(evloop_run_ready(loop, 10000), 1);
	assert_int_equal(fired, 1);
	assert_int_equal(polls, 2);
}

/* Nothing due: one call, then the loop sleeps (here until the timeout);
 * the window is not touched by an idle sleep. */
static void test_nothing_due_sleeps(void **state)
{
	(void)state;
	evloop_set_poll(loop, poll_fn, NULL, 50000);
	poll_answer = -1;
	assert_int_equal(evloop_run_ready(loop, 20), 0);
	assert_int_equal(polls, 1);
	assert_int_equal(evloop_poll_window(loop), 0);
}

/* Work due, sleeps that end within the limit: the window doubles from
 * EVLOOP_POLL_MIN_NS, and the poll function is called over and over
 * while it lasts. A lower limit cuts it; sleeps longer than the limit
 * halve it, down to 0. */
static void test_window_adapts(void **state)
{
	unsigned max = 1000000000u; /* 1 s: a ready fd ends any sleep in it */
	unsigned w = 0;

	(void)state;
	evloop_set_poll(loop, poll_fn, NULL, max);
	poll_answer = 0;
	for (int i = 0; i < 4; i++) {
		signal_fd(); /* the wait ends at once: well within max */
		assert_int_equal(evloop_run_ready(loop, 1000), 1);
		w = evloop_poll_window(loop);
		assert_int_equal(w, EVLOOP_POLL_MIN_NS << i);
	}
	/* the 32 us window is polled many times (a clock read a call) */
	polls = 0;
	signal_fd();
	assert_int_equal(evloop_run_ready(loop, 1000), 1);
	assert_true(polls > 1);
	/* a lower limit cuts the window to it */
	evloop_set_poll(loop, poll_fn, NULL, 20000);
	assert_int_equal(evloop_poll_window(loop), 20000);
	/* waits longer than the limit (20 ms against 20 us) halve it, and
	 * below EVLOOP_POLL_MIN_NS it is 0 */
	assert_int_equal(evloop_run_ready(loop, 20), 0);
	assert_int_equal(evloop_poll_window(loop), 10000);
	assert_int_equal(evloop_run_ready(loop, 20), 0);
	assert_int_equal(evloop_poll_window(loop), 5000);
	assert_int_equal(evloop_run_ready(loop, 20), 0);
	assert_int_equal(evloop_poll_window(loop), 0);
}

/* A limit of 0: the poll function is never called. */
static void test_off(void **state)
{
	(void)state;
	evloop_set_poll(loop, poll_fn, NULL, 0);
	poll_answer = 1;
	signal_fd();
	assert_int_equal(evloop_run_ready(loop, 1000), 1);
	assert_int_equal(polls, 0);
	assert_int_equal(evloop_poll_window(loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_work_does_not_sleep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_due_sleeps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_adapts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_off, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
