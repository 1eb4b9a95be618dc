/* SPDX-License-Identifier: MIT
 * Unit tests: virtio-blk request parsing and status codes, data buffers
 * in the wrong direction, NEEDS_RESET for a chain without a status byte
 * (virtio/blk.c)
 * over the real raw backend on a temporary file, driven through the real
 * virtio-pci transport by the small driver in virtio_drv.h (no threads:
 * queues are processed synchronously). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/virtio_blk.h>

#include "devices/disk/blockdev.h"
#include "fake_vm.h"
#include "log_capture.h"
#include "virtio/blk.h"
#include "virtio/virtio_pci.h"
#include "virtio_drv.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define RAM_SIZE (8 << 20)
#define DISK_SIZE (4 << 20)
#define SECTORS (DISK_SIZE / 512)
#define HDR 0x10000
#define STATUS 0x10100
#define SEGS 0x10200
#define DATA 0x200000
#define QBASE 0x100000

static struct vm vm;
static uint8_t *ram;
static char path[] = "/tmp/test_virtio_blk.XXXXXX";
static int fd = -1;
static struct virtio_dev *blk; /* not attached: driven through BAR 0 */
static struct vdrv drv;

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + off / 512);
}

static int open_dev(bool readonly)
{
	struct blockdev_opts o = { .path = path, .format = "raw",
				   .readonly = readonly };
	struct virtio_blk_cfg bc = { .serial = "SERIAL-0123456789-XYZ",
				     .nr_queues = 2 };
	char err[256];
	uint64_t feat;

	assert_int_equal(blockdev_open(&o, &bc.bd, err, sizeof(err)), 0);
	assert_int_equal(virtio_blk_create(&vm, &bc, &blk), 0);
	drv.dev = blk;
	drv.ram = ram;
	feat = vdrv_device_features(&drv);
	assert_true(vdrv_negotiate(&drv, feat) & VIRTIO_CONFIG_S_FEATURES_OK);
	vdrv_setup_queue(&drv, 0, 256, QBASE);
	vdrv_setup_queue(&drv, 1, 64, QBASE + 0x80000);
	vdrv_driver_ok(&drv);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	uint8_t *buf = malloc(DISK_SIZE);

	log_quiet = true;
	fake_vm_reset();
	memset(&vm, 0, sizeof(vm));
	ram = calloc(1, RAM_SIZE);
	assert_non_null(ram);
	assert_int_equal(gm_add_region(&vm.mem, 0, RAM_SIZE, ram), 0);
	strcpy(path, "/tmp/test_virtio_blk.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (uint64_t i = 0; i < DISK_SIZE; i++)
		buf[i] = pattern(i);
	assert_int_equal(pwrite(fd, buf, DISK_SIZE, 0), DISK_SIZE);
	free(buf);
	return open_dev(false);
}

static int teardown(void **state)
{
	(void)state;
	blk->dev.ops->free(&blk->dev);
	close(fd);
	unlink(path);
	free(ram);
	return 0;
}

static void reopen_readonly(void)
{
	blk->dev.ops->free(&blk->dev);
	open_dev(true);
}

static void set_hdr(uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };
	memcpy(ram + HDR, &h, sizeof(h));
	ram[STATUS] = 0xee;
}

/* Post bufs on queue qi, run the device, return the used length. */
static uint32_t run(unsigned qi, const struct vdrv_buf *b, unsigned n)
{
	uint16_t head, h2 = 0;
	uint32_t len = 0;

	head = vdrv_post(&drv, qi, b, n, false);
	vdrv_kick(&drv, qi);
	assert_true(vdrv_used(&drv, qi, &h2, &len));
	assert_int_equal(h2, head);
	return len;
}

/* The usual 3-part request; data writable for reads. */
static uint8_t rw(uint32_t type, uint64_t sector, uint32_t len)
{
	struct vdrv_buf b[3] = {
		{ HDR, 16, false },
		{ DATA, len, type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID },
		{ STATUS, 1, true },
	};
	set_hdr(type, sector);
	run(0, b, 3);
	return ram[STATUS];
}

static struct virtio_blk_config cfg(void)
{
	struct virtio_blk_config c;
	for (unsigned i = 0; i < sizeof(c); i++)
		((uint8_t *)&c)[i] = (uint8_t)vdrv_rd(&drv, VIRTIO_PCI_DEVICE_OFF + i, 1);
	return c;
}

/* ---- tests ---- */

static void test_config_and_features(void **state)
{
	(void)state;
	struct virtio_blk_config c = cfg();
	uint64_t f = vdrv_device_features(&drv);

	assert_int_equal(c.capacity, SECTORS);
	assert_int_equal(c.seg_max, VIRTIO_BLK_QUEUE_SIZE - 2);
	assert_int_equal(c.blk_size, 512);
	assert_int_equal(c.num_queues, 2);
	assert_true(c.max_discard_seg > 0);
	assert_true(c.max_write_zeroes_sectors > 0);
	/* 8-byte read of the capacity in one access */
	uint64_t cap = 0;
	virtio_pci_bar_access(drv.dev, VIRTIO_PCI_DEVICE_OFF, &cap, 8, false);
	assert_int_equal(cap, SECTORS);
	assert_true(f & (1ULL << VIRTIO_F_VERSION_1));
	assert_true(f & (1ULL << VIRTIO_BLK_F_FLUSH));
	assert_true(f & (1ULL << VIRTIO_BLK_F_SEG_MAX));
	assert_true(f & (1ULL << VIRTIO_BLK_F_BLK_SIZE));
	assert_true(f & (1ULL << VIRTIO_BLK_F_MQ));
	assert_true(f & (1ULL << VIRTIO_BLK_F_DISCARD));
	assert_true(f & (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	assert_false(f & (1ULL << VIRTIO_BLK_F_RO));
	assert_int_equal(pci_cfg_read(&drv.dev->pci, 2, 2), 0x1042);
}

static void test_read(void **state)
{
	(void)state;
	struct vdrv_buf b[3] = {
		{ HDR, 16, false }, { DATA, 4096, true }, { STATUS, 1, true } };

	set_hdr(VIRTIO_BLK_T_IN, 3);
	assert_int_equal(run(0, b, 3), 4097);
	assert_int_equal(ram[STATUS], VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 4096; i++)
		assert_int_equal(ram[DATA + i], pattern(3 * 512 + i));
}

static void test_write(void **state)
{
	(void)state;
	uint8_t back[1024];

	memset(ram + DATA, 0xab, 1024);
	assert_int_equal(rw(VIRTIO_BLK_T_OUT, SECTORS - 2, 1024),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(pread(fd, back, 1024, DISK_SIZE - 1024), 1024);
	for (unsigned i = 0; i < 1024; i++)
		assert_int_equal(back[i], 0xab);
	/* neighbours untouched */
	assert_int_equal(pread(fd, back, 1, DISK_SIZE - 1025), 1);
	assert_int_equal(back[0], pattern(DISK_SIZE - 1025));
}

static void test_out_of_range(void **state)
{
	(void)state;
	assert_int_equal(rw(VIRTIO_BLK_T_IN, SECTORS, 512), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(VIRTIO_BLK_T_IN, SECTORS - 1, 1024),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(VIRTIO_BLK_T_OUT, SECTORS - 1, 1024),
			 VIRTIO_BLK_S_IOERR);
	/* sector * 512 would overflow 64 bits */
	assert_int_equal(rw(VIRTIO_BLK_T_IN, 1ULL << 55, 512),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(VIRTIO_BLK_T_OUT, UINT64_MAX, 512),
			 VIRTIO_BLK_S_IOERR);
	/* not a multiple of 512 */
	assert_int_equal(rw(VIRTIO_BLK_T_IN, 0, 513), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(VIRTIO_BLK_T_OUT, 0, 100), VIRTIO_BLK_S_IOERR);
	/* the last sector exactly is fine */
	assert_int_equal(rw(VIRTIO_BLK_T_IN, SECTORS - 1, 512), VIRTIO_BLK_S_OK);
}

static void test_flush_get_id_unsupported(void **state)
{
	(void)state;
	struct vdrv_buf b[2] = { { HDR, 16, false }, { STATUS, 1, true } };
	struct vdrv_buf g[3] = {
		{ HDR, 16, false }, { DATA, 8, true }, { STATUS, 1, true } };

	set_hdr(VIRTIO_BLK_T_FLUSH, 0);
	assert_int_equal(run(0, b, 2), 1);
	assert_int_equal(ram[STATUS], VIRTIO_BLK_S_OK);

	memset(ram + DATA, 0, 32);
	assert_int_equal(rw(VIRTIO_BLK_T_GET_ID, 0, 20), VIRTIO_BLK_S_OK);
	/* 20 bytes, no terminator when the serial is that long */
	assert_memory_equal(ram + DATA, "SERIAL-0123456789-XY", 20);
	assert_int_equal(ram[DATA + 20], 0);
	/* a short buffer gets what fits */
	memset(ram + DATA, 0, 32);
	set_hdr(VIRTIO_BLK_T_GET_ID, 0);
	assert_int_equal(run(0, g, 3), 9);
	assert_memory_equal(ram + DATA, "SERIAL-0", 8);
	assert_int_equal(ram[DATA + 8], 0);

	set_hdr(99, 0);
	assert_int_equal(run(0, b, 2), 1);
	assert_int_equal(ram[STATUS], VIRTIO_BLK_S_UNSUPP);
	set_hdr(2 /* legacy SCSI_CMD */, 0);
	run(0, b, 2);
	assert_int_equal(ram[STATUS], VIRTIO_BLK_S_UNSUPP);
}

static uint8_t segs(uint32_t type, const struct virtio_blk_discard_write_zeroes *s,
		    unsigned n, uint32_t len_override)
{
	struct vdrv_buf b[3] = {
		{ HDR, 16, false },
		{ SEGS, len_override ? len_override : n * 16, false },
		{ STATUS, 1, true } };
	memcpy(ram + SEGS, s, n * sizeof(*s));
	set_hdr(type, 0);
	run(0, b, 3);
	return ram[STATUS];
}

static void test_discard_write_zeroes(void **state)
{
	(void)state;
	struct virtio_blk_discard_write_zeroes s[2] = {
		{ .sector = 8, .num_sectors = 8, .flags = 0 },
		{ .sector = 64, .num_sectors = 16,
		  .flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP } };
	uint8_t back[8192];

	assert_int_equal(segs(VIRTIO_BLK_T_WRITE_ZEROES, s, 2, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(pread(fd, back, 4096, 8 * 512), 4096);
	for (unsigned i = 0; i < 4096; i++)
		assert_int_equal(back[i], 0);
	assert_int_equal(pread(fd, back, 8192, 64 * 512), 8192);
	for (unsigned i = 0; i < 8192; i++)
		assert_int_equal(back[i], 0);
	/* the sector after is untouched */
	assert_int_equal(pread(fd, back, 1, 16 * 512), 1);
	assert_int_equal(back[0], pattern(16 * 512));

	/* discard: plain is OK; with the UNMAP flag it is UNSUPP */
	s[1].flags = 0;
	assert_int_equal(segs(VIRTIO_BLK_T_DISCARD, s, 2, 0), VIRTIO_BLK_S_OK);
	s[1].flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	assert_int_equal(segs(VIRTIO_BLK_T_DISCARD, s, 2, 0), VIRTIO_BLK_S_UNSUPP);
	/* unknown flag */
	s[1].flags = 0x10;
	assert_int_equal(segs(VIRTIO_BLK_T_WRITE_ZEROES, s, 2, 0),
			 VIRTIO_BLK_S_UNSUPP);
	/* beyond the end / overflowing */
	s[1] = (struct virtio_blk_discard_write_zeroes){ .sector = SECTORS - 1,
							 .num_sectors = 2 };
	assert_int_equal(segs(VIRTIO_BLK_T_WRITE_ZEROES, s, 2, 0),
			 VIRTIO_BLK_S_IOERR);
	s[1] = (struct virtio_blk_discard_write_zeroes){ .sector = UINT64_MAX,
							 .num_sectors = 1 };
	assert_int_equal(segs(VIRTIO_BLK_T_DISCARD, s, 2, 0), VIRTIO_BLK_S_IOERR);
	/* segment list not a multiple of 16 bytes, or empty */
	assert_int_equal(segs(VIRTIO_BLK_T_DISCARD, s, 1, 20), VIRTIO_BLK_S_UNSUPP);
	{
		struct vdrv_buf b[2] = { { HDR, 16, false }, { STATUS, 1, true } };
		set_hdr(VIRTIO_BLK_T_DISCARD, 0);
		run(0, b, 2);
		assert_int_equal(ram[STATUS], VIRTIO_BLK_S_UNSUPP);
	}
	/* more segments than max_discard_seg */
	{
		struct virtio_blk_discard_write_zeroes many[64];
		memset(many, 0, sizeof(many));
		assert_int_equal(segs(VIRTIO_BLK_T_DISCARD, many, 64, 0),
				 VIRTIO_BLK_S_UNSUPP);
	}
}

static void test_odd_framing(void **state)
{
	(void)state;
	/* header split 5 + 11, data in three pieces, the status byte sharing
	 * the last data buffer */
	struct vdrv_buf b[5] = {
		{ HDR, 5, false }, { HDR + 5, 11, false },
		{ DATA, 100, true }, { DATA + 1000, 412, true },
		{ DATA + 2000, 513, true } };

	set_hdr(VIRTIO_BLK_T_IN, 2);
	ram[DATA + 2512] = 0xee;
	assert_int_equal(run(0, b, 5), 1025);
	assert_int_equal(ram[DATA + 2512], VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(ram[DATA + i], pattern(1024 + i));
	for (unsigned i = 0; i < 412; i++)
		assert_int_equal(ram[DATA + 1000 + i], pattern(1124 + i));
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(ram[DATA + 2000 + i], pattern(1536 + i));
}

static void test_bad_framing(void **state)
{
	(void)state;
	/* header too short */
	struct vdrv_buf s[2] = { { HDR, 8, false }, { STATUS, 1, true } };
	set_hdr(VIRTIO_BLK_T_IN, 0);
	assert_int_equal(run(0, s, 2), 1);
	assert_int_equal(ram[STATUS], VIRTIO_BLK_S_IOERR);
	/* a read whose only writable byte is the status: zero-length read */
	struct vdrv_buf z[2] = { { HDR, 16, false }, { STATUS, 1, true } };
	set_hdr(VIRTIO_BLK_T_IN, 0);
	assert_int_equal(run(0, z, 2), 1);
	assert_int_equal(ram[STATUS], VIRTIO_BLK_S_OK);
	/* the device keeps working */
	assert_int_equal(rw(VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
}

/* Data buffers going the wrong way: IOERR, nothing transferred. */
static void test_wrong_direction(void **state)
{
	(void)state;
	uint8_t back[512];

	/* a write whose data is device-writable: the disk is not touched */
	memset(ram + DATA, 0x77, 512);
	{
		struct vdrv_buf b[3] = {
			{ HDR, 16, false }, { DATA, 512, true }, { STATUS, 1, true } };
		set_hdr(VIRTIO_BLK_T_OUT, 0);
		assert_int_equal(run(0, b, 3), 1);
		assert_int_equal(ram[STATUS], VIRTIO_BLK_S_IOERR);
		assert_int_equal(ram[DATA], 0x77);
	}
	assert_int_equal(pread(fd, back, 512, 0), 512);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(back[i], pattern(i));
	/* a read into a device-readable buffer: it is not written */
	{
		struct vdrv_buf b[3] = {
			{ HDR, 16, false }, { DATA, 512, false }, { STATUS, 1, true } };
		set_hdr(VIRTIO_BLK_T_IN, 0);
		assert_int_equal(run(0, b, 3), 1);
		assert_int_equal(ram[STATUS], VIRTIO_BLK_S_IOERR);
		for (unsigned i = 0; i < 512; i++)
			assert_int_equal(ram[DATA + i], 0x77);
	}
	/* data split across both parts: IOERR either way */
	{
		struct vdrv_buf b[4] = {
			{ HDR, 16, false }, { DATA, 512, false },
			{ DATA + 512, 512, true }, { STATUS, 1, true } };
		set_hdr(VIRTIO_BLK_T_OUT, 0);
		assert_int_equal(run(0, b, 4), 1);
		assert_int_equal(ram[STATUS], VIRTIO_BLK_S_IOERR);
		set_hdr(VIRTIO_BLK_T_IN, 0);
		assert_int_equal(run(0, b, 4), 1);
		assert_int_equal(ram[STATUS], VIRTIO_BLK_S_IOERR);
	}
	assert_false(VDRV_RD(&drv, device_status) & VIRTIO_CONFIG_S_NEEDS_RESET);
	/* the device keeps working */
	assert_int_equal(rw(VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(ram[DATA + 1], pattern(1));
}

/* No writable byte for the status: the request cannot be completed, the
 * driver broke the format, the device needs a reset. */
static void test_no_status_byte_needs_reset(void **state)
{
	(void)state;
	struct vdrv_buf n[2] = { { HDR, 16, false }, { DATA, 512, false } };
	uint16_t h;
	uint32_t l;

	set_hdr(VIRTIO_BLK_T_OUT, 0);
	vdrv_post(&drv, 0, n, 2, false);
	/* a good request behind it is not processed either */
	{
		struct vdrv_buf b[3] = {
			{ HDR, 16, false }, { DATA, 512, true }, { STATUS, 1, true } };
		vdrv_post(&drv, 0, b, 3, false);
	}
	vdrv_kick(&drv, 0);
	assert_true(VDRV_RD(&drv, device_status) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_false(vdrv_used(&drv, 0, &h, &l));
	assert_int_equal(ram[STATUS], 0xee);
	/* a reset brings it back */
	assert_true(vdrv_negotiate(&drv, vdrv_device_features(&drv)) &
		    VIRTIO_CONFIG_S_FEATURES_OK);
	vdrv_setup_queue(&drv, 0, 256, QBASE);
	vdrv_driver_ok(&drv);
	assert_int_equal(rw(VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
}

static void test_indirect_and_second_queue(void **state)
{
	(void)state;
	struct vdrv_buf b[4] = {
		{ HDR, 16, false }, { DATA, 512, true }, { DATA + 4096, 512, true },
		{ STATUS, 1, true } };
	uint16_t head, h2 = 0;
	uint32_t len = 0;

	set_hdr(VIRTIO_BLK_T_IN, 10);
	head = vdrv_post(&drv, 1, b, 4, true);
	vdrv_kick(&drv, 1);
	assert_true(vdrv_used(&drv, 1, &h2, &len));
	assert_int_equal(h2, head);
	assert_int_equal(len, 1025);
	assert_int_equal(ram[STATUS], VIRTIO_BLK_S_OK);
	assert_int_equal(ram[DATA + 4096 + 5], pattern(11 * 512 + 5));
}

/* One run serves at most 64 requests and kicks the queue again for the
 * rest: a driver can keep the thread busy, never inside one run. */
static void test_run_budget(void **state)
{
	(void)state;
	struct vdrv_buf b[2] = { { HDR, 16, false }, { STATUS, 1, true } };
	uint64_t kicks = 0;
	uint16_t h;
	uint32_t l;
	unsigned used = 0;

	set_hdr(VIRTIO_BLK_T_FLUSH, 0);
	for (int i = 0; i < 100; i++)
		vdrv_post(&drv, 0, b, 2, false);
	vdrv_kick(&drv, 0);
	while (vdrv_used(&drv, 0, &h, &l))
		used++;
	assert_int_equal(used, 64);
	assert_int_equal(read(blk->q[0].efd, &kicks, sizeof(kicks)), 8);
	vdrv_kick(&drv, 0);
	while (vdrv_used(&drv, 0, &h, &l))
		used++;
	assert_int_equal(used, 100);
}

static void test_malformed_ring_needs_reset(void **state)
{
	(void)state;
	struct vring_avail *a = (struct vring_avail *)(ram + drv.q[0].avail);

	a->ring[a->idx % 256] = 300; /* head >= queue size */
	a->idx++;
	vdrv_kick(&drv, 0);
	assert_true(VDRV_RD(&drv, device_status) & VIRTIO_CONFIG_S_NEEDS_RESET);
	/* queue 1 is another queue but the whole device needs a reset */
	uint16_t h;
	uint32_t l;
	assert_false(vdrv_used(&drv, 0, &h, &l));
}

/* 10000 cycles of a guest that breaks the device and resets it: requests
 * without a status byte, a malformed ring, a ring outside RAM. Each cycle
 * warns, but the device's warnings share one budget: at most
 * LOG_BUDGET_MAX lines and the one saying the rest are suppressed. */
static void test_hostile_cycles_bounded_log(void **state)
{
	(void)state;
	struct vdrv_buf n[2] = { { HDR, 16, false }, { DATA, 512, false } };
	struct log_capture cap;
	char last[256];
	unsigned lines;

	log_guest_total = (struct log_budget){ 0 }; /* earlier tests' warnings */
	log_capture_start(&cap);
	for (int i = 0; i < 10000; i++) {
		struct vring_avail *a;

		vdrv_negotiate(&drv, vdrv_device_features(&drv));
		switch (i % 3) {
		case 0: /* a request without a status byte */
			vdrv_setup_queue(&drv, 0, 256, QBASE);
			vdrv_driver_ok(&drv);
			set_hdr(VIRTIO_BLK_T_OUT, 0);
			vdrv_post(&drv, 0, n, 2, false);
			vdrv_kick(&drv, 0);
			break;
		case 1: /* a head outside the queue */
			vdrv_setup_queue(&drv, 0, 256, QBASE);
			vdrv_driver_ok(&drv);
			a = (struct vring_avail *)(ram + drv.q[0].avail);
			a->ring[a->idx % 256] = 300;
			a->idx++;
			vdrv_kick(&drv, 0);
			break;
		case 2: /* a ring that runs off the end of RAM */
			VDRV_WR(&drv, queue_select, 0);
			VDRV_WR(&drv, queue_desc_lo, RAM_SIZE - 16);
			VDRV_WR(&drv, queue_enable, 1);
			break;
		}
		assert_true(VDRV_RD(&drv, device_status) &
			    VIRTIO_CONFIG_S_NEEDS_RESET);
	}
	lines = log_capture_end(&cap, last, sizeof(last));
	print_message("10000 hostile cycles: %u lines on stderr\n", lines);
	assert_true(lines <= LOG_BUDGET_MAX + 1);
	assert_non_null(strstr(last, "further warnings suppressed"));
}

static void test_readonly(void **state)
{
	(void)state;
	uint8_t back[512];

	reopen_readonly();
	assert_true(vdrv_device_features(&drv) & (1ULL << VIRTIO_BLK_F_RO));
	assert_false(vdrv_device_features(&drv) & (1ULL << VIRTIO_BLK_F_DISCARD));
	memset(ram + DATA, 0x11, 512);
	assert_int_equal(rw(VIRTIO_BLK_T_OUT, 0, 512), VIRTIO_BLK_S_IOERR);
	assert_int_equal(pread(fd, back, 512, 0), 512);
	assert_int_equal(back[1], pattern(1));
	assert_int_equal(rw(VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
	assert_int_equal(ram[DATA + 1], pattern(1));
	struct virtio_blk_discard_write_zeroes s = { .sector = 0, .num_sectors = 1 };
	assert_int_equal(segs(VIRTIO_BLK_T_WRITE_ZEROES, &s, 1, 0),
			 VIRTIO_BLK_S_IOERR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_config_and_features),
		T(test_read),
		T(test_write),
		T(test_out_of_range),
		T(test_flush_get_id_unsupported),
		T(test_discard_write_zeroes),
		T(test_odd_framing),
		T(test_bad_framing),
		T(test_wrong_direction),
		T(test_no_status_byte_needs_reset),
		T(test_indirect_and_second_queue),
		T(test_run_budget),
		T(test_malformed_ring_needs_reset),
		T(test_hostile_cycles_bounded_log),
		T(test_readonly),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
