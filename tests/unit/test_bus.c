/* SPDX-License-Identifier: MIT
 * Unit tests: PIO/MMIO bus registration, overlap rejection and lookup, and
 * how unhandled accesses are reported. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/bus.h"
#include "vmm/log.h"

struct hit {
	uint64_t off;
	unsigned len, calls;
	bool write;
};

static void dev_fn(void *opaque, uint64_t off, void *data, unsigned len,
		   bool is_write)
{
	struct hit *h = opaque;
	h->off = off;
	h->len = len;
	h->write = is_write;
	h->calls++;
	if (!is_write)
		memset(data, 0x5a, len);
}

static void test_overlaps(void **state)
{
	(void)state;
	struct bus b;
	struct hit h = { 0 };
	log_quiet = true;
	assert_int_equal(bus_init(&b, "pio"), 0);
	assert_int_equal(bus_add(&b, 0x3f8, 8, dev_fn, NULL, &h, "com1"), 0);
	assert_int_equal(bus_add(&b, 0x3f8, 8, dev_fn, NULL, &h, "dup"), -EEXIST);
	assert_int_equal(bus_add(&b, 0x3f0, 9, dev_fn, NULL, &h, "left"), -EEXIST);
	assert_int_equal(bus_add(&b, 0x3ff, 1, dev_fn, NULL, &h, "right"), -EEXIST);
	assert_int_equal(bus_add(&b, 0x3f0, 8, dev_fn, NULL, &h, "below"), 0);
	assert_int_equal(bus_add(&b, 0x400, 1, dev_fn, NULL, &h, "above"), 0);
	assert_int_equal(bus_add(&b, 0x3fa, 1, dev_fn, NULL, &h, "inside"), -EEXIST);
	assert_int_equal(bus_add(&b, 0x100, 0x1000, dev_fn, NULL, &h, "around"), -EEXIST);
	/* zero length and wrap-around are invalid */
	assert_int_equal(bus_add(&b, 0x10, 0, dev_fn, NULL, &h, "zero"), -EINVAL);
	assert_int_equal(bus_add(&b, UINT64_MAX - 1, 4, dev_fn, NULL, &h, "wrap"), -EINVAL);
	/* a range ending exactly at the top of the address space is fine */
	assert_int_equal(bus_add(&b, UINT64_MAX - 3, 4, dev_fn, NULL, &h, "top"), 0);
	assert_int_equal(b.nr, 4);
	bus_destroy(&b);
	log_quiet = false;
}

static void test_lookup(void **state)
{
	(void)state;
	struct bus b;
	struct hit h[64] = { 0 };
	uint32_t v = 0;
	assert_int_equal(bus_init(&b, "mmio"), 0);
	/* insert in scrambled order; each device 0x10 bytes at i*0x100 */
	for (unsigned k = 0; k < 64; k++) {
		unsigned i = (k * 37) % 64;
		assert_int_equal(bus_add(&b, i * 0x100ULL, 0x10, dev_fn, NULL, &h[i], "d"), 0);
	}
	for (unsigned i = 0; i < 64; i++) {
		assert_true(bus_access(&b, i * 0x100ULL + 0xc, &v, 4, false));
		assert_int_equal(h[i].calls, 1);
		assert_int_equal(h[i].off, 0xc);
		assert_int_equal(v, 0x5a5a5a5a);
	}
	/* a miss reads as all ones and is counted */
	log_quiet = true; /* (the warnings are test_miss_reports' business) */
	assert_false(bus_access(&b, 0x10, &v, 4, false));
	assert_int_equal(v, 0xffffffff);
	assert_false(bus_access(&b, 0x10, &v, 4, true));
	assert_false(bus_access(&b, 0x1f, &v, 1, false));
	assert_int_equal(b.unhandled, 3);
	assert_int_equal(b.nr_reported, 2); /* reported once per address */
	/* remove and re-add elsewhere (a PCI BAR move) */
	assert_int_equal(bus_remove(&b, 0x500), 0);
	assert_int_equal(bus_remove(&b, 0x500), -ENOENT);
	assert_false(bus_access(&b, 0x500, &v, 4, false));
	assert_int_equal(bus_add(&b, 0x10000, 0x10, dev_fn, NULL, &h[5], "moved"), 0);
	assert_true(bus_access(&b, 0x10004, &v, 2, true));
	assert_int_equal(h[5].off, 4);
	assert_true(h[5].write);
	bus_destroy(&b);
	log_quiet = false;
}

/* Run fn with stderr sent to a temporary file; return how many lines it
 * printed and leave the text in out. */
static unsigned capture_stderr(void (*fn)(struct bus *), struct bus *b,
			       char *out, size_t size)
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	unsigned lines = 0;
	size_t n;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), 2) >= 0);
	fn(b);
	fflush(stderr);
	assert_true(dup2(saved, 2) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, size - 1, tmp);
	out[n] = 0;
	fclose(tmp);
	for (size_t i = 0; i < n; i++)
		lines += out[i] == '\n';
	return lines;
}

/* BUS_REPORTED_MAX distinct addresses, each hit three times */
static void miss_table_full(struct bus *b)
{
	uint8_t v;

	for (unsigned k = 0; k < 3; k++)
		for (unsigned i = 0; i < BUS_REPORTED_MAX; i++)
			bus_access(b, 0x1000 + i, &v, 1, k == 1);
}

/* then as many new addresses again, twice each, and an old one */
static void miss_after_full(struct bus *b)
{
	uint8_t v;

	for (unsigned k = 0; k < 2; k++)
		for (unsigned i = 0; i < BUS_REPORTED_MAX; i++)
			bus_access(b, 0x2000 + i, &v, 1, false);
	bus_access(b, 0x1000, &v, 1, false);
}

/* Reported at most once per address, without --trace; once the table of
 * reported addresses is full, one line says so and then silence, while
 * every miss is still counted. */
static void test_miss_reports(void **state)
{
	(void)state;
	static char out[64 * 1024];
	struct bus b;
	uint32_t v = 0;

	log_trace_enabled = false;
	log_quiet = false;
	assert_int_equal(bus_init(&b, "pio"), 0);
	assert_int_equal(bus_add(&b, 0x3f8, 8, dev_fn, NULL, &(struct hit){ 0 }, "com1"), 0);

	/* one warning per address, none for repeats */
	assert_int_equal(capture_stderr(miss_table_full, &b, out, sizeof(out)),
			 BUS_REPORTED_MAX);
	assert_non_null(strstr(out, "warning: pio bus: unhandled 1-byte read at 0x1000"));
	assert_non_null(strstr(out, "at 0x103f"));
	assert_int_equal(b.unhandled, 3 * BUS_REPORTED_MAX);
	assert_int_equal(b.nr_reported, BUS_REPORTED_MAX);
	assert_false(b.reports_stopped);

	/* table full: exactly one more line, for the first new address */
	assert_int_equal(capture_stderr(miss_after_full, &b, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "no longer reported"));
	assert_null(strstr(out, "0x2000"));
	assert_true(b.reports_stopped);
	assert_int_equal(b.unhandled, 5 * BUS_REPORTED_MAX + 1);
	assert_int_equal(b.nr_reported, BUS_REPORTED_MAX);

	/* and silence from then on, whatever is missed */
	assert_int_equal(capture_stderr(miss_after_full, &b, out, sizeof(out)), 0);
	assert_int_equal(b.unhandled, 7 * BUS_REPORTED_MAX + 2);

	/* hits are neither counted nor reported; misses still read all ones */
	assert_true(bus_access(&b, 0x3f8, &v, 1, false));
	assert_false(bus_access(&b, 0x9999, &v, 4, false));
	assert_int_equal(v, 0xffffffff);
	assert_int_equal(b.unhandled, 7 * BUS_REPORTED_MAX + 3);
	bus_destroy(&b);
}

/* Exits are counted by range name; a range that moves keeps its count; the
 * JSON form names the bus and the device; names beyond the table share the
 * last counter. */
static void test_counters(void **state)
{
	(void)state;
	struct bus b;
	struct hit h = { 0 };
	char buf[256], small[8];
	uint8_t d[4];
	int n;

	assert_int_equal(bus_init(&b, "pio"), 0);
	assert_int_equal(bus_add(&b, 0x3f8, 8, dev_fn, NULL, &h, "com1"), 0);
	assert_int_equal(bus_add(&b, 0x60, 1, dev_fn, NULL, &h, "i8042"), 0);
	assert_int_equal(bus_add(&b, 0x64, 1, dev_fn, NULL, &h, "i8042"), 0);
	assert_int_equal(bus_counters_json(&b, buf, sizeof(buf)), 0);
	bus_access(&b, 0x3f8, d, 1, true);
	bus_access(&b, 0x3fd, d, 1, false);
	bus_access(&b, 0x60, d, 1, false);
	bus_access(&b, 0x64, d, 1, true);
	bus_access(&b, 0x500, d, 1, false); /* a miss: no device's exit */
	/* the range moves (a BAR): the count stays with the name */
	assert_int_equal(bus_remove(&b, 0x3f8), 0);
	assert_int_equal(bus_add(&b, 0x2f8, 8, dev_fn, NULL, &h, "com1"), 0);
	bus_access(&b, 0x2f8, d, 1, true);
	n = bus_counters_json(&b, buf, sizeof(buf));
	assert_string_equal(buf, "\"pio:com1\":3,\"pio:i8042\":2");
	assert_int_equal(n, (int)strlen(buf));
	/* too small a buffer: the length it needs, a terminated prefix */
	assert_int_equal(bus_counters_json(&b, small, sizeof(small)), n);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	/* more names than counters: the rest share "(others)" */
	for (unsigned i = 0; i < BUS_COUNTERS_MAX + 4; i++) {
		static char names[BUS_COUNTERS_MAX + 4][8];

		snprintf(names[i], sizeof(names[i]), "d%u", i);
		assert_int_equal(bus_add(&b, 0x1000 + i, 1, dev_fn, NULL, &h, names[i]), 0);
		bus_access(&b, 0x1000 + i, d, 1, false);
	}
	assert_int_equal(b.counters[BUS_COUNTERS_MAX - 1].exits, 7);
	assert_string_equal(b.counters[BUS_COUNTERS_MAX - 1].name, "(others)");
	bus_destroy(&b);
}

/* A namer whose name depends on the offset and on state, as the UART's
 * does (DLAB), with a '(' part that the key leaves out. */
static bool fake_dlab;
static unsigned fake_reg(void *opaque, uint64_t off, unsigned len,
			 bool is_write, char *buf, size_t size)
{
	(void)opaque;
	(void)len;
	if (off == 0)
		snprintf(buf, size, "%s", fake_dlab ? "DLL" :
						       is_write ? "THR" : "RBR");
	else if (off == 1)
		snprintf(buf, size, "SEL(0x%02x)", (unsigned)fake_dlab);
	else if (off < 6)
		snprintf(buf, size, "R%u", (unsigned)off);
	else
		snprintf(buf, size, "REG%u-with-a-name-longer-than-the-key", (unsigned)off);
	return 0;
}

static void test_regs(void **state)
{
	(void)state;
	struct bus b;
	struct hit h = { 0 };
	struct bus_reg_top top[BUS_REGS_SHOWN];
	char buf[4096], small[40];
	unsigned left, n;
	uint8_t d[4];
	size_t len;

	assert_int_equal(bus_init(&b, "pio"), 0);
	assert_int_equal(bus_add(&b, 0x3f8, 8, dev_fn, fake_reg, &h, "com1"), 0);
	assert_int_equal(bus_add(&b, 0x80, 1, dev_fn, NULL, &h, "port80"), 0);
	/* not watched: counted by device only */
	bus_access(&b, 0x3f8, d, 1, true);
	assert_int_equal(bus_counter_top_regs(&b.counters[0], top, 8), 0);
	assert_int_equal(bus_regs_json(&b, buf, sizeof(buf), &left), 0);
	assert_string_equal(buf, "");

	bus_watch_regs(&b);
	for (unsigned i = 0; i < 5; i++)
		bus_access(&b, 0x3f8, d, 1, true);    /* THR x5 */
	bus_access(&b, 0x3f8, d, 1, false);           /* RBR */
	fake_dlab = true;
	bus_access(&b, 0x3f8, d, 1, true);            /* DLL */
	bus_access(&b, 0x3f9, d, 1, true);            /* SEL(0x01) */
	fake_dlab = false;
	bus_access(&b, 0x3f9, d, 1, true);            /* SEL(0x00): SEL again */
	bus_access(&b, 0x3ff, d, 1, true);            /* a name cut to the key */
	for (unsigned i = 0; i < 3; i++)
		bus_access(&b, 0x80, d, 1, true);     /* no namer: +0x0 */
	n = bus_counter_top_regs(&b.counters[0], top, BUS_REGS_SHOWN);
	assert_int_equal(n, 5);
	assert_string_equal(top[0].name, "THR");
	assert_int_equal(top[0].exits, 5);
	assert_string_equal(top[1].name, "SEL");
	assert_int_equal(top[1].exits, 2);
	for (unsigned i = 2; i < n; i++) {
		assert_int_equal(top[i].exits, 1);
		assert_true(strlen(top[i].name) < BUS_REG_NAME_MAX);
	}
	/* only the busiest max */
	assert_int_equal(bus_counter_top_regs(&b.counters[0], top, 1), 1);
	assert_string_equal(top[0].name, "THR");

	len = bus_regs_json(&b, buf, sizeof(buf), &left);
	assert_int_equal(len, strlen(buf));
	assert_int_equal(left, 0);
	assert_non_null(strstr(buf, "\"pio:com1\":[[\"THR\",5],[\"SEL\",2],"));
	assert_non_null(strstr(buf, ",\"pio:port80\":[[\"+0x0\",3]]"));
	/* no room for com1's member: left out whole, port80's still fits */
	len = bus_regs_json(&b, small, sizeof(small), &left);
	assert_int_equal(left, 1);
	assert_string_equal(small, "\"pio:port80\":[[\"+0x0\",3]]");
	assert_int_equal(len, strlen(small));

	/* a device with more registers than slots: the rest are "(others)" */
	assert_int_equal(bus_add(&b, 0x10000, 0x1000, dev_fn, NULL, &h, "big"), 0);
	for (unsigned i = 0; i < BUS_REGS_MAX + 10; i++)
		bus_access(&b, 0x10000 + i, d, 1, true);
	assert_int_equal(b.counters[2].regs_others, 10);
	assert_int_equal(bus_counter_top_regs(&b.counters[2], top,
					      BUS_REGS_SHOWN), BUS_REGS_SHOWN);
	len = bus_regs_json(&b, buf, sizeof(buf), &left);
	assert_non_null(strstr(buf, "[\"(others)\",10]]"));
	bus_destroy(&b);
}

/* Several vCPUs naming and counting at once: no exit lost, every
 * register once in the busiest list (two slots of one name added up). */
static struct bus race_bus;

static void *race_thread(void *arg)
{
	uint8_t d[4];

	(void)arg;
	for (unsigned i = 0; i < 20000; i++)
		bus_access(&race_bus, 0x3f8 + 2 + i % 4, d, 1, true);
	return NULL;
}

static void test_regs_threads(void **state)
{
	(void)state;
	struct hit h = { 0 };
	struct bus_reg_top top[BUS_REGS_SHOWN];
	pthread_t t[4];
	uint64_t sum = 0;
	unsigned n;

	assert_int_equal(bus_init(&race_bus, "pio"), 0);
	assert_int_equal(bus_add(&race_bus, 0x3f8, 8, dev_fn, fake_reg, &h, "com1"), 0);
	bus_watch_regs(&race_bus);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, race_thread, NULL), 0);
	for (unsigned i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	n = bus_counter_top_regs(&race_bus.counters[0], top, BUS_REGS_SHOWN);
	assert_int_equal(n, 4); /* R2..R5 */
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(top[i].exits, 20000);
		sum += top[i].exits;
	}
	assert_int_equal(sum, race_bus.counters[0].exits);
	bus_destroy(&race_bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overlaps),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_miss_reports),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_regs),
		cmocka_unit_test(test_regs_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
