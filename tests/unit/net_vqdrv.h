/* SPDX-License-Identifier: MIT
 * net_vqdrv.h - a minimal *driver* side of a split virtqueue over a fake
 * guest memory, for the virtio-net unit test and the net bench: lays out the
 * rings, adds descriptor chains, kicks nothing (the caller calls the device
 * handler), and collects used entries. Single-threaded use, or one producer
 * thread per queue with the device on another thread (the index updates
 * use release/acquire like a real driver).
 */
#ifndef MINIVMM_NET_VQDRV_H
#define MINIVMM_NET_VQDRV_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include "virtio/virtqueue.h"
#include "vmm/guest_mem.h"

struct drv_buf {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

struct drv_vq {
	struct virtq q;         /* the device's view */
	uint8_t *mem;           /* host address of gpa 0 */
	uint16_t size;
	uint64_t desc, avail, used;
	uint16_t next_desc;     /* descriptors are handed out round-robin */
	uint16_t avail_idx;
	uint16_t last_used;
};

/* Lay the rings out at base (16-byte aligned) and enable the device view.
 * Returns the first gpa after the rings. */
static inline uint64_t drv_vq_setup(struct drv_vq *d, struct guest_mem *gm,
				    uint8_t *mem, uint64_t base, uint16_t size)
{
	memset(d, 0, sizeof(*d));
	d->mem = mem;
	d->size = size;
	d->desc = base;
	d->avail = base + 16ULL * size;
	d->used = (d->avail + 6 + 2ULL * size + 3) & ~3ULL;
	memset(mem + base, 0, (size_t)(d->used + 6 + 8ULL * size - base));
	virtq_init(&d->q, gm, size);
	d->q.size = size;
	d->q.desc_gpa = d->desc;
	d->q.avail_gpa = d->avail;
	d->q.used_gpa = d->used;
	if (virtq_enable(&d->q))
		return 0;
	return (d->used + 6 + 8ULL * size + 15) & ~15ULL;
}

/* Add one chain; returns its head. */
static inline uint16_t drv_add(struct drv_vq *d, const struct drv_buf *b,
			       unsigned n)
{
	struct vring_desc *desc = (void *)(d->mem + d->desc);
	struct vring_avail *av = (void *)(d->mem + d->avail);
	uint16_t head = d->next_desc;

	for (unsigned i = 0; i < n; i++) {
		uint16_t id = (uint16_t)((head + i) % d->size);
		desc[id].addr = b[i].gpa;
		desc[id].len = b[i].len;
		desc[id].flags = (uint16_t)((b[i].write ? VRING_DESC_F_WRITE : 0) |
				  (i + 1 < n ? VRING_DESC_F_NEXT : 0));
		desc[id].next = (uint16_t)((id + 1) % d->size);
	}
	d->next_desc = (uint16_t)((head + n) % d->size);
	av->ring[d->avail_idx % d->size] = head;
	d->avail_idx++;
	/* release: descriptors and ring entry before the index */
	__atomic_store_n(&av->idx, d->avail_idx, __ATOMIC_RELEASE);
	return head;
}

/* Next used element: true and fills id/len, or false if none. */
static inline bool drv_get_used(struct drv_vq *d, uint32_t *id, uint32_t *len)
{
	struct vring_used *u = (void *)(d->mem + d->used);

	/* acquire: the element and the buffer data after the index */
	if (__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == d->last_used)
		return false;
	*id = u->ring[d->last_used % d->size].id;
	*len = u->ring[d->last_used % d->size].len;
	d->last_used++;
	return true;
}

static inline uint16_t drv_used_idx(struct drv_vq *d)
{
	struct vring_used *u = (void *)(d->mem + d->used);

	return __atomic_load_n(&u->idx, __ATOMIC_ACQUIRE);
}

#endif
