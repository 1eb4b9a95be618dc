/* SPDX-License-Identifier: MIT
 * guest_mem.c - bounds- and overflow-checked guest-physical translation.
 */
#include "guest_mem.h"

#include <errno.h>
#include <string.h>

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
