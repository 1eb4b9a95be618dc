/* SPDX-License-Identifier: MIT
 * blk-devmodel.c - how much does the virtio-blk device model cost?
 *
 * No guest, no KVM: this program plays the guest driver in-process (the
 * driver in tests/unit/virtio_drv.h: real virtio-pci register accesses,
 * real split rings in a fake guest memory) against virtio/blk.c over a raw
 * image opened with the real blockdev backend, and runs the queue handler
 * synchronously. The ceiling is the same transfers done with preadv /
 * pwritev directly on the image file, same buffers, same segment layout.
 *
 *   blk-devmodel [--image PATH] [--size MIB] [--cache writeback|none]
 *                [--format raw|qcow2 --ceiling-image RAW]
 *                [--seconds S] [--clock cpu|wall] [--only TEST] [--ops N]
 *
 * With --format qcow2 the device works on a qcow2 image (made beforehand,
 * e.g. by `minivmm img create`, of --size MiB) and the ceiling is direct
 * I/O on the raw image RAW of the same size, so qcow2's own cost shows.
 * Tests: seq-read-1m, seq-write-1m (1 MiB requests, 8 x 128 KiB segments),
 * seq-read-1m-4k (1 MiB as 256 x 4 KiB segments via two 512 KiB requests;
 * the guest's seg_max is 254), rand-read-4k. --only runs one test side
 * ("rand-read-4k:dev" or ":ceil") for --ops requests, for callgrind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "devices/disk/blockdev.h"
#include "tests/unit/virtio_drv.h"
#include "virtio/blk.h"
#include "virtio/virtio_pci.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define RAM_SIZE (256ULL << 20)
#define QBASE 0x100000ULL
#define HDRS 0x400000ULL   /* 16-byte headers + status bytes, per slot */
#define DATA 0x1000000ULL  /* data buffers: 16 MiB .. */
#define QSIZE 256
#define DEPTH 8            /* requests posted per kick */

static struct vm vm;
static uint8_t *ram;
static struct vdrv drv;
static struct virtio_dev *blk; /* not attached: driven through BAR 0 */
static int fd;
static uint64_t disk_size;

/* Wall time, or this thread's CPU time (user + kernel on its behalf): on a
 * shared machine the latter is far less noisy, and with the page cache
 * every transfer is CPU work. With O_DIRECT the wait for the disk is not
 * CPU time, so cache=none uses wall time. */
static clockid_t clk = CLOCK_THREAD_CPUTIME_ID;

static double now(void)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* xorshift: reproducible random sectors */
static uint64_t rnd_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

struct shape {
	const char *name;
	uint32_t req_bytes; /* per request */
	uint32_t seg_bytes; /* per data descriptor */
	bool write, random;
};

/* Offsets of request k (k counts requests since the start). */
static uint64_t offset_of(const struct shape *s, uint64_t k)
{
	uint64_t n = disk_size / s->req_bytes;
	return s->random ? (rnd() % n) * s->req_bytes
			 : (k % n) * s->req_bytes;
}

/* One batch of DEPTH requests through the device. Returns 0 if all OK.
 * (noinline: callgrind --toggle-collect finds it by name.) */
static __attribute__((noinline)) int dev_batch(const struct shape *s, uint64_t k0)
{
	struct vdrv_buf b[2 + 256];
	unsigned nseg = s->req_bytes / s->seg_bytes;

	for (unsigned r = 0; r < DEPTH; r++) {
		uint64_t hdr = HDRS + 64ULL * r;
		struct virtio_blk_outhdr h = {
			.type = s->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
			.sector = offset_of(s, k0 + r) / 512 };
		uint64_t data = DATA + (uint64_t)r * s->req_bytes;

		memcpy(ram + hdr, &h, sizeof(h));
		b[0] = (struct vdrv_buf){ hdr, 16, false };
		for (unsigned i = 0; i < nseg; i++)
			b[1 + i] = (struct vdrv_buf){
				data + (uint64_t)i * s->seg_bytes, s->seg_bytes,
				!s->write };
		b[1 + nseg] = (struct vdrv_buf){ hdr + 32, 1, true };
		vdrv_post(&drv, 0, b, nseg + 2, nseg + 2 > 4);
	}
	vdrv_kick(&drv, 0);
	for (unsigned r = 0; r < DEPTH; r++) {
		uint16_t head;
		uint32_t len;
		if (!vdrv_used(&drv, 0, &head, &len))
			return -1;
		if (ram[HDRS + 64ULL * r + 32] != VIRTIO_BLK_S_OK)
			return -1;
	}
	return 0;
}

/* The same transfers straight on the file. */
static __attribute__((noinline)) int ceil_batch(const struct shape *s, uint64_t k0)
{
	struct iovec iov[256];
	unsigned nseg = s->req_bytes / s->seg_bytes;

	for (unsigned r = 0; r < DEPTH; r++) {
		uint64_t data = DATA + (uint64_t)r * s->req_bytes;
		uint64_t off = offset_of(s, k0 + r);
		ssize_t n;

		for (unsigned i = 0; i < nseg; i++)
			iov[i] = (struct iovec){
				ram + data + (uint64_t)i * s->seg_bytes,
				s->seg_bytes };
		n = s->write ? pwritev(fd, iov, (int)nseg, (off_t)off)
			     : preadv(fd, iov, (int)nseg, (off_t)off);
		if (n != (ssize_t)s->req_bytes)
			return -1;
	}
	return 0;
}

/* Run for `seconds` (or exactly `ops` requests); requests per second. */
static double run(const struct shape *s, bool dev, double seconds,
		  uint64_t ops)
{
	uint64_t k = 0;
	double t0 = now(), t;

	rnd_state = 88172645463325252ULL;
	for (;;) {
		int ret = dev ? dev_batch(s, k) : ceil_batch(s, k);
		if (ret) {
			fprintf(stderr, "blk-devmodel: %s: request failed\n",
				s->name);
			exit(1);
		}
		k += DEPTH;
		t = now() - t0;
		if (ops ? k >= ops : t >= seconds)
			break;
	}
	return k / t;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: blk-devmodel [--image PATH] [--size MIB] [--cache writeback|none]\n"
		"                    [--format raw|qcow2 --ceiling-image RAW]\n"
		"                    [--seconds S] [--clock cpu|wall] [--only TEST:dev|TEST:ceil --ops N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *image = "/tmp/blk-devmodel.img", *only = NULL;
	const char *format = "raw", *ceiling_image = NULL;
	uint64_t size_mib = 256, ops = 0;
	double seconds = 1.0;
	enum blockdev_cache cache = BLOCKDEV_CACHE_WRITEBACK;
	static const struct shape shapes[] = {
		{ "seq-read-1m", 1 << 20, 128 << 10, false, false },
		{ "seq-write-1m", 1 << 20, 128 << 10, true, false },
		{ "seq-read-512k-4kseg", 512 << 10, 4096, false, false },
		{ "rand-read-4k", 4096, 4096, false, true },
	};
	struct blockdev_opts o = { 0 };
	struct blockdev *bd;
	char err[256];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--image") && i + 1 < argc)
			image = argv[++i];
		else if (!strcmp(argv[i], "--size") && i + 1 < argc)
			size_mib = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--format") && i + 1 < argc)
			format = argv[++i];
		else if (!strcmp(argv[i], "--ceiling-image") && i + 1 < argc)
			ceiling_image = argv[++i];
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--ops") && i + 1 < argc)
			ops = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--cache") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "none"))
				cache = BLOCKDEV_CACHE_NONE;
			else if (strcmp(argv[i], "writeback"))
				usage();
		} else if (!strcmp(argv[i], "--clock") && i + 1 < argc) {
			i++;
			clk = !strcmp(argv[i], "wall") ? CLOCK_MONOTONIC
						       : CLOCK_THREAD_CPUTIME_ID;
		} else
			usage();
	}
	log_quiet = true;
	if (cache == BLOCKDEV_CACHE_NONE)
		clk = CLOCK_MONOTONIC;
	if (strcmp(format, "raw") && !ceiling_image)
		usage();
	if (!ceiling_image)
		ceiling_image = image;

	/* the raw image: created (filled, so reads hit real data) if missing */
	disk_size = size_mib << 20;
	if (!strcmp(format, "raw")) {
		struct stat st;
		if (stat(image, &st) || (uint64_t)st.st_size != disk_size) {
			int f = open(image, O_RDWR | O_CREAT | O_TRUNC, 0644);
			char *buf = malloc(1 << 20);
			if (f < 0 || !buf) {
				perror(image);
				return 1;
			}
			for (uint64_t m = 0; m < size_mib; m++) {
				memset(buf, (int)m, 1 << 20);
				if (write(f, buf, 1 << 20) != 1 << 20) {
					perror(image);
					return 1;
				}
			}
			fsync(f);
			close(f);
			free(buf);
		}
	}

	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED || gm_add_region(&vm.mem, 0, RAM_SIZE, ram))
		return 1;
	memset(ram, 0, RAM_SIZE); /* fault it in before timing */

	o.path = image;
	o.format = format;
	o.cache = cache;
	if (blockdev_open(&o, &bd, err, sizeof(err))) {
		fprintf(stderr, "blk-devmodel: %s\n", err);
		return 1;
	}
	if (virtio_blk_create(&vm, &(struct virtio_blk_cfg){ .bd = bd,
		.serial = "bench", .nr_queues = 1 }, &blk))
		return 1;
	drv.dev = blk;
	drv.ram = ram;
	if (!(vdrv_negotiate(&drv, vdrv_device_features(&drv)) &
	      VIRTIO_CONFIG_S_FEATURES_OK))
		return 1;
	vdrv_setup_queue(&drv, 0, QSIZE, QBASE);
	vdrv_driver_ok(&drv);
	/* the ceiling uses its own descriptor on the same file and mode */
	fd = open(ceiling_image, O_RDWR | (cache == BLOCKDEV_CACHE_NONE ? O_DIRECT : 0));
	if (fd < 0) {
		perror(ceiling_image);
		return 1;
	}

	if (only) {
		char name[64];
		const char *side = strchr(only, ':');
		if (!side || !ops || (size_t)(side - only) >= sizeof(name))
			usage();
		memcpy(name, only, side - only);
		name[side - only] = 0;
		for (unsigned i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
			if (!strcmp(shapes[i].name, name)) {
				double r = run(&shapes[i], !strcmp(side, ":dev"),
					       0, ops);
				printf("%s %s: %.0f req/s\n", name, side + 1, r);
				/* closing writes qcow2's metadata back */
				blk->dev.ops->free(&blk->dev);
				close(fd);
				return 0;
			}
		usage();
	}

	printf("virtio-blk device model (%s) vs. direct preadv/pwritev on %s\n",
	       format, ceiling_image);
	printf("image %s, %llu MiB, cache=%s, %u requests per kick, best of 3 x %.1f s %s time\n",
	       image, (unsigned long long)size_mib,
	       cache == BLOCKDEV_CACHE_NONE ? "none" : "writeback", DEPTH,
	       seconds, clk == CLOCK_MONOTONIC ? "wall" : "thread CPU");
	printf("%-22s %14s %14s %8s\n", "test", "device", "ceiling", "ratio");
	for (unsigned i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const struct shape *s = &shapes[i];
		double c = 0, d = 0;

		/* alternate, best of three: the page cache and CPU
		 * frequency settle, and a neighbour's burst hits both */
		for (int rep = 0; rep < 3; rep++) {
			double x = run(s, false, seconds, 0);
			double y = run(s, true, seconds, 0);
			c = x > c ? x : c;
			d = y > d ? y : d;
		}
		if (s->req_bytes >= (64 << 10))
			printf("%-22s %10.0f MB/s %9.0f MB/s %7.1f%%\n", s->name,
			       d * s->req_bytes / 1e6, c * s->req_bytes / 1e6,
			       100 * d / c);
		else
			printf("%-22s %12.0f/s %12.0f/s %7.1f%%\n", s->name, d,
			       c, 100 * d / c);
	}
	blk->dev.ops->free(&blk->dev);
	close(fd);
	return 0;
}
