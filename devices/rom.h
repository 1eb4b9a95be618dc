/* SPDX-License-Identifier: MIT
 * rom.h - a read-only memory on the MMIO bus: the firmware's flash at the
 * top of 4 GiB, as a PC maps its BIOS (the part below 1 MiB is a RAM copy
 * the machine loads; firmware reads the top copy when it restores that
 * one, e.g. SeaBIOS before a reboot).
 */
#ifndef MINIVMM_ROM_H
#define MINIVMM_ROM_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/device.h"

struct vm;

#define ROM_MAX_SIZE (16u << 20)

struct rom {
	struct device dev;
	uint64_t gpa;
	uint8_t *data;
	uint32_t size;
	bool attached;
};

/* The image in file path (1 byte to ROM_MAX_SIZE), mapped so that it ends
 * at end (exclusive: 4 GiB for a BIOS). 0 or -errno (-EINVAL: empty, too
 * large, or below 0). */
int rom_create(struct vm *vm, const char *path, uint64_t end, struct rom **out);

/* Bus handler (opaque = struct rom): reads return the image's bytes
 * (0xff past its end), writes are ignored. */
void rom_io(void *opaque, uint64_t off, void *data, unsigned len,
	    bool is_write);

#endif
