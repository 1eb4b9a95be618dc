/* SPDX-License-Identifier: MIT
 * log.c - messages go to stderr, prefixed with "minivmm:", one line each.
 * The serial console owns stdout, so diagnostics never mix into guest output.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

bool log_trace_enabled;
bool log_quiet;

void log_msg(const char *level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (log_quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One write per line so that threads do not interleave mid-line. */
	if (level)
		fprintf(stderr, "minivmm: %s: %s\n", level, buf);
	else
		fprintf(stderr, "minivmm: %s\n", buf);
}
