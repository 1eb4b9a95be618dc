/* SPDX-License-Identifier: MIT
 * bus.h - port-I/O and MMIO address buses.
 *
 * Devices register [base, base+len) ranges with a handler. Overlapping or
 * wrapping ranges are refused at registration. Lookup is a binary search in
 * a sorted array. An access that hits nothing reads as all ones (a write is
 * dropped), is counted, and is reported at most once per address.
 *
 * Reporting: the first miss at each address is one warning line on stderr,
 * with or without --trace (with --trace every miss's exit line also says
 * "(unhandled)"). A normal Linux boot touches next to nothing we do not decode: the
 * legacy ports it probes (COM2-4 at 0x2f8/0x3e8/0x2e8, port 0x80) are
 * registered as "absent" devices by vmm/machine.c and never miss, and the
 * PICs, PIT, speaker port 0x61 and ELCR are handled inside KVM. What is left
 * (e.g. the ISA DMA page register 0x87 that Linux's i8237 driver reads once)
 * is a line or two per boot. So that a guest scanning the address space
 * cannot flood the console either, only BUS_REPORTED_MAX distinct addresses
 * are remembered per bus: after that one line says further unhandled
 * accesses are no longer reported, and they are only counted (`unhandled`,
 * and the VM's stats).
 *
 * Each range may carry its device's register names (bus_reg_fn) for
 * --trace. Handlers get the offset from the range's base. They run on the thread that
 * made the access (a vCPU thread), without the bus lock held, so a handler
 * may itself add or remove ranges (a PCI BAR being moved by the guest).
 */
#ifndef MINIVMM_BUS_H
#define MINIVMM_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef void (*bus_io_fn)(void *opaque, uint64_t offset, void *data,
			  unsigned len, bool is_write);

/* The register at offset, for --trace (vmm/trace.c): the device writes its
 * name into buf (size bytes, NUL-terminated; "THR", "common.queue_select",
 * "00:03.0 cfg BAR4"...) and returns BUS_REG_CHAR when the value is a
 * character worth showing as one (a UART's THR), else 0. Called on the
 * vCPU thread right after the access was handled, so a name may depend on
 * device state (the UART's DLAB, the PCI CONFIG_ADDRESS latch); it only
 * reads that state. Optional: without one the trace shows "+0xOFF". */
typedef unsigned (*bus_reg_fn)(void *opaque, uint64_t offset, unsigned len,
			       bool is_write, char *buf, size_t size);
#define BUS_REG_CHAR 1u

/* Exits handled by the ranges of one name ("com1", "virtio-blk0"...), for
 * --stats and the control socket: which device costs the guest its exits,
 * and, while someone watches (bus_watch_regs), which of its registers.
 * The counters live as long as the bus, so a BAR that moves keeps its
 * count.
 *
 * Exits by register: each device has a fixed table of BUS_REGS_MAX
 * registers, allocated when its first range is added (never on the exit
 * path), keyed by the register's name as bus_reg_fn gives it, cut at its
 * first '(' (so "CONFIG_ADDRESS(00:03.0 0x10)" counts as CONFIG_ADDRESS)
 * and to BUS_REG_NAME_MAX - 1 bytes. A register takes a free slot the
 * first time it is seen (a compare-and-swap; two vCPUs naming the same
 * register at once may take two slots, which the readers add up); once
 * the table is full, further registers are counted together as
 * "(others)". Naming a register costs its namer (a snprintf), so it is
 * done only while watched: --stats or --trace watch from the start, the
 * control socket's first "stats" request from then on; unwatched, an exit
 * pays one relaxed load and an untaken branch. */
#define BUS_COUNTERS_MAX 32
#define BUS_REGS_MAX 64
#define BUS_REG_NAME_MAX 32
struct bus_reg_count {
	uint32_t state; /* 0 free, 1 being named, 2 named (acquire/release) */
	char name[BUS_REG_NAME_MAX];
	uint64_t exits;
};
struct bus_counter {
	char name[32];
	uint64_t exits;
	struct bus_reg_count *regs; /* BUS_REGS_MAX; NULL if calloc failed */
	uint64_t regs_others; /* exits at registers that found no slot */
};

struct bus_range {
	uint64_t base, len;
	bus_io_fn fn;
	bus_reg_fn reg; /* may be NULL */
	void *opaque;
	const char *name;
	struct bus_counter *counter; /* in struct bus: stable address */
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
	bool reports_stopped; /* table full and said so: silent from now on */
	bool watch_regs; /* count exits by register (relaxed atomics) */
	pthread_mutex_t report_lock;
	/* one per range name; the last one takes the names that find no room */
	struct bus_counter counters[BUS_COUNTERS_MAX];
	unsigned nr_counters;
};

int bus_init(struct bus *bus, const char *name);
void bus_destroy(struct bus *bus);

/* Claim [base, base+len) for fn (and reg, its register names: NULL for
 * none), called with opaque. 0, -EINVAL (zero length or wraps), -EEXIST
 * (overlaps; the message names both devices), -ENOMEM. */
int bus_add(struct bus *bus, uint64_t base, uint64_t len, bus_io_fn fn,
	    bus_reg_fn reg, void *opaque, const char *name);

/* Remove the range that starts at base. 0 or -ENOENT. */
int bus_remove(struct bus *bus, uint64_t base);

/* Dispatch one access. Returns true if a device took it. On a miss a read
 * fills data with 0xff bytes and the access is counted and, the first time
 * at this address, reported (see above). */
bool bus_access(struct bus *bus, uint64_t addr, void *data, unsigned len,
		bool is_write);

/* Who handled an access, for --trace: the range's name and register namer
 * and the offset in the range (name NULL: nobody, a miss). */
struct bus_hit {
	const char *name;
	bus_reg_fn reg;
	void *opaque;
	uint64_t offset;
};
/* bus_access that also says who handled the access. */
bool bus_access_hit(struct bus *bus, uint64_t addr, void *data, unsigned len,
		    bool is_write, struct bus_hit *hit);
/* The register's name into buf: the range's reg, or "+0xOFF" without one;
 * "" after a miss. Returns the reg's flags (BUS_REG_CHAR). */
unsigned bus_hit_reg(const struct bus_hit *hit, unsigned len, bool is_write,
		     char *buf, size_t size);

/* The exit counters by device name, one line each: "  pio com1   123";
 * with exits by register, each device's busiest BUS_REGS_SHOWN registers
 * follow, one line each: "         THR    100". */
void bus_print_counters(struct bus *bus, FILE *f);
/* The same as JSON members "pio:com1":123,... into buf, like snprintf
 * (returns the length needed); nothing when no range was accessed. */
int bus_counters_json(struct bus *bus, char *buf, size_t len);

/* From now on, count exits by register too (see above). */
void bus_watch_regs(struct bus *bus);

/* A device's busiest registers: at most max of its table's non-zero
 * entries (same names added up), most exits first, into out; the count. */
#define BUS_REGS_SHOWN 8
struct bus_reg_top {
	const char *name;
	uint64_t exits;
};
unsigned bus_counter_top_regs(const struct bus_counter *c,
			      struct bus_reg_top *out, unsigned max);

/* Exits by register as JSON members, "pio:com1":[["THR",100],["LSR",
 * 99]],... (each device's BUS_REGS_SHOWN busiest, non-zero only, "(others)"
 * for the registers that found no slot), into buf. Unlike snprintf, only
 * whole members are written, while they fit in len (NUL included):
 * returns the length written and sets *left_out to the number of devices
 * left out for want of room. */
size_t bus_regs_json(struct bus *bus, char *buf, size_t len,
		     unsigned *left_out);

#endif
