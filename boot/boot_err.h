/* SPDX-License-Identifier: MIT
 * boot_err.h - the one-line error message every kernel loader (boot/x86/,
 * boot/arm64/) leaves for its caller in the (err, errlen) buffer it is
 * given; the caller prints it.
 */
#ifndef MINIVMM_BOOT_ERR_H
#define MINIVMM_BOOT_ERR_H

#include <stddef.h>

/* snprintf into err (if err and errlen). */
void boot_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
