/* SPDX-License-Identifier: MIT
 * pl031.h - the ARM PrimeCell PL031 real-time clock (the arm64 machine's
 * RTC, "arm,pl031" in its device tree): a 32-bit seconds counter on the
 * host's clock, in a 4 KiB MMIO page.
 */
#ifndef MINIVMM_PL031_H
#define MINIVMM_PL031_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "vmm/device.h"

struct vm;

#define PL031_SIZE 0x1000 /* the register page */

/* Register offsets (PL031 TRM, 3.2 "Summary of RTC registers"). */
#define PL031_DR 0x000   /* data: the counter (read-only) */
#define PL031_MR 0x004   /* match */
#define PL031_LR 0x008   /* load: sets the counter */
#define PL031_CR 0x00c   /* control: bit 0, RTC start (reads 1) */
#define PL031_IMSC 0x010 /* interrupt mask set/clear: bit 0 */
#define PL031_RIS 0x014  /* raw interrupt status */
#define PL031_MIS 0x018  /* masked interrupt status */
#define PL031_ICR 0x01c  /* interrupt clear (write-only) */
#define PL031_PERIPH_ID 0xfe0 /* four ID bytes, one per word */
#define PL031_PCELL_ID 0xff0

struct pl031 {
	struct device dev; /* as a device of a VM: pl031_create() */
	uint64_t base;     /* guest-physical */
	unsigned irq;      /* GSI (arm64: SPI) */
	bool attached;
	pthread_mutex_t lock;
	int64_t offset;    /* counter - host time, after a guest's load */
	uint32_t mr;
	bool imsc, ris;
	bool cleared;      /* RTCICR cleared a match at counter value */
	uint32_t cleared_at; /* (that second does not match again) */
	bool irq_level;    /* what was last driven */
	time_t (*now)(void); /* host clock (tests substitute their own) */
};

/* The clock of a VM (device.h): its page at base on vm->mmio, its
 * interrupt on GSI irq, on the host's time. 0 or -errno. */
int pl031_create(struct vm *vm, uint64_t base, unsigned irq,
		 struct pl031 **out);

/* The model alone (tests): now is the host clock, or NULL for time(). */
void pl031_init(struct pl031 *r, time_t (*now)(void));
/* Bus handler for the page (offset 0-0xfff). */
void pl031_io(void *opaque, uint64_t off, void *data, unsigned len,
	      bool is_write);
/* Its register names for --trace (a bus_reg_fn, vmm/bus.h). */
unsigned pl031_reg_name(void *opaque, uint64_t off, unsigned len,
			bool is_write, char *buf, size_t size);

#endif
