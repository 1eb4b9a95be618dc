/* SPDX-License-Identifier: MIT
 * stats.c - the --stats table printed when the VM ends. */
#include "stats.h"

#include <stdbool.h>
#include <string.h>

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
