/* SPDX-License-Identifier: MIT
 * debugcon.h - the firmware debug console at I/O port 0x402 (QEMU's
 * isa-debugcon, which SeaBIOS prints its debug messages to).
 */
#ifndef MINIVMM_DEBUGCON_H
#define MINIVMM_DEBUGCON_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/device.h"

struct vm;

#define DEBUGCON_PORT 0x402
#define DEBUGCON_READBACK 0xe9 /* what a present port reads as */

struct debugcon {
	struct device dev;
	int fd;        /* -1: absent (reads as all ones, writes dropped) */
	bool attached;
	pthread_mutex_t lock;
	char buf[256]; /* bytes not yet written: flushed at a newline */
	unsigned n;
};

/* The port of a VM (device.h). path: the file the guest's bytes go to
 * (created or truncated), or NULL for an absent port the firmware finds
 * missing (it then prints nothing there: no exits). 0 or -errno. */
int debugcon_create(struct vm *vm, const char *path, struct debugcon **out);

/* The model alone (tests): fd as above. */
void debugcon_init(struct debugcon *d, int fd);
/* Bus handler (opaque = struct debugcon). */
void debugcon_io(void *opaque, uint64_t off, void *data, unsigned len,
		 bool is_write);
/* Write out what is buffered. */
void debugcon_flush(struct debugcon *d);

#endif
