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
 * Each queue has its own I/O thread (virtio_pci.c) and handles its
 * requests synchronously with the blockdev calls; parallelism comes from
 * several queues (VIRTIO_BLK_F_MQ).
 */
#include "virtio/blk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "devices/disk/blockdev.h"
#include "virtio/virtio_pci.h"
#include "virtio/virtqueue.h"
#include "vmm/iov.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define SECTOR 512ULL
#define MAX_DISCARD_SEG 32
#define MAX_DISCARD_SECTORS 0x3fffffU  /* per segment: ~2 GiB */
#define SIZE_MAX_SEG (4U << 20)        /* largest segment we announce */

struct blk_queue {
	struct virtq_req req;             /* the chain being handled */
	struct iovec data[VIRTQ_MAX_SIZE];/* its data part, sliced */
};

struct virtio_blk {
	struct virtio_dev dev;
	struct blockdev *bd;
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

static uint8_t do_rw(struct virtio_blk *b, struct blk_queue *bq,
		     uint64_t sector, bool write, uint32_t *written)
{
	struct virtq_req *r = &bq->req;
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
			      sizeof(struct virtio_blk_outhdr), len, bq->data,
			      VIRTQ_MAX_SIZE);
	} else {
		/* everything writable except the status byte */
		len = r->in_len - 1;
		n = iov_slice(r->iov + r->out_num, r->in_num, 0, len,
			      bq->data, VIRTQ_MAX_SIZE);
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
 * writable byte, i.e. no status byte (5.2.6): it cannot be completed. */
static bool handle_req(struct virtio_blk *b, struct blk_queue *bq,
		       uint32_t *used)
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
		st = do_rw(b, bq, h.sector, false, &written);
		break;
	case VIRTIO_BLK_T_OUT:
		st = do_rw(b, bq, h.sector, true, &written);
		break;
	case VIRTIO_BLK_T_FLUSH:
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
};

/* virtq_drain() callback: one request (its chain is in bq->req). */
static int blk_drain_req(void *opaque, struct virtq_req *r, uint32_t *used)
{
	struct blk_drain *x = opaque;

	(void)r;
	if (!handle_req(x->b, x->bq, used)) {
		/* the driver broke the request format: stop here, the chain
		 * stays unused */
		pr_warn_limited(&x->b->dev.dev.warn, "virtio-blk",
				"virtio-blk: queue %u: request without a status byte",
				x->qidx);
		return -EINVAL;
	}
	stat_inc(&x->b->dev.vm->stats, STAT_VQ_REQUESTS);
	return VIRTQ_REQ_DONE;
}

static void blk_queue_notify(struct virtio_dev *d, unsigned qidx)
{
	struct virtio_blk *b = d->opaque;
	struct blk_drain x = { b, b->q[qidx], qidx };

	/* At most BLK_BUDGET requests a run; the queue kicks itself for the
	 * rest, so a reset or stop queued for this thread gets in between. */
	if (virtio_pci_drain(d, qidx, &x.bq->req, BLK_BUDGET, blk_drain_req,
			     &x) == VIRTQ_DRAIN_BUDGET)
		virtio_pci_kick_queue(d, qidx);
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

/* The device's free step (virtio_pci.h): close the image, free. */
static void blk_free(struct virtio_dev *d)
{
	struct virtio_blk *b = d->opaque;

	blockdev_close(b->bd);
	for (unsigned i = 0; i < b->nr_queues; i++)
		free(b->q[i]);
	free(b);
}

static const struct virtio_dev_ops blk_ops = {
	.cfg_read = blk_cfg_read,
	.queue_notify = blk_queue_notify,
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
	if (cfg->serial) /* not NUL-terminated when it is 20 bytes long */
		memcpy(b->serial, cfg->serial,
		       strnlen(cfg->serial, sizeof(b->serial)));
	fill_config(b, &desc.features);
	for (i = 0; i < nr_queues; i++) {
		b->q[i] = calloc(1, sizeof(*b->q[i]));
		if (!b->q[i]) {
			ret = -ENOMEM;
			goto fail;
		}
	}
	ret = virtio_pci_init(&b->dev, vm, &desc, b);
	if (ret)
		goto fail;
	*out = &b->dev;
	return 0;
fail:
	for (i = 0; i < nr_queues; i++)
		free(b->q[i]);
	free(b);
	return ret;
}
