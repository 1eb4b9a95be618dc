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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GM_MAX_REGIONS 4
#define GM_HUGE_PAGE (2ULL << 20) /* x86-64 PMD page: THP and hugetlbfs */

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

/* Map size bytes of guest RAM at a 2 MiB-aligned host address (so that the
 * host can back it with 2 MiB pages and KVM can map them whole into the
 * guest, the guest-physical bases being 2 MiB-aligned too). hugetlb=false:
 * anonymous memory, reserved lazily, advised for transparent huge pages;
 * hugetlb=true: 2 MiB pages of a hugetlbfs memfd, size a multiple of
 * 2 MiB, reserved at once (-ENOMEM when the pool has too few free pages).
 * 0 with *host set, or -errno. */
int gm_map_ram(uint64_t size, bool hugetlb, void **host);

/* Unmap what gm_map_ram() mapped. */
void gm_unmap_ram(void *host, uint64_t size);

/* Free huge pages of the default size (HugePages_Free in /proc/meminfo),
 * or -1 when unknown: for the error message of a failed hugetlb mapping. */
long gm_free_huge_pages(void);

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
