/* SPDX-License-Identifier: MIT
 * rtc.h - the MC146818 CMOS real-time clock at ports 0x70 (index) and 0x71
 * (data), reading the host's time so the guest's clock is right.
 */
#ifndef MINIVMM_RTC_H
#define MINIVMM_RTC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "vmm/device.h"

struct vm;

struct rtc {
	struct device dev; /* as a device of a VM: rtc_create() */
	bool attached;
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t cmos[128];   /* status registers and CMOS RAM */
	time_t offset;       /* guest time - host time, after guest writes */
	time_t (*now)(void); /* host clock (tests substitute their own) */
};

/* The clock of a VM (device.h), at ports 0x70-0x71, on the host's time.
 * 0 or -errno. */
int rtc_create(struct vm *vm, struct rtc **out);

/* The model alone (the owner registers rtc_io). now: the host clock, or NULL for time(). */
void rtc_init(struct rtc *r, time_t (*now)(void));
/* Bus handler for ports 0x70-0x71 (offset 0 index, 1 data). */
void rtc_io(void *opaque, uint64_t off, void *data, unsigned len,
	    bool is_write);

#endif
