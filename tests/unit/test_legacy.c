/* SPDX-License-Identifier: MIT
 * Unit tests: i8042 keyboard controller and CMOS RTC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "devices/i8042.h"
#include "devices/rtc.h"

static int resets, kbd_irq;

static void on_reset(void *o) { (void)o; resets++; }
static void on_irq(void *o, bool l) { (void)o; kbd_irq = l; }

static void out(struct i8042 *k, unsigned port, uint8_t v)
{
	if (port == 0x64)
		i8042_cmd_io(k, 0, &v, 1, true);
	else
		i8042_data_io(k, 0, &v, 1, true);
}

static uint8_t in(struct i8042 *k, unsigned port)
{
	uint8_t v;
	if (port == 0x64)
		i8042_cmd_io(k, 0, &v, 1, false);
	else
		i8042_data_io(k, 0, &v, 1, false);
	return v;
}

static void test_i8042_reset_and_probe(void **state)
{
	(void)state;
	struct i8042 k;
	i8042_init(&k, on_irq, on_reset, NULL);
	resets = 0;
	/* kb_wait: input buffer never full */
	assert_int_equal(in(&k, 0x64) & 0x02, 0);
	/* self test */
	out(&k, 0x64, 0xaa);
	assert_true(in(&k, 0x64) & 0x01);
	assert_int_equal(in(&k, 0x60), 0x55);
	assert_false(in(&k, 0x64) & 0x01);
	/* read / write the command byte */
	out(&k, 0x64, 0x20);
	uint8_t ctr = in(&k, 0x60);
	out(&k, 0x64, 0x60);
	out(&k, 0x60, (uint8_t)(ctr & ~1));
	out(&k, 0x64, 0x20);
	assert_int_equal(in(&k, 0x60), ctr & ~1);
	/* no aux port: its interface test fails */
	out(&k, 0x64, 0xa9);
	assert_int_equal(in(&k, 0x60), 0xff);
	/* keyboard commands are acknowledged, identify answers MF2 */
	out(&k, 0x60, 0xf2);
	assert_int_equal(in(&k, 0x60), 0xfa);
	assert_int_equal(in(&k, 0x60), 0xab);
	assert_int_equal(in(&k, 0x60), 0x83);
	out(&k, 0x60, 0xed); /* LEDs + argument */
	out(&k, 0x60, 0x07);
	assert_int_equal(in(&k, 0x60), 0xfa);
	assert_int_equal(in(&k, 0x60), 0xfa);
	assert_int_equal(resets, 0);
	/* reboot=k: pulse the reset line */
	out(&k, 0x64, 0xfe);
	assert_int_equal(resets, 1);
	/* output port write with bit 0 clear resets too */
	out(&k, 0x64, 0xd1);
	out(&k, 0x60, 0x00);
	assert_int_equal(resets, 2);
}

static void test_i8042_irq(void **state)
{
	(void)state;
	struct i8042 k;
	i8042_init(&k, on_irq, on_reset, NULL);
	kbd_irq = 0;
	out(&k, 0x60, 0xff); /* keyboard reset: 0xfa 0xaa */
	assert_int_equal(kbd_irq, 1);
	in(&k, 0x60);
	assert_int_equal(kbd_irq, 1);
	in(&k, 0x60);
	assert_int_equal(kbd_irq, 0);
}

static time_t fixed_now(void)
{
	/* 2024-02-29 13:45:56 UTC, a Thursday */
	return 1709214356;
}

static uint8_t cmos(struct rtc *r, uint8_t reg)
{
	uint8_t v;
	rtc_io(r, 0, &reg, 1, true);
	rtc_io(r, 1, &v, 1, false);
	return v;
}

static void cmos_write(struct rtc *r, uint8_t reg, uint8_t val)
{
	rtc_io(r, 0, &reg, 1, true);
	rtc_io(r, 1, &val, 1, true);
}

static void test_rtc_time(void **state)
{
	(void)state;
	struct rtc r;
	rtc_init(&r, fixed_now);
	assert_int_equal(cmos(&r, 0x00), 0x56);
	assert_int_equal(cmos(&r, 0x02), 0x45);
	assert_int_equal(cmos(&r, 0x04), 0x13);
	assert_int_equal(cmos(&r, 0x06), 0x05); /* Thursday = 5 */
	assert_int_equal(cmos(&r, 0x07), 0x29);
	assert_int_equal(cmos(&r, 0x08), 0x02);
	assert_int_equal(cmos(&r, 0x09), 0x24);
	assert_int_equal(cmos(&r, 0x32), 0x20);
	/* NMI-disable bit in the index is ignored */
	assert_int_equal(cmos(&r, 0x80 | 0x09), 0x24);
	assert_false(cmos(&r, 0x0a) & 0x80);  /* never update-in-progress */
	assert_true(cmos(&r, 0x0d) & 0x80);   /* battery good */
	/* binary mode and 12-hour mode */
	cmos_write(&r, 0x0b, 0x04 | 0x00);
	assert_int_equal(cmos(&r, 0x00), 56);
	assert_int_equal(cmos(&r, 0x04), 0x80 | 1); /* 1 PM */
	cmos_write(&r, 0x0b, 0x02);
	/* the guest sets the year to 2025: an offset, reads follow it */
	cmos_write(&r, 0x09, 0x25);
	assert_int_equal(cmos(&r, 0x09), 0x25);
	assert_int_equal(cmos(&r, 0x08), 0x03); /* 2025 has no Feb 29 */
	/* CMOS RAM keeps what was written */
	cmos_write(&r, 0x40, 0x99);
	assert_int_equal(cmos(&r, 0x40), 0x99);
}

/* Every clock register holds a valid date field (binary mode). */
static void assert_sane_date(struct rtc *r)
{
	assert_true(cmos(r, 0x00) < 60);
	assert_true(cmos(r, 0x02) < 60);
	assert_true(cmos(r, 0x04) < 24);
	assert_true(cmos(r, 0x06) >= 1 && cmos(r, 0x06) <= 7);
	assert_true(cmos(r, 0x07) >= 1 && cmos(r, 0x07) <= 31);
	assert_true(cmos(r, 0x08) >= 1 && cmos(r, 0x08) <= 12);
	assert_true(cmos(r, 0x09) <= 99);
	assert_true(cmos(r, 0x32) <= 99);
}

/* A guest that keeps moving the clock forward (year 255 in binary mode,
 * month and day 255) stops at 9999-12-31 23:59:59; one that moves it back
 * stops at 0000-01-01. Without a bound the year grows past what tm_year
 * holds (signed overflow) and gmtime_r() fails. */
static void test_rtc_hostile_dates(void **state)
{
	(void)state;
	struct rtc r;

	rtc_init(&r, fixed_now);
	cmos_write(&r, 0x0b, 0x02 | 0x04); /* 24-hour, binary */
	for (int i = 0; i < 200; i++) {
		cmos_write(&r, 0x32, 0xff);
		cmos_write(&r, 0x09, 0xff);
		cmos_write(&r, 0x08, 0xff);
		cmos_write(&r, 0x07, 0xff);
		cmos_write(&r, 0x04, 0xff);
	}
	assert_sane_date(&r);
	assert_int_equal(cmos(&r, 0x32), 99);
	assert_int_equal(cmos(&r, 0x09), 99);
	assert_int_equal(cmos(&r, 0x08), 12);
	assert_int_equal(cmos(&r, 0x07), 31);
	assert_int_equal(cmos(&r, 0x04), 23);
	for (int i = 0; i < 200; i++) {
		cmos_write(&r, 0x32, 0);
		cmos_write(&r, 0x09, 0);
		cmos_write(&r, 0x08, 0);
		cmos_write(&r, 0x07, 0);
	}
	assert_sane_date(&r);
	assert_int_equal(cmos(&r, 0x32), 0);
	assert_int_equal(cmos(&r, 0x09), 0);
	assert_int_equal(cmos(&r, 0x08), 1);
	assert_int_equal(cmos(&r, 0x07), 1);
	/* years before 1900 read and write like any other */
	cmos_write(&r, 0x32, 18);
	cmos_write(&r, 0x09, 50);
	assert_int_equal(cmos(&r, 0x32), 18);
	assert_int_equal(cmos(&r, 0x09), 50);
	cmos_write(&r, 0x32, 17);
	assert_int_equal(cmos(&r, 0x09), 50);
}

static time_t far_now(void)
{
	/* a host clock where gmtime_r() fails (the year overflows an int) */
	return (time_t)0x7fffffffffffff00LL;
}

/* A host clock beyond what gmtime_r() can convert, plus a guest offset:
 * no signed overflow, and the registers show the last date, not stack
 * bytes. */
static void test_rtc_far_host_clock(void **state)
{
	(void)state;
	struct rtc r;

	rtc_init(&r, fixed_now);
	cmos_write(&r, 0x0b, 0x02 | 0x04); /* 24-hour, binary */
	cmos_write(&r, 0x32, 30);          /* the guest goes to 30xx */
	r.now = far_now;
	assert_sane_date(&r);
	assert_int_equal(cmos(&r, 0x32), 99);
	assert_int_equal(cmos(&r, 0x09), 99);
	cmos_write(&r, 0x09, 50);
	assert_sane_date(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_i8042_reset_and_probe),
		cmocka_unit_test(test_i8042_irq),
		cmocka_unit_test(test_rtc_time),
		cmocka_unit_test(test_rtc_hostile_dates),
		cmocka_unit_test(test_rtc_far_host_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
