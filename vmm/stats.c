/* SPDX-License-Identifier: MIT
 * stats.c - the --stats table printed when the VM ends. */
#include "stats.h"

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
};

void stats_print(const struct vm_stats *s, FILE *f)
{
	fprintf(f, "minivmm: statistics\n");
	for (int i = 0; i < STAT_NR; i++)
		fprintf(f, "  %-26s %12llu\n", names[i],
			(unsigned long long)__atomic_load_n(&s->v[i], __ATOMIC_RELAXED));
}
