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
	for (unsigned i = 0; i < BUS_COUNTERS_MAX; i++) {
		free(bus->counters[i].regs);
		bus->counters[i].regs = NULL;
	}
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

/* A counter's register table, allocated here rather than on the exit
 * path; without it the device is still counted, only not by register. */
static void counter_name(struct bus_counter *c, const char *name)
{
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->regs = calloc(BUS_REGS_MAX, sizeof(*c->regs));
}

/* The counter for ranges called name (bus lock held for writing). */
static struct bus_counter *counter_for(struct bus *bus, const char *name)
{
	name = name ? name : "?";
	for (unsigned i = 0; i < bus->nr_counters; i++)
		if (!strcmp(bus->counters[i].name, name))
			return &bus->counters[i];
	if (bus->nr_counters == BUS_COUNTERS_MAX - 1) {
		if (!bus->counters[BUS_COUNTERS_MAX - 1].name[0])
			counter_name(&bus->counters[BUS_COUNTERS_MAX - 1],
				     "(others)");
		return &bus->counters[BUS_COUNTERS_MAX - 1];
	}
	counter_name(&bus->counters[bus->nr_counters], name);
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

void bus_watch_regs(struct bus *bus)
{
	__atomic_store_n(&bus->watch_regs, true, __ATOMIC_RELAXED);
}

/* The register's key: its name up to the first '(' without the spaces
 * before it, at most BUS_REG_NAME_MAX - 1 bytes. */
static void reg_key(char *key, const char *name)
{
	size_t n = strcspn(name, "(");

	while (n && name[n - 1] == ' ')
		n--;
	if (n >= BUS_REG_NAME_MAX)
		n = BUS_REG_NAME_MAX - 1;
	memcpy(key, name, n);
	key[n] = '\0';
}

/* One exit more at the register the access hit (after its handler, as
 * --trace names it): find its slot, from the name's hash on, or take the
 * first free one; none left, "(others)". */
static void count_reg(const struct bus_range *h, uint64_t off, unsigned len,
		      bool is_write)
{
	struct bus_counter *c = h->counter;
	struct bus_hit hit = { h->name ? h->name : "?", h->reg, h->opaque, off };
	char name[96], key[BUS_REG_NAME_MAX];
	uint32_t hash = 2166136261u; /* FNV-1a */

	if (!c->regs)
		return;
	bus_hit_reg(&hit, len, is_write, name, sizeof(name));
	reg_key(key, name);
	for (const char *p = key; *p; p++)
		hash = (hash ^ (uint8_t)*p) * 16777619u;
	for (unsigned i = 0; i < BUS_REGS_MAX; i++) {
		struct bus_reg_count *r = &c->regs[(hash + i) % BUS_REGS_MAX];
		uint32_t st = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);

		if (st == 0) {
			uint32_t free_slot = 0;

			if (__atomic_compare_exchange_n(&r->state, &free_slot, 1,
							false, __ATOMIC_ACQUIRE,
							__ATOMIC_ACQUIRE)) {
				memcpy(r->name, key, sizeof(key));
				__atomic_fetch_add(&r->exits, 1, __ATOMIC_RELAXED);
				__atomic_store_n(&r->state, 2, __ATOMIC_RELEASE);
				return;
			}
			st = free_slot; /* someone else took it meanwhile */
		}
		/* a slot being named (1) is passed over: at worst the same
		 * register gets a second slot, which the readers add up */
		if (st == 2 && !strcmp(r->name, key)) {
			__atomic_fetch_add(&r->exits, 1, __ATOMIC_RELAXED);
			return;
		}
	}
	__atomic_fetch_add(&c->regs_others, 1, __ATOMIC_RELAXED);
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
	if (__atomic_load_n(&bus->watch_regs, __ATOMIC_RELAXED))
		count_reg(&h, addr - h.base, len, is_write);
	return true;
}

static unsigned counters_used(const struct bus *bus)
{
	return bus->counters[BUS_COUNTERS_MAX - 1].name[0] ? BUS_COUNTERS_MAX
							   : bus->nr_counters;
}

unsigned bus_counter_top_regs(const struct bus_counter *c,
			      struct bus_reg_top *out, unsigned max)
{
	struct bus_reg_top all[BUS_REGS_MAX];
	unsigned n = 0, k = 0;

	if (!c->regs)
		return 0;
	/* named slots, the same name (two slots taken at once) added up */
	for (unsigned i = 0; i < BUS_REGS_MAX; i++) {
		const struct bus_reg_count *r = &c->regs[i];
		uint64_t e;
		unsigned j;

		if (__atomic_load_n(&r->state, __ATOMIC_ACQUIRE) != 2)
			continue;
		e = __atomic_load_n(&r->exits, __ATOMIC_RELAXED);
		for (j = 0; j < n && strcmp(all[j].name, r->name); j++)
			;
		if (j == n)
			all[n++] = (struct bus_reg_top){ r->name, 0 };
		all[j].exits += e;
	}
	/* the max busiest: selection, the table is small */
	while (k < max) {
		unsigned best = n;

		for (unsigned i = 0; i < n; i++)
			if (all[i].exits && (best == n || all[i].exits > all[best].exits))
				best = i;
		if (best == n)
			break;
		out[k++] = all[best];
		all[best].exits = 0;
	}
	return k;
}

/* A register's line: the count ends in column 41 like every --stats line,
 * a long name (a PCI capability's field) taking room from the count's
 * padding rather than pushing the count out of the column. */
static void print_reg_line(FILE *f, const char *name, uint64_t exits)
{
	int pad = 34 - (int)strlen(name);

	fprintf(f, "      %s %*" PRIu64 "\n", name, pad > 1 ? pad : 1, exits);
}

void bus_print_counters(struct bus *bus, FILE *f)
{
	for (unsigned i = 0; i < counters_used(bus); i++) {
		const struct bus_counter *c = &bus->counters[i];
		uint64_t n = __atomic_load_n(&c->exits, __ATOMIC_RELAXED);
		uint64_t others = __atomic_load_n(&c->regs_others, __ATOMIC_RELAXED);
		struct bus_reg_top top[BUS_REGS_SHOWN];
		unsigned nt;

		if (!n)
			continue;
		fprintf(f, "  %-4s %-21s %12" PRIu64 "\n", bus->name, c->name, n);
		nt = bus_counter_top_regs(c, top, BUS_REGS_SHOWN);
		for (unsigned k = 0; k < nt; k++)
			print_reg_line(f, top[k].name, top[k].exits);
		if (others)
			print_reg_line(f, "(others)", others);
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

/* One device's member of bus_regs_json into m (size bytes); its length,
 * or 0 when it has nothing to show or does not fit. */
static size_t regs_member(const struct bus *bus, const struct bus_counter *c,
			  char *m, size_t size)
{
	struct bus_reg_top top[BUS_REGS_SHOWN];
	uint64_t others = __atomic_load_n(&c->regs_others, __ATOMIC_RELAXED);
	unsigned nt = bus_counter_top_regs(c, top, BUS_REGS_SHOWN);
	char esc[JSON_ESCAPED_MAX(BUS_REG_NAME_MAX)];
	size_t at;
	int r;

	if (!nt && !others)
		return 0;
	json_escape(esc, sizeof(esc), c->name);
	r = snprintf(m, size, "\"%s:%s\":[", bus->name, esc);
	if (r < 0 || (size_t)r >= size)
		return 0;
	at = (size_t)r;
	for (unsigned k = 0; k <= nt; k++) {
		const char *name = k < nt ? top[k].name : "(others)";
		uint64_t e = k < nt ? top[k].exits : others;

		if (k == nt && !others)
			break;
		json_escape(esc, sizeof(esc), name);
		r = snprintf(m + at, size - at, "%s[\"%s\",%" PRIu64 "]",
			     k ? "," : "", esc, e);
		if (r < 0 || (size_t)r >= size - at)
			return 0;
		at += (size_t)r;
	}
	if (at + 2 > size)
		return 0;
	m[at++] = ']';
	m[at] = '\0';
	return at;
}

size_t bus_regs_json(struct bus *bus, char *buf, size_t len,
		     unsigned *left_out)
{
	/* the largest member: a name and BUS_REGS_SHOWN + 1 escaped entries */
	char m[JSON_ESCAPED_MAX(32) + 16 +
	       (BUS_REGS_SHOWN + 1) * (JSON_ESCAPED_MAX(BUS_REG_NAME_MAX) + 28)];
	size_t at = 0;

	*left_out = 0;
	if (len)
		buf[0] = '\0';
	for (unsigned i = 0; i < counters_used(bus); i++) {
		size_t ml = regs_member(bus, &bus->counters[i], m, sizeof(m));

		if (!ml)
			continue;
		if (at + (at ? 1 : 0) + ml + 1 > len) {
			(*left_out)++;
			continue;
		}
		if (at)
			buf[at++] = ',';
		memcpy(buf + at, m, ml + 1);
		at += ml;
	}
	return at;
}
