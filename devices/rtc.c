/* SPDX-License-Identifier: MIT
 * rtc.c - Motorola MC146818A real-time clock and CMOS RAM (data sheet:
 * "Address Map", registers A-D).
 *
 * Registers 0x00-0x09 are read from the host clock (UTC, as Linux on x86
 * expects by default), in BCD unless register B's DM bit selects binary,
 * and in 24-hour mode unless B says 12-hour. A guest that sets the clock
 * (hwclock --systohc) moves an offset, not the host clock. Update-in-
 * progress is never reported, so readers need no retry. No alarms or
 * periodic interrupts are generated. Bit 7 of the index port is the NMI
 * mask and is ignored.
 *
 * The clock a guest sees runs from 0000-01-01 00:00:00 to 9999-12-31
 * 23:59:59 UTC, the dates the century and year registers can show (two BCD
 * digits each). A guest that sets it beyond an end (month 0x99, day 0xff,
 * year 0xff again and again) finds it at that end: gmtime_r() cannot fail
 * inside the range and the year arithmetic stays small.
 */
#include "rtc.h"

#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/bus.h"
#include "vmm/vm.h"

#define REG_SEC 0x00
#define REG_MIN 0x02
#define REG_HOUR 0x04
#define REG_WDAY 0x06
#define REG_MDAY 0x07
#define REG_MON 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define REG_CENTURY 0x32

#define B_24H 0x02
#define B_DM 0x04 /* binary instead of BCD */
#define B_SET 0x80
#define D_VRT 0x80 /* valid RAM and time: the battery is fine */

#define RTC_TIME_MIN (-62167219200LL) /* 0000-01-01 00:00:00 UTC */
#define RTC_TIME_MAX 253402300799LL   /* 9999-12-31 23:59:59 UTC */

static uint8_t to_bcd(unsigned v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned from_bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0x0f);
}

static time_t host_now(void)
{
	return time(NULL);
}

void rtc_init(struct rtc *r, time_t (*now)(void))
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->now = now ? now : host_now;
	r->cmos[REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
	r->cmos[REG_B] = B_24H;
	r->cmos[REG_D] = D_VRT;
}

static uint8_t enc(const struct rtc *r, unsigned v)
{
	return (r->cmos[REG_B] & B_DM) ? (uint8_t)v : to_bcd(v);
}

static unsigned dec(const struct rtc *r, uint8_t v)
{
	return (r->cmos[REG_B] & B_DM) ? v : from_bcd(v);
}

static time_t clamp_time(time_t t)
{
	if (t < RTC_TIME_MIN)
		return RTC_TIME_MIN;
	return t > RTC_TIME_MAX ? RTC_TIME_MAX : t;
}

/* The guest's date now: the host clock plus the guest's offset, kept
 * inside the range above. */
static void guest_time(struct rtc *r, struct tm *tm)
{
	time_t t;

	if (__builtin_add_overflow(r->now(), r->offset, &t))
		t = r->offset < 0 ? RTC_TIME_MIN : RTC_TIME_MAX;
	t = clamp_time(t);
	if (!gmtime_r(&t, tm)) {
		/* not reached inside the range; never show stack bytes */
		memset(tm, 0, sizeof(*tm));
		tm->tm_mday = 1;
	}
}

static uint8_t read_time(struct rtc *r, unsigned reg)
{
	struct tm tm;
	unsigned h;

	guest_time(r, &tm);
	switch (reg) {
	case REG_SEC: return enc(r, (unsigned)tm.tm_sec);
	case REG_MIN: return enc(r, (unsigned)tm.tm_min);
	case REG_HOUR:
		if (r->cmos[REG_B] & B_24H)
			return enc(r, (unsigned)tm.tm_hour);
		h = tm.tm_hour % 12 ? (unsigned)tm.tm_hour % 12 : 12;
		return enc(r, h) | (tm.tm_hour >= 12 ? 0x80 : 0);
	case REG_WDAY: return enc(r, (unsigned)tm.tm_wday + 1);
	case REG_MDAY: return enc(r, (unsigned)tm.tm_mday);
	case REG_MON: return enc(r, (unsigned)tm.tm_mon + 1);
	/* the year is 0..9999 here (tm_year is negative before 1900) */
	case REG_YEAR: return enc(r, (unsigned)(tm.tm_year + 1900) % 100);
	case REG_CENTURY: return enc(r, (unsigned)(tm.tm_year + 1900) / 100);
	}
	return 0;
}

/* A guest write to a time register: rebuild the date with that field
 * changed (out-of-range values roll over, as timegm() normalises them),
 * keep it inside the range and keep the difference to the host clock as
 * the offset. */
static void write_time(struct rtc *r, unsigned reg, uint8_t v)
{
	struct tm tm;
	unsigned val;
	time_t t;
	int year;

	guest_time(r, &tm);
	year = tm.tm_year + 1900; /* 0..9999 */
	if (reg == REG_HOUR && !(r->cmos[REG_B] & B_24H)) {
		val = dec(r, v & 0x7f) % 12 + ((v & 0x80) ? 12 : 0);
	} else {
		val = dec(r, v);
	}
	switch (reg) {
	case REG_SEC: tm.tm_sec = (int)val; break;
	case REG_MIN: tm.tm_min = (int)val; break;
	case REG_HOUR: tm.tm_hour = (int)val; break;
	case REG_MDAY: tm.tm_mday = (int)val; break;
	case REG_MON: tm.tm_mon = (int)val - 1; break;
	case REG_YEAR: year = year / 100 * 100 + (int)val; break;
	case REG_CENTURY: year = (int)val * 100 + year % 100; break;
	default: return; /* day of week is derived */
	}
	tm.tm_year = year - 1900;
	/* every field is small here (year < 25600, val < 256): timegm()
	 * normalises them without overflow */
	t = clamp_time(timegm(&tm));
	if (__builtin_sub_overflow(t, r->now(), &r->offset))
		r->offset = 0; /* a host clock near the end of time_t */
}

/* The clock registers; the alarm registers 1, 3 and 5 between them are
 * plain storage. */
static bool is_clock_reg(unsigned reg)
{
	return (reg <= REG_YEAR && reg != 1 && reg != 3 && reg != 5) ||
	       reg == REG_CENTURY;
}

void rtc_io(void *opaque, uint64_t off, void *data, unsigned len,
	    bool is_write)
{
	struct rtc *r = opaque;
	uint8_t *p = data;
	unsigned reg;

	if (off > 1 || len != 1) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&r->lock);
	if (off == 0) {
		if (is_write)
			r->index = *p & 0x7f;
		else
			*p = 0xff; /* the index port is write-only */
		pthread_mutex_unlock(&r->lock);
		return;
	}
	reg = r->index;
	if (is_write) {
		if (is_clock_reg(reg))
			write_time(r, reg, *p);
		else if (reg == REG_A)
			r->cmos[REG_A] = *p & 0x7f; /* UIP is read-only */
		else if (reg != REG_C && reg != REG_D) /* C, D read-only */
			r->cmos[reg] = *p;
	} else if (is_clock_reg(reg)) {
		*p = read_time(r, reg);
	} else {
		*p = r->cmos[reg];
		if (reg == REG_C)
			r->cmos[REG_C] = 0; /* flags clear on read */
	}
	pthread_mutex_unlock(&r->lock);
}

/* Port 0x70 selects a CMOS byte (bit 7: NMI mask), port 0x71 reads or
 * writes it: named after the selected register (MC146818A data sheet). */
static unsigned rtc_reg_name(void *opaque, uint64_t off, unsigned len,
			     bool is_write, char *buf, size_t size)
{
	static const char *const names[REG_D + 1] = {
		"sec", "sec_alarm", "min", "min_alarm", "hour", "hour_alarm",
		"wday", "mday", "month", "year", "A", "B", "C", "D",
	};
	struct rtc *r = opaque;
	unsigned reg;

	(void)len;
	(void)is_write;
	if (off == 0) {
		snprintf(buf, size, "index");
		return 0;
	}
	pthread_mutex_lock(&r->lock);
	reg = r->index;
	pthread_mutex_unlock(&r->lock);
	if (reg <= REG_D)
		snprintf(buf, size, "data[%s]", names[reg]);
	else if (reg == REG_CENTURY)
		snprintf(buf, size, "data[century]");
	else
		snprintf(buf, size, "data[0x%02x]", reg);
	return 0;
}

/* ---- the clock as a device of a VM ---- */

#define RTC_PORT 0x70

static struct rtc *of(struct device *dev)
{
	return container_of(dev, struct rtc, dev);
}

static int rtc_attach(struct device *dev)
{
	struct rtc *r = of(dev);
	int ret = bus_add(&dev->vm->pio, RTC_PORT, 2, rtc_io, rtc_reg_name, r,
			  dev->name);

	r->attached = ret == 0;
	return ret;
}

static void rtc_free(struct device *dev)
{
	struct rtc *r = of(dev);

	if (r->attached)
		bus_remove(&dev->vm->pio, RTC_PORT);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static const struct device_ops rtc_ops = {
	.attach = rtc_attach,
	.free = rtc_free,
};

int rtc_create(struct vm *vm, struct rtc **out)
{
	struct rtc *r = malloc(sizeof(*r));

	if (!r)
		return -ENOMEM;
	rtc_init(r, NULL);
	device_init(&r->dev, &rtc_ops, "rtc", vm, "rtc");
	*out = r;
	return 0;
}
