/* SPDX-License-Identifier: MIT
 * Unit tests: the PL031 RTC (devices/pl031.c) through its bus handler: the
 * PrimeCell IDs Linux's AMBA bus matches, the counter on a substituted host
 * clock, a load moving it, the match interrupt's flags and line (through
 * fake_vm.c), and accesses of other widths and offsets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "devices/pl031.h"
#include "fake_vm.h"

static time_t fake_now = 1700000000;

static time_t clock_fn(void)
{
	return fake_now;
}

static uint32_t rd(struct pl031 *r, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	pl031_io(r, off, &v, 4, false);
	return v;
}

static void wr(struct pl031 *r, uint64_t off, uint32_t v)
{
	pl031_io(r, off, &v, 4, true);
}

/* A model wired to the fake VM's interrupt lines, on GSI 2. */
static void setup_rtc(struct pl031 *r, struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	fake_vm_reset();
	pl031_init(r, clock_fn);
	r->dev.vm = vm;
	r->irq = 2;
}

static void test_ids(void **state)
{
	struct pl031 r;
	struct vm vm;
	static const uint32_t periph[4] = { 0x31, 0x10, 0x04, 0x00 };
	static const uint32_t cell[4] = { 0x0d, 0xf0, 0x05, 0xb1 };

	(void)state;
	setup_rtc(&r, &vm);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(rd(&r, PL031_PERIPH_ID + 4 * i), periph[i]);
		assert_int_equal(rd(&r, PL031_PCELL_ID + 4 * i), cell[i]);
	}
	assert_int_equal(rd(&r, PL031_CR), 1);
}

static void test_counter_and_load(void **state)
{
	struct pl031 r;
	struct vm vm;

	(void)state;
	setup_rtc(&r, &vm);
	fake_now = 1700000000;
	assert_int_equal(rd(&r, PL031_DR), 1700000000u);
	fake_now += 5;
	assert_int_equal(rd(&r, PL031_DR), 1700000005u);
	/* the data register is read-only; a load moves the counter only */
	wr(&r, PL031_DR, 7);
	assert_int_equal(rd(&r, PL031_DR), 1700000005u);
	wr(&r, PL031_LR, 1000);
	assert_int_equal(rd(&r, PL031_DR), 1000);
	fake_now += 3;
	assert_int_equal(rd(&r, PL031_DR), 1003);
	/* the clock cannot be stopped */
	wr(&r, PL031_CR, 0);
	assert_int_equal(rd(&r, PL031_CR), 1);
	assert_int_equal(fake.irq_line_calls, 0);
}

static void test_match_interrupt(void **state)
{
	struct pl031 r;
	struct vm vm;

	(void)state;
	setup_rtc(&r, &vm);
	fake_now = 2000;
	wr(&r, PL031_MR, 2002);
	assert_int_equal(rd(&r, PL031_MR), 2002);
	assert_int_equal(rd(&r, PL031_RIS), 0);
	fake_now = 2002;
	/* raw status without the mask: no line */
	assert_int_equal(rd(&r, PL031_RIS), 1);
	assert_int_equal(rd(&r, PL031_MIS), 0);
	assert_int_equal(fake.irq_level[2], 0);
	wr(&r, PL031_IMSC, 1);
	assert_int_equal(rd(&r, PL031_IMSC), 1);
	assert_int_equal(rd(&r, PL031_MIS), 1);
	assert_int_equal(fake.irq_level[2], 1);
	/* cleared within the matching second: it does not match again */
	wr(&r, PL031_ICR, 1);
	assert_int_equal(rd(&r, PL031_RIS), 0);
	assert_int_equal(fake.irq_level[2], 0);
	wr(&r, PL031_ICR, 0); /* bit 0 clear: nothing */
	wr(&r, PL031_MR, 2003);
	fake_now = 2003;
	assert_int_equal(rd(&r, PL031_MIS), 1);
	assert_int_equal(fake.irq_level[2], 1);
	/* cleared while the counter moved on: the line drops */
	fake_now = 2003;
	wr(&r, PL031_ICR, 1);
	assert_int_equal(rd(&r, PL031_RIS), 0);
	assert_int_equal(fake.irq_level[2], 0);
}

static void test_bad_accesses(void **state)
{
	struct pl031 r;
	struct vm vm;
	uint8_t b = 0xaa;
	uint16_t h = 0xaaaa;

	(void)state;
	setup_rtc(&r, &vm);
	pl031_io(&r, PL031_DR, &b, 1, false);
	assert_int_equal(b, 0);
	pl031_io(&r, PL031_DR, &h, 2, false);
	assert_int_equal(h, 0);
	assert_int_equal(rd(&r, PL031_DR + 1), 0);
	assert_int_equal(rd(&r, 0x800), 0);
	assert_int_equal(rd(&r, PL031_SIZE), 0);
	/* a narrow write of the load register is ignored */
	b = 1;
	pl031_io(&r, PL031_LR, &b, 1, true);
	assert_int_equal(rd(&r, PL031_DR), (uint32_t)fake_now);
	assert_int_equal(rd(&r, PL031_ICR), 0);
}

static void test_reg_names(void **state)
{
	char buf[32];

	(void)state;
	pl031_reg_name(NULL, PL031_DR, 4, false, buf, sizeof(buf));
	assert_string_equal(buf, "RTCDR");
	pl031_reg_name(NULL, PL031_ICR, 4, true, buf, sizeof(buf));
	assert_string_equal(buf, "RTCICR");
	pl031_reg_name(NULL, PL031_PCELL_ID + 12, 4, false, buf, sizeof(buf));
	assert_string_equal(buf, "RTCPCellID3");
	pl031_reg_name(NULL, 0x100, 4, false, buf, sizeof(buf));
	assert_string_equal(buf, "+0x100");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_counter_and_load),
		cmocka_unit_test(test_match_interrupt),
		cmocka_unit_test(test_bad_accesses),
		cmocka_unit_test(test_reg_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
