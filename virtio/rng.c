/* SPDX-License-Identifier: MIT
 * rng.c - virtio entropy device (VIRTIO 1.x section 5.4): one queue; the
 * driver posts device-writable buffers and we fill them from the host's
 * getrandom(). No configuration space, no feature bits of its own.
 */
#include "virtio/rng.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <linux/virtio_ids.h>

#include "virtio/virtio_pci.h"
#include "virtio/virtqueue.h"
#include "vmm/log.h"
#include "vmm/vm.h"

/* Bytes handed out per request at most: Linux asks for small amounts; a
 * cap keeps one request from keeping the thread busy for long. */
#define RNG_MAX_PER_REQ 65536

struct virtio_rng {
	struct virtio_dev dev;
	struct virtq_req req;
};

/* Fill the writable part of r with random bytes; returns bytes written. */
static uint32_t fill(struct virtq_req *r)
{
	uint32_t done = 0;
	unsigned i;

	for (i = r->out_num; i < r->out_num + r->in_num; i++) {
		uint8_t *p = r->iov[i].iov_base;
		size_t left = r->iov[i].iov_len;

		while (left && done < RNG_MAX_PER_REQ) {
			size_t want = left;
			ssize_t n;

			if (want > RNG_MAX_PER_REQ - done)
				want = RNG_MAX_PER_REQ - done;
			n = getrandom(p, want, 0);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return done; /* give what we have */
			}
			p += n;
			left -= (size_t)n;
			done += (uint32_t)n;
		}
	}
	return done;
}

/* virtq_drain() callback: fill one buffer. */
static int rng_drain_req(void *opaque, struct virtq_req *r, uint32_t *written)
{
	struct virtio_dev *d = opaque;

	*written = fill(r);
	stat_inc(&d->vm->stats, STAT_VQ_REQUESTS);
	return VIRTQ_REQ_DONE;
}

static void rng_queue_notify(struct virtio_dev *d, unsigned qidx)
{
	struct virtio_rng *rng = d->opaque;

	/* Bounded like virtio-blk's runs (a buffer over the available ring
	 * makes the device's own writes post more work); the queue kicks
	 * itself for the rest. */
	if (virtio_pci_drain(d, qidx, &rng->req, 64, rng_drain_req, d) ==
	    VIRTQ_DRAIN_BUDGET)
		virtio_pci_kick_queue(d, qidx);
}

static void rng_cfg_read(struct virtio_dev *d, unsigned off, void *data,
			 unsigned len)
{
	(void)d;
	(void)off;
	memset(data, 0, len);
}

static void rng_free(struct virtio_dev *d)
{
	free(d->opaque);
}

static const struct virtio_dev_ops rng_ops = {
	.cfg_read = rng_cfg_read,
	.queue_notify = rng_queue_notify,
	.free = rng_free,
};

int virtio_rng_create(struct vm *vm, struct virtio_dev **out)
{
	struct virtio_dev_desc desc = {
		.name = "virtio-rng",
		.device_id = VIRTIO_ID_RNG,
		.class_code = 0x00ff00, /* unclassified, other */
		.nr_queues = 1,
		.queue_size = 64,
		.cfg_size = 0,
		.ops = &rng_ops,
	};
	struct virtio_rng *rng = calloc(1, sizeof(*rng));
	int ret;

	if (!rng)
		return -ENOMEM;
	ret = virtio_pci_init(&rng->dev, vm, &desc, rng);
	if (ret) {
		free(rng);
		return ret;
	}
	*out = &rng->dev;
	return 0;
}
