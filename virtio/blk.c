/* SPDX-License-Identifier: MIT
 * blk.c - virtio-blk (VIRTIO 1.x section 5.2 "Block Device") over a
 * struct blockdev (raw or qcow2 image).
 *
 * A request is one descriptor chain: a 16-byte header (type, ioprio,
 * sector) in the device-readable part, then data (readable for writes,
 * writable for reads), then one status byte: the last byte of the
 * writable part (5.2.6). The device must not assume any framing, so the
 * header and the discard segments are copied out of the iovecs and data
 * iovecs are sliced around them. Data going the wrong way (a write whose
 * data the device would have to take from device-writable buffers, a read
 * into device-readable ones: 2.7.5.1) fails with IOERR; a chain without a
 * writable byte for the status cannot be answered at all and puts the
 * device in DEVICE_NEEDS_RESET (2.1.2).
 *
 * Each queue has its own I/O thread (virtio_pci.c). With aio=io_uring
 * (blockdev.h's bdaio) a queue submits the reads, writes and flushes it
 * pops without waiting for them, each in one of its request slots, and
 * its thread reaps their completions when the context's eventfd fires:
 * used entries go out in completion order, published with one used-index
 * store and one interrupt per batch (when virtq_need_notify() says the
 * driver wants one), and the ring drained again. With quiet_depth set,
 * while that many requests are in flight the driver is asked not to kick
 * (2.7.10: VRING_USED_F_NO_NOTIFY, or avail_event left behind): the
 * drain after each batch of completions takes what it added, and kicks
 * are turned back on, with one more look at the ring, when fewer are in
 * flight. A request alone in flight is waited for at once on the queue's
 * thread. A full set of slots stops the drain until completions
 * free some. Before a queue is reset or its thread stops (queue_flush),
 * what is in flight is finished.
 * With aio=sync, or where io_uring cannot be set up, each request is
 * handled synchronously with the blockdev calls. Several queues
 * (VIRTIO_BLK_F_MQ) run in parallel on their own threads.
 */
#include "virtio/blk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "devices/disk/blockdev.h"
#include "virtio/virtio_pci.h"
#include "virtio/virtqueue.h"
#include "vmm/evloop.h"
#include "vmm/iov.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define SECTOR 512ULL
#define MAX_DISCARD_SEG 32
#define MAX_DISCARD_SECTORS 0x3fffffU  /* per segment: ~2 GiB */
#define SIZE_MAX_SEG (4U << 20)        /* largest segment we announce */

/* Requests a queue keeps in flight with asynchronous I/O. */
#define BLK_AIO_SLOTS 128

struct blk_queue;

/* One asynchronous request. A chain has at most the queue size of
 * descriptors, so its data fits in data[]. */
struct blk_slot {
	struct blk_queue *bq;
	uint16_t head;                    /* for virtq_push */
	uint8_t *status;                  /* the status byte (checked) */
	uint32_t used;                    /* used length if it succeeds */
	struct iovec data[VIRTIO_BLK_QUEUE_SIZE];
};

struct blk_queue {
	struct virtio_blk *b;
	unsigned qidx;
	struct virtq_req req;             /* the chain being handled */
	struct iovec data[VIRTQ_MAX_SIZE];/* its data part, sliced */
	struct bdaio *aio;                /* NULL: synchronous */
	unsigned completed;               /* requests done since blk_serve
					   * or blk_aio_ready last looked */
	unsigned nfree;
	struct blk_slot *free[BLK_AIO_SLOTS];
	struct blk_slot *slots;           /* BLK_AIO_SLOTS of them */
};

struct virtio_blk {
	struct virtio_dev dev;
	struct blockdev *bd;
	int aio_err;                      /* why io_uring is not used, or 0 */
	bool lone_async;                  /* no inline wait (blk_serve) */
	uint64_t sectors;                 /* capacity in 512-byte sectors */
	char serial[VIRTIO_BLK_ID_BYTES];
	unsigned nr_queues;
	struct virtio_blk_config cfg;     /* little-endian, as the guest sees */
	struct blk_queue *q[VIRTIO_BLK_MAX_QUEUES];
};

/* ---- requests ---- */

/* [sector, sector + bytes/512) inside the disk? Overflow-safe. */
static bool range_ok(struct virtio_blk *b, uint64_t sector, uint64_t bytes)
{
	return sector <= b->sectors && bytes / SECTOR <= b->sectors - sector;
}

/* do_rw's and handle_req's answer for a request now in flight. */
#define BLK_S_INFLIGHT 0xff

static uint8_t do_rw(struct virtio_blk *b, struct blk_queue *bq,
		     struct blk_slot *slot, uint64_t sector, bool write,
		     uint32_t *written)
{
	struct virtq_req *r = &bq->req;
	struct iovec *data = slot ? slot->data : bq->data;
	unsigned max = slot ? VIRTIO_BLK_QUEUE_SIZE : VIRTQ_MAX_SIZE;
	uint64_t len;
	int n, ret;

	/* The data must be where its direction says: a write's in the
	 * readable part (so the status is the only writable byte), a read's
	 * in the writable part (so the header is all that is readable). A
	 * device-writable buffer is not a write's source (the device SHOULD
	 * NOT read it) and a device-readable one is never written (MUST NOT,
	 * 2.7.5.1): a driver error, nothing transferred. */
	if (write ? r->in_len != 1
		  : r->out_len != sizeof(struct virtio_blk_outhdr))
		return VIRTIO_BLK_S_IOERR;
	/* data[] is as long as req.iov[] and the virtqueue layer summed
	 * these lengths from the same iovecs: the slice fails only if that
	 * ever stops being true. */
	if (write) {
		len = r->out_len - sizeof(struct virtio_blk_outhdr);
		n = iov_slice(r->iov, r->out_num,
			      sizeof(struct virtio_blk_outhdr), len, data, max);
	} else {
		/* everything writable except the status byte */
		len = r->in_len - 1;
		n = iov_slice(r->iov + r->out_num, r->in_num, 0, len, data,
			      max);
	}
	if (n < 0)
		return VIRTIO_BLK_S_IOERR;
	/* 5.2.6.1: data length a multiple of 512, inside the disk */
	if (len % SECTOR || !range_ok(b, sector, len))
		return VIRTIO_BLK_S_IOERR;
	if (write && b->bd->readonly)
		return VIRTIO_BLK_S_IOERR;
	if (len == 0)
		return VIRTIO_BLK_S_OK;
	if (slot) {
		/* the iovecs were built by the checked accessors above */
		ret = bdaio_rw(bq->aio, write, data, n, sector * SECTOR, slot);
		if (ret == 0) {
			slot->used = *written + (write ? 0 : (uint32_t)len);
			return BLK_S_INFLIGHT;
		}
		if (ret < 0)
			return VIRTIO_BLK_S_IOERR;
		if (!write)
			*written += (uint32_t)len;
		return VIRTIO_BLK_S_OK;
	}
	if (write)
		ret = blockdev_pwritev(b->bd, bq->data, n, sector * SECTOR);
	else
		ret = blockdev_preadv(b->bd, bq->data, n, sector * SECTOR);
	if (ret)
		return VIRTIO_BLK_S_IOERR;
	if (!write)
		*written += (uint32_t)len;
	return VIRTIO_BLK_S_OK;
}

/* DISCARD and WRITE_ZEROES: an array of 16-byte segments after the header
 * (5.2.6, struct virtio_blk_discard_write_zeroes). */
static uint8_t do_segments(struct virtio_blk *b, struct virtq_req *r,
			   uint32_t type)
{
	uint64_t len = r->out_len - sizeof(struct virtio_blk_outhdr);
	uint64_t nseg = len / sizeof(struct virtio_blk_discard_write_zeroes);
	bool discard = type == VIRTIO_BLK_T_DISCARD;
	uint64_t i;

	if (len == 0 || len % sizeof(struct virtio_blk_discard_write_zeroes) ||
	    nseg > MAX_DISCARD_SEG)
		return VIRTIO_BLK_S_UNSUPP;
	if (b->bd->readonly)
		return VIRTIO_BLK_S_IOERR;
	for (i = 0; i < nseg; i++) {
		struct virtio_blk_discard_write_zeroes s;
		uint64_t bytes;
		int ret;

		if (iov_to_buf(r->iov, r->out_num,
			       sizeof(struct virtio_blk_outhdr) + i * sizeof(s),
			       &s, sizeof(s)) != sizeof(s))
			return VIRTIO_BLK_S_IOERR;
		/* 5.2.6.2: unknown flags, or UNMAP on a discard: UNSUPP */
		if (s.flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP ||
		    (discard && s.flags))
			return VIRTIO_BLK_S_UNSUPP;
		if (s.num_sectors > MAX_DISCARD_SECTORS)
			return VIRTIO_BLK_S_IOERR;
		bytes = (uint64_t)s.num_sectors * SECTOR;
		if (!range_ok(b, s.sector, bytes))
			return VIRTIO_BLK_S_IOERR;
		if (bytes == 0)
			continue;
		ret = discard ? blockdev_discard(b->bd, s.sector * SECTOR, bytes)
			      : blockdev_write_zeroes(
					b->bd, s.sector * SECTOR, bytes,
					s.flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
		if (ret)
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/* Handle one popped chain: *used = the used length (bytes written into
 * the writable part, status byte included). False if the chain has no
 * writable byte, i.e. no status byte (5.2.6): it cannot be completed.
 * With a slot (asynchronous I/O), *inflight says the request went to the
 * backend: the slot holds what completing it needs. */
static bool handle_req(struct virtio_blk *b, struct blk_queue *bq,
		       struct blk_slot *slot, uint32_t *used, bool *inflight)
{
	struct virtq_req *r = &bq->req;
	struct virtio_blk_outhdr h;
	struct iovec *last;
	uint8_t *status, st;
	uint32_t written = 1;

	/* The status byte is the last byte of the last writable buffer
	 * (zero-length descriptors are not in the list). */
	if (r->in_num == 0)
		return false;
	last = &r->iov[r->out_num + r->in_num - 1];
	status = (uint8_t *)last->iov_base + last->iov_len - 1;

	if (iov_to_buf(r->iov, r->out_num, 0, &h, sizeof(h)) != sizeof(h)) {
		st = VIRTIO_BLK_S_IOERR;
		goto done;
	}
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
		st = do_rw(b, bq, slot, h.sector, false, &written);
		break;
	case VIRTIO_BLK_T_OUT:
		st = do_rw(b, bq, slot, h.sector, true, &written);
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (slot) {
			/* after the writes in flight on this queue */
			int ret = bdaio_flush(bq->aio, slot);

			st = ret == 0  ? BLK_S_INFLIGHT :
			     ret == 1  ? VIRTIO_BLK_S_OK :
					 VIRTIO_BLK_S_IOERR;
			slot->used = written;
			break;
		}
		st = blockdev_flush(b->bd) ? VIRTIO_BLK_S_IOERR
					   : VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_GET_ID: {
		/* up to 20 bytes; no NUL if the serial fills them all */
		size_t room = r->in_len - 1;
		size_t n = room < sizeof(b->serial) ? room : sizeof(b->serial);

		written += iov_from_buf(r->iov + r->out_num, r->in_num, 0,
					b->serial, n);
		st = VIRTIO_BLK_S_OK;
		break;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		st = do_segments(b, r, h.type);
		break;
	default:
		st = VIRTIO_BLK_S_UNSUPP;
		break;
	}
done:
	if (slot) {
		slot->status = status;
		slot->head = r->head;
	}
	*inflight = st == BLK_S_INFLIGHT;
	if (*inflight)
		return true; /* the caller keeps the slot */
	*status = st;
	*used = written;
	return true;
}

/* Requests served per run of a queue. Without a bound a driver could keep
 * the I/O thread in one run for ever: a read whose data lands on the
 * available ring can advance avail->idx itself, with disk contents the
 * guest wrote before. */
#define BLK_BUDGET 64

/* The queue being drained, for blk_drain_req(). */
struct blk_drain {
	struct virtio_blk *b;
	struct blk_queue *bq;
	unsigned qidx;
	unsigned taken;   /* requests taken in this blk_serve() run */
};

/* virtq_drain() callback: one request (its chain is in bq->req). */
static int blk_drain_req(void *opaque, struct virtq_req *r, uint32_t *used)
{
	struct blk_drain *x = opaque;
	struct blk_queue *bq = x->bq;
	struct blk_slot *slot = NULL;
	bool inflight = false;

	(void)r;
	if (bq->aio) {
		/* no slot, or a flush waits for the writes before it (later
		 * requests wait for it) */
		if (!bq->nfree || bdaio_blocked(bq->aio))
			return VIRTQ_REQ_RETRY; /* a completion drains again */
		slot = bq->free[--bq->nfree];
	}
	if (!handle_req(x->b, bq, slot, used, &inflight)) {
		if (slot)
			bq->free[bq->nfree++] = slot;
		/* the driver broke the request format: stop here, the chain
		 * stays unused */
		pr_warn_limited(&x->b->dev.dev.warn, "virtio-blk",
				"virtio-blk: queue %u: request without a status byte",
				x->qidx);
		return -EINVAL;
	}
	stat_inc(&x->b->dev.vm->stats, STAT_VQ_REQUESTS);
	x->taken++;
	if (inflight)
		return VIRTQ_REQ_ASYNC;
	if (slot)
		bq->free[bq->nfree++] = slot;
	return VIRTQ_REQ_DONE;
}

/* ---- serving a queue ---- */

/* Publish the used entries completed so far and interrupt the driver once
 * for them if it wants that. */
static void blk_announce(struct blk_queue *bq)
{
	struct virtio_dev *d = &bq->b->dev;

	if (virtq_need_notify(&d->vqs[bq->qidx]))
		virtio_pci_notify_queue(d, bq->qidx);
}

/* Serve queue bq on its I/O thread: take what the ring holds, hand the
 * batch to the kernel, announce what completed, and go round again while
 * completions come back meanwhile. With quiet_depth requests in flight
 * the driver does not kick (virtq_drain leaves notifications off), so
 * every batch of completions is followed by a drain: it takes what the
 * driver added without kicking, and with fewer in flight turns kicks back
 * on and looks at the ring once more. A request alone in flight is
 * waited for here (bdaio_wait: one system call to submit and wait, no
 * eventfd wakeup), unless the device was made with lone_async. */
static void blk_serve(struct blk_queue *bq)
{
	struct virtio_blk *b = bq->b;
	struct virtio_dev *d = &b->dev;
	struct blk_drain x = { b, bq, bq->qidx, 0 };
	int ret;

	for (;;) {
		unsigned before = bq->aio ? bdaio_inflight(bq->aio) : 0;

		/* 3.1.1: no buffers are used before DRIVER_OK, nor while
		 * bus mastering is off (a completion may bring us here
		 * then); the kicks replayed when that ends drain again */
		if (!virtio_pci_running(d) || !d->vqs[bq->qidx].ready) {
			if (bq->aio)
				blk_announce(bq);
			return;
		}
		/* the budget is for the whole run, not each round: a
		 * driver that adds a request whenever one completes would
		 * otherwise keep this thread here for ever. A round that
		 * goes on did not use up its budget, so what is left is
		 * never 0 (no limit). */
		ret = virtio_pci_drain(d, bq->qidx, &bq->req,
				       BLK_BUDGET - x.taken, blk_drain_req, &x);
		if (!bq->aio)
			break;
		bq->completed = 0;
		if ((ret == VIRTQ_DRAIN_EMPTY || ret == VIRTQ_DRAIN_INFLIGHT) &&
		    before == 0 && bdaio_inflight(bq->aio) == 1 &&
		    !b->lone_async)
			bdaio_wait(bq->aio);
		else
			bdaio_submit(bq->aio); /* the whole run at once */
		/* what completed in the wait, or because a submission the
		 * kernel refused (EBUSY: completions waiting) reaped some:
		 * their interrupt is due now, and the ring is looked at
		 * again for what the driver added without a kick */
		blk_announce(bq);
		if (ret < 0 || ret == VIRTQ_DRAIN_BUDGET || !bq->completed)
			break;
	}
	/* At most BLK_BUDGET requests a run; the queue kicks itself for the
	 * rest, so a reset or stop queued for this thread gets in between. */
	if (ret == VIRTQ_DRAIN_BUDGET)
		virtio_pci_kick_queue(d, bq->qidx);
}

static void blk_queue_notify(struct virtio_dev *d, unsigned qidx)
{
	struct virtio_blk *b = d->opaque;

	blk_serve(b->q[qidx]);
}

/* ---- asynchronous completions ---- */

/* bdaio's done callback: the request in slot tag finished. The status
 * byte and the used entry are written now (completion order); the used
 * index and the interrupt are for the whole batch (blk_announce). */
static void blk_aio_done(void *opaque, void *tag, int ret)
{
	struct blk_queue *bq = opaque;
	struct blk_slot *slot = tag;
	struct virtq *q = &bq->b->dev.vqs[bq->qidx];

	*slot->status = ret ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	virtq_complete(q, slot->head, ret ? 1 : slot->used);
	bq->free[bq->nfree++] = slot;
	bq->completed++;
}

/* The context's eventfd fired (the queue's I/O thread): one batch of
 * completions, one interrupt, and a drain for what the driver added
 * meanwhile (it did not kick: requests were in flight). The eventfd is
 * watched edge-triggered: every completion the kernel posts signals it
 * anew, so its counter need not be read back to zero (one system call a
 * batch less). */
static void blk_aio_ready(void *opaque, uint32_t events)
{
	struct blk_queue *bq = opaque;

	(void)events;
	/* even when nothing is left to reap here: a submission may have
	 * taken the completions this eventfd announced (bdaio_submit) */
	bq->completed = 0;
	bdaio_reap(bq->aio);
	if (bq->completed)
		blk_serve(bq); /* announces them too */
}

/* The queue's I/O thread polls this before it sleeps (evloop_set_poll)
 * while requests are in flight: completions the kernel posted (reaping
 * them enters the kernel only when it flags task work to run, otherwise
 * it reads the shared CQ ring) and requests the driver added without
 * kicking (it does not while requests are in flight). 1 when it served
 * something, 0 when nothing yet, -1 with nothing in flight (sleep). */
static int blk_poll(void *opaque)
{
	struct blk_queue *bq = opaque;
	struct virtio_dev *d = &bq->b->dev;
	struct virtq *q = &d->vqs[bq->qidx];
	uint16_t before;

	if (!bdaio_inflight(bq->aio))
		return -1;
	bq->completed = 0;
	bdaio_reap(bq->aio);
	if (bq->completed) {
		blk_serve(bq); /* announces them, takes what was added */
		return 1;
	}
	if (!q->ready || !virtio_pci_running(d) || !virtq_has_avail(q))
		return 0;
	before = q->last_avail_idx;
	blk_serve(bq);
	return q->last_avail_idx != before;
}

/* Before the queue is reset or its thread stops (virtio_pci.h): every
 * request in flight completes into the ring it was taken from, and
 * nothing new is taken. */
static void blk_queue_flush(struct virtio_dev *d, unsigned qidx)
{
	struct virtio_blk *b = d->opaque;
	struct blk_queue *bq = b->q[qidx];

	if (!bq->aio || !bdaio_inflight(bq->aio))
		return;
	bdaio_wait(bq->aio);
	blk_announce(bq);
}

int virtio_blk_aio_error(struct virtio_dev *d)
{
	return ((struct virtio_blk *)d->opaque)->aio_err;
}

static void blk_cfg_read(struct virtio_dev *d, unsigned off, void *data,
			 unsigned len)
{
	struct virtio_blk *b = d->opaque;

	if (off + len <= sizeof(b->cfg))
		memcpy(data, (uint8_t *)&b->cfg + off, len);
	else
		memset(data, 0, len);
}

static void free_queue(struct blk_queue *bq)
{
	if (!bq)
		return;
	bdaio_free(bq->aio);
	free(bq->slots);
	free(bq);
}

/* A queue, with its io_uring context when aio asks for one (the fallback
 * is synchronous I/O: b->aio_err says why). The context's eventfd is
 * watched by the queue's I/O thread. */
static int new_queue(struct virtio_blk *b, unsigned qidx,
		     enum virtio_blk_aio aio, struct blk_queue **out)
{
	struct blk_queue *bq = calloc(1, sizeof(*bq));
	int ret;

	if (!bq)
		return -ENOMEM;
	bq->b = b;
	bq->qidx = qidx;
	*out = bq;
	if (aio == VIRTIO_BLK_AIO_SYNC || b->aio_err)
		return 0;
	bq->slots = calloc(BLK_AIO_SLOTS, sizeof(*bq->slots));
	if (!bq->slots)
		return -ENOMEM;
	for (unsigned i = 0; i < BLK_AIO_SLOTS; i++) {
		bq->slots[i].bq = bq;
		bq->free[bq->nfree++] = &bq->slots[i];
	}
	ret = bdaio_new(b->bd, BLK_AIO_SLOTS, blk_aio_done, bq, &bq->aio);
	if (ret) {
		b->aio_err = ret; /* synchronous I/O on every queue */
		free(bq->slots);
		bq->slots = NULL;
		bq->nfree = 0;
	}
	return 0;
}

/* Watch each queue's completions on its I/O thread (edge-triggered:
 * blk_aio_ready), which polls for up to poll_us before it sleeps. */
static int watch_queues(struct virtio_blk *b, unsigned poll_us)
{
	for (unsigned i = 0; i < b->nr_queues; i++) {
		struct blk_queue *bq = b->q[i];
		struct evloop *l = virtio_pci_queue_loop(&b->dev, i);
		int ret;

		if (!bq->aio)
			continue;
		evloop_set_poll(l, blk_poll, bq,
				poll_us > 1000000 ? 1000000000u : poll_us * 1000u);
		ret = evloop_add(l,
				 bdaio_fd(bq->aio), EPOLLIN | EPOLLET,
				 blk_aio_ready, bq);
		if (ret)
			return ret;
	}
	return 0;
}

/* The device's free step (virtio_pci.h): close the image, free. */
static void blk_free(struct virtio_dev *d)
{
	struct virtio_blk *b = d->opaque;

	for (unsigned i = 0; i < b->nr_queues; i++)
		free_queue(b->q[i]);
	blockdev_close(b->bd);
	free(b);
}

static const struct virtio_dev_ops blk_ops = {
	.cfg_read = blk_cfg_read,
	.queue_notify = blk_queue_notify,
	.queue_flush = blk_queue_flush,
	.free = blk_free,
};

static void fill_config(struct virtio_blk *b, uint64_t *features)
{
	struct virtio_blk_config *c = &b->cfg;
	uint32_t bsz = 512;
	uint64_t f;

	if (b->bd->align > 512 && b->bd->align <= 4096 &&
	    !(b->bd->align & (b->bd->align - 1)))
		bsz = b->bd->align; /* O_DIRECT on a 4K-sector host disk */

	memset(c, 0, sizeof(*c));
	c->capacity = b->sectors;
	c->size_max = SIZE_MAX_SEG;
	c->seg_max = VIRTIO_BLK_QUEUE_SIZE - 2; /* + header + status */
	c->blk_size = bsz;
	c->physical_block_exp = 0;
	c->alignment_offset = 0;
	c->min_io_size = 1;
	c->opt_io_size = 0;
	c->num_queues = b->nr_queues;
	c->max_discard_sectors = MAX_DISCARD_SECTORS;
	c->max_discard_seg = MAX_DISCARD_SEG;
	c->discard_sector_alignment = 4096 / 512;
	c->max_write_zeroes_sectors = MAX_DISCARD_SECTORS;
	c->max_write_zeroes_seg = MAX_DISCARD_SEG;
	c->write_zeroes_may_unmap = 1;

	f = (1ULL << VIRTIO_BLK_F_SIZE_MAX) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |
	    (1ULL << VIRTIO_BLK_F_BLK_SIZE) | (1ULL << VIRTIO_BLK_F_FLUSH) |
	    (1ULL << VIRTIO_BLK_F_TOPOLOGY);
	if (b->bd->readonly)
		f |= 1ULL << VIRTIO_BLK_F_RO;
	else
		f |= (1ULL << VIRTIO_BLK_F_DISCARD) |
		     (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	if (b->nr_queues > 1)
		f |= 1ULL << VIRTIO_BLK_F_MQ;
	*features = f;
}

int virtio_blk_create(struct vm *vm, const struct virtio_blk_cfg *cfg,
		      struct virtio_dev **out)
{
	struct virtio_dev_desc desc = {
		.name = "virtio-blk",
		.device_id = VIRTIO_ID_BLOCK,
		.class_code = 0x018000, /* mass storage, other */
		.nr_queues = cfg->nr_queues,
		.queue_size = VIRTIO_BLK_QUEUE_SIZE,
		.queues_per_thread = 1,
		.cfg_size = sizeof(struct virtio_blk_config),
		.ops = &blk_ops,
	};
	struct blockdev *bd = cfg->bd;
	struct virtio_blk *b;
	unsigned i, nr_queues = cfg->nr_queues;
	int ret;

	if (!bd || nr_queues == 0)
		return -EINVAL;
	if (nr_queues > VIRTIO_BLK_MAX_QUEUES) /* e.g. one per vCPU */
		nr_queues = VIRTIO_BLK_MAX_QUEUES;
	desc.nr_queues = nr_queues;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->bd = bd;
	b->sectors = bd->size / SECTOR;
	b->nr_queues = nr_queues;
	b->lone_async = cfg->lone_async;
	if (cfg->serial) /* not NUL-terminated when it is 20 bytes long */
		memcpy(b->serial, cfg->serial,
		       strnlen(cfg->serial, sizeof(b->serial)));
	fill_config(b, &desc.features);
	for (i = 0; i < nr_queues; i++) {
		ret = new_queue(b, i, cfg->aio, &b->q[i]);
		if (ret)
			goto fail;
	}
	if (b->aio_err) /* one queue could not: none does */
		for (i = 0; i < nr_queues; i++) {
			bdaio_free(b->q[i]->aio);
			b->q[i]->aio = NULL;
		}
	ret = virtio_pci_init(&b->dev, vm, &desc, b);
	if (ret)
		goto fail;
	for (i = 0; i < nr_queues; i++) /* kept across queue resets */
		b->dev.vqs[i].quiet_depth = !b->q[i]->aio ? 0 :
			cfg->quiet_depth == 0 ? VIRTIO_BLK_QUIET_DEPTH :
			cfg->quiet_depth > UINT16_MAX ? UINT16_MAX :
			(uint16_t)cfg->quiet_depth;
	ret = watch_queues(b, cfg->poll_us);
	if (ret) {
		virtio_pci_destroy(&b->dev);
		goto fail;
	}
	*out = &b->dev;
	return 0;
fail:
	for (i = 0; i < nr_queues; i++)
		free_queue(b->q[i]);
	free(b);
	return ret;
}
