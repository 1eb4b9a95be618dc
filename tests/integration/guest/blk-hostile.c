/* SPDX-License-Identifier: MIT
 * blk-hostile.c - a hostile guest driver for minivmm's virtio-blk (runs as
 * root inside the guest; built statically on the host by
 * tests/integration/cases/blk-hostile.prep).
 *
 *   blk-hostile 0000:00:05.0
 *
 * Takes the PCI function away from Linux (unbinds virtio-pci), maps its
 * BAR 0 through sysfs, turns bus mastering back on through the config file
 * (unbinding cleared it, and the device does no DMA without it) and drives
 * it by hand: for each attack it resets the device, sets up queue 0 in
 * locked pages whose physical addresses come from /proc/self/pagemap,
 * writes a malformed ring or request, kicks, and checks the device
 * answered as the VIRTIO spec wants (DEVICE_NEEDS_RESET, or an error
 * status for a well-formed but invalid request) instead of the VMM
 * dying. Prints "HOSTILE <name> ok|FAIL ..." per attack and
 * "HOSTILE-RESULT pass=N fail=M"; exits 0 only if all passed.
 *
 * The BAR layout (common cfg at 0, ISR 0x1000, device cfg 0x2000, notify
 * 0x3000, multiplier 4) is minivmm's; a real driver would parse the
 * capabilities, which this tool checks once against those offsets.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define COMMON 0x0000
#define ISR 0x1000
#define DEVCFG 0x2000
#define NOTIFY 0x3000

/* common configuration offsets (VIRTIO 1.x 4.1.4.3) */
#define DFSEL 0x00
#define DF 0x04
#define GFSEL 0x08
#define GF 0x0c
#define MSIX_CFG 0x10
#define NUMQ 0x12
#define STATUS 0x14
#define QSEL 0x16
#define QSIZE 0x18
#define QMSIX 0x1a
#define QENABLE 0x1c
#define QDESC 0x20
#define QAVAIL 0x28
#define QUSED 0x30

#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 0x40

#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4

#define QS 8

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static const char *pcidev; /* "0000:00:05.0" */
static volatile uint8_t *bar;
static uint8_t *pages; /* NPAGES locked pages */
#define NPAGES 16
static uint64_t phys[NPAGES];
static int pass, fail;

/* page roles */
#define P_DESC 0
#define P_AVAIL 1
#define P_USED 2
#define P_HDR 3   /* request header + status byte */
#define P_DATA 4  /* data buffer */
#define P_IND 5   /* indirect tables */
#define P_IND2 6

static uint8_t r8(unsigned o) { return bar[o]; }
static uint16_t r16(unsigned o) { return *(volatile uint16_t *)(bar + o); }
static uint32_t r32(unsigned o) { return *(volatile uint32_t *)(bar + o); }
static void w8(unsigned o, uint8_t v) { bar[o] = v; }
static void w16(unsigned o, uint16_t v) { *(volatile uint16_t *)(bar + o) = v; }
static void w32(unsigned o, uint32_t v) { *(volatile uint32_t *)(bar + o) = v; }
static void w64(unsigned o, uint64_t v)
{
	w32(o, (uint32_t)v);
	w32(o + 4, (uint32_t)(v >> 32));
}

static void *page(int i) { return pages + 4096 * i; }
static struct desc *descs(void) { return page(P_DESC); }
static volatile uint16_t *avail(void) { return page(P_AVAIL); }
static volatile uint16_t *used16(void) { return page(P_USED); }
static volatile uint32_t *used32(void) { return page(P_USED); }

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int sysfs_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int ok;
	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

/* Bus Master Enable (command register bit 2) on or off, as pci_set_master
 * / pci_clear_master do. */
static int set_bus_master(int on)
{
	char path[256];
	uint16_t cmd;
	int fd, ok;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", pcidev);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return -1;
	ok = pread(fd, &cmd, 2, 4) == 2;
	cmd = on ? cmd | 4 : cmd & ~4;
	ok = ok && pwrite(fd, &cmd, 2, 4) == 2;
	close(fd);
	return ok ? 0 : -1;
}

static int get_phys(void)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0) {
		perror("pagemap");
		return -1;
	}
	for (int i = 0; i < NPAGES; i++) {
		uint64_t e, va = (uint64_t)(uintptr_t)page(i);
		if (pread(fd, &e, 8, (off_t)(va / 4096 * 8)) != 8 ||
		    !(e >> 63) || !(e & ((1ULL << 55) - 1))) {
			fprintf(stderr, "no PFN for page %d (need root)\n", i);
			close(fd);
			return -1;
		}
		phys[i] = (e & ((1ULL << 55) - 1)) * 4096;
	}
	close(fd);
	return 0;
}

/* Reset and negotiate; set up queue 0 of size QS on our pages unless
 * desc_override is non-zero. Returns the status byte after DRIVER_OK. */
static uint8_t init_dev(uint64_t desc_override, int driver_ok)
{
	w8(COMMON + STATUS, 0);
	for (int i = 0; i < 1000 && r8(COMMON + STATUS); i++)
		msleep(1);
	(void)r8(ISR); /* clear and lower INTx */
	memset(pages, 0, 4096 * NPAGES);
	w8(COMMON + STATUS, S_ACK);
	w8(COMMON + STATUS, S_ACK | S_DRIVER);
	w32(COMMON + GFSEL, 0);
	w32(COMMON + GF, 1u << 28); /* INDIRECT_DESC */
	w32(COMMON + GFSEL, 1);
	w32(COMMON + GF, 1); /* VERSION_1 */
	w8(COMMON + STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	w16(COMMON + QSEL, 0);
	w16(COMMON + QSIZE, QS);
	w64(COMMON + QDESC, desc_override ? desc_override : phys[P_DESC]);
	w64(COMMON + QAVAIL, phys[P_AVAIL]);
	w64(COMMON + QUSED, phys[P_USED]);
	w16(COMMON + QMSIX, 0xffff);
	w16(COMMON + QENABLE, 1);
	if (driver_ok)
		w8(COMMON + STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return r8(COMMON + STATUS);
}

/* a virtio-blk request header for `type` at `sector` in P_HDR; status
 * byte at offset 64 of that page, preset to 0xee */
static void hdr(uint32_t type, uint64_t sector)
{
	uint8_t *h = page(P_HDR);
	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	h[64] = 0xee;
}

static void publish(uint16_t head, uint16_t idx)
{
	avail()[2] = head; /* ring[0] */
	__sync_synchronize(); /* ring entry before idx, like a driver */
	avail()[1] = idx;
	__sync_synchronize();
	w16(NOTIFY + 0, 0); /* kick queue 0 */
}

static int wait_needs_reset(void)
{
	for (int i = 0; i < 2000; i++) {
		if (r8(COMMON + STATUS) & S_NEEDS_RESET)
			return 1;
		msleep(1);
	}
	return 0;
}

static int wait_used(uint16_t n)
{
	for (int i = 0; i < 2000; i++) {
		if (used16()[1] == n)
			return 1;
		msleep(1);
	}
	return 0;
}

static void result(const char *name, int good, const char *why)
{
	printf("HOSTILE %s %s%s%s\n", name, good ? "ok" : "FAIL",
	       good ? "" : " - ", good ? "" : why);
	fflush(stdout);
	if (good)
		pass++;
	else
		fail++;
}

/* Expect DEVICE_NEEDS_RESET after publishing head 0 (desc set up by the
 * caller). */
static void expect_reset(const char *name, uint16_t head, uint16_t idx)
{
	publish(head, idx);
	result(name, wait_needs_reset(), "device did not report NEEDS_RESET");
}

static void d(int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	descs()[i] = (struct desc){ addr, len, flags, next };
}

/* A normal 3-descriptor request: header, data (512 bytes), status. */
static void normal_req(uint32_t type, uint64_t sector, int data_write)
{
	hdr(type, sector);
	d(0, phys[P_HDR], 16, F_NEXT, 1);
	d(1, phys[P_DATA], 512, F_NEXT | (data_write ? F_WRITE : 0), 2);
	d(2, phys[P_HDR] + 64, 1, F_WRITE, 0);
}

static void sanity(const char *name)
{
	uint8_t st = init_dev(0, 1);
	normal_req(0 /* IN */, 0, 1);
	publish(0, 1);
	int got = wait_used(1);
	uint8_t s = ((uint8_t *)page(P_HDR))[64];
	char why[96];
	snprintf(why, sizeof(why), "status reg %#x, used %d, blk status %#x",
		 st, got, s);
	result(name, got && s == 0 && !(r8(COMMON + STATUS) & S_NEEDS_RESET),
	       why);
}

int main(int argc, char **argv)
{
	char path[256];
	struct stat stt;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: blk-hostile PCI-ADDRESS\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind",
		 argv[1]);
	if (access(path, F_OK) == 0 && sysfs_write(path, argv[1]))
		perror("unbind");
	pcidev = argv[1];
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/enable", argv[1]);
	sysfs_write(path, "1"); /* memory decoding on (may already be) */
	if (set_bus_master(1)) {
		perror("bus master");
		return 1;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0",
		 argv[1]);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0 || fstat(fd, &stt) || stt.st_size < 0x4000) {
		perror(path);
		return 1;
	}
	bar = mmap(NULL, (size_t)stt.st_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	if (bar == MAP_FAILED) {
		perror("mmap BAR");
		return 1;
	}
	pages = mmap(NULL, 4096 * NPAGES, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED | MAP_POPULATE,
		     -1, 0);
	if (pages == MAP_FAILED || mlock(pages, 4096 * NPAGES)) {
		perror("pages");
		return 1;
	}
	memset(pages, 0, 4096 * NPAGES);
	if (get_phys())
		return 1;
	printf("HOSTILE-START bar %lld bytes, queues %u\n",
	       (long long)stt.st_size, r16(COMMON + NUMQ));

	sanity("sanity-before");

	init_dev(0, 1);
	expect_reset("head-out-of-range", 200, 1);

	init_dev(0, 1);
	d(0, phys[P_HDR], 16, F_NEXT, 100);
	expect_reset("next-out-of-range", 0, 1);

	init_dev(0, 1);
	d(0, phys[P_HDR], 16, F_NEXT, 1);
	d(1, phys[P_HDR], 16, F_NEXT, 0);
	expect_reset("descriptor-loop", 0, 1);

	init_dev(0, 1);
	d(0, 1ULL << 45, 4096, 0, 0);
	expect_reset("buffer-outside-ram", 0, 1);

	init_dev(0, 1);
	d(0, 0xfffffffffffff000ULL, 0x2000, 0, 0);
	expect_reset("buffer-address-wraps", 0, 1);

	init_dev(0, 1);
	d(0, phys[P_DATA], 0x80000000u, F_NEXT | F_WRITE, 1);
	d(1, phys[P_DATA], 0x80000000u, F_WRITE, 0);
	expect_reset("huge-lengths", 0, 1);

	init_dev(0, 1);
	normal_req(0, 0, 1);
	expect_reset("avail-index-far-ahead", 0, 1000);

	init_dev(0, 1);
	d(0, phys[P_HDR], 16, F_NEXT | F_WRITE, 1);
	d(1, phys[P_DATA], 512, 0, 0);
	expect_reset("readable-after-writable", 0, 1);

	init_dev(0, 1);
	{
		struct desc *t = page(P_IND);
		t[0] = (struct desc){ phys[P_IND2], 16, F_INDIRECT, 0 };
		d(0, phys[P_IND], 16, F_INDIRECT, 0);
	}
	expect_reset("indirect-nested", 0, 1);

	init_dev(0, 1);
	d(0, phys[P_IND], 17, F_INDIRECT, 0);
	expect_reset("indirect-bad-length", 0, 1);

	init_dev(0, 1);
	{
		struct desc *t = page(P_IND);
		t[0] = (struct desc){ phys[P_HDR], 16, 0, 0 };
		d(0, phys[P_IND], 16, F_INDIRECT | F_NEXT, 1);
		d(1, phys[P_HDR], 16, 0, 0);
	}
	expect_reset("indirect-with-next", 0, 1);

	init_dev(0, 1);
	{
		struct desc *t = page(P_IND);
		t[0] = (struct desc){ phys[P_HDR], 16, F_NEXT, 1 };
		t[1] = (struct desc){ phys[P_HDR], 16, F_NEXT, 0 };
		d(0, phys[P_IND], 32, F_INDIRECT, 0);
	}
	expect_reset("indirect-loop", 0, 1);

	/* rings outside RAM: refused at queue_enable */
	{
		init_dev(1ULL << 45, 0);
		result("ring-outside-ram", wait_needs_reset() &&
					   r16(COMMON + QENABLE) == 0,
		       "queue enabled or no NEEDS_RESET");
	}

	/* well-formed but invalid requests: error status, device fine */
	{
		uint64_t cap;
		init_dev(0, 1);
		cap = r32(DEVCFG) | (uint64_t)r32(DEVCFG + 4) << 32;
		normal_req(0, cap, 1);
		publish(0, 1);
		int got = wait_used(1);
		uint8_t s = ((uint8_t *)page(P_HDR))[64];
		result("read-past-end", got && s == 1 &&
				       !(r8(COMMON + STATUS) & S_NEEDS_RESET),
		       "no IOERR status");
		init_dev(0, 1);
		normal_req(0, UINT64_MAX / 256, 1);
		publish(0, 1);
		got = wait_used(1);
		s = ((uint8_t *)page(P_HDR))[64];
		result("sector-overflow", got && s == 1, "no IOERR status");
		init_dev(0, 1);
		hdr(0x1234, 0);
		d(0, phys[P_HDR], 16, F_NEXT, 1);
		d(1, phys[P_HDR] + 64, 1, F_WRITE, 0);
		publish(0, 1);
		got = wait_used(1);
		s = ((uint8_t *)page(P_HDR))[64];
		result("unknown-type", got && s == 2, "no UNSUPP status");
		/* data the wrong way round: a write whose data is
		 * device-writable, a read into device-readable memory */
		init_dev(0, 1);
		normal_req(1 /* OUT */, 0, 1);
		publish(0, 1);
		got = wait_used(1);
		s = ((uint8_t *)page(P_HDR))[64];
		result("write-data-device-writable",
		       got && s == 1 && used32()[2] == 1 &&
			       !(r8(COMMON + STATUS) & S_NEEDS_RESET),
		       "no IOERR status");
		init_dev(0, 1);
		normal_req(0 /* IN */, 0, 0);
		publish(0, 1);
		got = wait_used(1);
		s = ((uint8_t *)page(P_HDR))[64];
		result("read-data-device-readable",
		       got && s == 1 && used32()[2] == 1 &&
			       !(r8(COMMON + STATUS) & S_NEEDS_RESET),
		       "no IOERR status");
	}

	/* no writable byte at all, so no room for the status: the request
	 * cannot be completed, the device needs a reset */
	init_dev(0, 1);
	hdr(1 /* OUT */, 0);
	d(0, phys[P_HDR], 16, F_NEXT, 1);
	d(1, phys[P_DATA], 512, 0, 0);
	publish(0, 1);
	result("no-status-byte", wait_needs_reset() && used16()[1] == 0,
	       "no NEEDS_RESET, or the chain was completed");

	/* bus mastering off: the device must not touch the ring; the request
	 * is served once it is back on */
	{
		int early, got, ok;
		uint8_t s;

		init_dev(0, 1);
		ok = !set_bus_master(0);
		normal_req(0 /* IN */, 0, 1);
		publish(0, 1);
		msleep(200);
		early = used16()[1];
		ok = !set_bus_master(1) && ok;
		got = wait_used(1);
		s = ((uint8_t *)page(P_HDR))[64];
		result("bus-master-off", ok && !early && got && s == 0,
		       early ? "request served with bus mastering off"
			     : "config write failed or not served after");
	}

	/* register abuse: out-of-range selects, sizes, vectors, odd widths */
	{
		init_dev(0, 0);
		w16(COMMON + QSEL, 0xffff);
		w16(COMMON + QSIZE, 4);
		w16(COMMON + QENABLE, 1);
		w64(COMMON + QDESC, 0);
		w16(COMMON + QSEL, 0);
		w16(COMMON + QSIZE, 3);
		w16(COMMON + QMSIX, 0x7fff);
		w32(COMMON + DFSEL, 0xffffffff);
		(void)r32(COMMON + DF);
		w32(COMMON + GFSEL, 0xffffffff);
		w32(COMMON + GF, 0xffffffff);
		for (unsigned o = 0x38; o < 0x1000; o += 4)
			w32(COMMON + o, 0xffffffff);
		for (unsigned o = 0; o < 0x1000; o += 4)
			(void)r32(DEVCFG + o);
		for (unsigned o = 0; o < 0x1000; o += 4)
			w32(DEVCFG + o, 0xffffffff);
		for (unsigned o = 4; o < 0x1000; o += 4)
			w32(NOTIFY + o, 0);
		(void)r8(ISR + 1);
		int ok = r16(COMMON + QSIZE) != 3;
		w16(COMMON + QSEL, 0xffff);
		ok = ok && r16(COMMON + QSIZE) == 0;
		result("register-abuse", ok, "bad values were accepted");
	}

	sanity("sanity-after");
	w8(COMMON + STATUS, 0); /* leave it reset */
	printf("HOSTILE-RESULT pass=%d fail=%d\n", pass, fail);
	return fail ? 1 : 0;
}
