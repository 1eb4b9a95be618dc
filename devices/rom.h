/* SPDX-License-Identifier: MIT
 * rom.h - a read-only memory: the firmware's flash at the top of 4 GiB, as
 * a PC maps its BIOS, in a read-only KVM memory slot (writes exit to the
 * MMIO bus and are dropped). Below 1 MiB the chipset shows its last
 * 128 KiB or the shadow RAM (devices/x86/i440fx.h).
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
	uint64_t gpa;   /* where data starts in the guest */
	uint8_t *data;  /* page-aligned, read-only: 0xff, then the image */
	uint32_t size;  /* of data: the image's size rounded up to pages */
	bool attached;  /* on the MMIO bus */
	int slot;       /* KVM memory slot, -1 before attach */
};

/* The image in file path (1 byte to ROM_MAX_SIZE), placed so that it ends
 * at end (exclusive, page-aligned: 4 GiB for a BIOS), in whole pages: the
 * image's size rounded up, 0xff before it. 0 or -errno (-EINVAL: empty,
 * too large, or below 0). */
int rom_create(struct vm *vm, const char *path, uint64_t end, struct rom **out);

/* Bus handler (opaque = struct rom): reads return the image's bytes
 * (0xff past its end), writes are ignored. */
void rom_io(void *opaque, uint64_t off, void *data, unsigned len,
	    bool is_write);

#endif
