/* SPDX-License-Identifier: MIT
 * boot_test_util.h - shared fixtures of the x86 loader tests: a fake guest
 * RAM (heap buffers registered with guest_mem), temporary files, and
 * builders for crafted bzImage and ELF images.
 */
#ifndef MINIVMM_BOOT_TEST_UTIL_H
#define MINIVMM_BOOT_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "boot/x86/boot.h"
#include "vmm/guest_mem.h"

struct fake_guest {
	struct guest_mem gm;
	uint8_t *low, *high;
	uint64_t low_size, high_size;
};

/* Guest RAM [0, low) and [4 GiB, 4 GiB + high); the first 4 MiB of each
 * region hold the byte fill, the rest zeroes. */
void fake_guest_init(struct fake_guest *g, uint64_t low, uint64_t high,
		     uint8_t fill);
void fake_guest_free(struct fake_guest *g);
/* A boot config for g (no files yet). */
struct x86_boot_cfg fake_guest_cfg(const struct fake_guest *g);

/* Write data to a new temporary file; returns its malloc'ed path. */
char *temp_file(const void *data, size_t len);
/* A sparse temporary file of size bytes (content: zeroes). */
char *temp_sparse(uint64_t size);
void temp_remove(char *path);

/* Read a little-endian field of n bytes from guest RAM. */
uint64_t guest_le(const struct guest_mem *gm, uint64_t gpa, unsigned n);

/* The byte pattern used for image payloads: byte i of stream seed. */
static inline uint8_t pattern(unsigned seed, uint64_t i)
{
	return (uint8_t)(i * 31 + seed * 7 + (i >> 8));
}

/* Crafted bzImage. */
struct bz_opts {
	uint16_t version;      /* e.g. 0x020f */
	uint16_t xloadflags;
	uint8_t setup_sects;   /* 0 means 4 */
	uint8_t relocatable;
	uint8_t hdr_len;       /* byte 0x201: header ends at 0x202 + this */
	uint32_t kernel_alignment;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t cmdline_size;
	uint32_t initrd_addr_max;
	uint32_t kernel_bytes; /* protected-mode part, a pattern(1, i) */
};
struct bz_opts bz_default(void);
uint8_t *make_bzimage(const struct bz_opts *o, size_t *len);

#endif
