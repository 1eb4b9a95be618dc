/* SPDX-License-Identifier: MIT
 * log.c - messages go to stderr, prefixed with "minivmm:", one line each.
 * The serial console owns stdout, so diagnostics never mix into guest output.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool log_trace_enabled;
bool log_quiet;

static void log_vmsg(const char *level, const char *fmt, va_list ap)
{
	char buf[1024];

	if (log_quiet)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* One write per line so that threads do not interleave mid-line. */
	if (level)
		fprintf(stderr, "minivmm: %s: %s\n", level, buf);
	else
		fprintf(stderr, "minivmm: %s\n", buf);
}

void log_msg(const char *level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

bool log_budget_take(struct log_budget *b, const char *who)
{
	unsigned n;

	/* Look before adding, so that used stops just past the limit (it
	 * cannot wrap around and open the budget again); threads racing
	 * here can take it a few past, never print more than the limit. */
	if (__atomic_load_n(&b->used, __ATOMIC_RELAXED) > LOG_BUDGET_MAX) {
		__atomic_fetch_add(&b->suppressed, 1, __ATOMIC_RELAXED);
		return false;
	}
	n = __atomic_fetch_add(&b->used, 1, __ATOMIC_RELAXED);
	if (n < LOG_BUDGET_MAX)
		return true;
	__atomic_fetch_add(&b->suppressed, 1, __ATOMIC_RELAXED);
	if (n == LOG_BUDGET_MAX)
		log_msg("warning", "%s: %u warnings printed; further warnings "
			"suppressed", who ? who : "device", LOG_BUDGET_MAX);
	return false;
}

void pr_warn_limited(struct log_budget *b, const char *who, const char *fmt,
		     ...)
{
	va_list ap;

	if (!log_budget_take(b, who))
		return;
	va_start(ap, fmt);
	log_vmsg("warning", fmt, ap);
	va_end(ap);
}

size_t json_escape(char *out, size_t len, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t at = 0;
	bool full = false;

	if (len)
		out[0] = '\0';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char e[6];
		size_t k;

		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			k = 2;
		} else if (c < 0x20 || c >= 0x7f) {
			memcpy(e, "\\u00", 4);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			k = 6;
		} else {
			e[0] = (char)c;
			k = 1;
		}
		if (!full && at + k < len)
			memcpy(out + at, e, k);
		else
			full = true;
		at += k;
		if (!full)
			out[at] = '\0';
	}
	return at;
}
