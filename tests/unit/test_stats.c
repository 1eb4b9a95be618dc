/* SPDX-License-Identifier: MIT
 * test_stats.c - the exit-time histogram, the per-vCPU times and their JSON
 * and --stats forms (vmm/stats.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/stats.h"

static void test_buckets(void **state)
{
	(void)state;
	assert_int_equal(stats_bucket(0), 0);
	assert_int_equal(stats_bucket(1), 0);
	assert_int_equal(stats_bucket(2), 1);
	assert_int_equal(stats_bucket(3), 1);
	assert_int_equal(stats_bucket(1023), 9);
	assert_int_equal(stats_bucket(1024), 10);
	assert_int_equal(stats_bucket((1ull << 31) - 1), 30);
	assert_int_equal(stats_bucket(1ull << 31), STATS_HIST_BUCKETS - 1);
	assert_int_equal(stats_bucket(UINT64_MAX), STATS_HIST_BUCKETS - 1);
}

static void test_reasons(void **state)
{
	(void)state;
	assert_int_equal(stats_reason_of(KVM_EXIT_IO), STATS_R_IO);
	assert_int_equal(stats_reason_of(KVM_EXIT_MMIO), STATS_R_MMIO);
	assert_int_equal(stats_reason_of(KVM_EXIT_HLT), STATS_R_HLT);
	assert_int_equal(stats_reason_of(KVM_EXIT_INTR), STATS_R_INTR);
	assert_int_equal(stats_reason_of(KVM_EXIT_SHUTDOWN), STATS_R_OTHER);
	assert_int_equal(stats_reason_of(0xffffffffu), STATS_R_OTHER);
}

static void test_exit_time_and_json(void **state)
{
	static struct vm_stats s;
	char buf[4096], *p;
	int n;

	(void)state;
	memset(&s, 0, sizeof(s));
	stats_exit_time(&s, KVM_EXIT_IO, 100);  /* bucket 6: [64, 128) */
	stats_exit_time(&s, KVM_EXIT_IO, 120);
	stats_exit_time(&s, KVM_EXIT_IO, 5000); /* bucket 12 */
	stats_exit_time(&s, KVM_EXIT_MMIO, 0);
	assert_int_equal(s.hist[STATS_R_IO].count, 3);
	assert_int_equal(s.hist[STATS_R_IO].ns, 5220);
	assert_int_equal(s.hist[STATS_R_IO].b[6], 2);
	assert_int_equal(s.hist[STATS_R_IO].b[12], 1);
	assert_int_equal(s.hist[STATS_R_MMIO].b[0], 1);

	s.vcpu[1].tid = 42;
	stats_vcpu_time(&s, 1, 1000, 0, false);
	stats_vcpu_time(&s, 1, 0, 300, true);
	stats_vcpu_time(&s, STATS_VCPUS_MAX, 1, 1, true); /* ignored */
	assert_int_equal(s.vcpu[1].run_ns, 1000);
	assert_int_equal(s.vcpu[1].handler_ns, 300);
	assert_int_equal(s.vcpu[1].exits, 1);

	s.v[STAT_EXITS] = 4;
	s.v[STAT_EXIT_IO] = 3;
	s.v[STAT_EXIT_MMIO] = 1;
	n = stats_json(&s, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	/* every counter has its own JSON name (a new stat_id needs one) */
	assert_null(strstr(buf, "unnamed"));
	assert_non_null(strstr(buf, "\"vq_notify_ioeventfd\":0,\"irqs_irqfd\":0}"));
	assert_non_null(strstr(buf, "\"exits\":{\"all\":4,\"io\":3,\"mmio\":1,\"hlt\":0,"));
	assert_non_null(strstr(buf, "\"io\":{\"count\":3,\"ns\":5220,\"hist\":[[6,2],[12,1]]}"));
	assert_non_null(strstr(buf, "\"mmio\":{\"count\":1,\"ns\":0,\"hist\":[[0,1]]}"));
	assert_non_null(strstr(buf, "\"vcpu_time\":[{\"id\":1,\"tid\":42,\"run_ns\":1000,"
				    "\"handler_ns\":300,\"exits\":1}]"));
	/* like snprintf: a short buffer gets what fits, the length is the same */
	p = malloc(16);
	assert_int_equal(stats_json(&s, p, 16), n);
	assert_int_equal(strlen(p), 15);
	free(p);
	assert_int_equal(stats_json(&s, NULL, 0), n);
}

static void test_print(void **state)
{
	static struct vm_stats s;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.vcpu[0].tid = 7;
	stats_vcpu_time(&s, 0, 2000000000ull, 0, false);
	stats_vcpu_time(&s, 0, 0, 1500, true);
	for (int i = 0; i < 3; i++)
		stats_exit_time(&s, KVM_EXIT_IO, 700); /* bucket 9: [512, 1024) */
	stats_exit_time(&s, KVM_EXIT_IO, 3000);
	f = open_memstream(&text, &len);
	stats_print(&s, f);
	fclose(f);
	assert_non_null(strstr(text, "vcpu0   KVM_RUN      2.000 s  handlers     1.500 us"));
	assert_non_null(strstr(text, "    io                      4    1.275 us   [512, 1024) ns: 75%"));
	assert_null(strstr(text, "mmio ")); /* reasons never seen are left out */
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_exit_time_and_json),
		cmocka_unit_test(test_print),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
