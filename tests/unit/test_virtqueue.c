/* SPDX-License-Identifier: MIT
 * Unit tests: the split virtqueue layer (virtio/virtqueue.c) against a fake
 * guest memory, with valid chains, indirect tables, notification
 * suppression and every malformed ring we could think of. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "virtio/virtqueue.h"
#include "vmm/guest_mem.h"

/* Guest RAM: 3 GiB of address space at gpa 0 (so that 32-bit length
 * overflows can be built from real RAM addresses); only the first MiB is
 * accessible, the rest is PROT_NONE and is never touched. */
#define RAM_SIZE (3ULL << 30)
#define RAM_RW (1ULL << 20)
#define QSZ 8
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define BUF 0x10000

static uint8_t *ram;
static struct guest_mem gm;
static struct virtq q;
static struct virtq_req *req;

static struct vring_avail *avail(void)
{
	return (struct vring_avail *)(ram + AVAIL);
}
static struct vring_used *used(void)
{
	return (struct vring_used *)(ram + USED);
}

static void set_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	struct vring_desc d = { .addr = addr, .len = len, .flags = flags,
				.next = next };
	/* memcpy: the unaligned indirect table test */
	memcpy(ram + table + 16 * i, &d, sizeof(d));
}

/* Publish head in the next avail slot. */
static void offer(uint16_t head)
{
	struct vring_avail *a = avail();
	a->ring[a->idx % QSZ] = head;
	a->idx++;
}

static int setup(void **state)
{
	(void)state;
	if (!ram) {
		ram = mmap(NULL, RAM_SIZE, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		assert_true(ram != MAP_FAILED);
		assert_int_equal(mprotect(ram, RAM_RW, PROT_READ | PROT_WRITE), 0);
		memset(&gm, 0, sizeof(gm));
		assert_int_equal(gm_add_region(&gm, 0, RAM_SIZE, ram), 0);
		req = malloc(sizeof(*req));
		assert_non_null(req);
	}
	memset(ram, 0, RAM_RW);
	virtq_init(&q, &gm, 16);
	q.size = QSZ;
	q.desc_gpa = DESC;
	q.avail_gpa = AVAIL;
	q.used_gpa = USED;
	q.indirect = true;
	assert_int_equal(virtq_enable(&q), 0);
	return 0;
}

static void expect_error(enum virtq_err e)
{
	assert_int_equal(virtq_pop(&q, req), -EINVAL);
	assert_true(q.broken);
	assert_int_equal(q.error, e);
	/* stays broken until reset */
	assert_int_equal(virtq_pop(&q, req), -EINVAL);
}

/* ---- valid chains ---- */

static void test_empty(void **state)
{
	(void)state;
	assert_int_equal(virtq_pop(&q, req), 0);
	assert_false(virtq_has_avail(&q));
}

static void test_simple_chain(void **state)
{
	(void)state;
	/* header (readable), data (writable), status (writable) */
	set_desc(DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 3);
	set_desc(DESC, 3, BUF + 0x1000, 4096,
		 VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 5);
	set_desc(DESC, 5, BUF + 0x3000, 1, VRING_DESC_F_WRITE, 0);
	offer(0);
	assert_true(virtq_has_avail(&q));
	assert_int_equal(virtq_pop(&q, req), 1);
	assert_int_equal(req->head, 0);
	assert_int_equal(req->out_num, 1);
	assert_int_equal(req->in_num, 2);
	assert_int_equal(req->out_len, 16);
	assert_int_equal(req->in_len, 4097);
	assert_ptr_equal(req->iov[0].iov_base, ram + BUF);
	assert_ptr_equal(req->iov[1].iov_base, ram + BUF + 0x1000);
	assert_int_equal(req->iov[1].iov_len, 4096);
	assert_ptr_equal(req->iov[2].iov_base, ram + BUF + 0x3000);
	assert_int_equal(virtq_pop(&q, req), 0);

	virtq_push(&q, req->head, 4097);
	assert_int_equal(used()->idx, 1);
	assert_int_equal(used()->ring[0].id, 0);
	assert_int_equal(used()->ring[0].len, 4097);
}

static void test_zero_length_skipped(void **state)
{
	(void)state;
	set_desc(DESC, 0, BUF, 0, VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF, 8, VRING_DESC_F_NEXT, 2);
	/* a zero-length descriptor may even point outside RAM: unused */
	set_desc(DESC, 2, 0xfffffffffff00000ULL, 0, VRING_DESC_F_WRITE, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, req), 1);
	assert_int_equal(req->out_num, 1);
	assert_int_equal(req->in_num, 0);
	assert_int_equal(req->out_len, 8);
}

static void test_indirect(void **state)
{
	(void)state;
	uint64_t table = 0x8000;
	set_desc(table, 0, BUF, 16, VRING_DESC_F_NEXT, 2);
	set_desc(table, 2, BUF + 0x100, 512, VRING_DESC_F_NEXT, 1);
	set_desc(table, 1, BUF + 0x400, 1, VRING_DESC_F_WRITE, 0);
	set_desc(DESC, 4, table, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(4);
	assert_int_equal(virtq_pop(&q, req), 1);
	assert_int_equal(req->head, 4);
	assert_int_equal(req->out_num, 2);
	assert_int_equal(req->in_num, 1);
	assert_int_equal(req->out_len, 528);
	assert_ptr_equal(req->iov[1].iov_base, ram + BUF + 0x100);
	assert_ptr_equal(req->iov[2].iov_base, ram + BUF + 0x400);
}

static void test_indirect_unaligned_table(void **state)
{
	(void)state;
	/* the spec does not require alignment of an indirect table */
	uint64_t table = 0x8004;
	set_desc(table, 0, BUF, 16, 0, 0);
	set_desc(DESC, 0, table, 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, req), 1);
	assert_int_equal(req->out_len, 16);
}

static void test_chain_exactly_queue_size(void **state)
{
	(void)state;
	for (unsigned i = 0; i < QSZ; i++)
		set_desc(DESC, i, BUF + i * 16, 16,
			 i + 1 < QSZ ? VRING_DESC_F_NEXT : 0, i + 1);
	offer(0);
	assert_int_equal(virtq_pop(&q, req), 1);
	assert_int_equal(req->out_num, QSZ);
	assert_int_equal(req->out_len, QSZ * 16);
}

static void test_wraparound_indices(void **state)
{
	(void)state;
	/* 70000 requests: avail/used indices wrap at 2^16 */
	set_desc(DESC, 0, BUF, 1, VRING_DESC_F_WRITE, 0);
	for (unsigned i = 0; i < 70000; i++) {
		offer(0);
		assert_int_equal(virtq_pop(&q, req), 1);
		virtq_push(&q, 0, 1);
	}
	assert_int_equal(used()->idx, (uint16_t)70000);
	assert_int_equal(virtq_pop(&q, req), 0);
}

static void test_unpop(void **state)
{
	(void)state;
	set_desc(DESC, 2, BUF, 16, VRING_DESC_F_WRITE, 0);
	offer(2);
	assert_int_equal(virtq_pop(&q, req), 1);
	virtq_unpop(&q);
	assert_true(virtq_has_avail(&q));
	assert_int_equal(virtq_pop(&q, req), 1);
	assert_int_equal(req->head, 2);
}

/* ---- malformed chains ---- */

static void test_head_out_of_range(void **state)
{
	(void)state;
	offer(QSZ);
	expect_error(VIRTQ_ERR_HEAD);
}

static void test_next_out_of_range(void **state)
{
	(void)state;
	set_desc(DESC, 0, BUF, 16, VRING_DESC_F_NEXT, QSZ);
	offer(0);
	expect_error(VIRTQ_ERR_NEXT);
}

static void test_loop(void **state)
{
	(void)state;
	set_desc(DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF, 16, VRING_DESC_F_NEXT, 0);
	offer(0);
	expect_error(VIRTQ_ERR_LOOP);
}

static void test_self_loop(void **state)
{
	(void)state;
	set_desc(DESC, 3, BUF, 16, VRING_DESC_F_NEXT, 3);
	offer(3);
	expect_error(VIRTQ_ERR_LOOP);
}

static void test_avail_idx_too_far(void **state)
{
	(void)state;
	set_desc(DESC, 0, BUF, 16, 0, 0);
	avail()->idx = QSZ + 1;
	expect_error(VIRTQ_ERR_AVAIL_IDX);
}

static void test_avail_idx_full_ok(void **state)
{
	(void)state;
	/* exactly size entries ahead is legal */
	set_desc(DESC, 0, BUF, 16, 0, 0);
	for (unsigned i = 0; i < QSZ; i++)
		offer(0);
	for (unsigned i = 0; i < QSZ; i++)
		assert_int_equal(virtq_pop(&q, req), 1);
	assert_int_equal(virtq_pop(&q, req), 0);
}

static void test_readable_after_writable(void **state)
{
	(void)state;
	set_desc(DESC, 0, BUF, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	set_desc(DESC, 1, BUF, 16, 0, 0);
	offer(0);
	expect_error(VIRTQ_ERR_ORDER);
}

static void test_buffer_outside_ram(void **state)
{
	(void)state;
	set_desc(DESC, 0, RAM_SIZE, 1, 0, 0);
	offer(0);
	expect_error(VIRTQ_ERR_ADDR);
}

static void test_buffer_straddles_end(void **state)
{
	(void)state;
	set_desc(DESC, 0, RAM_SIZE - 8, 16, 0, 0);
	offer(0);
	expect_error(VIRTQ_ERR_ADDR);
}

static void test_buffer_addr_overflow(void **state)
{
	(void)state;
	set_desc(DESC, 0, UINT64_MAX - 4, 16, VRING_DESC_F_WRITE, 0);
	offer(0);
	expect_error(VIRTQ_ERR_ADDR);
}

static void test_total_overflow(void **state)
{
	(void)state;
	/* three 2 GiB - 1 buffers (in RAM address space, never touched):
	 * their sum does not fit in 32 bits */
	set_desc(DESC, 0, 0, 0x7fffffff, VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, 0, 0x7fffffff, VRING_DESC_F_NEXT, 2);
	set_desc(DESC, 2, 0, 0x7fffffff, 0, 0);
	offer(0);
	expect_error(VIRTQ_ERR_TOTAL);
}

static void test_total_overflow_writable(void **state)
{
	(void)state;
	/* 2 GiB + 2 GiB = 2^32: one too many */
	set_desc(DESC, 0, 0, 0x80000000, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, 0, 0x80000000, VRING_DESC_F_WRITE, 0);
	offer(0);
	expect_error(VIRTQ_ERR_TOTAL);
}

static void test_indirect_bad_len(void **state)
{
	(void)state;
	set_desc(0x8000, 0, BUF, 16, 0, 0);
	set_desc(DESC, 0, 0x8000, 17, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_error(VIRTQ_ERR_INDIRECT);
}

static void test_indirect_zero_len(void **state)
{
	(void)state;
	set_desc(DESC, 0, 0x8000, 0, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_error(VIRTQ_ERR_INDIRECT);
}

static void test_indirect_too_long(void **state)
{
	(void)state;
	set_desc(DESC, 0, 0x8000, (QSZ + 1) * 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_error(VIRTQ_ERR_INDIRECT);
}

static void test_indirect_nested(void **state)
{
	(void)state;
	set_desc(0x8000, 0, 0x9000, 16, VRING_DESC_F_INDIRECT, 0);
	set_desc(0x9000, 0, BUF, 16, 0, 0);
	set_desc(DESC, 0, 0x8000, 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_error(VIRTQ_ERR_INDIRECT);
}

static void test_indirect_with_next(void **state)
{
	(void)state;
	set_desc(0x8000, 0, BUF, 16, 0, 0);
	set_desc(DESC, 0, 0x8000, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF, 16, 0, 0);
	offer(0);
	expect_error(VIRTQ_ERR_INDIRECT);
}

static void test_indirect_not_negotiated(void **state)
{
	(void)state;
	q.indirect = false;
	set_desc(0x8000, 0, BUF, 16, 0, 0);
	set_desc(DESC, 0, 0x8000, 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_error(VIRTQ_ERR_INDIRECT);
}

static void test_indirect_table_outside_ram(void **state)
{
	(void)state;
	set_desc(DESC, 0, RAM_SIZE - 16, 32, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_error(VIRTQ_ERR_ADDR);
}

static void test_indirect_next_out_of_table(void **state)
{
	(void)state;
	/* next 2 is < queue size but outside the 2-entry table */
	set_desc(0x8000, 0, BUF, 16, VRING_DESC_F_NEXT, 2);
	set_desc(0x8000, 1, BUF, 16, 0, 0);
	set_desc(DESC, 0, 0x8000, 32, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_error(VIRTQ_ERR_NEXT);
}

static void test_indirect_loop(void **state)
{
	(void)state;
	set_desc(0x8000, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	set_desc(0x8000, 1, BUF, 16, VRING_DESC_F_NEXT, 0);
	set_desc(DESC, 0, 0x8000, 32, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_error(VIRTQ_ERR_LOOP);
}

static void test_direct_plus_indirect_over_size(void **state)
{
	(void)state;
	/* 2 direct descriptors, then an indirect table of QSZ - 1 entries:
	 * QSZ + 1 descriptors in all */
	for (unsigned i = 0; i < QSZ - 1; i++)
		set_desc(0x8000, i, BUF, 16, i + 2 < QSZ ? VRING_DESC_F_NEXT : 0,
			 i + 1);
	set_desc(DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF, 16, VRING_DESC_F_NEXT, 2);
	set_desc(DESC, 2, 0x8000, (QSZ - 1) * 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_error(VIRTQ_ERR_LOOP);
}

static void test_reset_clears_broken(void **state)
{
	(void)state;
	offer(QSZ);
	expect_error(VIRTQ_ERR_HEAD);
	virtq_reset(&q);
	assert_false(q.ready);
	assert_false(q.broken);
	assert_int_equal(q.size, 16);
	assert_int_equal(q.desc_gpa, 0);
	assert_int_equal(q.last_avail_idx, 0);
	assert_int_equal(virtq_pop(&q, req), 0); /* not ready: nothing */
}

/* ---- enable-time checks ---- */

static void test_enable_checks(void **state)
{
	(void)state;
	struct virtq v;

	virtq_init(&v, &gm, 16);
	v.desc_gpa = DESC; v.avail_gpa = AVAIL; v.used_gpa = USED;
	v.size = 12; /* not a power of two */
	assert_int_equal(virtq_enable(&v), -EINVAL);
	v.size = 32; /* above max */
	assert_int_equal(virtq_enable(&v), -EINVAL);
	v.size = 0;
	assert_int_equal(virtq_enable(&v), -EINVAL);
	v.size = 16;
	v.desc_gpa = DESC + 8; /* misaligned */
	assert_int_equal(virtq_enable(&v), -EINVAL);
	v.desc_gpa = DESC;
	v.avail_gpa = AVAIL + 1;
	assert_int_equal(virtq_enable(&v), -EINVAL);
	v.avail_gpa = AVAIL;
	v.used_gpa = USED + 2;
	assert_int_equal(virtq_enable(&v), -EINVAL);
	v.used_gpa = RAM_SIZE - 64; /* ring runs past the end of RAM */
	assert_int_equal(virtq_enable(&v), -EINVAL);
	v.used_gpa = UINT64_MAX - 3;
	assert_int_equal(virtq_enable(&v), -EINVAL);
	assert_false(v.ready);
	v.used_gpa = AVAIL + 4; /* used->flags over avail->idx */
	assert_int_equal(virtq_enable(&v), -EINVAL);
	v.used_gpa = DESC + 16 * 15; /* over the last descriptor */
	assert_int_equal(virtq_enable(&v), -EINVAL);
	assert_false(v.ready);
	v.used_gpa = USED;
	assert_int_equal(virtq_enable(&v), 0);
	assert_true(v.ready);
}

/* ---- notification suppression ---- */

static void test_no_interrupt_flag(void **state)
{
	(void)state;
	set_desc(DESC, 0, BUF, 1, VRING_DESC_F_WRITE, 0);
	offer(0);
	assert_int_equal(virtq_pop(&q, req), 1);
	virtq_push(&q, 0, 1);
	assert_true(virtq_need_notify(&q));
	/* nothing new pushed: no second interrupt */
	assert_false(virtq_need_notify(&q));
	avail()->flags = VRING_AVAIL_F_NO_INTERRUPT;
	offer(0);
	assert_int_equal(virtq_pop(&q, req), 1);
	virtq_push(&q, 0, 1);
	assert_false(virtq_need_notify(&q));
}

static void test_event_idx(void **state)
{
	(void)state;
	uint16_t *used_event = &avail()->ring[QSZ];
	uint16_t *avail_event = (uint16_t *)&used()->ring[QSZ];

	q.event_idx = true;
	set_desc(DESC, 0, BUF, 1, VRING_DESC_F_WRITE, 0);

	/* first interrupt always goes out */
	offer(0);
	assert_int_equal(virtq_pop(&q, req), 1);
	assert_int_equal(*avail_event, 1); /* kick me at the next one */
	virtq_push(&q, 0, 1);
	assert_true(virtq_need_notify(&q));

	/* driver wants an interrupt only after used idx passes 2 */
	*used_event = 2;
	offer(0);
	assert_int_equal(virtq_pop(&q, req), 1);
	virtq_push(&q, 0, 1); /* used idx 2: event 2 not in [1, 2) */
	assert_false(virtq_need_notify(&q));
	offer(0);
	assert_int_equal(virtq_pop(&q, req), 1);
	virtq_push(&q, 0, 1); /* used idx 3: event 2 in [2, 3) */
	assert_true(virtq_need_notify(&q));

	/* busy: avail_event is not advanced while disabled */
	virtq_disable_notify(&q);
	offer(0);
	assert_int_equal(virtq_pop(&q, req), 1);
	assert_int_equal(*avail_event, 3);
	virtq_push(&q, 0, 1);
	assert_false(virtq_enable_notify(&q));
	assert_int_equal(*avail_event, 4);
	offer(0);
	assert_true(virtq_has_avail(&q));
}

static void test_no_notify_flag(void **state)
{
	(void)state;
	virtq_disable_notify(&q);
	assert_int_equal(used()->flags, VRING_USED_F_NO_NOTIFY);
	/* a buffer arriving while disabled is reported by enable_notify */
	set_desc(DESC, 0, BUF, 1, VRING_DESC_F_WRITE, 0);
	offer(0);
	assert_true(virtq_enable_notify(&q));
	assert_int_equal(used()->flags, 0);
	assert_int_equal(virtq_pop(&q, req), 1);
	assert_false(virtq_enable_notify(&q));
}

/* Random rings: whatever the guest writes, virtq_pop either fails cleanly
 * or returns iovecs wholly inside guest RAM whose sizes add up. */
static void test_random_rings(void **state)
{
	(void)state;
	uint64_t x = 12345;
	struct guest_mem small = { 0 };
	unsigned good = 0, bad = 0;

	/* only the accessible MiB is RAM here: indirect tables are read */
	assert_int_equal(gm_add_region(&small, 0, RAM_RW, ram), 0);
#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
	for (int iter = 0; iter < 20000; iter++) {
		virtq_init(&q, &small, 16);
		q.size = QSZ;
		q.desc_gpa = DESC;
		q.avail_gpa = AVAIL;
		q.used_gpa = USED;
		q.indirect = RND() & 1;
		assert_int_equal(virtq_enable(&q), 0);
		/* descriptors: small indices, addresses near RAM boundaries */
		for (unsigned t = 0; t < 2; t++) {
			for (unsigned i = 0; i < QSZ; i++) {
				uint64_t r = RND();
				uint64_t addrs[] = { BUF + (r & 0xfff),
						     BUF + (r & 0xffff), 0x8000,
						     RAM_RW - (r & 0xff), r,
						     UINT64_MAX - (r & 0xff) };
				uint16_t fl = (uint16_t)((r >> 32) & 3);
				if (((r >> 34) & 7) == 0)
					fl |= VRING_DESC_F_INDIRECT;
				set_desc(t ? 0x8000 : DESC, i,
					 addrs[(r >> 8) % 6],
					 (r >> 16) & 7 ? (uint32_t)(r >> 20) & 0x1ff
						       : (uint32_t)(r >> 24),
					 fl, (uint16_t)((r >> 40) % (QSZ + 1)));
			}
		}
		avail()->idx = (uint16_t)(RND() % (QSZ + 3));
		for (unsigned i = 0; i < QSZ; i++)
			avail()->ring[i] = (uint16_t)(RND() % (QSZ + 1));
		for (int n = 0; n < QSZ + 2; n++) {
			int ret = virtq_pop(&q, req);
			uint64_t out = 0, in = 0;

			if (ret < 0)
				bad++;
			if (ret <= 0)
				break;
			good++;
			assert_true(req->out_num + req->in_num <= QSZ);
			for (unsigned i = 0; i < req->out_num + req->in_num; i++) {
				uint8_t *b = req->iov[i].iov_base;
				assert_true(b >= ram &&
					    b + req->iov[i].iov_len <= ram + RAM_RW);
				if (i < req->out_num)
					out += req->iov[i].iov_len;
				else
					in += req->iov[i].iov_len;
			}
			assert_int_equal(out, req->out_len);
			assert_int_equal(in, req->in_len);
			virtq_push(&q, req->head, 0);
		}
	}
	/* both outcomes were exercised */
	print_message("random rings: %u chains popped, %u rings refused\n",
		      good, bad);
	assert_true(good > 1000);
	assert_true(bad > 1000);
#undef RND
}

/* ---- virtq_drain ---- */

/* What the drain callbacks saw and what they are told to do. */
static struct drain_log {
	unsigned handled, notified;
	uint16_t heads[16];
	int fail_at;        /* handle number (1-based) that returns fail_ret */
	int fail_ret;
	unsigned race_on_notify; /* chains to offer from inside notify() */
	bool async;         /* take every chain as VIRTQ_REQ_ASYNC */
} dl;

static int drain_handle(void *opaque, struct virtq_req *r, uint32_t *written)
{
	(void)opaque;
	dl.heads[dl.handled % 16] = r->head;
	dl.handled++;
	if (dl.fail_at && (int)dl.handled == dl.fail_at)
		return dl.fail_ret;
	if (dl.async)
		return VIRTQ_REQ_ASYNC;
	*written = r->in_len;
	return VIRTQ_REQ_DONE;
}

static void drain_notify(void *opaque)
{
	(void)opaque;
	dl.notified++;
	/* The driver adds a chain after our last pop found the ring empty
	 * and before notifications are back on: it sees NO_NOTIFY and does
	 * not kick, so the drain itself must find it. */
	while (dl.race_on_notify) {
		dl.race_on_notify--;
		offer(2);
	}
}

/* A fresh log, and heads 0, 1, 2 with one writable byte each. */
static unsigned drain_of(unsigned budget)
{
	memset(&dl, 0, sizeof(dl));
	for (unsigned i = 0; i < 3; i++)
		set_desc(DESC, i, BUF + 0x100 * i, 1, VRING_DESC_F_WRITE, 0);
	return budget;
}

static int drain(unsigned budget)
{
	return virtq_drain(&q, req, budget, drain_handle, NULL, drain_notify,
			   NULL);
}

static void test_drain_all(void **state)
{
	unsigned d = drain_of(0);

	(void)state;
	offer(0);
	offer(1);
	assert_int_equal(drain(d), VIRTQ_DRAIN_EMPTY);
	assert_int_equal(dl.handled, 2);
	assert_int_equal(dl.heads[0], 0);
	assert_int_equal(dl.heads[1], 1);
	assert_int_equal(used()->idx, 2);
	assert_int_equal(used()->ring[1].id, 1);
	assert_int_equal(used()->ring[1].len, 1);
	assert_int_equal(dl.notified, 1); /* one interrupt for both */
	assert_int_equal(used()->flags, 0); /* kicks wanted again */
	/* an empty ring: nothing handled, no interrupt */
	assert_int_equal(drain(d), VIRTQ_DRAIN_EMPTY);
	assert_int_equal(dl.handled, 2);
	assert_int_equal(dl.notified, 1);
}

static void test_drain_race_before_enable(void **state)
{
	unsigned d = drain_of(0);

	(void)state;
	offer(0);
	dl.race_on_notify = 1;
	assert_int_equal(drain(d), VIRTQ_DRAIN_EMPTY);
	/* the late chain was served by the same drain, and announced */
	assert_int_equal(dl.handled, 2);
	assert_int_equal(dl.heads[1], 2);
	assert_int_equal(used()->idx, 2);
	assert_int_equal(dl.notified, 2);
	assert_false(virtq_has_avail(&q));
	assert_int_equal(used()->flags, 0);
}

static void test_drain_race_event_idx(void **state)
{
	uint16_t *avail_event = (uint16_t *)&used()->ring[QSZ];
	unsigned d = drain_of(0);

	(void)state;
	q.event_idx = true;
	offer(0);
	dl.race_on_notify = 1;
	assert_int_equal(drain(d), VIRTQ_DRAIN_EMPTY);
	assert_int_equal(dl.handled, 2);
	assert_int_equal(used()->idx, 2);
	/* kick me at the next new one */
	assert_int_equal(*avail_event, 2);
}

static void test_drain_event_idx_suppresses(void **state)
{
	uint16_t *used_event = &avail()->ring[QSZ];
	unsigned d = drain_of(0);

	(void)state;
	q.event_idx = true;
	offer(0);
	assert_int_equal(drain(d), VIRTQ_DRAIN_EMPTY);
	assert_int_equal(dl.notified, 1); /* the first always goes out */
	/* the driver wants an interrupt only once used idx passes 3 */
	*used_event = 3;
	offer(1);
	assert_int_equal(drain(d), VIRTQ_DRAIN_EMPTY);
	assert_int_equal(dl.notified, 1);
	offer(0);
	offer(1);
	assert_int_equal(drain(d), VIRTQ_DRAIN_EMPTY);
	assert_int_equal(dl.notified, 2);
	assert_int_equal(used()->idx, 4);
}

static void test_drain_callback_error(void **state)
{
	unsigned d = drain_of(0);

	(void)state;
	offer(0);
	offer(1);
	offer(2);
	dl.fail_at = 2;
	dl.fail_ret = -EIO;
	assert_int_equal(drain(d), -EIO);
	/* the first chain is done, the bad one is neither pushed nor given
	 * back, the third is left alone; the caller interrupts if it wants */
	assert_int_equal(dl.handled, 2);
	assert_int_equal(used()->idx, 1);
	assert_int_equal(q.last_avail_idx, 2);
	assert_int_equal(dl.notified, 0);
	assert_false(q.broken);
	assert_true(virtq_need_notify(&q));
}

static void test_drain_broken_ring(void **state)
{
	unsigned d = drain_of(0);

	(void)state;
	offer(0);
	offer(QSZ); /* head out of range */
	assert_int_equal(drain(d), -EINVAL);
	assert_true(q.broken);
	assert_int_equal(q.error, VIRTQ_ERR_HEAD);
	assert_int_equal(dl.handled, 1);
	assert_int_equal(used()->idx, 1);
	assert_int_equal(dl.notified, 0);
	/* and stays so */
	assert_int_equal(drain(d), -EINVAL);
	assert_int_equal(dl.handled, 1);
}

static void test_drain_retry_backpressure(void **state)
{
	unsigned d = drain_of(0);

	(void)state;
	offer(0);
	offer(1);
	dl.fail_at = 2;
	dl.fail_ret = VIRTQ_REQ_RETRY;
	assert_int_equal(drain(d), VIRTQ_DRAIN_STOPPED);
	assert_int_equal(used()->idx, 1);
	assert_int_equal(dl.notified, 1); /* for the first chain */
	/* notifications stay off; the chain is offered again */
	assert_int_equal(used()->flags, VRING_USED_F_NO_NOTIFY);
	dl.fail_at = 0;
	assert_int_equal(drain(d), VIRTQ_DRAIN_EMPTY);
	assert_int_equal(dl.handled, 3);
	assert_int_equal(dl.heads[2], 1);
	assert_int_equal(used()->idx, 2);
	assert_int_equal(used()->flags, 0);
}

static void test_drain_budget(void **state)
{
	unsigned d = drain_of(2);

	(void)state;
	offer(0);
	offer(1);
	offer(2);
	assert_int_equal(drain(d), VIRTQ_DRAIN_BUDGET);
	assert_int_equal(dl.handled, 2);
	assert_int_equal(used()->idx, 2);
	assert_int_equal(dl.notified, 1);
	assert_int_equal(used()->flags, VRING_USED_F_NO_NOTIFY);
	/* the next call goes on where this one stopped */
	assert_int_equal(drain(d), VIRTQ_DRAIN_EMPTY);
	assert_int_equal(dl.handled, 3);
	assert_int_equal(used()->idx, 3);
}

static void test_drain_not_ready(void **state)
{
	unsigned d = drain_of(0);

	(void)state;
	offer(0);
	virtq_reset(&q);
	assert_int_equal(drain(d), VIRTQ_DRAIN_EMPTY);
	assert_int_equal(dl.handled, 0);
	assert_int_equal(dl.notified, 0);
}

/* ---- chains completed later (VIRTQ_REQ_ASYNC) ---- */

/* Kicks stay off while chains are in flight: what the driver adds then
 * (without kicking) is taken by the drain after a completion, and kicks
 * come back on only once nothing is in flight. */
static void test_drain_async_kicks_off(void **state)
{
	unsigned d = drain_of(0);

	(void)state;
	q.quiet_depth = 1;
	dl.async = true;
	offer(0);
	offer(1);
	assert_int_equal(drain(d), VIRTQ_DRAIN_INFLIGHT);
	assert_int_equal(dl.handled, 2);
	assert_int_equal(q.inflight, 2);
	assert_int_equal(used()->idx, 0);
	assert_int_equal(dl.notified, 0); /* nothing used yet */
	assert_int_equal(used()->flags, VRING_USED_F_NO_NOTIFY);
	/* the driver sees NO_NOTIFY: adds a chain, no kick */
	offer(2);
	/* both complete: entries written, index not yet published */
	virtq_complete(&q, 1, 1);
	virtq_complete(&q, 0, 1);
	assert_int_equal(q.inflight, 0);
	assert_int_equal(used()->idx, 0);
	assert_true(virtq_need_notify(&q)); /* publishes both at once */
	assert_int_equal(used()->idx, 2);
	assert_int_equal(used()->ring[0].id, 1);
	assert_int_equal(used()->ring[1].id, 0);
	/* the drain after the completions takes the chain nobody kicked
	 * for; it is in flight, so kicks stay off */
	assert_int_equal(drain(d), VIRTQ_DRAIN_INFLIGHT);
	assert_int_equal(dl.handled, 3);
	assert_int_equal(dl.heads[2], 2);
	assert_int_equal(used()->flags, VRING_USED_F_NO_NOTIFY);
	virtq_complete(&q, 2, 1);
	/* nothing in flight: kicks back on, the ring looked at once more */
	dl.async = false;
	assert_int_equal(drain(d), VIRTQ_DRAIN_EMPTY);
	assert_int_equal(used()->flags, 0);
	assert_int_equal(used()->idx, 3);
	assert_int_equal(dl.notified, 1); /* the drain announced the third */
	assert_int_equal(dl.handled, 3);
}

/* The last completion's drain: a chain the driver adds after the ring was
 * found empty but before kicks are back on is served by the same drain
 * (re-enable, then look again): no lost wakeup. */
static void test_drain_async_race_last_completion(void **state)
{
	unsigned d = drain_of(0);

	(void)state;
	q.quiet_depth = 1;
	dl.async = true;
	offer(0);
	assert_int_equal(drain(d), VIRTQ_DRAIN_INFLIGHT);
	virtq_complete(&q, 0, 1);
	dl.async = false;
	dl.race_on_notify = 1; /* offered from the interrupt, no kick */
	assert_int_equal(drain(d), VIRTQ_DRAIN_EMPTY);
	assert_int_equal(dl.handled, 2);
	assert_int_equal(dl.heads[1], 2);
	assert_int_equal(used()->idx, 2);
	assert_false(virtq_has_avail(&q));
	assert_int_equal(used()->flags, 0);
	assert_int_equal(q.inflight, 0);
}

/* With EVENT_IDX: avail_event is not advanced while chains are in flight
 * (a driver adding more sees it behind and does not kick), and points at
 * the next new chain once none is. */
static void test_drain_async_event_idx(void **state)
{
	uint16_t *avail_event = (uint16_t *)&used()->ring[QSZ];
	uint16_t *used_event = &avail()->ring[QSZ];
	unsigned d = drain_of(0);

	(void)state;
	q.event_idx = true;
	q.quiet_depth = 1;
	dl.async = true;
	offer(0);
	offer(1);
	assert_int_equal(drain(d), VIRTQ_DRAIN_INFLIGHT);
	assert_int_equal(*avail_event, 0);
	assert_int_equal(used()->flags, 0); /* must stay 0 with EVENT_IDX */
	offer(2);
	/* the driver wants an interrupt once used idx passes 1 */
	*used_event = 1;
	virtq_complete(&q, 0, 1);
	assert_true(virtq_need_notify(&q)); /* the first always goes out */
	assert_int_equal(drain(d), VIRTQ_DRAIN_INFLIGHT);
	assert_int_equal(*avail_event, 0);
	virtq_complete(&q, 1, 1);
	virtq_complete(&q, 2, 1);
	assert_true(virtq_need_notify(&q)); /* used_event 1 in [1, 3) */
	assert_false(virtq_need_notify(&q)); /* nothing new */
	assert_int_equal(used()->idx, 3);
	dl.async = false;
	assert_int_equal(drain(d), VIRTQ_DRAIN_EMPTY);
	assert_int_equal(*avail_event, 3);
}

/* The budget and a refused chain leave kicks off with chains in flight
 * too, and a reset forgets the chains in flight. */
static void test_drain_async_budget_reset(void **state)
{
	unsigned d = drain_of(1);

	(void)state;
	q.quiet_depth = 1;
	dl.async = true;
	offer(0);
	offer(1);
	assert_int_equal(drain(d), VIRTQ_DRAIN_BUDGET);
	assert_int_equal(q.inflight, 1);
	assert_int_equal(drain(d), VIRTQ_DRAIN_BUDGET);
	assert_int_equal(q.inflight, 2);
	assert_int_equal(drain(d), VIRTQ_DRAIN_INFLIGHT);
	assert_int_equal(used()->flags, VRING_USED_F_NO_NOTIFY);
	virtq_reset(&q);
	assert_int_equal(q.inflight, 0);
	/* a completion that comes after the reset writes nothing */
	virtq_complete(&q, 0, 1);
	assert_int_equal(used()->idx, 0);
}

/* quiet_depth 2: kicks stay off only while two or more chains are in
 * flight; with one left they are wanted again. */
static void test_drain_async_quiet_depth(void **state)
{
	unsigned d = drain_of(0);

	(void)state;
	q.quiet_depth = 2;
	dl.async = true;
	offer(0);
	assert_int_equal(drain(d), VIRTQ_DRAIN_EMPTY);
	assert_int_equal(q.inflight, 1);
	assert_int_equal(used()->flags, 0);
	offer(1);
	assert_int_equal(drain(d), VIRTQ_DRAIN_INFLIGHT);
	assert_int_equal(q.inflight, 2);
	assert_int_equal(used()->flags, VRING_USED_F_NO_NOTIFY);
	virtq_complete(&q, 0, 1);
	assert_int_equal(drain(d), VIRTQ_DRAIN_EMPTY);
	assert_int_equal(used()->flags, 0);
	/* kept across a reset */
	virtq_reset(&q);
	assert_int_equal(q.quiet_depth, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup(f, setup)
		T(test_empty),
		T(test_simple_chain),
		T(test_zero_length_skipped),
		T(test_indirect),
		T(test_indirect_unaligned_table),
		T(test_chain_exactly_queue_size),
		T(test_wraparound_indices),
		T(test_unpop),
		T(test_head_out_of_range),
		T(test_next_out_of_range),
		T(test_loop),
		T(test_self_loop),
		T(test_avail_idx_too_far),
		T(test_avail_idx_full_ok),
		T(test_readable_after_writable),
		T(test_buffer_outside_ram),
		T(test_buffer_straddles_end),
		T(test_buffer_addr_overflow),
		T(test_total_overflow),
		T(test_total_overflow_writable),
		T(test_indirect_bad_len),
		T(test_indirect_zero_len),
		T(test_indirect_too_long),
		T(test_indirect_nested),
		T(test_indirect_with_next),
		T(test_indirect_not_negotiated),
		T(test_indirect_table_outside_ram),
		T(test_indirect_next_out_of_table),
		T(test_indirect_loop),
		T(test_direct_plus_indirect_over_size),
		T(test_reset_clears_broken),
		T(test_enable_checks),
		T(test_no_interrupt_flag),
		T(test_event_idx),
		T(test_no_notify_flag),
		T(test_random_rings),
		T(test_drain_all),
		T(test_drain_race_before_enable),
		T(test_drain_race_event_idx),
		T(test_drain_event_idx_suppresses),
		T(test_drain_callback_error),
		T(test_drain_broken_ring),
		T(test_drain_retry_backpressure),
		T(test_drain_budget),
		T(test_drain_not_ready),
		T(test_drain_async_kicks_off),
		T(test_drain_async_race_last_completion),
		T(test_drain_async_event_idx),
		T(test_drain_async_budget_reset),
		T(test_drain_async_quiet_depth),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
