/* SPDX-License-Identifier: MIT
 * bus.c - sorted range table with binary-search lookup (see bus.h).
 */
#include "bus.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	if (pthread_rwlock_init(&bus->lock, NULL))
		return -ENOMEM;
	pthread_mutex_init(&bus->report_lock, NULL);
	return 0;
}

void bus_destroy(struct bus *bus)
{
	free(bus->r);
	bus->r = NULL;
	bus->nr = bus->cap = 0;
	pthread_rwlock_destroy(&bus->lock);
	pthread_mutex_destroy(&bus->report_lock);
}

/* Index of the first range whose base is > addr. */
static unsigned upper_bound(const struct bus *bus, uint64_t addr)
{
	unsigned lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (bus->r[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The counter for ranges called name (bus lock held for writing). */
static struct bus_counter *counter_for(struct bus *bus, const char *name)
{
	name = name ? name : "?";
	for (unsigned i = 0; i < bus->nr_counters; i++)
		if (!strcmp(bus->counters[i].name, name))
			return &bus->counters[i];
	if (bus->nr_counters == BUS_COUNTERS_MAX - 1) {
		bus->counters[BUS_COUNTERS_MAX - 1].name = "(others)";
		return &bus->counters[BUS_COUNTERS_MAX - 1];
	}
	bus->counters[bus->nr_counters].name = name;
	return &bus->counters[bus->nr_counters++];
}

int bus_add(struct bus *bus, uint64_t base, uint64_t len, bus_io_fn fn,
	    bus_reg_fn reg, void *opaque, const char *name)
{
	uint64_t last;
	unsigned i;
	int ret = 0;

	if (!len || !fn || __builtin_add_overflow(base, len - 1, &last))
		return -EINVAL;
	pthread_rwlock_wrlock(&bus->lock);
	i = upper_bound(bus, base);
	/* The range before i starts at or below base; the one at i above. */
	if (i > 0 && bus->r[i - 1].base + (bus->r[i - 1].len - 1) >= base) {
		pr_err("%s bus: %s at 0x%" PRIx64 " overlaps %s", bus->name,
		       name, base, bus->r[i - 1].name);
		ret = -EEXIST;
	} else if (i < bus->nr && bus->r[i].base <= last) {
		pr_err("%s bus: %s at 0x%" PRIx64 " overlaps %s", bus->name,
		       name, base, bus->r[i].name);
		ret = -EEXIST;
	} else if (bus->nr == bus->cap) {
		unsigned cap = bus->cap ? bus->cap * 2 : 16;
		struct bus_range *r = realloc(bus->r, cap * sizeof(*r));
		if (!r)
			ret = -ENOMEM;
		else {
			bus->r = r;
			bus->cap = cap;
		}
	}
	if (!ret) {
		memmove(&bus->r[i + 1], &bus->r[i],
			(bus->nr - i) * sizeof(bus->r[0]));
		bus->r[i] = (struct bus_range){ base, len, fn, reg, opaque,
						name, counter_for(bus, name) };
		bus->nr++;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus_remove(struct bus *bus, uint64_t base)
{
	int ret = -ENOENT;
	unsigned i;

	pthread_rwlock_wrlock(&bus->lock);
	i = upper_bound(bus, base);
	if (i > 0 && bus->r[i - 1].base == base) {
		i--;
		memmove(&bus->r[i], &bus->r[i + 1],
			(bus->nr - i - 1) * sizeof(bus->r[0]));
		bus->nr--;
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

/* Count a miss and warn about it the first time its address is seen. The
 * table of addresses already reported holds BUS_REPORTED_MAX of them; once
 * it is full, one last line says so and every later miss is only counted,
 * so a guest scanning the address space cannot flood the console. */
static void report_miss(struct bus *bus, uint64_t addr, unsigned len,
			bool is_write)
{
	bool seen = false, report = false, full = false;

	pthread_mutex_lock(&bus->report_lock);
	bus->unhandled++;
	for (unsigned i = 0; i < bus->nr_reported && !seen; i++)
		seen = bus->reported[i] == addr;
	if (!seen && bus->nr_reported < BUS_REPORTED_MAX) {
		bus->reported[bus->nr_reported++] = addr;
		report = true;
	} else if (!seen && !bus->reports_stopped) {
		bus->reports_stopped = true;
		full = true;
	}
	pthread_mutex_unlock(&bus->report_lock);
	if (report)
		pr_warn("%s bus: unhandled %u-byte %s at 0x%" PRIx64
			" (reported once per address)",
			bus->name, len, is_write ? "write" : "read", addr);
	else if (full)
		pr_warn("%s bus: %u addresses reported; further unhandled "
			"accesses are counted but no longer reported",
			bus->name, BUS_REPORTED_MAX);
	/* later misses: the --trace line of the exit says "unhandled" */
}

bool bus_access(struct bus *bus, uint64_t addr, void *data, unsigned len,
		bool is_write)
{
	return bus_access_hit(bus, addr, data, len, is_write, NULL);
}

unsigned bus_hit_reg(const struct bus_hit *hit, unsigned len, bool is_write,
		     char *buf, size_t size)
{
	if (!size)
		return 0;
	buf[0] = '\0';
	if (!hit->name)
		return 0;
	if (hit->reg) {
		unsigned flags = hit->reg(hit->opaque, hit->offset, len,
					  is_write, buf, size);
		if (buf[0])
			return flags;
	}
	snprintf(buf, size, "+0x%" PRIx64, hit->offset);
	return 0;
}

bool bus_access_hit(struct bus *bus, uint64_t addr, void *data, unsigned len,
		    bool is_write, struct bus_hit *hit)
{
	struct bus_range h = { 0 };
	bool found = false;
	unsigned i;

	pthread_rwlock_rdlock(&bus->lock);
	i = upper_bound(bus, addr);
	if (i > 0 && addr - bus->r[i - 1].base < bus->r[i - 1].len) {
		h = bus->r[i - 1];
		found = true;
	}
	pthread_rwlock_unlock(&bus->lock);

	if (hit)
		*hit = (struct bus_hit){ found ? (h.name ? h.name : "?") : NULL,
					 h.reg, h.opaque,
					 addr - h.base };
	if (!found) {
		if (!is_write)
			memset(data, 0xff, len);
		report_miss(bus, addr, len, is_write);
		return false;
	}
	/* Devices are never freed while the VM runs, so calling the handler
	 * after dropping the lock is safe even if the range moves meanwhile. */
	__atomic_fetch_add(&h.counter->exits, 1, __ATOMIC_RELAXED);
	h.fn(h.opaque, addr - h.base, data, len, is_write);
	return true;
}

static unsigned counters_used(const struct bus *bus)
{
	return bus->counters[BUS_COUNTERS_MAX - 1].name ? BUS_COUNTERS_MAX
							: bus->nr_counters;
}

void bus_print_counters(struct bus *bus, FILE *f)
{
	for (unsigned i = 0; i < counters_used(bus); i++) {
		uint64_t n = __atomic_load_n(&bus->counters[i].exits, __ATOMIC_RELAXED);

		if (n)
			fprintf(f, "  %-4s %-21s %12" PRIu64 "\n", bus->name,
				bus->counters[i].name, n);
	}
}

int bus_counters_json(struct bus *bus, char *buf, size_t len)
{
	size_t at = 0;

	if (len)
		buf[0] = 0;
	for (unsigned i = 0; i < counters_used(bus); i++) {
		uint64_t n = __atomic_load_n(&bus->counters[i].exits, __ATOMIC_RELAXED);
		char name[JSON_ESCAPED_MAX(32)]; /* device names: < 32 */
		int r;

		if (!n)
			continue;
		json_escape(name, sizeof(name), bus->counters[i].name);
		r = snprintf(at < len ? buf + at : NULL, at < len ? len - at : 0,
			     "%s\"%s:%s\":%" PRIu64, at ? "," : "", bus->name,
			     name, n);
		if (r < 0)
			return r;
		at += (size_t)r;
	}
	return (int)at;
}
