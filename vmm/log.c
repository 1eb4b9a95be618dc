/* SPDX-License-Identifier: MIT
 * log.c - messages go to stderr, prefixed with "minivmm:", one line each.
 * The serial console owns stdout, so diagnostics never mix into guest output.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool log_trace_enabled;
int log_trace_fd = STDERR_FILENO;
bool log_quiet;
struct log_budget log_guest_total;

static void log_vmsg(const char *level, const char *fmt, va_list ap)
{
	char buf[1024];

	if (log_quiet)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (level && !strcmp(level, "trace") && log_trace_fd != STDERR_FILENO) {
		log_trace_write(buf, strlen(buf)); /* --trace-file */
		return;
	}
	/* One write per line so that threads do not interleave mid-line. */
	if (level)
		fprintf(stderr, "minivmm: %s: %s\n", level, buf);
	else
		fprintf(stderr, "minivmm: %s\n", buf);
}

void log_trace_write(const char *line, size_t len)
{
	static const char prefix[] = "minivmm: trace: ";
	char buf[1100];
	size_t at = 0;

	if (log_trace_fd == STDERR_FILENO) {
		memcpy(buf, prefix, sizeof(prefix) - 1);
		at = sizeof(prefix) - 1;
	}
	if (len > sizeof(buf) - at - 1)
		len = sizeof(buf) - at - 1;
	memcpy(buf + at, line, len);
	at += len;
	if (!at || buf[at - 1] != '\n')
		buf[at++] = '\n';
	for (const char *p = buf; at;) {
		ssize_t w = write(log_trace_fd, p, at);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* a full disk costs the trace, not the guest */
		p += w;
		at -= (size_t)w;
	}
}

void log_msg(const char *level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/* Take one from b, which holds max: the number taken before (max: the
 * budget runs out now; more: it had already), or max + 1 when it had.
 * Looks before adding, so that used stops just past max (it cannot wrap
 * around and open the budget again); threads racing here can take it a
 * few past, and only one of them sees max. */
static unsigned take(struct log_budget *b, unsigned max)
{
	unsigned n;

	if (__atomic_load_n(&b->used, __ATOMIC_RELAXED) > max)
		n = max + 1;
	else
		n = __atomic_fetch_add(&b->used, 1, __ATOMIC_RELAXED);
	if (n >= max)
		__atomic_fetch_add(&b->suppressed, 1, __ATOMIC_RELAXED);
	return n;
}

bool log_budget_take(struct log_budget *b, const char *who)
{
	unsigned n = take(b, LOG_BUDGET_MAX), g;

	if (n > LOG_BUDGET_MAX)
		return false;
	/* a line to print (the warning, or the device's last one): the
	 * process's budget has the last word */
	g = take(&log_guest_total, LOG_GUEST_MAX);
	if (g == LOG_GUEST_MAX)
		log_msg("warning", "%u warnings caused by the guest printed; "
			"no more will be (any device, any reboot)",
			LOG_GUEST_MAX);
	if (g >= LOG_GUEST_MAX)
		return false;
	if (n == LOG_BUDGET_MAX) {
		log_msg("warning", "%s: %u warnings printed; further warnings "
			"suppressed", who ? who : "device", LOG_BUDGET_MAX);
		return false;
	}
	return true;
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
