/* SPDX-License-Identifier: MIT
 * Unit tests: virtio-blk with asynchronous I/O (virtio/blk.c over
 * devices/disk/aio.c, io_uring on a temporary raw file): used entries in
 * completion order with one interrupt per batch, FLUSH after the writes in
 * flight before it (even when one of them needs a second round), short
 * reads and writes continued, a write that makes no progress failing,
 * EINTR/EAGAIN from io_uring_enter and -EAGAIN results retried (also
 * past the retries of one submission, and completions a refused
 * submission reaps get their interrupt), kicks left off while requests
 * are in flight (a request added without a kick is taken when
 * completions come back, kicks are wanted again once none is in flight),
 * a request alone in flight waited for inline without an eventfd wakeup,
 * a pass that ends after 64 requests however the driver keeps one alone
 * in flight,
 * a request added without a kick taken by the queue's busy-polling
 * (poll_us) before any completion, and not without it,
 * a queue reset with requests in flight, the ring's set-up flags
 * (COOP_TASKRUN where the kernel has it, a ring without where it
 * refuses them); on a qcow2 image, two contexts (two
 * queues' threads) writing and reading at once, cutting requests across
 * allocated and new clusters, checked against a model and by img check.
 * Faults are injected through the test
 * seams of aio.c (struct bdaio_hooks), not by replacing libc calls.
 * Driven through the real virtio-pci transport with virtio_drv.h; the
 * queue's thread is not started: the test reaps completions itself
 * (queue_flush, or the queue loop's handlers run on the test's thread). Skipped where io_uring cannot be set up. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <liburing.h>

#include <linux/virtio_blk.h>

#include "devices/disk/disk_int.h"
#include "devices/disk/img.h"
#include "fake_vm.h"
#include "virtio/blk.h"
#include "virtio/virtio_pci.h"
#include "virtio_drv.h"
#include "vmm/evloop.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define RAM_SIZE (8 << 20)
#define DISK_SIZE (1 << 20)
#define HDRS 0x10000  /* request r: header at HDRS + 64r, status + 32 */
#define DATA 0x200000 /* request r: data at DATA + 64K r */
#define QBASE 0x100000
#define NREQ 8

static struct vm vm;
static uint8_t *ram;
static char path[] = "/tmp/test_blk_aio.XXXXXX";
static int fd = -1;
static struct virtio_dev *blk;
static struct vdrv drv;

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + off / 512);
}

/* virtio_blk_cfg.poll_us of the device setup() makes (setup_poll: 32). */
static unsigned cfg_poll_us;

static int setup(void **state)
{
	uint8_t *buf = malloc(DISK_SIZE);
	struct blockdev_opts o = { .path = path, .format = "raw" };
	struct virtio_blk_cfg bc = { .serial = "aio", .nr_queues = 1,
				     .quiet_depth = 1, .poll_us = cfg_poll_us };
	char err[256];

	(void)state;
	log_quiet = true;
	memset(&bdaio_hooks, 0, sizeof(bdaio_hooks));
	fake_vm_reset();
	memset(&vm, 0, sizeof(vm));
	ram = calloc(1, RAM_SIZE);
	assert_non_null(ram);
	assert_int_equal(gm_add_region(&vm.mem, 0, RAM_SIZE, ram), 0);
	strcpy(path, "/tmp/test_blk_aio.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (uint64_t i = 0; i < DISK_SIZE; i++)
		buf[i] = pattern(i);
	assert_int_equal(pwrite(fd, buf, DISK_SIZE, 0), DISK_SIZE);
	free(buf);
	assert_int_equal(blockdev_open(&o, &bc.bd, err, sizeof(err)), 0);
	assert_int_equal(virtio_blk_create(&vm, &bc, &blk), 0);
	if (virtio_blk_aio_error(blk)) {
		fprintf(stderr, "# io_uring unavailable: %s\n",
			strerror(-virtio_blk_aio_error(blk)));
		blk->dev.ops->free(&blk->dev);
		blk = NULL;
		return 0;
	}
	drv.dev = blk;
	drv.ram = ram;
	assert_true(vdrv_negotiate(&drv, vdrv_device_features(&drv)) &
		    VIRTIO_CONFIG_S_FEATURES_OK);
	vdrv_setup_queue(&drv, 0, 256, QBASE);
	vdrv_driver_ok(&drv);
	return 0;
}

static int setup_poll(void **state)
{
	cfg_poll_us = 32;
	return setup(state);
}

static int teardown(void **state)
{
	(void)state;
	cfg_poll_us = 0;
	memset(&bdaio_hooks, 0, sizeof(bdaio_hooks));
	if (blk)
		blk->dev.ops->free(&blk->dev);
	close(fd);
	unlink(path);
	free(ram);
	return 0;
}

#define NEED_URING()                                                     \
	do {                                                             \
		if (!blk)                                                \
			skip();                                          \
	} while (0)

/* Post request r: type at sector, len bytes of data (none for FLUSH). */
static uint16_t post(unsigned r, uint32_t type, uint64_t sector,
		     uint32_t len)
{
	uint64_t hdr = HDRS + 64ULL * r;
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };
	struct vdrv_buf b[3] = {
		{ hdr, 16, false },
		{ DATA + 0x10000ULL * r, len, type == VIRTIO_BLK_T_IN },
		{ hdr + 32, 1, true },
	};

	memcpy(ram + hdr, &h, sizeof(h));
	ram[hdr + 32] = 0xee;
	if (!len) {
		b[1] = b[2];
		return vdrv_post(&drv, 0, b, 2, false);
	}
	return vdrv_post(&drv, 0, b, 3, false);
}

static uint8_t status_of(unsigned r)
{
	return ram[HDRS + 64ULL * r + 32];
}

static void check_read(unsigned r, uint64_t sector, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (ram[DATA + 0x10000ULL * r + i] != pattern(sector * 512 + i))
			fail_msg("request %u byte %u", r, i);
}

/* The device's pass over the queue and the wait for what it started. */
static void run_queue(void)
{
	blk->desc.ops->queue_notify(blk, 0);
	blk->desc.ops->queue_flush(blk, 0);
}

/* ---- completion order ---- */

static unsigned want_cqes;

/* Submit, and wait until every request has completed, so that they are
 * all reaped in one batch. */
static int submit_wait(struct io_uring *ring)
{
	return io_uring_submit_and_wait(ring, want_cqes);
}

static void reverse(void **cqes, unsigned n)
{
	for (unsigned i = 0; i < n / 2; i++) {
		void *t = cqes[i];
		cqes[i] = cqes[n - 1 - i];
		cqes[n - 1 - i] = t;
	}
}

static void test_completion_order(void **state)
{
	uint16_t heads[NREQ], h;
	uint32_t len;
	uint64_t irqs;

	(void)state;
	NEED_URING();
	/* one request first: the queue's first interrupt check comes before
	 * anything was ever pushed and may say yes */
	post(0, VIRTIO_BLK_T_IN, 0, 512);
	run_queue();
	assert_true(vdrv_used(&drv, 0, &h, &len));
	want_cqes = NREQ;
	bdaio_hooks.submit = submit_wait;
	bdaio_hooks.order = reverse; /* the last one finishes first */
	for (unsigned r = 0; r < NREQ; r++)
		heads[r] = post(r, VIRTIO_BLK_T_IN, 8 * r + 1, 4096);
	/* EVENT_IDX: interrupt at the next used entry, as a driver asks */
	*(uint16_t *)(ram + drv.q[0].avail + 4 + 2 * drv.q[0].size) =
		drv.q[0].last_used;
	irqs = blk->q[0].irqs;
	run_queue();
	for (unsigned r = 0; r < NREQ; r++) {
		assert_true(vdrv_used(&drv, 0, &h, &len));
		/* used entries in the order the requests completed */
		assert_int_equal(h, heads[NREQ - 1 - r]);
		assert_int_equal(len, 4097);
		assert_int_equal(status_of(NREQ - 1 - r), VIRTIO_BLK_S_OK);
		check_read(r, 8 * r + 1, 4096);
	}
	assert_false(vdrv_used(&drv, 0, &h, &len));
	/* one interrupt for the batch */
	assert_int_equal(blk->q[0].irqs - irqs, 1);
}

/* ---- FLUSH after the writes in flight ---- */

static int short_calls;

/* The first result of each test comes back short (half of it). */
static int short_first(int res, size_t want)
{
	if (short_calls++ == 0 && res > 0 && (size_t)res == want)
		return res / 2;
	return res;
}

static void test_flush_after_writes(void **state)
{
	uint16_t hw0, hw1, hf, hr, h = 0;
	uint32_t len;
	uint8_t buf[8192];

	(void)state;
	NEED_URING();
	short_calls = 0;
	bdaio_hooks.result = short_first; /* w0 needs a second round */
	memset(ram + DATA, 0x5a, 8192);
	memset(ram + DATA + 0x10000, 0xa5, 4096);
	hw0 = post(0, VIRTIO_BLK_T_OUT, 64, 8192);
	hw1 = post(1, VIRTIO_BLK_T_OUT, 200, 4096);
	hf = post(2, VIRTIO_BLK_T_FLUSH, 0, 0);
	hr = post(3, VIRTIO_BLK_T_IN, 64, 8192);
	run_queue();
	/* the two writes, then the flush; the read waited for the flush */
	assert_true(vdrv_used(&drv, 0, &h, &len));
	assert_true(h == hw0 || h == hw1);
	assert_true(vdrv_used(&drv, 0, &h, &len));
	assert_true(h == hw0 || h == hw1);
	assert_true(vdrv_used(&drv, 0, &h, &len));
	assert_int_equal(h, hf);
	assert_int_equal(status_of(0), VIRTIO_BLK_S_OK);
	assert_int_equal(status_of(1), VIRTIO_BLK_S_OK);
	assert_int_equal(status_of(2), VIRTIO_BLK_S_OK);
	assert_false(vdrv_used(&drv, 0, &h, &len));
	/* the queue resumes (its thread is kicked): the read */
	run_queue();
	assert_true(vdrv_used(&drv, 0, &h, &len));
	assert_int_equal(h, hr);
	assert_int_equal(status_of(3), VIRTIO_BLK_S_OK);
	assert_memory_equal(ram + DATA + 3 * 0x10000, ram + DATA, 8192);
	assert_int_equal(pread(fd, buf, 8192, 64 * 512), 8192);
	assert_memory_equal(buf, ram + DATA, 8192);
	assert_true(short_calls >= 3);
}

/* ---- short transfers ---- */

/* Every transfer moves at most 512 bytes a round. */
static int trickle(int res, size_t want)
{
	(void)want;
	short_calls++;
	return res > 512 ? 512 : res;
}

static void test_short_read_write(void **state)
{
	uint16_t h;
	uint32_t len;
	uint8_t buf[16384];

	(void)state;
	NEED_URING();
	short_calls = 0;
	bdaio_hooks.result = trickle;
	post(0, VIRTIO_BLK_T_IN, 3, 16384);
	run_queue();
	assert_true(vdrv_used(&drv, 0, &h, &len));
	assert_int_equal(len, 16385);
	assert_int_equal(status_of(0), VIRTIO_BLK_S_OK);
	check_read(0, 3, 16384);
	assert_true(short_calls >= 32);

	for (unsigned i = 0; i < 16384; i++)
		ram[DATA + 0x10000 + i] = (uint8_t)(i * 13);
	post(1, VIRTIO_BLK_T_OUT, 100, 16384);
	run_queue();
	assert_true(vdrv_used(&drv, 0, &h, &len));
	assert_int_equal(status_of(1), VIRTIO_BLK_S_OK);
	assert_int_equal(pread(fd, buf, 16384, 100 * 512), 16384);
	assert_memory_equal(buf, ram + DATA + 0x10000, 16384);
}

/* A write that moves nothing, and an error result: IOERR, never OK. */
static int write_nothing(int res, size_t want)
{
	(void)res;
	(void)want;
	return short_calls++ == 0 ? 0 : -EIO;
}

static void test_no_progress_is_ioerr(void **state)
{
	uint16_t h;
	uint32_t len;

	(void)state;
	NEED_URING();
	short_calls = 0;
	bdaio_hooks.result = write_nothing;
	post(0, VIRTIO_BLK_T_OUT, 8, 4096);
	run_queue();
	assert_true(vdrv_used(&drv, 0, &h, &len));
	assert_int_equal(len, 1);
	assert_int_equal(status_of(0), VIRTIO_BLK_S_IOERR);
	post(1, VIRTIO_BLK_T_IN, 8, 4096);
	run_queue();
	assert_true(vdrv_used(&drv, 0, &h, &len));
	assert_int_equal(len, 1);
	assert_int_equal(status_of(1), VIRTIO_BLK_S_IOERR);
}

/* ---- EINTR and EAGAIN ---- */

static int submit_calls;

/* io_uring_enter fails with EINTR, then EAGAIN, then works. */
static int submit_interrupted(struct io_uring *ring)
{
	switch (submit_calls++) {
	case 0:
	case 1:
		return -EINTR;
	case 2:
	case 3:
		return -EAGAIN;
	default:
		return io_uring_submit(ring);
	}
}

/* The first result of a transfer is -EAGAIN: the same again. */
static int again_first(int res, size_t want)
{
	(void)want;
	return short_calls++ == 0 ? -EAGAIN : res;
}

static void test_eintr_eagain(void **state)
{
	uint16_t h;
	uint32_t len;

	(void)state;
	NEED_URING();
	submit_calls = 0;
	short_calls = 0;
	bdaio_hooks.submit = submit_interrupted;
	bdaio_hooks.result = again_first;
	post(0, VIRTIO_BLK_T_IN, 16, 8192);
	post(1, VIRTIO_BLK_T_IN, 40, 512);
	run_queue();
	assert_true(vdrv_used(&drv, 0, &h, &len));
	assert_true(vdrv_used(&drv, 0, &h, &len));
	assert_int_equal(status_of(0), VIRTIO_BLK_S_OK);
	assert_int_equal(status_of(1), VIRTIO_BLK_S_OK);
	check_read(0, 16, 8192);
	check_read(1, 40, 512);
	assert_true(submit_calls >= 5);
}

/* ---- completions reaped by a refused submission ---- */

static int busy_calls;

/* The kernel takes the SQEs and completes them, then a later enter is
 * refused with EBUSY (completions waiting): the submission reaps them. */
static int submit_then_busy(struct io_uring *ring)
{
	if (busy_calls++ == 0) {
		int ret = io_uring_submit_and_wait(ring, 1);

		return ret < 0 ? ret : -EBUSY;
	}
	return io_uring_submit(ring);
}

static void test_busy_submit_interrupt(void **state)
{
	uint16_t h, hr;
	uint32_t len;
	uint64_t irqs;

	(void)state;
	NEED_URING();
	post(0, VIRTIO_BLK_T_IN, 0, 512);
	run_queue();
	assert_true(vdrv_used(&drv, 0, &h, &len));
	busy_calls = 0;
	bdaio_hooks.submit = submit_then_busy;
	hr = post(1, VIRTIO_BLK_T_IN, 24, 4096);
	*(uint16_t *)(ram + drv.q[0].avail + 4 + 2 * drv.q[0].size) =
		drv.q[0].last_used;
	irqs = blk->q[0].irqs;
	/* the pass pushes the request while submitting: nothing is left
	 * in flight for the eventfd's handler, which reaps nothing */
	blk->desc.ops->queue_notify(blk, 0);
	assert_true(vdrv_used(&drv, 0, &h, &len));
	assert_int_equal(h, hr);
	assert_int_equal(status_of(1), VIRTIO_BLK_S_OK);
	check_read(1, 24, 4096);
	/* yet the driver that asked for an interrupt gets one */
	assert_int_equal(blk->q[0].irqs - irqs, 1);
}

/* ---- a submission refused for longer than bdaio_submit tries ---- */

/* io_uring_enter fails with EAGAIN (the kernel short of memory) for
 * longer than one call of bdaio_submit and one round of bdaio_wait keep
 * trying, then works. */
static int submit_starved(struct io_uring *ring)
{
	return submit_calls++ < 2500 ? -EAGAIN : io_uring_submit(ring);
}

static int starved_done;

static void count_done(void *opaque, void *tag, int ret)
{
	(void)opaque;
	(void)tag;
	starved_done = ret ? -1 : starved_done + 1;
}

static void test_submit_starved(void **state)
{
	struct blockdev_opts o = { .path = path, .format = "raw" };
	struct blockdev *bd;
	struct bdaio *a;
	uint8_t buf[4096] __attribute__((aligned(4096)));
	struct iovec v = { buf, sizeof(buf) };
	uint64_t cnt = 0;
	char err[256];

	(void)state;
	NEED_URING();
	assert_int_equal(blockdev_open(&o, &bd, err, sizeof(err)), 0);
	assert_int_equal(bdaio_new(bd, 4, count_done, NULL, &a), 0);
	submit_calls = 0;
	starved_done = 0;
	bdaio_hooks.submit = submit_starved;
	assert_int_equal(bdaio_rw(a, false, &v, 1, 32 * 512, NULL), 0);
	bdaio_submit(a);
	assert_true(submit_calls > 1000 && submit_calls < 2500);
	/* left queued, and the owner's thread is told to come back */
	assert_int_equal(read(bdaio_fd(a), &cnt, sizeof(cnt)), sizeof(cnt));
	assert_int_equal(starved_done, 0);
	/* the wait (a reset, a stop) submits again until the kernel takes
	 * it, instead of waiting for a completion nothing would post */
	bdaio_wait(a);
	assert_int_equal(starved_done, 1);
	assert_int_equal(bdaio_inflight(a), 0);
	for (unsigned i = 0; i < sizeof(buf); i++)
		if (buf[i] != pattern(32 * 512 + i))
			fail_msg("byte %u", i);
	bdaio_free(a);
	blockdev_close(bd);
}

/* ---- busy-polling ---- */

static bool hold_submit;

/* The kernel refuses submissions (EAGAIN) while hold_submit is set. */
static int submit_held(struct io_uring *ring)
{
	return hold_submit ? -EAGAIN : io_uring_submit(ring);
}

/* Two reads queued but not yet taken by the kernel (it refused them: the
 * queue's thread is told to come back through the completion eventfd),
 * then a third added without a kick (kicks are off with requests in
 * flight). One round of the queue's loop, which submits the two: with
 * polling, the poll finds the third on the ring before any completion
 * and takes it; without, only a completion would. */
static void poll_round(bool polling)
{
	struct evloop *l = virtio_pci_queue_loop(blk, 0);
	struct vring_used *u = (struct vring_used *)(ram + drv.q[0].used);

	/* what the set-up left for the loop (DRIVER_OK replays kicks) */
	while (evloop_run_ready(l, 0) > 0)
		;
	hold_submit = true;
	bdaio_hooks.submit = submit_held;
	post(0, VIRTIO_BLK_T_IN, 8, 4096);
	post(1, VIRTIO_BLK_T_IN, 16, 4096);
	blk->desc.ops->queue_notify(blk, 0);
	assert_int_equal(blk->vqs[0].inflight, 2);
	assert_int_equal(u->idx, 0);
	post(2, VIRTIO_BLK_T_IN, 24, 4096);
	hold_submit = false;
	assert_true(evloop_run_ready(l, 0) >= 0);
	assert_int_equal(blk->vqs[0].last_avail_idx, polling ? 3 : 2);
	/* and everything completes through the loop either way */
	for (int tries = 0; u->idx != 3 && tries < 100; tries++)
		evloop_run_ready(l, 50);
	assert_int_equal(u->idx, 3);
	for (unsigned r = 0; r < 3; r++) {
		assert_int_equal(status_of(r), VIRTIO_BLK_S_OK);
		check_read(r, 8 * (r + 1), 4096);
	}
}

static void test_poll_takes_unkicked(void **state)
{
	(void)state;
	NEED_URING();
	poll_round(true);
}

static void test_no_poll_waits_for_completion(void **state)
{
	(void)state;
	NEED_URING();
	poll_round(false);
}

/* ---- reset with requests in flight ---- */

static void test_reset_waits(void **state)
{
	uint16_t h;
	uint32_t len;
	struct vring_used *u = (struct vring_used *)(ram + drv.q[0].used);

	(void)state;
	NEED_URING();
	for (unsigned r = 0; r < NREQ; r++)
		post(r, VIRTIO_BLK_T_IN, 8 * r, 4096);
	blk->desc.ops->queue_notify(blk, 0); /* in flight, not reaped */
	/* status 0: the transport resets the queue, which first finishes
	 * what is in flight into the ring it came from */
	VDRV_WR(&drv, device_status, 0);
	assert_int_equal(u->idx, NREQ);
	for (unsigned r = 0; r < NREQ; r++)
		assert_int_equal(status_of(r), VIRTIO_BLK_S_OK);
	assert_false(blk->vqs[0].ready);
	/* and nothing arrives afterwards */
	blk->desc.ops->queue_flush(blk, 0);
	assert_int_equal(u->idx, NREQ);
	(void)h;
	(void)len;
}

/* ---- kicks off while requests are in flight ---- */

/* Wait for the queue's completion eventfd and run its handler, as the
 * queue's I/O thread would; false if nothing came within 5 s. */
static bool serve_completions(void)
{
	return evloop_run_ready(virtio_pci_queue_loop(blk, 0), 5000) > 0;
}

/* Two reads in flight: the driver is asked not to kick (avail_event left
 * behind with EVENT_IDX, else NO_NOTIFY). A third one it adds without
 * kicking is taken when the first completions come back, and kicks are
 * wanted again once nothing is in flight. */
static void test_kicks_off_in_flight(void **state)
{
	struct vring_used *u = (struct vring_used *)(ram + drv.q[0].used);
	uint16_t *avail_event = (uint16_t *)&u->ring[drv.q[0].size];
	bool event_idx = blk->vqs[0].event_idx;
	uint64_t kicks;
	unsigned got = 0;
	uint16_t h;
	uint32_t len;

	(void)state;
	NEED_URING();
	post(0, VIRTIO_BLK_T_IN, 8, 4096);
	post(1, VIRTIO_BLK_T_IN, 16, 4096);
	blk->desc.ops->queue_notify(blk, 0);
	assert_true(blk->vqs[0].inflight > 0 || u->idx == 2);
	if (blk->vqs[0].inflight) {
		if (event_idx)
			assert_int_equal(*avail_event, 0);
		else
			assert_int_equal(u->flags, VRING_USED_F_NO_NOTIFY);
	}
	/* what a driver decides when it adds the third (2.7.10) */
	kicks = event_idx ? (uint16_t)(3 - *avail_event - 1) < (uint16_t)(3 - 2)
			  : !(u->flags & VRING_USED_F_NO_NOTIFY);
	post(2, VIRTIO_BLK_T_IN, 24, 4096);
	if (kicks) /* everything was done already: the driver kicks */
		blk->desc.ops->queue_notify(blk, 0);
	for (int tries = 0; u->idx != 3 && tries < 100; tries++)
		assert_true(serve_completions());
	assert_int_equal(u->idx, 3);
	while (vdrv_used(&drv, 0, &h, &len))
		got++;
	assert_int_equal(got, 3);
	for (unsigned r = 0; r < 3; r++) {
		assert_int_equal(status_of(r), VIRTIO_BLK_S_OK);
		check_read(r, 8 * (r + 1), 4096);
	}
	/* nothing in flight: kicks wanted again */
	assert_int_equal(blk->vqs[0].inflight, 0);
	if (event_idx)
		assert_int_equal(*avail_event, 3);
	assert_int_equal(u->flags, 0);
}

/* A request alone in flight is waited for by the pass that took it: its
 * used entry and interrupt are there when the pass returns, and the
 * completion eventfd does not wake the queue's thread for it again. */
static void test_lone_request_inline(void **state)
{
	struct vring_used *u = (struct vring_used *)(ram + drv.q[0].used);
	uint64_t irqs;
	uint16_t h, hr;
	uint32_t len;

	(void)state;
	NEED_URING();
	/* with kicks back on after every pass too */
	blk->vqs[0].quiet_depth = 0;
	/* kicks replayed at DRIVER_OK, served before the test starts */
	while (evloop_run_ready(virtio_pci_queue_loop(blk, 0), 0) > 0)
		;
	hr = post(0, VIRTIO_BLK_T_IN, 40, 4096);
	irqs = blk->q[0].irqs;
	blk->desc.ops->queue_notify(blk, 0);
	assert_int_equal(u->idx, 1);
	assert_true(vdrv_used(&drv, 0, &h, &len));
	assert_int_equal(h, hr);
	assert_int_equal(len, 4097);
	assert_int_equal(status_of(0), VIRTIO_BLK_S_OK);
	check_read(0, 40, 4096);
	assert_int_equal(blk->q[0].irqs - irqs, 1);
	assert_int_equal(blk->vqs[0].inflight, 0);
	assert_int_equal(u->flags, 0);
	/* nothing ready on the queue's thread: the completion eventfd was
	 * off during the wait (IORING_CQ_EVENTFD_DISABLED, Linux 5.8) */
	assert_int_equal(evloop_run_ready(virtio_pci_queue_loop(blk, 0), 0), 0);
}

/* A driver that adds one request each time the one in flight is handed
 * to the kernel keeps a request alone in flight at every pass: a pass
 * still ends after as many requests as one drain may take (64), and the
 * queue kicks itself for the rest, so that a reset or a stop queued for
 * its thread gets in between. */
#define HOSTILE_POSTS 200

static unsigned hostile_posted;

static int submit_and_post(struct io_uring *ring)
{
	if (hostile_posted < HOSTILE_POSTS) {
		post(hostile_posted % 2, VIRTIO_BLK_T_IN, 0, 512);
		hostile_posted++;
	}
	return io_uring_submit(ring);
}

static void test_lone_chain_bounded(void **state)
{
	struct vring_used *u = (struct vring_used *)(ram + drv.q[0].used);

	(void)state;
	NEED_URING();
	/* kicks back on after every pass, and kicks off while one request
	 * is in flight (the default) */
	for (uint16_t depth = 0; depth < 2; depth++) {
		uint16_t start;

		blk->vqs[0].quiet_depth = depth;
		while (evloop_run_ready(virtio_pci_queue_loop(blk, 0), 0) > 0)
			;
		start = u->idx;
		hostile_posted = 1;
		post(0, VIRTIO_BLK_T_IN, 0, 512);
		bdaio_hooks.submit = submit_and_post;
		blk->desc.ops->queue_notify(blk, 0);
		assert_in_range((uint16_t)(u->idx - start), 1, 64);
		/* the rest through the kick the pass left for itself */
		for (int tries = 0; (uint16_t)(u->idx - start) != HOSTILE_POSTS &&
				    tries < 100; tries++)
			assert_true(evloop_run_ready(virtio_pci_queue_loop(blk, 0),
						     5000) > 0);
		assert_int_equal((uint16_t)(u->idx - start), HOSTILE_POSTS);
		assert_int_equal(hostile_posted, HOSTILE_POSTS);
		bdaio_hooks.submit = NULL;
	}
}

/* ---- ring set-up flags ---- */

static int refuse_taskrun(unsigned entries, struct io_uring *ring,
			  struct io_uring_params *par)
{
	if (par->flags & (IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG))
		return -EINVAL; /* a kernel before 5.19 */
	return io_uring_queue_init_params(entries, ring, par);
}

struct rt {
	unsigned done;
	int ret;
};

static void rt_done(void *opaque, void *tag, int ret)
{
	struct rt *r = opaque;

	(void)tag;
	r->done++;
	if (ret)
		r->ret = ret;
}

/* A context on the test's file: a 4 KiB write and its read back, both
 * in flight until the context's eventfd says so (poll, as the queue's
 * epoll loop waits), then reaped. Returns the ring's set-up flags. */
static unsigned rt_round_trip(void)
{
	struct blockdev_opts o = { .path = path, .format = "raw",
				   .cache = BLOCKDEV_CACHE_NONE };
	struct blockdev *bd;
	struct bdaio *a;
	struct rt r = { 0 };
	uint8_t *w = NULL, *g = NULL;
	unsigned flags;
	char err[256];

	if (blockdev_open(&o, &bd, err, sizeof(err))) {
		o.cache = BLOCKDEV_CACHE_WRITEBACK; /* tmpfs: no O_DIRECT */
		assert_int_equal(blockdev_open(&o, &bd, err, sizeof(err)), 0);
	}
	assert_int_equal(bdaio_new(bd, 8, rt_done, &r, &a), 0);
	flags = bdaio_ring_flags(a);
	assert_int_equal(posix_memalign((void **)&w, 4096, 4096), 0);
	assert_int_equal(posix_memalign((void **)&g, 4096, 4096), 0);
	for (unsigned i = 0; i < 4096; i++)
		w[i] = (uint8_t)(i ^ 0xa5);
	memset(g, 0, 4096);
	for (int step = 0; step < 2; step++) {
		struct iovec v = { step ? g : w, 4096 };
		int ret = bdaio_rw(a, !step, &v, 1, 8192, NULL);

		assert_in_range(ret, 0, 1);
		if (ret == 1)
			continue; /* done at once (not on the kernel's ring) */
		bdaio_submit(a);
		while (r.done < (unsigned)step + 1) {
			struct pollfd pf = { bdaio_fd(a), POLLIN, 0 };
			uint64_t cnt;

			assert_int_equal(poll(&pf, 1, 5000), 1);
			assert_true(read(bdaio_fd(a), &cnt, sizeof(cnt)) > 0);
			bdaio_reap(a);
		}
	}
	assert_int_equal(r.ret, 0);
	assert_memory_equal(g, w, 4096);
	bdaio_free(a);
	blockdev_close(bd);
	free(w);
	free(g);
	return flags;
}

/* The ring is made with COOP_TASKRUN and TASKRUN_FLAG where the kernel
 * has them (both or neither), and completions still wake a thread that
 * sleeps on the eventfd; a kernel that refuses them (EINVAL) gets a ring
 * without, which works the same. */
static void test_ring_flags_fallback(void **state)
{
	const unsigned coop = IORING_SETUP_COOP_TASKRUN |
			      IORING_SETUP_TASKRUN_FLAG;
	unsigned f;

	(void)state;
	NEED_URING();
	f = rt_round_trip();
	assert_true((f & coop) == coop || (f & coop) == 0);
	bdaio_hooks.setup = refuse_taskrun;
	f = rt_round_trip();
	assert_int_equal(f & coop, 0);
	bdaio_hooks.setup = NULL;
}

/* ---- qcow2: two contexts on one image ---- */

#define Q_SIZE (4 << 20)
#define Q_HALF (Q_SIZE / 2)

struct qctx {
	struct blockdev *bd;
	uint64_t base;          /* its half of the disk */
	uint8_t *model;         /* what its half holds */
	int fails;
	unsigned done, pending, async;
};

static void qdone(void *opaque, void *tag, int ret)
{
	struct qctx *c = opaque;

	(void)tag;
	if (ret)
		c->fails++;
	c->done++;
	c->pending--;
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 9));
}

/* Rounds of 8 requests in flight at once: writes of 1-40 sectors at
 * random sector offsets of its half (across cluster edges, new and
 * allocated clusters), then reads of the same ranges, checked. */
static void *qworker(void *arg)
{
	struct qctx *c = arg;
	struct bdaio *a;
	uint8_t *buf[8], *got[8];
	uint64_t off[8];
	size_t len[8];
	unsigned seed = (unsigned)c->base;

	if (bdaio_new(c->bd, 16, qdone, c, &a)) {
		c->fails = -1000;
		return NULL;
	}
	for (int i = 0; i < 8; i++) {
		buf[i] = malloc(40 * 512);
		got[i] = malloc(40 * 512);
	}
	for (int round = 0; round < 60; round++) {
		for (int i = 0; i < 8; i++) {
			seed = seed * 1103515245 + 12345;
			len[i] = 512 * (1 + (seed >> 8) % 40);
			/* distinct slots: no two requests of a round overlap */
			off[i] = (uint64_t)i * (Q_HALF / 8) +
				 512 * ((seed >> 16) % ((Q_HALF / 8 - len[i]) / 512));
			fill(buf[i], len[i], seed);
			struct iovec v[2] = { { buf[i], 512 },
					      { buf[i] + 512, len[i] - 512 } };
			int r = bdaio_rw(a, true, v, len[i] > 512 ? 2 : 1,
					 c->base + off[i], buf[i]);
			if (r == 0) {
				c->pending++;
				c->async++;
			} else if (r < 0) {
				c->fails++;
			}
			memcpy(c->model + off[i], buf[i], len[i]);
		}
		bdaio_submit(a);
		bdaio_wait(a);
		for (int i = 0; i < 8; i++) {
			struct iovec v = { got[i], len[i] };
			int r = bdaio_rw(a, false, &v, 1, c->base + off[i],
					 got[i]);
			if (r == 0)
				c->pending++;
			else if (r < 0)
				c->fails++;
		}
		bdaio_wait(a);
		for (int i = 0; i < 8; i++)
			if (memcmp(got[i], c->model + off[i], len[i]))
				c->fails++;
		if (round % 20 == 19 && bdaio_flush(a, NULL) < 0)
			c->fails++;
		bdaio_wait(a);
	}
	bdaio_free(a);
	for (int i = 0; i < 8; i++) {
		free(buf[i]);
		free(got[i]);
	}
	return NULL;
}

static void test_qcow2_two_contexts(void **state)
{
	char p[] = "/tmp/test_blk_aio_q.XXXXXX";
	char *create[] = { "img", "create", "-f", "qcow2", "-o",
			   "cluster_size=4096", p, "4M", NULL };
	char *check[] = { "img", "check", p, NULL };
	struct blockdev_opts o = { .path = p, .format = "qcow2" };
	struct qctx c[2];
	pthread_t t[2];
	struct blockdev *bd;
	struct bdaio *probe;
	char err[256];
	uint8_t *all;

	(void)state;
	NEED_URING();
	int qfd = mkstemp(p);
	assert_true(qfd >= 0);
	close(qfd);
	assert_int_equal(img_main(8, create), 0);
	assert_int_equal(blockdev_open(&o, &bd, err, sizeof(err)), 0);
	assert_int_equal(bdaio_new(bd, 4, qdone, NULL, &probe), 0);
	bdaio_free(probe);
	for (int i = 0; i < 2; i++) {
		c[i] = (struct qctx){ .bd = bd, .base = (uint64_t)i * Q_HALF,
				      .model = calloc(1, Q_HALF) };
		assert_int_equal(pthread_create(&t[i], NULL, qworker, &c[i]),
				 0);
	}
	uint8_t *model0 = c[0].model;

	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(c[i].fails, 0);
		assert_int_equal(c[i].pending, 0);
		assert_true(c[i].async > 100); /* allocated clusters: async */
	}
	/* the whole disk, synchronously, as the models say */
	all = malloc(Q_SIZE);
	struct iovec v = { all, Q_SIZE };
	assert_int_equal(blockdev_preadv(bd, &v, 1, 0), 0);
	assert_memory_equal(all, c[0].model, Q_HALF);
	assert_memory_equal(all + Q_HALF, c[1].model, Q_HALF);
	/* and in one asynchronous request: the clusters were allocated in
	 * random order, so it is cut into more pieces than one request may
	 * have in flight; the rest goes the synchronous way */
	memset(all, 0xee, Q_SIZE);
	c[0] = (struct qctx){ .bd = bd };
	assert_int_equal(bdaio_new(bd, 4, qdone, &c[0], &probe), 0);
	int r = bdaio_rw(probe, false, &v, 1, 0, NULL);
	assert_true(r >= 0);
	if (r == 0)
		c[0].pending++;
	bdaio_wait(probe);
	bdaio_free(probe);
	assert_int_equal(c[0].fails, 0);
	assert_int_equal(c[0].pending, 0);
	assert_memory_equal(all, model0, Q_HALF);
	assert_memory_equal(all + Q_HALF, c[1].model, Q_HALF);
	blockdev_close(bd);
	assert_int_equal(img_main(3, check), 0);
	free(all);
	free(model0);
	free(c[1].model);
	unlink(p);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_completion_order),
		T(test_flush_after_writes),
		T(test_kicks_off_in_flight),
		T(test_lone_request_inline),
		T(test_lone_chain_bounded),
		T(test_short_read_write),
		T(test_no_progress_is_ioerr),
		T(test_busy_submit_interrupt),
		T(test_submit_starved),
		T(test_eintr_eagain),
		T(test_reset_waits),
		T(test_qcow2_two_contexts),
		T(test_ring_flags_fallback),
		cmocka_unit_test_setup_teardown(test_poll_takes_unkicked,
						setup_poll, teardown),
		T(test_no_poll_waits_for_completion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
