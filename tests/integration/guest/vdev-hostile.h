/* SPDX-License-Identifier: MIT
 * vdev-hostile.h - what the hostile guest drivers (blk-hostile.c,
 * net-hostile.c) share: taking a virtio-pci function away from Linux,
 * mapping its BAR 0 through sysfs, locked pages with known guest-physical
 * addresses (/proc/self/pagemap), and setting up one split virtqueue by
 * hand (VIRTIO 1.x 4.1.4.3 common configuration, 2.7 split rings).
 *
 * The BAR layout (common cfg at 0, ISR 0x1000, device cfg 0x2000, notify
 * 0x3000, multiplier 4) is minivmm's; a real driver would parse the
 * capabilities. Header-only (static inline) so that each tool is one
 * `gcc -static` of one .c file.
 */
#ifndef VDEV_HOSTILE_H
#define VDEV_HOSTILE_H

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
#define NOTIFY_MULT 4

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
#define QNOTIFYOFF 0x1e
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
#define NPAGES 16

/* page roles */
#define P_DESC 0
#define P_AVAIL 1
#define P_USED 2
#define P_HDR 3  /* request or packet header (+ status byte) */
#define P_DATA 4 /* data buffer */
#define P_IND 5  /* indirect tables */
#define P_IND2 6

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static const char *pcidev; /* "0000:00:05.0" */
static volatile uint8_t *bar;
static uint8_t *pages; /* NPAGES locked pages */
static uint64_t phys[NPAGES];
static int pass, fail;
static unsigned cur_q; /* the queue init_dev() set up */

static inline uint8_t r8(unsigned o) { return bar[o]; }
static inline uint16_t r16(unsigned o) { return *(volatile uint16_t *)(bar + o); }
static inline uint32_t r32(unsigned o) { return *(volatile uint32_t *)(bar + o); }
static inline void w8(unsigned o, uint8_t v) { bar[o] = v; }
static inline void w16(unsigned o, uint16_t v) { *(volatile uint16_t *)(bar + o) = v; }
static inline void w32(unsigned o, uint32_t v) { *(volatile uint32_t *)(bar + o) = v; }
static inline void w64(unsigned o, uint64_t v)
{
	w32(o, (uint32_t)v);
	w32(o + 4, (uint32_t)(v >> 32));
}

static inline void *page(int i) { return pages + 4096 * i; }
static inline struct desc *descs(void) { return page(P_DESC); }
static inline volatile uint16_t *avail(void) { return page(P_AVAIL); }
static inline volatile uint16_t *used16(void) { return page(P_USED); }
static inline volatile uint32_t *used32(void) { return page(P_USED); }

static inline void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static inline int sysfs_write(const char *path, const char *s)
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
static inline int set_bus_master(int on)
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

static inline int get_phys(void)
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

/* Take PCI function `dev` from its driver, map BAR 0, lock the pages.
 * Returns the BAR size, or -1 (after saying why). */
static inline long long take_device(const char *dev)
{
	char path[256];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind",
		 dev);
	if (access(path, F_OK) == 0 && sysfs_write(path, dev))
		perror("unbind");
	pcidev = dev;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/enable", dev);
	sysfs_write(path, "1"); /* memory decoding on (may already be) */
	/* unbinding cleared bus mastering; without it the device does no DMA */
	if (set_bus_master(1)) {
		perror("bus master");
		return -1;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", dev);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0 || fstat(fd, &st) || st.st_size < 0x4000) {
		perror(path);
		return -1;
	}
	bar = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	if (bar == MAP_FAILED) {
		perror("mmap BAR");
		return -1;
	}
	pages = mmap(NULL, 4096 * NPAGES, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED | MAP_POPULATE,
		     -1, 0);
	if (pages == MAP_FAILED || mlock(pages, 4096 * NPAGES)) {
		perror("pages");
		return -1;
	}
	memset(pages, 0, 4096 * NPAGES);
	if (get_phys())
		return -1;
	return (long long)st.st_size;
}

/* main()'s start: "TOOL PCI-ADDRESS", take the device, say so. 0, or the
 * exit status to return (2 usage, 1 failure). */
static inline int hostile_start(int argc, char **argv, const char *tool)
{
	long long size;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PCI-ADDRESS\n", tool);
		return 2;
	}
	size = take_device(argv[1]);
	if (size < 0)
		return 1;
	printf("HOSTILE-START %s: bar %lld bytes, queues %u\n", tool, size,
	       r16(COMMON + NUMQ));
	return 0;
}

/* Reset and negotiate the features f (bit 32 = VERSION_1 is always added);
 * set up queue q of size QS on our pages (its descriptor table at
 * desc_override when that is non-zero). Returns the status byte after
 * DRIVER_OK (or after FEATURES_OK when !driver_ok). */
static inline uint8_t init_dev_q(unsigned q, uint64_t f,
				 uint64_t desc_override, int driver_ok)
{
	w8(COMMON + STATUS, 0);
	for (int i = 0; i < 1000 && r8(COMMON + STATUS); i++)
		msleep(1);
	(void)r8(ISR); /* clear and lower INTx */
	memset(pages, 0, 4096 * NPAGES);
	f |= 1ULL << 32;
	w8(COMMON + STATUS, S_ACK);
	w8(COMMON + STATUS, S_ACK | S_DRIVER);
	w32(COMMON + GFSEL, 0);
	w32(COMMON + GF, (uint32_t)f);
	w32(COMMON + GFSEL, 1);
	w32(COMMON + GF, (uint32_t)(f >> 32));
	w8(COMMON + STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	cur_q = q;
	w16(COMMON + QSEL, (uint16_t)q);
	w16(COMMON + QSIZE, QS);
	w64(COMMON + QDESC, desc_override ? desc_override : phys[P_DESC]);
	w64(COMMON + QAVAIL, phys[P_AVAIL]);
	w64(COMMON + QUSED, phys[P_USED]);
	w16(COMMON + QMSIX, 0xffff);
	w16(COMMON + QENABLE, 1);
	if (driver_ok)
		w8(COMMON + STATUS,
		   S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return r8(COMMON + STATUS);
}

/* make head the next available entry (ring slot idx - 1) and kick */
static inline void publish(uint16_t head, uint16_t idx)
{
	avail()[2 + (uint16_t)(idx - 1) % QS] = head;
	__sync_synchronize(); /* ring entry before idx, like a driver */
	avail()[1] = idx;
	__sync_synchronize();
	w16(COMMON + QSEL, (uint16_t)cur_q);
	w16(NOTIFY + r16(COMMON + QNOTIFYOFF) * NOTIFY_MULT, (uint16_t)cur_q);
}

static inline int wait_needs_reset(void)
{
	for (int i = 0; i < 2000; i++) {
		if (r8(COMMON + STATUS) & S_NEEDS_RESET)
			return 1;
		msleep(1);
	}
	return 0;
}

static inline int wait_used(uint16_t n)
{
	for (int i = 0; i < 2000; i++) {
		if (used16()[1] == n)
			return 1;
		msleep(1);
	}
	return 0;
}

static inline void result(const char *name, int good, const char *why)
{
	printf("HOSTILE %s %s%s%s\n", name, good ? "ok" : "FAIL",
	       good ? "" : " - ", good ? "" : why);
	fflush(stdout);
	if (good)
		pass++;
	else
		fail++;
}

/* Expect DEVICE_NEEDS_RESET after publishing head (descriptors set up by
 * the caller). */
static inline void expect_reset(const char *name, uint16_t head, uint16_t idx)
{
	publish(head, idx);
	result(name, wait_needs_reset(), "device did not report NEEDS_RESET");
}

static inline void d(int i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	descs()[i] = (struct desc){ addr, len, flags, next };
}

/* The ring attacks every device must answer the same way, since they are
 * the virtqueue layer's to catch: DEVICE_NEEDS_RESET. init() resets the
 * device and sets its queue up again before each; names get prefix pfx. */
static inline void ring_attacks(const char *pfx, void (*init)(void))
{
	char n[64];
#define NAME(s) (snprintf(n, sizeof(n), "%s%s", pfx, s), n)
	init();
	expect_reset(NAME("head-out-of-range"), 200, 1);

	init();
	d(0, phys[P_HDR], 16, F_NEXT, 100);
	expect_reset(NAME("next-out-of-range"), 0, 1);

	init();
	d(0, phys[P_HDR], 16, F_NEXT, 1);
	d(1, phys[P_HDR], 16, F_NEXT, 0);
	expect_reset(NAME("descriptor-loop"), 0, 1);

	init();
	d(0, 1ULL << 45, 4096, 0, 0);
	expect_reset(NAME("buffer-outside-ram"), 0, 1);

	init();
	d(0, 0xfffffffffffff000ULL, 0x2000, 0, 0);
	expect_reset(NAME("buffer-address-wraps"), 0, 1);

	init();
	d(0, phys[P_DATA], 0x80000000u, F_NEXT | F_WRITE, 1);
	d(1, phys[P_DATA], 0x80000000u, F_WRITE, 0);
	expect_reset(NAME("huge-lengths"), 0, 1);

	init();
	d(0, phys[P_HDR], 16, 0, 0);
	expect_reset(NAME("avail-index-far-ahead"), 0, 1000);

	init();
	d(0, phys[P_HDR], 16, F_NEXT | F_WRITE, 1);
	d(1, phys[P_DATA], 512, 0, 0);
	expect_reset(NAME("readable-after-writable"), 0, 1);

	init();
	{
		struct desc *t = page(P_IND);
		t[0] = (struct desc){ phys[P_IND2], 16, F_INDIRECT, 0 };
		d(0, phys[P_IND], 16, F_INDIRECT, 0);
	}
	expect_reset(NAME("indirect-nested"), 0, 1);

	init();
	d(0, phys[P_IND], 17, F_INDIRECT, 0);
	expect_reset(NAME("indirect-bad-length"), 0, 1);

	init();
	{
		struct desc *t = page(P_IND);
		t[0] = (struct desc){ phys[P_HDR], 16, 0, 0 };
		d(0, phys[P_IND], 16, F_INDIRECT | F_NEXT, 1);
		d(1, phys[P_HDR], 16, 0, 0);
	}
	expect_reset(NAME("indirect-with-next"), 0, 1);

	init();
	{
		struct desc *t = page(P_IND);
		t[0] = (struct desc){ phys[P_HDR], 16, F_NEXT, 1 };
		t[1] = (struct desc){ phys[P_HDR], 16, F_NEXT, 0 };
		d(0, phys[P_IND], 32, F_INDIRECT, 0);
	}
	expect_reset(NAME("indirect-loop"), 0, 1);
#undef NAME
}

#endif
