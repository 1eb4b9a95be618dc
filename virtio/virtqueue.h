/* SPDX-License-Identifier: MIT
 * virtqueue.h - the device side of a VIRTIO 1.x split virtqueue
 * (VIRTIO 1.x section 2.7 "Split Virtqueues", with 2.7.5 indirect
 * descriptors and 2.7.7/2.7.10 notification suppression / EVENT_IDX).
 *
 * Everything in the rings is written by the guest and is hostile. This layer
 * turns one available descriptor chain into a checked list of host iovecs
 * (device-readable part first, then device-writable part) and publishes
 * used elements, so device models never touch descriptors or guest
 * addresses themselves.
 *
 * Threading: a queue belongs to one I/O thread while it is ready. The
 * transport (virtio_pci.c) only changes the configuration fields while the
 * queue is not ready, and enables/resets it through evloop_call() on the
 * queue's thread, so no lock is needed here.
 *
 * A device serves a kick with virtq_drain() (on the queue's I/O thread),
 * handing it one callback per request; the helper holds the notification
 * suppression dance (VIRTIO 1.x 2.7.7, 2.7.10) so that no device has to:
 *
 *	for (;;) {
 *		virtq_disable_notify(q);      // the driver need not kick
 *		while (virtq_pop(q, r) == 1)
 *			virtq_push(q, r->head, handle(r));
 *		if (virtq_need_notify(q))     // EVENT_IDX or NO_INTERRUPT
 *			interrupt the driver;
 *		if (q->inflight >= q->quiet_depth > 0) // a completion comes
 *			break;                         // back here
 *		if (!virtq_enable_notify(q))  // nothing slipped in meanwhile
 *			break;
 *	}
 *
 * A device that completes chains later (VIRTQ_REQ_ASYNC: the backend
 * does the I/O) writes their used entries with virtq_complete() and
 * announces a batch of them with one virtq_need_notify(), which
 * publishes the used index once for the batch. With q->quiet_depth set,
 * the driver is not asked to kick while at least that many chains are in
 * flight: every batch of completions must then be followed by another
 * virtq_drain(), which takes what the driver added meanwhile and turns
 * kicks back on (then looks at the ring once more) when fewer are left.
 */
#ifndef MINIVMM_VIRTQUEUE_H
#define MINIVMM_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/virtio_ring.h>

#include "vmm/guest_mem.h"

/* Largest queue size any device offers. A chain (including the entries of
 * an indirect table) may have at most `size` descriptors, so this also
 * bounds struct virtq_req's iovec array. */
#define VIRTQ_MAX_SIZE 1024

/* Returned by virtq_pop() / recorded in virtq.error (for logs and tests). */
enum virtq_err {
	VIRTQ_OK = 0,
	VIRTQ_ERR_AVAIL_IDX,    /* avail->idx ran more than size ahead */
	VIRTQ_ERR_HEAD,         /* head index >= size */
	VIRTQ_ERR_NEXT,         /* next index >= size (or table length) */
	VIRTQ_ERR_LOOP,         /* chain longer than the queue size */
	VIRTQ_ERR_INDIRECT,     /* bad indirect table (len, nesting, NEXT) */
	VIRTQ_ERR_ORDER,        /* readable descriptor after a writable one */
	VIRTQ_ERR_ADDR,         /* buffer not wholly inside guest RAM */
	VIRTQ_ERR_TOTAL,        /* byte totals overflow 32 bits */
	VIRTQ_ERR_BROKEN,       /* queue already broken; needs a reset */
};

struct virtq {
	/* -- configuration (written by the transport while !ready) -- */
	const struct guest_mem *gm;
	uint16_t max_size;      /* what the device offers (power of two) */
	uint16_t size;          /* what the driver chose (power of two) */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx;         /* VIRTIO_F_RING_EVENT_IDX negotiated */
	bool indirect;          /* VIRTIO_F_RING_INDIRECT_DESC negotiated */
	/* set by the device, kept by virtq_reset: with at least this many
	 * chains in flight (VIRTQ_REQ_ASYNC) virtq_drain leaves kicks off;
	 * 0: kicks back on after every drain */
	uint16_t quiet_depth;

	/* -- run-time state (owned by the queue's I/O thread) -- */
	bool ready;             /* virtq_enable() succeeded */
	bool broken;            /* a malformed chain was seen */
	enum virtq_err error;   /* why it broke */
	uint16_t last_avail_idx;/* next avail ring slot to consume */
	uint16_t used_idx;      /* next used ring slot to fill (shadow) */
	uint16_t signalled_used;/* used_idx at the last interrupt we sent */
	bool signalled_valid;   /* signalled_used meaningful (EVENT_IDX) */
	bool notify_disabled;   /* virtq_disable_notify() in effect */
	uint16_t inflight;      /* chains taken VIRTQ_REQ_ASYNC, not yet
				 * given to virtq_complete() */
	uint16_t published;     /* used_idx as last stored in used->idx */

	/* host views of the rings, checked by virtq_enable() */
	struct vring_desc *desc;   /* size entries */
	struct vring_avail *avail; /* flags, idx, ring[size], used_event */
	struct vring_used *used;   /* flags, idx, ring[size], avail_event */
};

/* One popped chain. Make it per queue (it is ~16 KiB), never per request
 * on the stack of a deep call chain. iov[0 .. out_num) are the
 * device-readable buffers, iov[out_num .. out_num + in_num) the
 * device-writable ones; zero-length descriptors are skipped. */
struct virtq_req {
	uint16_t head;          /* pass to virtq_push() */
	unsigned out_num, in_num;
	uint32_t out_len, in_len; /* byte totals of each part */
	struct iovec iov[VIRTQ_MAX_SIZE];
};

/* Set q to its initial (reset) state: not ready, size = max_size, addresses
 * 0, indices 0, no errors. max_size must be a power of two in
 * [1, VIRTQ_MAX_SIZE]. */
void virtq_init(struct virtq *q, const struct guest_mem *gm,
		uint16_t max_size);

/* Back to the state virtq_init() left (keeps gm and max_size). */
void virtq_reset(struct virtq *q);

/* Check the driver's configuration and make the queue ready: size a power
 * of two <= max_size, desc 16-byte aligned, avail 2-byte aligned, used
 * 4-byte aligned, and all three rings (with the event words) wholly inside
 * guest RAM. 0, or -EINVAL (queue stays not ready). */
int virtq_enable(struct virtq *q);

/* Take the next available chain. Returns 1 and fills r, 0 if the ring is
 * empty (or the queue is not ready), -EINVAL if the chain or ring is
 * malformed: q->broken is then set, q->error says why, and every later call
 * returns -EINVAL until virtq_reset(). The caller should put the device in
 * DEVICE_NEEDS_RESET. */
int virtq_pop(struct virtq *q, struct virtq_req *r);

/* Give back the last popped chain (e.g. a receive buffer that was not
 * used); it will be returned again by the next virtq_pop(). */
void virtq_unpop(struct virtq *q);

/* True if the avail ring has entries we have not popped. */
bool virtq_has_avail(struct virtq *q);

/* Return chain `head` to the driver with `written` bytes written into its
 * writable part, and publish the new used index. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t written);

/* Return chain `head`, which a virtq_drain() callback took as
 * VIRTQ_REQ_ASYNC, with `written` bytes written. The used entry is
 * written but the used index is not yet published: the next
 * virtq_publish(), virtq_push() or virtq_need_notify() publishes it with
 * every other entry completed before, one index store for the batch. */
void virtq_complete(struct virtq *q, uint16_t head, uint32_t written);

/* Publish the used entries written by virtq_complete() (one release store
 * of used->idx). */
void virtq_publish(struct virtq *q);

/* Should the driver be interrupted now for the entries pushed since the
 * last call that returned true? Publishes what virtq_complete() wrote
 * first. Honours VRING_AVAIL_F_NO_INTERRUPT, or used_event when EVENT_IDX
 * was negotiated. */
bool virtq_need_notify(struct virtq *q);

/* Ask the driver not to kick us (we are busy polling the ring):
 * VRING_USED_F_NO_NOTIFY, or with EVENT_IDX simply not advancing
 * avail_event. */
void virtq_disable_notify(struct virtq *q);

/* Ask for kicks again (flag cleared / avail_event = last_avail_idx). Returns
 * true if buffers became available meanwhile: the caller must process them,
 * since the driver may not kick for those. */
bool virtq_enable_notify(struct virtq *q);

/* ---- draining a queue ---- */

/* What a virtq_drain() callback did with the chain it was given. */
enum virtq_req_ret {
	VIRTQ_REQ_DONE = 0,   /* push it with *written bytes; go on */
	VIRTQ_REQ_RETRY,      /* not taken (e.g. backend full): give the chain
			       * back (virtq_unpop) and stop */
	VIRTQ_REQ_ASYNC,      /* taken, in flight: the device completes it
			       * later itself (virtq_complete, then
			       * virtq_need_notify, then virtq_drain
			       * again); counts towards the budget */
	/* anything negative (an errno): the chain is malformed for the
	 * device and cannot be completed; it is not pushed, the drain stops
	 * and returns that value (the device needs a reset) */
};

/* How virtq_drain() ended. */
enum virtq_drain_ret {
	VIRTQ_DRAIN_EMPTY = 0,  /* ring empty, notifications back on */
	VIRTQ_DRAIN_STOPPED,    /* a callback said VIRTQ_REQ_RETRY */
	VIRTQ_DRAIN_BUDGET,     /* `budget` chains were pushed */
	VIRTQ_DRAIN_INFLIGHT,   /* ring empty, notifications left off: at
				 * least quiet_depth chains are in flight
				 * (VIRTQ_REQ_ASYNC), and the drain after
				 * their completion looks again */
	/* negative: an error (see virtq_drain) */
};

/* Handle one popped chain r: a virtq_req_ret. The callback writes the
 * device-writable part and sets *written (preset to 0). */
typedef int virtq_handle_fn(void *opaque, struct virtq_req *r,
			    uint32_t *written);
/* Interrupt the driver for the queue being drained. */
typedef void virtq_notify_fn(void *notify_arg);

/* Serve every available chain of q: disable notifications, pop each chain
 * into req (per queue: it is large) and hand it to handle(opaque, ...)
 * until the ring is empty, call notify(notify_arg) if virtq_need_notify()
 * says the driver wants an interrupt, re-enable notifications and go
 * round again if chains came in before that (the driver may not kick for
 * those). While at least q->quiet_depth (> 0) chains are in flight
 * notifications stay off instead (VIRTQ_DRAIN_INFLIGHT): the device calls
 * virtq_drain() again after each batch of completions. At most `budget` chains are
 * pushed or taken per call (0: no limit).
 *
 * Returns a virtq_drain_ret. STOPPED and BUDGET leave notifications off
 * (the driver is told of what was pushed): the caller resumes the drain
 * itself, when the backend has room again or from its event loop. A
 * negative value is an error: -EINVAL with q->broken set for a malformed
 * ring (q->error says why), or the callback's own error; the driver is
 * NOT interrupted then, and the caller puts the device in
 * DEVICE_NEEDS_RESET. */
int virtq_drain(struct virtq *q, struct virtq_req *req, unsigned budget,
		virtq_handle_fn *handle, void *opaque,
		virtq_notify_fn *notify, void *notify_arg);

/* Text for an error code (for log messages). */
const char *virtq_strerror(enum virtq_err e);

#endif
