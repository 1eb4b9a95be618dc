/* SPDX-License-Identifier: MIT
 * boot_err.c - the loaders' error message (boot_err.h).
 */
#include "boot/boot_err.h"

#include <stdarg.h>
#include <stdio.h>

void boot_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
