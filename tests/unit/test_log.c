/* SPDX-License-Identifier: MIT
 * Unit tests: the warning budgets of vmm/log.c (one per device, and the
 * process's for everything a guest causes, across reboots) through
 * pr_warn_limited(). Lines are counted on a captured stderr.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log_capture.h"
#include "vmm/log.h"

static int setup(void **state)
{
	(void)state;
	log_guest_total = (struct log_budget){ 0 };
	return 0;
}

/* One device: LOG_BUDGET_MAX lines, one "suppressed" line, then only
 * counted. */
static void test_device_budget(void **state)
{
	struct log_budget b = { 0 };
	struct log_capture cap;
	char last[256];
	unsigned lines;

	(void)state;
	log_capture_start(&cap);
	for (int i = 0; i < 1000; i++)
		pr_warn_limited(&b, "dev0", "dev0: warning %d", i);
	lines = log_capture_end(&cap, last, sizeof(last));
	assert_int_equal(lines, LOG_BUDGET_MAX + 1);
	assert_non_null(strstr(last, "dev0: 32 warnings printed; further "
				     "warnings suppressed"));
	assert_int_equal(b.suppressed, 1000 - LOG_BUDGET_MAX);
	assert_true(b.used <= LOG_BUDGET_MAX + 1);
}

/* A guest that reboots in a loop gets new devices, with new budgets, at
 * each boot: the process's budget still ends it. */
static void test_budget_across_reboots(void **state)
{
	struct log_capture cap;
	char last[256];
	unsigned lines;

	(void)state;
	log_capture_start(&cap);
	for (int boot = 0; boot < 200; boot++) {
		struct log_budget dev[3] = { { 0 } };

		for (int i = 0; i < 50; i++)
			for (int d = 0; d < 3; d++)
				pr_warn_limited(&dev[d], "dev", "boot %d dev %d",
						boot, d);
	}
	lines = log_capture_end(&cap, last, sizeof(last));
	assert_int_equal(lines, LOG_GUEST_MAX + 1);
	assert_non_null(strstr(last, "1024 warnings caused by the guest "
				     "printed; no more will be"));
}

/* Threads warning through one budget print exactly the budget. */
static struct log_budget shared;

static void *warn_many(void *arg)
{
	(void)arg;
	for (int i = 0; i < 5000; i++)
		pr_warn_limited(&shared, "dev", "dev: warning %d", i);
	return NULL;
}

static void test_threads(void **state)
{
	struct log_capture cap;
	pthread_t t[4];
	unsigned lines;

	(void)state;
	shared = (struct log_budget){ 0 };
	log_capture_start(&cap);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, warn_many, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	lines = log_capture_end(&cap, NULL, 0);
	assert_int_equal(lines, LOG_BUDGET_MAX + 1);
	assert_int_equal(shared.suppressed, 4 * 5000 - LOG_BUDGET_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_device_budget, setup),
		cmocka_unit_test_setup(test_budget_across_reboots, setup),
		cmocka_unit_test_setup(test_threads, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
