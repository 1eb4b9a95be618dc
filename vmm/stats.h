/* SPDX-License-Identifier: MIT
 * stats.h - VM exit counters for --stats (and benchmarks), and the
 * devices' own counters shown after them (struct stats_source).
 * Counters are updated with relaxed atomics from vCPU and I/O threads.
 */
#ifndef MINIVMM_STATS_H
#define MINIVMM_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

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
	STAT_VQ_NOTIFY_IOEVENTFD, /* of the kicks, those KVM signalled through
				   * an ioeventfd: exits saved */
	STAT_IRQS_IRQFD, /* MSI-X interrupts sent through an irqfd */
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

/* What the VMM spends on an exit, from KVM_RUN's return to the end of its
 * handler, by exit reason: a count, the sum, and power-of-two buckets (bucket
 * i holds times in [2^i, 2^(i+1)) ns, bucket 0 also 0 ns, the last one
 * everything from 2^(STATS_HIST_BUCKETS-1) ns up). */
enum stats_reason {
	STATS_R_IO, STATS_R_MMIO, STATS_R_HLT, STATS_R_INTR, STATS_R_OTHER,
	STATS_R_NR
};
#define STATS_HIST_BUCKETS 32 /* up to 2^31 ns, about 2 s */
struct stats_hist {
	uint64_t count, ns;
	uint64_t b[STATS_HIST_BUCKETS];
};

/* Where one vCPU thread's time goes: inside KVM_RUN (the guest and KVM),
 * in the VMM's exit handlers. Written only by that vCPU's thread (plain
 * loads, relaxed stores), read by anyone. */
#define STATS_VCPUS_MAX 64 /* VM_MAX_CPUS */
struct stats_vcpu {
	uint64_t run_ns, handler_ns, exits;
	int tid; /* the thread's id, for its kernel accounting (guest time) */
};

struct vm_stats {
	uint64_t v[STAT_NR];
	struct stats_source *sources; /* in the order they were added */
	struct stats_hist hist[STATS_R_NR];
	struct stats_vcpu vcpu[STATS_VCPUS_MAX];
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

/* CLOCK_MONOTONIC in ns: a vDSO call, no system call. */
static inline uint64_t stats_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One exit's handler time; reason is KVM's (run->exit_reason, KVM_EXIT_*). */
void stats_exit_time(struct vm_stats *s, unsigned reason, uint64_t ns);
/* The reason's row in hist[] */
enum stats_reason stats_reason_of(unsigned kvm_exit_reason);
/* The bucket of a handler time */
unsigned stats_bucket(uint64_t ns);
/* vCPU id's thread: run_ns more in KVM_RUN, handler_ns more in handlers,
 * one more exit when handler_ns is counted (exit true). Called only on that
 * vCPU's thread. */
void stats_vcpu_time(struct vm_stats *s, unsigned id, uint64_t run_ns,
		     uint64_t handler_ns, bool exit);
/* Called once on vCPU id's thread: remembers its thread id. */
void stats_vcpu_started(struct vm_stats *s, unsigned id);

/* The VM-wide table, then every source's section. */
void stats_print(const struct vm_stats *s, FILE *f);

/* "devices":{"net0":{...},...} (the sources' JSON members) into buf, like
 * snprintf: NUL-terminated when len > 0, returns the length it needs. */
int stats_sources_json(const struct vm_stats *s, char *buf, size_t len);

/* The VM-wide counters as JSON members, like snprintf:
 * "exits":{"all":N,"io":N,...},"counters":{...},"handler":{"io":{"count":N,
 * "ns":N,"hist":[[bucket,N],...]},...},"vcpu_time":[{"id":0,"tid":T,
 * "run_ns":N,"handler_ns":N,"exits":N},...] (started vCPUs only, empty
 * buckets left out). */
int stats_json(const struct vm_stats *s, char *buf, size_t len);

#endif
