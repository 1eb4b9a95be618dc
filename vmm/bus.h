/* SPDX-License-Identifier: MIT
 * bus.h - port-I/O and MMIO address buses.
 *
 * Devices register [base, base+len) ranges with a handler. Overlapping or
 * wrapping ranges are refused at registration. Lookup is a binary search in
 * a sorted array. An access that hits nothing reads as all ones, is counted,
 * and is reported at most once per address.
 *
 * Handlers get the offset from the range's base. They run on the thread that
 * made the access (a vCPU thread), without the bus lock held, so a handler
 * may itself add or remove ranges (a PCI BAR being moved by the guest).
 */
#ifndef MINIVMM_BUS_H
#define MINIVMM_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef void (*bus_io_fn)(void *opaque, uint64_t offset, void *data,
			  unsigned len, bool is_write);

struct bus_range {
	uint64_t base, len;
	bus_io_fn fn;
	void *opaque;
	const char *name;
};

#define BUS_REPORTED_MAX 64

struct bus {
	const char *name; /* "pio" or "mmio", for messages */
	pthread_rwlock_t lock;
	struct bus_range *r; /* sorted by base, non-overlapping */
	unsigned nr, cap;
	uint64_t unhandled; /* accesses that hit no device */
	uint64_t reported[BUS_REPORTED_MAX]; /* addresses already warned about */
	unsigned nr_reported;
	pthread_mutex_t report_lock;
};

int bus_init(struct bus *bus, const char *name);
void bus_destroy(struct bus *bus);

/* 0, -EINVAL (zero length or wraps), -EEXIST (overlaps; the message names
 * both devices), -ENOMEM. */
int bus_add(struct bus *bus, uint64_t base, uint64_t len, bus_io_fn fn,
	    void *opaque, const char *name);

/* Remove the range that starts at base. 0 or -ENOENT. */
int bus_remove(struct bus *bus, uint64_t base);

/* Dispatch one access. Returns true if a device took it. On a miss a read
 * fills data with 0xff bytes and the access is counted/reported. */
bool bus_access(struct bus *bus, uint64_t addr, void *data, unsigned len,
		bool is_write);

#endif
