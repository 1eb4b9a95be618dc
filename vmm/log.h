/* SPDX-License-Identifier: MIT
 * log.h - one place for messages. Every user-facing error is one line that
 * names the file, flag or value at fault. Library code returns 0 or -errno
 * and prints where the context is known; nothing below main() calls exit().
 */
#ifndef MINIVMM_LOG_H
#define MINIVMM_LOG_H

#include <stdbool.h>
#include <stddef.h>

extern bool log_trace_enabled; /* --trace: print every VM exit (trace.h) */
extern bool log_quiet;
/* Where --trace lines go: stderr (each prefixed "minivmm: trace: ", as
 * every message there) or the --trace-file (vmm/trace.c sets it). */
extern int log_trace_fd;
/* One trace line (len bytes, '\n' added if missing) in one write(2), so
 * the lines of several threads never mix. */
void log_trace_write(const char *line, size_t len);         /* unit tests silence expected warnings */

void log_msg(const char *level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...) log_msg("error", __VA_ARGS__)
#define pr_warn(...) log_msg("warning", __VA_ARGS__)
#define pr_info(...) log_msg(NULL, __VA_ARGS__)
/* A budget of the warnings a guest can cause, one per device (struct
 * device and struct pci_dev hold one): a guest looping reset / bad ring /
 * kick must not fill the host's log. The first LOG_BUDGET_MAX warnings are
 * printed, the next one is replaced by a line "<who>: further warnings
 * suppressed", and every later one is only counted. Zeroed is a full
 * budget; it is never refilled (a device reset does not refill it, or a
 * reset loop would print again). Any thread.
 *
 * Devices are made again at each guest reboot (--on-reboot=restart), and
 * their budgets with them; so every line a budget lets through also takes
 * one from log_guest_total, the process's: at most LOG_GUEST_MAX lines
 * (and one saying so) for everything the guest causes, across reboots. */
#define LOG_BUDGET_MAX 32
#define LOG_GUEST_MAX 1024

struct log_budget {
	unsigned used;                  /* warnings asked for (stops growing
					 * just past LOG_BUDGET_MAX) */
	unsigned long long suppressed;  /* warnings not printed */
};

extern struct log_budget log_guest_total; /* tests may zero it */

/* May one more warning be printed? Prints the "suppressed" line when the
 * budget runs out just now; who names the device in it. */
bool log_budget_take(struct log_budget *b, const char *who);

/* pr_warn() against b: a guest-triggered warning. */
void pr_warn_limited(struct log_budget *b, const char *who, const char *fmt,
		     ...) __attribute__((format(printf, 3, 4)));

/* s as the inside of a JSON string (RFC 8259, section 7), for names that
 * reach machine-readable output (the control socket): '"' and '\\' get a
 * backslash, control characters and bytes >= 0x7f become \u00XX (so the
 * text stays valid JSON whatever the bytes). Writes at most len bytes with
 * the NUL, never half an escape; returns the length of the whole escaped
 * text, as snprintf() does. */
size_t json_escape(char *out, size_t len, const char *s);
/* Room for the escape of a name of n bytes, with the NUL. */
#define JSON_ESCAPED_MAX(n) (6 * (n) + 1)

#define pr_trace(...)                                                   \
	do {                                                            \
		if (log_trace_enabled)                                  \
			log_msg("trace", __VA_ARGS__);                  \
	} while (0)

#endif
