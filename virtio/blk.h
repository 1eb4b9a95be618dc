/* SPDX-License-Identifier: MIT
 * blk.h - virtio-blk over a struct blockdev
 * (VIRTIO 1.x section 5.2 "Block Device").
 */
#ifndef MINIVMM_VIRTIO_BLK_H
#define MINIVMM_VIRTIO_BLK_H

#include <stdbool.h>

struct vm;
struct virtio_dev;
struct blockdev;

/* Largest nr_queues accepted (VIRTIO_BLK_F_MQ). */
#define VIRTIO_BLK_MAX_QUEUES 16
/* Queue size offered; seg_max is this minus 2 (header and status). */
#define VIRTIO_BLK_QUEUE_SIZE 256

/* The default of virtio_blk_cfg.quiet_depth: 1, no kicks while anything is
 * in flight. In a guest, where a kick is a VM exit, that was faster than
 * kicks back on after every pass (natively, where a kick is an eventfd
 * write, it was not): README, Performance. */
#define VIRTIO_BLK_QUIET_DEPTH 1

/* The default of the --disk poll= option (virtio_blk_cfg.poll_us): a
 * queue with requests in flight busy-polls for their completions and for
 * requests the driver added without kicking for up to this long before its
 * thread sleeps, the window adapting below it (evloop_set_poll). QEMU's
 * iothreads poll up to 32 us by default (poll-max-ns). */
#define VIRTIO_BLK_POLL_US 32

/* How requests reach the image: io_uring (asynchronous, several in
 * flight per queue; the default) or synchronous calls, one at a time. */
enum virtio_blk_aio { VIRTIO_BLK_AIO_IO_URING = 0, VIRTIO_BLK_AIO_SYNC };

struct virtio_blk_cfg {
	struct blockdev *bd;  /* the image; the device owns it once created */
	const char *serial;   /* GET_ID (at most 20 bytes used); NULL: none */
	unsigned nr_queues;   /* >= 1, more than VIRTIO_BLK_MAX_QUEUES are
			       * clamped to it; >1 offers VIRTIO_BLK_F_MQ */
	enum virtio_blk_aio aio;
	/* With io_uring, a request alone in flight is waited for on the
	 * queue's thread (one system call, no eventfd wakeup); true sends
	 * it through the event loop like the others (for the bench). */
	bool lone_async;
	/* With io_uring, the driver's kicks stay off while at least this
	 * many requests of a queue are in flight (their completions bring
	 * the queue's thread back to the ring); 0: VIRTIO_BLK_QUIET_DEPTH;
	 * more than the requests a queue keeps in flight (128): never. */
	unsigned quiet_depth;
	/* With io_uring, each queue's thread busy-polls for up to this many
	 * microseconds while requests are in flight before it sleeps; 0: it
	 * sleeps at once (taken as given: VIRTIO_BLK_POLL_US is the CLI's
	 * default). */
	unsigned poll_us;
};

/* Create a virtio-blk device backed by cfg->bd (device.h, virtio_pci.h):
 * each request queue is served by its own I/O thread once attached, and
 * freeing the device closes the blockdev. On failure cfg->bd stays the
 * caller's. 0 or -errno. */
int virtio_blk_create(struct vm *vm, const struct virtio_blk_cfg *cfg,
		      struct virtio_dev **out);

/* Why a device created with VIRTIO_BLK_AIO_IO_URING does synchronous I/O
 * instead (-errno from the io_uring set-up: -ENOSYS, -EPERM, ...), or 0.
 * For the caller's one-line notice. */
int virtio_blk_aio_error(struct virtio_dev *d);

#endif
