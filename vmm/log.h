/* SPDX-License-Identifier: MIT
 * log.h - one place for messages. Every user-facing error is one line that
 * names the file, flag or value at fault. Library code returns 0 or -errno
 * and prints where the context is known; nothing below main() calls exit().
 */
#ifndef MINIVMM_LOG_H
#define MINIVMM_LOG_H

#include <stdbool.h>

extern bool log_trace_enabled; /* --trace: print every VM exit */
extern bool log_quiet;         /* unit tests silence expected warnings */

void log_msg(const char *level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...) log_msg("error", __VA_ARGS__)
#define pr_warn(...) log_msg("warning", __VA_ARGS__)
#define pr_info(...) log_msg(NULL, __VA_ARGS__)
#define pr_trace(...)                                                   \
	do {                                                            \
		if (log_trace_enabled)                                  \
			log_msg("trace", __VA_ARGS__);                  \
	} while (0)

#endif
