/* SPDX-License-Identifier: MIT
 * guest_mem.h - the one checked accessor for guest-physical memory.
 *
 * Every guest-physical address the VMM touches (boot structures, virtqueue
 * rings, descriptor buffers, DMA of emulated devices) goes through these
 * functions. They check that [gpa, gpa + len) lies wholly inside one RAM
 * region, with the addition checked for overflow. No other code does pointer
 * arithmetic on guest addresses: callers get a host pointer to exactly the
 * range they asked for, or NULL / -EFAULT.
 */
#ifndef MINIVMM_GUEST_MEM_H
#define MINIVMM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GM_MAX_REGIONS 4

struct gm_region {
	uint64_t gpa;  /* guest-physical start */
	uint64_t size; /* bytes */
	uint8_t *host; /* host mapping of the region */
};

struct guest_mem {
	struct gm_region r[GM_MAX_REGIONS];
	unsigned nr;
	uint64_t ram_size; /* sum of region sizes */
};

/* Add a region (non-overlapping, no wrap). 0 or -EINVAL/-ENOSPC. */
int gm_add_region(struct guest_mem *gm, uint64_t gpa, uint64_t size,
		  void *host);

/* Host pointer for [gpa, gpa+len) if it lies inside one region, else NULL.
 * len may be 0 (then gpa must still be inside a region or at its end). */
void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* Copy between guest and host memory. 0 or -EFAULT. */
int gm_read(const struct guest_mem *gm, uint64_t gpa, void *dst, size_t len);
int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src,
	     size_t len);

/* True if [gpa, gpa+len) is guest RAM. */
static inline int gm_valid(const struct guest_mem *gm, uint64_t gpa,
			   uint64_t len)
{
	return gm_ptr(gm, gpa, len) != NULL;
}

#endif
