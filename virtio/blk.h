/* SPDX-License-Identifier: MIT
 * blk.h - virtio-blk over a struct blockdev
 * (VIRTIO 1.x section 5.2 "Block Device").
 */
#ifndef MINIVMM_VIRTIO_BLK_H
#define MINIVMM_VIRTIO_BLK_H

#include <stdbool.h>

struct vm;
struct blockdev;
struct virtio_blk;

/* Largest nr_queues accepted (VIRTIO_BLK_F_MQ). */
#define VIRTIO_BLK_MAX_QUEUES 16
/* Queue size offered; seg_max is this minus 2 (header and status). */
#define VIRTIO_BLK_QUEUE_SIZE 256

/* Create a virtio-blk PCI device on vm->pci backed by bd (which the device
 * then owns and closes at virtio_blk_destroy), with an optional serial
 * (GET_ID, at most 20 bytes used; NULL for none) and nr_queues request
 * queues (>= 1, more than VIRTIO_BLK_MAX_QUEUES are clamped to it; >1
 * offers VIRTIO_BLK_F_MQ), each served
 * by its own I/O thread, which are started here. 0 or -errno. */
int virtio_blk_create(struct vm *vm, struct blockdev *bd, const char *serial,
		      unsigned nr_queues);

/* Lower level, for tests and the bench: create without adding it to a bus
 * or starting threads when `start` is false. *out receives the device. */
int virtio_blk_new(struct vm *vm, struct blockdev *bd, const char *serial,
		   unsigned nr_queues, bool start, struct virtio_blk **out);
struct virtio_dev *virtio_blk_dev(struct virtio_blk *b);
/* Stop threads, close the blockdev, free. */
void virtio_blk_destroy(struct virtio_blk *b);

#endif
