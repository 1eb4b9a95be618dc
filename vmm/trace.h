/* SPDX-License-Identifier: MIT
 * trace.h - --trace: one line per VM exit, saying what the guest did and
 * which device register handled it.
 *
 *      1234.567 vcpu0 io out 0x3f8 1 com1 THR <- 0x41 'A' (812ns)
 *      1301.250 vcpu0 mmio write 0xc0003000 2 virtio-blk notify q0 <- 0x0 (2.4us)
 *
 * Columns: microseconds since the trace started, the vCPU, the exit reason,
 * the direction (in/out for port I/O, read/write for MMIO), the port or
 * guest-physical address, the access size (SIZExCOUNT for a string
 * instruction), the device (the bus range's name) and its register (the
 * range's bus_reg_fn, vmm/bus.h), the value ("<-" what the guest wrote,
 * "->" what the device returned) and the time the VMM's handler took.
 * Other exits are one line too ("vcpu0 hlt", "vcpu0 system_event
 * shutdown"). Device events that are not exits (a BAR mapped, the guest
 * entering S5) are traced by pr_trace() in the same stream.
 *
 * A filter (--trace=FILTER) is a comma-separated list of words: exit
 * reasons (io, mmio, hlt, intr, shutdown, system_event, error, other),
 * vCPUs (vcpu0, vcpu1...) and device names (com1, pci, virtio-blk0...).
 * A device word names one device ("virtio-blk1") or, without its number,
 * every device of that kind ("virtio-blk": virtio-blk0, virtio-blk1...;
 * "e1000": e1000-0...). An exit is shown when it matches one of the
 * reasons given (any, if none), one of the vCPUs (any, if none) and one of
 * the devices (any, if none).
 */
#ifndef MINIVMM_TRACE_H
#define MINIVMM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"

enum trace_reason {
	TRACE_IO,
	TRACE_MMIO,
	TRACE_HLT,
	TRACE_INTR,
	TRACE_SHUTDOWN,     /* triple fault */
	TRACE_SYSTEM_EVENT, /* power off, reset, crash */
	TRACE_ERROR,        /* failed entry, internal error */
	TRACE_OTHER,
	TRACE_NR_REASONS
};

#define TRACE_MAX_DEVICES 8
#define TRACE_NAME_MAX 32

struct trace_filter {
	unsigned reasons; /* bit per enum trace_reason; 0: all */
	uint64_t vcpus;   /* bit per vCPU id; 0: all */
	char devices[TRACE_MAX_DEVICES][TRACE_NAME_MAX];
	unsigned nr_devices; /* 0: all */
};

/* Parse FILTER (NULL or "": everything) into f. 0, or -EINVAL after one
 * error line naming the word at fault. Device names are only checked for
 * their form here: trace_check_devices() looks for them on the buses. */
int trace_filter_parse(const char *spec, struct trace_filter *f);

/* Does the filter's device word name the device called name: the same
 * name, or name is word and an instance number ("virtio-blk" and
 * "virtio-blk0"; "e1000" and "e1000-1")? */
bool trace_device_matches(const char *word, const char *name);

/* Does an exit of this reason, on this vCPU, handled by this device (NULL:
 * none) pass f? */
bool trace_filter_match(const struct trace_filter *f, enum trace_reason r,
			unsigned vcpu, const char *device);

/* Every device word of f names a range of pio or mmio: 0, or -ENOENT after
 * one error line. */
int trace_check_devices(const struct trace_filter *f, struct bus *pio,
			struct bus *mmio);

/* Start tracing (sets log_trace_enabled): to the file path (NULL: stderr),
 * truncated, filtered by f (copied). 0, or -errno after one error line.
 * Times count from here. */
int trace_start(const char *path, const struct trace_filter *f);
/* Close the trace file. */
void trace_stop(void);

/* The monotonic clock in nanoseconds. */
uint64_t trace_now_ns(void);

/* One access as an exit made it: for the trace line. */
struct trace_access {
	struct bus_hit hit; /* who handled it (hit.name NULL: nobody) */
	uint64_t addr;      /* port or guest-physical address */
	const uint8_t *data; /* the values, size * count bytes */
	unsigned size, count;
	bool is_write;
};

/* Write the line of one exit if the filter lets it through: a (NULL for
 * exits other than io and mmio) or detail (e.g. "shutdown" for a system
 * event; may be NULL), when it started (trace_now_ns) and how long the
 * handler took. */
void trace_exit(unsigned vcpu, enum trace_reason r, const char *detail,
		const struct trace_access *a, uint64_t start_ns,
		uint64_t handler_ns);

/* Format the line into buf (for trace_exit and the unit tests); returns
 * its length (the line is cut to fit, ends with '\n'). */
size_t trace_format(char *buf, size_t size, unsigned vcpu,
		    enum trace_reason r, const char *detail,
		    const struct trace_access *a, uint64_t since_ns,
		    uint64_t handler_ns);

#endif
