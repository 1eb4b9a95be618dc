/* SPDX-License-Identifier: MIT
 * fuzz_virtqueue - libFuzzer target for the split-virtqueue walker
 * (virtio/virtqueue.c) on a fake guest memory of 64 KiB. The input is
 *   size:u8 flags:u8 desc:u16 avail:u16 used:u16 then the RAM image,
 * size being log2 of the queue size (modulo 11), flags bit 0 EVENT_IDX,
 * bit 1 INDIRECT_DESC, bits 2-7 a choice per chain (take it, give it back,
 * refuse it). The queue is enabled on the driver's ring addresses and
 * drained a few times, the driver's avail index moving on in between;
 * every byte of every buffer handed out is read or written (ASan checks
 * they lie in RAM).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/virtqueue.h"

#define RAM_SIZE (64 << 10)
#define HDR 8

static volatile uint8_t sink; /* keeps the reads of the buffers */

struct run {
	uint8_t choice;
	unsigned calls;
};

static int handle(void *opaque, struct virtq_req *r, uint32_t *written)
{
	struct run *s = opaque;
	unsigned i, c = (s->choice >> (2 * (s->calls++ % 3))) & 3;

	for (i = 0; i < r->out_num; i++)
		for (size_t k = 0; k < r->iov[i].iov_len; k++)
			sink += ((uint8_t *)r->iov[i].iov_base)[k];
	for (; i < r->out_num + r->in_num; i++)
		memset(r->iov[i].iov_base, 0xa5, r->iov[i].iov_len);
	*written = c == 3 ? r->in_len + 1 : r->in_len; /* 3: overclaim */
	return c == 1 ? VIRTQ_REQ_RETRY : c == 2 ? -EIO : VIRTQ_REQ_DONE;
}

static void notify(void *arg)
{
	(*(unsigned *)arg)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static struct guest_mem gm;
	static struct virtq q;
	static struct virtq_req req;
	struct run s = { 0 };
	unsigned irqs = 0;

	if (!ram) {
		ram = calloc(1, RAM_SIZE);
		if (!ram || gm_add_region(&gm, 0, RAM_SIZE, ram))
			abort();
	}
	if (size < HDR)
		return 0;
	memset(ram, 0, RAM_SIZE);
	memcpy(ram, data + HDR, size - HDR < RAM_SIZE ? size - HDR : RAM_SIZE);
	virtq_init(&q, &gm, VIRTQ_MAX_SIZE);
	q.size = (uint16_t)(1u << (data[0] % 11));
	q.event_idx = data[1] & 1;
	q.indirect = data[1] & 2;
	s.choice = data[1] >> 2;
	q.desc_gpa = data[2] | data[3] << 8;
	q.avail_gpa = data[4] | data[5] << 8;
	q.used_gpa = data[6] | data[7] << 8;
	if (virtq_enable(&q))
		return 0;
	for (unsigned round = 0; round < 4; round++) {
		if (virtq_drain(&q, &req, 64, handle, &s, notify, &irqs) < 0)
			break;
		/* the driver makes more chains available (same descriptors) */
		q.avail->idx = (uint16_t)(q.avail->idx + round + 1);
	}
	if (virtq_pop(&q, &req) == 1)
		virtq_unpop(&q);
	virtq_has_avail(&q);
	return 0;
}
