/* SPDX-License-Identifier: MIT
 * guest_mem.c - bounds- and overflow-checked guest-physical translation.
 */
#include "guest_mem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif

/* 2 MiB pages of a hugetlbfs memfd (the default huge page size, 2 MiB on
 * x86-64), shared so that the reservation is taken at mmap time: a pool
 * that is too small fails here with ENOMEM rather than with SIGBUS when
 * the guest touches a page. */
static int map_hugetlb(uint64_t size, void **host)
{
	int fd = memfd_create("minivmm-ram", MFD_CLOEXEC | MFD_HUGETLB);
	void *p;
	int err;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	err = p == MAP_FAILED ? -errno : 0;
	close(fd); /* the mapping keeps the file */
	if (err)
		return err;
	*host = p;
	return 0;
}

/* Anonymous memory at a 2 MiB boundary: map 2 MiB more than asked and
 * unmap the unaligned head and the tail. MAP_NORESERVE: pages are taken
 * as the guest touches them. */
static int map_anon(uint64_t size, void **host)
{
	uint64_t span = size + GM_HUGE_PAGE, head;
	uint8_t *p;

	if (span < size)
		return -EINVAL;
	p = mmap(NULL, span, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	head = (GM_HUGE_PAGE - ((uintptr_t)p & (GM_HUGE_PAGE - 1))) &
	       (GM_HUGE_PAGE - 1);
	if (head)
		munmap(p, head);
	munmap(p + head + size, span - head - size);
	/* Transparent huge pages cut TLB misses, in the guest's stage-2 walk
	 * as well as in the host's; advice only (THP may be off or the
	 * kernel may find no free 2 MiB page), so failure is not an error. */
	madvise(p + head, size, MADV_HUGEPAGE);
	*host = p + head;
	return 0;
}

int gm_map_ram(uint64_t size, bool hugetlb, void **host)
{
	if (!size || (hugetlb && (size & (GM_HUGE_PAGE - 1))))
		return -EINVAL;
	return hugetlb ? map_hugetlb(size, host) : map_anon(size, host);
}

void gm_unmap_ram(void *host, uint64_t size)
{
	munmap(host, size);
}

long gm_free_huge_pages(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	long n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

int gm_add_region(struct guest_mem *gm, uint64_t gpa, uint64_t size,
		  void *host)
{
	uint64_t end;

	if (!size || !host || __builtin_add_overflow(gpa, size, &end))
		return -EINVAL;
	if (gm->nr >= GM_MAX_REGIONS)
		return -ENOSPC;
	for (unsigned i = 0; i < gm->nr; i++) {
		const struct gm_region *r = &gm->r[i];
		if (gpa < r->gpa + r->size && r->gpa < end)
			return -EINVAL;
	}
	gm->r[gm->nr++] = (struct gm_region){ gpa, size, host };
	gm->ram_size += size;
	return 0;
}

void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(gpa, len, &end))
		return NULL;
	for (unsigned i = 0; i < gm->nr; i++) {
		const struct gm_region *r = &gm->r[i];
		/* r->gpa + r->size cannot overflow: checked in gm_add_region */
		if (gpa >= r->gpa && end <= r->gpa + r->size)
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

int gm_read(const struct guest_mem *gm, uint64_t gpa, void *dst, size_t len)
{
	void *p = gm_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src,
	     size_t len)
{
	void *p = gm_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}
