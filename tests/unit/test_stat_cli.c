/* SPDX-License-Identifier: MIT
 * test_stat_cli.c - `minivmm stat`: the bounded JSON flattener on good and
 * hostile answers, the table's rates, shares and histogram, --interval. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/stat_cli.h"
#include "vmm/stats.h"

static struct sj j;

static int setup(void **state)
{
	(void)state;
	j.items = calloc(SJ_ITEMS_MAX, sizeof(*j.items));
	return j.items ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(j.items);
	j.items = NULL;
	return 0;
}

static int parse(const char *text)
{
	return sj_parse(&j, text, strlen(text));
}

static void test_parse(void **state)
{
	const struct sj_item *it;

	(void)state;
	assert_int_equal(parse(" {\"ok\":true,\"a\":{\"b\":[7,8,[9]],\"c\":\"x\\\"y\\u0041\\n\"},"
			       "\"n\":null,\"neg\":-5,\"frac\":2.75e1,\"big\":99999999999999999999999,"
			       "\"f\":false,\"d.ot\":3,\"e\":{},\"l\":[]}\n"), 0);
	assert_int_equal(sj_num(&j, "ok"), 1);
	assert_int_equal(sj_num(&j, "a.b.0"), 7);
	assert_int_equal(sj_num(&j, "a.b.1"), 8);
	assert_int_equal(sj_num(&j, "a.b.2.0"), 9);
	it = sj_find(&j, "a.c");
	assert_non_null(it);
	assert_int_equal(it->type, SJ_STR);
	assert_string_equal(it->str, "x\"y?\n");
	assert_int_equal(sj_find(&j, "n")->type, SJ_NULL);
	assert_int_equal(sj_num(&j, "neg"), 0);       /* counters are never negative */
	assert_int_equal(sj_num(&j, "frac"), 2);      /* the integer part */
	assert_int_equal(sj_num(&j, "big"), UINT64_MAX);
	assert_int_equal(sj_find(&j, "f")->type, SJ_BOOL);
	assert_int_equal(sj_num(&j, "d_ot"), 3);      /* a dot in a name cannot fake a path */
	assert_null(sj_find(&j, "d.ot"));
	assert_null(sj_find(&j, "missing"));
	assert_int_equal(sj_num(&j, "a.c"), 0);       /* a string is no number */
	/* a long string is cut, not overflowed */
	char longstr[300];
	memset(longstr, 0, sizeof(longstr));
	strcpy(longstr, "{\"s\":\"");
	memset(longstr + 6, 'z', 200);
	strcat(longstr, "\"}");
	assert_int_equal(parse(longstr), 0);
	assert_int_equal(strlen(sj_find(&j, "s")->str), SJ_STR_MAX - 1);
}

static void test_parse_hostile(void **state)
{
	static const char *const bad[] = {
		"", "   ", "42", "[1,2]", "\"s\"", "{", "{\"a\"", "{\"a\":}", "{\"a\":1,}",
		"{\"a\":1}x", "{\"a\":1}{}", "{\"a\":\"unterminated}", "{\"a\":\"\\q\"}",
		"{\"a\":\"\\u12\"}", "{\"a\":\"tab\there\"}", "{a:1}", "{\"a\":tru}",
		"{\"a\":-}", "{\"a\":[1 2]}", "{\"a\" 1}", "{\"a\":1 \"b\":2}",
	};
	char *deep, *wide, *key;
	size_t n = 0;

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i]) != -EINVAL)
			fail_msg("'%s' was taken", bad[i]);
	/* nesting beyond SJ_DEPTH_MAX */
	deep = malloc(2 * 40 + 16);
	for (int i = 0; i < 40; i++)
		deep[n++] = '[';
	for (int i = 0; i < 40; i++)
		deep[n++] = ']';
	deep[n] = 0;
	char *obj = malloc(strlen(deep) + 16);
	sprintf(obj, "{\"a\":%s}", deep);
	assert_int_equal(parse(obj), -EINVAL);
	free(obj);
	free(deep);
	/* more values than SJ_ITEMS_MAX */
	wide = malloc(8 * (SJ_ITEMS_MAX + 10) + 16);
	n = (size_t)sprintf(wide, "{\"a\":[");
	for (int i = 0; i < SJ_ITEMS_MAX + 10; i++)
		n += (size_t)sprintf(wide + n, "%s1", i ? "," : "");
	strcpy(wide + n, "]}");
	assert_int_equal(parse(wide), -E2BIG);
	free(wide);
	/* a path longer than SJ_KEY_MAX */
	key = malloc(SJ_KEY_MAX + 32);
	n = (size_t)sprintf(key, "{\"");
	memset(key + n, 'k', SJ_KEY_MAX);
	n += SJ_KEY_MAX;
	strcpy(key + n, "\":1}");
	assert_int_equal(parse(key), -EINVAL);
	free(key);
	/* embedded NUL: the length counts, not the string */
	assert_int_equal(sj_parse(&j, "{\"a\":1}\0junk", 12), -EINVAL);
	assert_int_equal(sj_parse(&j, "{\"a\":1}\0junk", 7), 0);
}

/* stats_json's output reads back through the flattener */
static void test_round_trip(void **state)
{
	static struct vm_stats s;
	char body[4096], text[4200];

	(void)state;
	memset(&s, 0, sizeof(s));
	stats_exit_time(&s, KVM_EXIT_IO, 100);
	stats_exit_time(&s, KVM_EXIT_IO, 5000);
	s.vcpu[0].tid = 9;
	stats_vcpu_time(&s, 0, 123, 45, true);
	s.v[STAT_EXITS] = 2;
	s.v[STAT_EXIT_IO] = 2;
	stats_json(&s, body, sizeof(body));
	snprintf(text, sizeof(text), "{\"ok\":true,\"minivmm\":\"stats\",%s}", body);
	assert_int_equal(parse(text), 0);
	assert_int_equal(sj_num(&j, "exits.all"), 2);
	assert_int_equal(sj_num(&j, "exits.io"), 2);
	assert_int_equal(sj_num(&j, "handler.io.count"), 2);
	assert_int_equal(sj_num(&j, "handler.io.hist.0.0"), 6);
	assert_int_equal(sj_num(&j, "handler.io.hist.0.1"), 1);
	assert_int_equal(sj_num(&j, "handler.io.hist.1.0"), 12);
	assert_int_equal(sj_num(&j, "vcpu_time.0.tid"), 9);
	assert_int_equal(sj_num(&j, "vcpu_time.0.run_ns"), 123);
	assert_int_equal(sj_num(&j, "vcpu_time.0.handler_ns"), 45);
}

/* not inlined: gcc then takes the memstream's buffer for a dangling local */
__attribute__((noinline)) static char *table(const struct stat_sample *prev,
					     const struct stat_sample *cur)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	stat_table(f, "/tmp/vm.sock", prev, cur);
	fclose(f);
	return text;
}

#define assert_has(text, frag)                                                 \
	do {                                                                   \
		if (!strstr(text, frag))                                       \
			fail_msg("table lacks '%s':\n%s", frag, text);         \
	} while (0)

static void test_table(void **state)
{
	static struct stat_sample a, b;
	const char *hist;
	char *text;

	(void)state;
	a.j.items = calloc(SJ_ITEMS_MAX, sizeof(struct sj_item));
	b.j.items = calloc(SJ_ITEMS_MAX, sizeof(struct sj_item));
	/* two readings 2 s apart: 4000 port I/O exits more, half of the
	 * vCPU's time in KVM_RUN, a tenth in handlers */
	const char *t0 =
		"{\"ok\":true,\"minivmm\":\"stats\",\"state\":\"running\",\"pid\":77,\"vcpus\":1,"
		"\"time_ns\":1000000000,\"exits\":{\"all\":1000,\"io\":990,\"mmio\":10,\"hlt\":0,"
		"\"intr\":0,\"other\":0},\"counters\":{\"vq_notify\":5,\"irqs\":7},"
		"\"handler\":{\"io\":{\"count\":990,\"ns\":99000,\"hist\":[[6,990]]},"
		"\"mmio\":{\"count\":10,\"ns\":10000,\"hist\":[[9,10]]}},"
		"\"vcpu_time\":[{\"id\":0,\"tid\":78,\"run_ns\":100,\"handler_ns\":0,\"exits\":1000}],"
		"\"bus_exits\":{\"pio:port80\":990,\"mmio:pvpanic\":10},"
		"\"devices\":{\"ide0\":{\"reads\":3,\"bytes_read\":1536}},"
		"\"bus_regs\":{\"pio:port80\":[[\"POST\",990]],"
		"\"mmio:virtio-blk0\":[[\"common.queue_select\",4],[\"isr\",2]]},"
		"\"bus_regs_left_out\":0}";
	const char *t1 =
		"{\"ok\":true,\"minivmm\":\"stats\",\"state\":\"running\",\"pid\":77,\"vcpus\":1,"
		"\"time_ns\":3000000000,\"exits\":{\"all\":5000,\"io\":4990,\"mmio\":10,\"hlt\":0,"
		"\"intr\":0,\"other\":0},\"counters\":{\"vq_notify\":25,\"irqs\":7},"
		"\"handler\":{\"io\":{\"count\":4990,\"ns\":1499000,\"hist\":[[6,1990],[11,3000]]},"
		"\"mmio\":{\"count\":10,\"ns\":10000,\"hist\":[[9,10]]}},"
		"\"vcpu_time\":[{\"id\":0,\"tid\":78,\"run_ns\":1000000100,\"handler_ns\":200000000,"
		"\"exits\":5000}],"
		"\"bus_exits\":{\"pio:port80\":4990,\"mmio:pvpanic\":10},"
		"\"devices\":{\"ide0\":{\"reads\":5,\"bytes_read\":2560}},"
		"\"bus_regs\":{\"pio:port80\":[[\"POST\",4990]],"
		"\"mmio:virtio-blk0\":[[\"isr\",12],[\"common.queue_select\",4],"
		"[\"notify q0\",6]]},\"bus_regs_left_out\":2}";
	assert_int_equal(sj_parse(&a.j, t0, strlen(t0)), 0);
	assert_int_equal(sj_parse(&b.j, t1, strlen(t1)), 0);
	b.guest_ns[0] = 800000000; /* 0.8 s of the 2 s in the guest */

	text = table(&a, &b);
	if (getenv("SHOW_TABLE"))
		fputs(text, stderr);
	assert_has(text, "minivmm stat  /tmp/vm.sock  pid 77  running  1 vCPU  interval 2.00 s\n");
	assert_has(text, "  all                                  2000           5000\n");
	assert_has(text, "  io                                   2000           4990\n");
	assert_has(text, "  mmio                                    0             10\n");
	assert_has(text, "  pio:port80                           2000           4990\n");
	assert_has(text, "  mmio:pvpanic                            0             10\n");
	assert_has(text, "  notifications (kicks)                  10             25\n");
	/* by register, matched by name although the order changed; a
	 * register new in this interval: all of its count */
	assert_has(text, "  pio:port80 POST                      2000           4990\n");
	assert_has(text, "  mmio:virtio-blk0 isr                    5             12\n");
	/* a name past its 28 columns: the rate and total keep their columns */
	assert_has(text, "  mmio:virtio-blk0 common.queue_select    0              4\n");
	assert_has(text, "  mmio:virtio-blk0 notify q0              3              6\n");
	assert_has(text, "  (2 devices left out: no room in the answer)\n");
	/* 1 s of 2 in KVM_RUN, 0.8 s of it in the guest, 0.2 s in handlers */
	assert_has(text, "  vcpu0                              50.0%     40.0%     10.0%     40.0%\n");
	/* the interval's 4000 io exits: 1000 in [64, 128) ns, 3000 in [2, 4) us */
	assert_has(text, "  io           4000 exits, mean 350 ns\n");
	assert_has(text, "    [64, 128) ns                       1000  25% ##########\n");
	assert_has(text, "    [2048, 4096) ns                    3000  75% ##############################\n");
	/* no mmio exit in the interval: io's is the only histogram */
	hist = strstr(text, "exits, mean");
	assert_non_null(hist);
	assert_null(strstr(hist + 1, "exits, mean"));
	assert_has(text, "  ide0.reads                              1              5\n");
	assert_has(text, "  ide0.bytes_read                       512           2560\n");
	free(text);

	/* one reading: totals, no rates; the guest column unknown */
	text = table(NULL, &a);
	if (getenv("SHOW_TABLE"))
		fputs(text, stderr);
	assert_has(text, "totals since the start\n");
	assert_has(text, "  all                                     -           1000\n");
	assert_has(text, "  vcpu0                             100.0%         -      0.0%      0.0%\n");
	assert_has(text, "  io            990 exits, mean 100 ns\n");
	free(text);
	free(a.j.items);
	free(b.j.items);
}

static void test_interval(void **state)
{
	static const char *const bad[] = { "0", "0.05", "-1", "abc", "1x", "", "nan", "inf",
					   "3601", "1e9" };
	double v;

	(void)state;
	assert_int_equal(stat_parse_interval("1", &v), 0);
	assert_true(v == 1);
	assert_int_equal(stat_parse_interval("0.1", &v), 0);
	assert_int_equal(stat_parse_interval("3600", &v), 0);
	assert_int_equal(stat_parse_interval("2.5", &v), 0);
	assert_true(v == 2.5);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (stat_parse_interval(bad[i], &v) != -EINVAL)
			fail_msg("--interval '%s' was taken", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_interval),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
