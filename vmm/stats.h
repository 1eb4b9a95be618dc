/* SPDX-License-Identifier: MIT
 * stats.h - VM exit counters for --stats (and benchmarks), and the
 * devices' own counters shown after them (struct stats_source).
 * Counters are updated with relaxed atomics from vCPU and I/O threads.
 */
#ifndef MINIVMM_STATS_H
#define MINIVMM_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum stat_id {
	STAT_EXITS,      /* every return from KVM_RUN */
	STAT_EXIT_IO,
	STAT_EXIT_MMIO,
	STAT_EXIT_HLT,
	STAT_EXIT_INTR,  /* interrupted by a signal */
	STAT_EXIT_OTHER,
	STAT_PIO_UNHANDLED,
	STAT_MMIO_UNHANDLED,
	STAT_VQ_NOTIFY,  /* virtqueue kicks seen by devices (ioeventfd) */
	STAT_VQ_REQUESTS,/* descriptor chains processed */
	STAT_VQ_ERRORS,  /* malformed chains */
	STAT_IRQS,       /* interrupts injected by devices */
	STAT_NR
};

/* A device's own counters (virtio-net: packets, bytes, drops by reason),
 * shown by stats_print() after the VM-wide table and by
 * stats_sources_json(). Sources are added while the VM is being built and
 * removed at teardown, after the vCPUs and the control socket stopped:
 * the list never changes while anyone walks it, so it has no lock. */
struct stats_source {
	struct stats_source *next;
	/* print a section of the --stats table */
	void (*print)(const struct stats_source *src, FILE *f);
	/* one JSON object member ("net0":{...}) into buf, like snprintf:
	 * returns the length it needs; may be NULL */
	int (*json)(const struct stats_source *src, char *buf, size_t len);
};

struct vm_stats {
	uint64_t v[STAT_NR];
	struct stats_source *sources; /* in the order they were added */
};

static inline void stat_inc(struct vm_stats *s, enum stat_id id)
{
	__atomic_fetch_add(&s->v[id], 1, __ATOMIC_RELAXED);
}

static inline void stat_add(struct vm_stats *s, enum stat_id id, uint64_t n)
{
	__atomic_fetch_add(&s->v[id], n, __ATOMIC_RELAXED);
}

static inline void stats_add_source(struct vm_stats *s,
				    struct stats_source *src)
{
	struct stats_source **p = &s->sources;

	while (*p)
		p = &(*p)->next;
	src->next = NULL;
	*p = src;
}

static inline void stats_del_source(struct vm_stats *s,
				    struct stats_source *src)
{
	for (struct stats_source **p = &s->sources; *p; p = &(*p)->next)
		if (*p == src) {
			*p = src->next;
			return;
		}
}

/* The VM-wide table, then every source's section. */
void stats_print(const struct vm_stats *s, FILE *f);

/* "devices":{"net0":{...},...} (the sources' JSON members) into buf, like
 * snprintf: NUL-terminated when len > 0, returns the length it needs. */
int stats_sources_json(const struct vm_stats *s, char *buf, size_t len);

#endif
