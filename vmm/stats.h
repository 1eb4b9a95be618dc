/* SPDX-License-Identifier: MIT
 * stats.h - VM exit counters for --stats (and benchmarks).
 * Counters are updated with relaxed atomics from vCPU and I/O threads.
 */
#ifndef MINIVMM_STATS_H
#define MINIVMM_STATS_H

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

struct vm_stats {
	uint64_t v[STAT_NR];
};

static inline void stat_inc(struct vm_stats *s, enum stat_id id)
{
	__atomic_fetch_add(&s->v[id], 1, __ATOMIC_RELAXED);
}

static inline void stat_add(struct vm_stats *s, enum stat_id id, uint64_t n)
{
	__atomic_fetch_add(&s->v[id], n, __ATOMIC_RELAXED);
}

void stats_print(const struct vm_stats *s, FILE *f);

#endif
