/* SPDX-License-Identifier: MIT
 * virtio_drv.h - a small *driver* for a virtio-pci device model, for unit
 * tests and the blk bench: it programs the common configuration through
 * virtio_pci_bar_access() exactly as a guest driver would (bus mastering,
 * features, status, queue setup), lays out split rings in a fake guest memory, posts
 * chains (direct or through an indirect table) and reaps used entries.
 * Queue processing is run synchronously by calling the device's
 * queue_notify op (no I/O threads needed: create devices unstarted).
 */
#ifndef MINIVMM_TEST_VIRTIO_DRV_H
#define MINIVMM_TEST_VIRTIO_DRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include "virtio/virtio_pci.h"

struct vdrv_buf {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

struct vdrv_q {
	uint16_t size;
	uint64_t desc, avail, used, indirect; /* gpas; indirect: tables */
	uint16_t avail_idx, last_used, next;
};

struct vdrv {
	struct virtio_dev *dev;
	uint8_t *ram;         /* host address of gpa 0 */
	struct vdrv_q q[4];
};

static inline uint32_t vdrv_rd(struct vdrv *v, unsigned off, unsigned len)
{
	uint32_t x = 0;
	virtio_pci_bar_access(v->dev, off, &x, len, false);
	return x;
}
static inline void vdrv_wr(struct vdrv *v, unsigned off, unsigned len,
			   uint32_t x)
{
	virtio_pci_bar_access(v->dev, off, &x, len, true);
}
#define VDRV_CC(f) offsetof(struct virtio_pci_common_cfg, f)
#define VDRV_SZ(f) sizeof(((struct virtio_pci_common_cfg *)0)->f)
#define VDRV_RD(v, f) vdrv_rd(v, VDRV_CC(f), VDRV_SZ(f))
#define VDRV_WR(v, f, x) vdrv_wr(v, VDRV_CC(f), VDRV_SZ(f), x)

static inline uint64_t vdrv_device_features(struct vdrv *v)
{
	uint64_t f;
	VDRV_WR(v, device_feature_select, 0);
	f = VDRV_RD(v, device_feature);
	VDRV_WR(v, device_feature_select, 1);
	return f | (uint64_t)VDRV_RD(v, device_feature) << 32;
}

/* Bus mastering on (pci_set_master), reset, acknowledge, negotiate
 * features; returns the status byte. */
static inline uint8_t vdrv_negotiate(struct vdrv *v, uint64_t features)
{
	struct pci_dev *p = &v->dev->pci;

	pci_cfg_write(p, PCI_COMMAND, 2,
		      pci_cfg_read(p, PCI_COMMAND, 2) | PCI_COMMAND_MASTER);
	VDRV_WR(v, device_status, 0);
	VDRV_WR(v, device_status, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	VDRV_WR(v, device_status,
		VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	VDRV_WR(v, guest_feature_select, 0);
	VDRV_WR(v, guest_feature, (uint32_t)features);
	VDRV_WR(v, guest_feature_select, 1);
	VDRV_WR(v, guest_feature, (uint32_t)(features >> 32));
	VDRV_WR(v, device_status,
		VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			VIRTIO_CONFIG_S_FEATURES_OK);
	return (uint8_t)VDRV_RD(v, device_status);
}

/* Rings of queue i at base (4 KiB aligned); indirect tables after them
 * (one 4 KiB table of 256 entries per descriptor). Returns the first
 * free gpa. Enables the queue. */
static inline uint64_t vdrv_setup_queue(struct vdrv *v, unsigned i,
					uint16_t size, uint64_t base)
{
	struct vdrv_q *q = &v->q[i];

	memset(q, 0, sizeof(*q));
	q->size = size;
	q->desc = base;
	q->avail = base + 16ULL * size;
	q->used = (q->avail + 6 + 2ULL * size + 4095) & ~4095ULL;
	q->indirect = (q->used + 6 + 8ULL * size + 4095) & ~4095ULL;
	memset(v->ram + base, 0, q->indirect - base);
	VDRV_WR(v, queue_select, i);
	VDRV_WR(v, queue_size, size);
	VDRV_WR(v, queue_desc_lo, (uint32_t)q->desc);
	VDRV_WR(v, queue_desc_hi, (uint32_t)(q->desc >> 32));
	VDRV_WR(v, queue_avail_lo, (uint32_t)q->avail);
	VDRV_WR(v, queue_avail_hi, (uint32_t)(q->avail >> 32));
	VDRV_WR(v, queue_used_lo, (uint32_t)q->used);
	VDRV_WR(v, queue_used_hi, (uint32_t)(q->used >> 32));
	VDRV_WR(v, queue_enable, 1);
	return q->indirect + 4096ULL * size;
}

static inline void vdrv_driver_ok(struct vdrv *v)
{
	VDRV_WR(v, device_status,
		VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			VIRTIO_CONFIG_S_FEATURES_OK |
			VIRTIO_CONFIG_S_DRIVER_OK);
}

/* Post a chain of n buffers on queue i (through an indirect table when
 * indirect is set); returns its head. Descriptors are taken round-robin:
 * the caller keeps at most size (or size / n) chains in flight. */
static inline uint16_t vdrv_post(struct vdrv *v, unsigned i,
				 const struct vdrv_buf *b, unsigned n,
				 bool indirect)
{
	struct vdrv_q *q = &v->q[i];
	struct vring_desc *d = (struct vring_desc *)(v->ram + q->desc);
	struct vring_avail *a = (struct vring_avail *)(v->ram + q->avail);
	uint16_t head = q->next;

	if (indirect) {
		uint64_t tgpa = q->indirect + 4096ULL * head;
		struct vring_desc *t = (struct vring_desc *)(v->ram + tgpa);

		for (unsigned k = 0; k < n; k++)
			t[k] = (struct vring_desc){
				.addr = b[k].gpa, .len = b[k].len,
				.flags = (uint16_t)((b[k].write ? VRING_DESC_F_WRITE : 0) |
					 (k + 1 < n ? VRING_DESC_F_NEXT : 0)),
				.next = (uint16_t)(k + 1) };
		d[head] = (struct vring_desc){ .addr = tgpa,
					       .len = 16 * n,
					       .flags = VRING_DESC_F_INDIRECT };
		q->next = (uint16_t)((head + 1) % q->size);
	} else {
		uint16_t idx = head;
		for (unsigned k = 0; k < n; k++) {
			uint16_t nx = (uint16_t)((idx + 1) % q->size);
			d[idx] = (struct vring_desc){
				.addr = b[k].gpa, .len = b[k].len,
				.flags = (uint16_t)((b[k].write ? VRING_DESC_F_WRITE : 0) |
					 (k + 1 < n ? VRING_DESC_F_NEXT : 0)),
				.next = nx };
			idx = nx;
		}
		q->next = idx;
	}
	a->ring[q->avail_idx % q->size] = head;
	q->avail_idx++;
	/* release: descriptors before the index, as a real driver does */
	__atomic_store_n(&a->idx, q->avail_idx, __ATOMIC_RELEASE);
	return head;
}

/* Run the device on queue i (synchronously, on this thread). */
/* Kick queue i and run the device until the requests it took are
 * finished (a device with asynchronous backends completes them in
 * queue_flush). */
static inline void vdrv_kick(struct vdrv *v, unsigned i)
{
	v->dev->desc.ops->queue_notify(v->dev, i);
	if (v->dev->desc.ops->queue_flush)
		v->dev->desc.ops->queue_flush(v->dev, i);
}

/* Reap one used entry; false if none. */
static inline bool vdrv_used(struct vdrv *v, unsigned i, uint16_t *head,
			     uint32_t *len)
{
	struct vdrv_q *q = &v->q[i];
	struct vring_used *u = (struct vring_used *)(v->ram + q->used);

	if (__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == q->last_used)
		return false;
	*head = (uint16_t)u->ring[q->last_used % q->size].id;
	*len = u->ring[q->last_used % q->size].len;
	q->last_used++;
	return true;
}

#endif
