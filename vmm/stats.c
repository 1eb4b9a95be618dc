/* SPDX-License-Identifier: MIT
 * stats.c - the --stats table printed when the VM ends. */
#include "stats.h"

#include <inttypes.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const names[STAT_NR] = {
	[STAT_EXITS] = "vm exits",
	[STAT_EXIT_IO] = "  port I/O",
	[STAT_EXIT_MMIO] = "  MMIO",
	[STAT_EXIT_HLT] = "  HLT",
	[STAT_EXIT_INTR] = "  signal",
	[STAT_EXIT_OTHER] = "  other",
	[STAT_PIO_UNHANDLED] = "unhandled port I/O",
	[STAT_MMIO_UNHANDLED] = "unhandled MMIO",
	[STAT_VQ_NOTIFY] = "virtqueue notifications",
	[STAT_VQ_REQUESTS] = "virtqueue requests",
	[STAT_VQ_ERRORS] = "malformed requests",
	[STAT_IRQS] = "interrupts injected",
	[STAT_VQ_NOTIFY_IOEVENTFD] = "kicks via ioeventfd",
	[STAT_IRQS_IRQFD] = "interrupts via irqfd",
};

static const char *const reason_names[STATS_R_NR] = {
	[STATS_R_IO] = "io", [STATS_R_MMIO] = "mmio", [STATS_R_HLT] = "hlt",
	[STATS_R_INTR] = "intr", [STATS_R_OTHER] = "other",
};

static uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

enum stats_reason stats_reason_of(unsigned kvm_exit_reason)
{
	switch (kvm_exit_reason) {
	case KVM_EXIT_IO: return STATS_R_IO;
	case KVM_EXIT_MMIO: return STATS_R_MMIO;
	case KVM_EXIT_HLT: return STATS_R_HLT;
	case KVM_EXIT_INTR: return STATS_R_INTR;
	default: return STATS_R_OTHER;
	}
}

unsigned stats_bucket(uint64_t ns)
{
	unsigned b = ns ? 63u - (unsigned)__builtin_clzll(ns) : 0;

	return b < STATS_HIST_BUCKETS ? b : STATS_HIST_BUCKETS - 1;
}

void stats_exit_time(struct vm_stats *s, unsigned reason, uint64_t ns)
{
	struct stats_hist *h = &s->hist[stats_reason_of(reason)];

	__atomic_fetch_add(&h->count, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->ns, ns, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->b[stats_bucket(ns)], 1, __ATOMIC_RELAXED);
}

void stats_vcpu_time(struct vm_stats *s, unsigned id, uint64_t run_ns,
		     uint64_t handler_ns, bool exit)
{
	struct stats_vcpu *v;

	if (id >= STATS_VCPUS_MAX)
		return;
	v = &s->vcpu[id];
	/* only this thread writes: no read-modify-write atomics needed */
	__atomic_store_n(&v->run_ns, v->run_ns + run_ns, __ATOMIC_RELAXED);
	if (exit) {
		__atomic_store_n(&v->handler_ns, v->handler_ns + handler_ns,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&v->exits, v->exits + 1, __ATOMIC_RELAXED);
	}
}

void stats_vcpu_started(struct vm_stats *s, unsigned id)
{
	if (id < STATS_VCPUS_MAX)
		__atomic_store_n(&s->vcpu[id].tid, (int)syscall(SYS_gettid),
				 __ATOMIC_RELAXED);
}

/* "1.234 s", "12.3 ms", "850 ns"... */
static void fmt_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns >= 1000000000u)
		snprintf(buf, len, "%.3f s", (double)ns / 1e9);
	else if (ns >= 1000000u)
		snprintf(buf, len, "%.3f ms", (double)ns / 1e6);
	else if (ns >= 1000u)
		snprintf(buf, len, "%.3f us", (double)ns / 1e3);
	else
		snprintf(buf, len, "%" PRIu64 " ns", ns);
}

/* The time section of --stats: per vCPU, then the handler latencies with
 * the range of their busiest bucket. */
static void print_times(const struct vm_stats *s, FILE *f)
{
	char a[32], b[32];

	fprintf(f, "  vCPU time (in KVM_RUN: guest and KVM; in handlers: minivmm)\n");
	for (unsigned i = 0; i < STATS_VCPUS_MAX; i++) {
		const struct stats_vcpu *v = &s->vcpu[i];

		if (!__atomic_load_n(&v->tid, __ATOMIC_RELAXED))
			continue;
		fmt_ns(a, sizeof(a), ld(&v->run_ns));
		fmt_ns(b, sizeof(b), ld(&v->handler_ns));
		fprintf(f, "    vcpu%-3u KVM_RUN %12s  handlers %12s\n", i, a, b);
	}
	fprintf(f, "  handler time by exit  count        mean   busiest bucket\n");
	for (unsigned r = 0; r < STATS_R_NR; r++) {
		const struct stats_hist *h = &s->hist[r];
		uint64_t n = ld(&h->count), top = 0;
		unsigned tb = 0;

		if (!n)
			continue;
		for (unsigned i = 0; i < STATS_HIST_BUCKETS; i++)
			if (ld(&h->b[i]) > top) {
				top = ld(&h->b[i]);
				tb = i;
			}
		fmt_ns(a, sizeof(a), ld(&h->ns) / n);
		fprintf(f, "    %-6s %18" PRIu64 " %11s   [%" PRIu64 ", %" PRIu64
			") ns: %" PRIu64 "%%\n", reason_names[r], n, a,
			tb ? (uint64_t)1 << tb : 0, (uint64_t)1 << (tb + 1),
			top * 100 / n);
	}
}

void stats_print(const struct vm_stats *s, FILE *f)
{
	fprintf(f, "minivmm: statistics\n");
	for (int i = 0; i < STAT_NR; i++)
		fprintf(f, "  %-26s %12llu\n", names[i],
			(unsigned long long)__atomic_load_n(&s->v[i], __ATOMIC_RELAXED));
	print_times(s, f);
	for (const struct stats_source *src = s->sources; src; src = src->next)
		if (src->print)
			src->print(src, f);
}

/* append str (or what fits of it) at buf[*at]; *at counts all of it */
static void put(char *buf, size_t len, size_t *at, const char *str)
{
	size_t l = strlen(str);

	if (*at < len) {
		size_t c = len - *at - 1 < l ? len - *at - 1 : l;
		memcpy(buf + *at, str, c);
		buf[*at + c] = 0;
	}
	*at += l;
}

static const char *const json_names[STAT_NR] = {
	[STAT_EXITS] = "exits", [STAT_EXIT_IO] = "exit_io",
	[STAT_EXIT_MMIO] = "exit_mmio", [STAT_EXIT_HLT] = "exit_hlt",
	[STAT_EXIT_INTR] = "exit_intr", [STAT_EXIT_OTHER] = "exit_other",
	[STAT_PIO_UNHANDLED] = "pio_unhandled",
	[STAT_MMIO_UNHANDLED] = "mmio_unhandled",
	[STAT_VQ_NOTIFY] = "vq_notify", [STAT_VQ_REQUESTS] = "vq_requests",
	[STAT_VQ_ERRORS] = "vq_errors", [STAT_IRQS] = "irqs",
	[STAT_VQ_NOTIFY_IOEVENTFD] = "vq_notify_ioeventfd",
	[STAT_IRQS_IRQFD] = "irqs_irqfd",
};

/* like put(), formatted; the numbers and names here are ours, short */
static void putf(char *buf, size_t len, size_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void putf(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	put(buf, len, at, tmp);
}

_Static_assert(STAT_EXIT_IO + STATS_R_OTHER == STAT_EXIT_OTHER &&
	       STAT_EXIT_IO + STATS_R_HLT == STAT_EXIT_HLT,
	       "exits by reason: the same order in both tables");

int stats_json(const struct vm_stats *s, char *buf, size_t len)
{
	size_t at = 0;
	bool first = true;

	if (len)
		buf[0] = 0;
	putf(buf, len, &at, "\"exits\":{\"all\":%" PRIu64,
	     ld(&s->v[STAT_EXITS]));
	for (unsigned r = 0; r < STATS_R_NR; r++)
		putf(buf, len, &at, ",\"%s\":%" PRIu64, reason_names[r],
		     ld(&s->v[STAT_EXIT_IO + r]));
	put(buf, len, &at, "},\"counters\":{");
	for (unsigned i = 0; i < STAT_NR; i++)
		putf(buf, len, &at, "%s\"%s\":%" PRIu64, i ? "," : "",
		     json_names[i] ? json_names[i] : "unnamed", ld(&s->v[i]));
	put(buf, len, &at, "},\"handler\":{");
	for (unsigned r = 0; r < STATS_R_NR; r++) {
		const struct stats_hist *h = &s->hist[r];
		bool firstb = true;

		putf(buf, len, &at, "%s\"%s\":{\"count\":%" PRIu64
		     ",\"ns\":%" PRIu64 ",\"hist\":[", r ? "," : "",
		     reason_names[r], ld(&h->count), ld(&h->ns));
		for (unsigned i = 0; i < STATS_HIST_BUCKETS; i++) {
			uint64_t n = ld(&h->b[i]);

			if (!n)
				continue;
			putf(buf, len, &at, "%s[%u,%" PRIu64 "]",
			     firstb ? "" : ",", i, n);
			firstb = false;
		}
		put(buf, len, &at, "]}");
	}
	put(buf, len, &at, "},\"vcpu_time\":[");
	for (unsigned i = 0; i < STATS_VCPUS_MAX; i++) {
		const struct stats_vcpu *v = &s->vcpu[i];
		int tid = __atomic_load_n(&v->tid, __ATOMIC_RELAXED);

		if (!tid)
			continue;
		putf(buf, len, &at, "%s{\"id\":%u,\"tid\":%d,\"run_ns\":%"
		     PRIu64 ",\"handler_ns\":%" PRIu64 ",\"exits\":%" PRIu64 "}",
		     first ? "" : ",", i, tid, ld(&v->run_ns),
		     ld(&v->handler_ns), ld(&v->exits));
		first = false;
	}
	put(buf, len, &at, "]");
	return (int)at;
}

int stats_sources_json(const struct vm_stats *s, char *buf, size_t len)
{
	size_t at = 0;
	bool first = true;

	if (len)
		buf[0] = 0;
	put(buf, len, &at, "\"devices\":{");
	for (const struct stats_source *src = s->sources; src; src = src->next) {
		if (!src->json)
			continue;
		if (!first)
			put(buf, len, &at, ",");
		first = false;
		int r = src->json(src, at < len ? buf + at : NULL,
				  at < len ? len - at : 0);
		if (r > 0)
			at += (size_t)r;
	}
	put(buf, len, &at, "}");
	return (int)at;
}
