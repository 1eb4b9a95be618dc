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
 *                [--aio io_uring|sync] [--lone inline|async] [--quiet-depth N]
 *                [--poll US] [--publish each|batch]
 *                [--format raw|qcow2 --ceiling-image RAW]
 *                [--seconds S] [--clock cpu|wall] [--only TEST] [--ops N]
 *                [--iodepth N --test T [--cost]]
 *
 * With --format qcow2 the device works on a qcow2 image (made beforehand,
 * e.g. by `minivmm img create`, of --size MiB) and the ceiling is direct
 * I/O on the raw image RAW of the same size, so qcow2's own cost shows.
 * Tests: seq-read-1m, seq-write-1m (1 MiB requests, 8 x 128 KiB segments),
 * seq-read-1m-4k (1 MiB as 256 x 4 KiB segments via two 512 KiB requests;
 * the guest's seg_max is 254), rand-read-4k. --only runs one test side
 * ("rand-read-4k:dev" or ":ceil") for --ops requests, for callgrind.
 *
 * --iodepth N --test T (T: rand-read-4k, rand-write-4k, seq-read-1m,
 * seq-write-1m) runs the device as minivmm does: attached to a PCI bus, each
 * queue on its own I/O thread, interrupts through MSI-X and its irqfd. The
 * driver keeps N requests in flight, as a guest's blk-mq with queue depth N
 * does: N chains on the available ring before the first kick, and every
 * used entry reposted at once (the avail index stored after each, unless
 * --publish batch), one kick per batch (EVENT_IDX, as Linux negotiates
 * it); it sleeps on the irqfd when nothing has come back. One
 * line: "T qd=N ops/s MB/s", wall time over --seconds. The ceiling for
 * this mode is fio on the same file (tests/bench/blk-devmodel.sh).
 * --aio picks the device's backend (virtio-blk's aio=, io_uring by
 * default); a device that fell back to synchronous I/O says so on stderr.
 * --lone async sends a request alone in flight through the queue's event
 * loop like the others, instead of waiting for it inline (io_uring only).
 * --quiet-depth N: the driver's kicks stay off while N or more requests
 * are in flight (virtio_blk_cfg.quiet_depth; 0 the default, 1000 never).
 * --poll US: each queue busy-polls up to US microseconds with requests in
 * flight before its thread sleeps (virtio_blk_cfg.poll_us; default
 * VIRTIO_BLK_POLL_US, minivmm's default; 0 never).
 * --publish each|batch: when the driver stores the avail index (below).
 * --cost adds to the line what the whole process (driver and device
 * threads) spent per request: "cpu-us/op X cs/op Y", CPU time (user and
 * system) and context switches (voluntary and involuntary), from
 * getrusage, as fio reports them for its own job (usr_cpu, sys_cpu, ctx).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "devices/disk/blockdev.h"
#include "tests/unit/virtio_drv.h"
#include "virtio/blk.h"
#include "virtio/virtio_pci.h"
#include "devices/pci.h"
#include "vmm/log.h"
#include "vmm/vm.h"
#include "vmm/x86/layout.h"

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

static void usage(void);

/* ---- --iodepth: N requests in flight, device on its I/O thread ---- */

#define MAX_QD 128

static struct pci_bus pbus;
static const struct pci_host host = X86_PCI_HOST; /* the PC's BAR windows */

/* Chain `slot` (descriptor `slot`, through its own indirect table) for the
 * request at `off`: header, data segments, status. Not yet published. */
static void qd_post(const struct shape *s, unsigned slot, uint64_t off)
{
	struct vdrv_q *q = &drv.q[0];
	struct vring_desc *d = (struct vring_desc *)(ram + q->desc);
	struct vring_avail *a = (struct vring_avail *)(ram + q->avail);
	uint64_t tgpa = q->indirect + 4096ULL * slot;
	struct vring_desc *t = (struct vring_desc *)(ram + tgpa);
	uint64_t hdr = HDRS + 64ULL * slot;
	uint64_t data = DATA + (uint64_t)slot * s->req_bytes;
	unsigned nseg = s->req_bytes / s->seg_bytes, n = 0;
	struct virtio_blk_outhdr h = {
		.type = s->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
		.sector = off / 512 };

	memcpy(ram + hdr, &h, sizeof(h));
	ram[hdr + 32] = 0xff; /* the device overwrites it */
	t[n++] = (struct vring_desc){ .addr = hdr, .len = 16,
				      .flags = VRING_DESC_F_NEXT, .next = 1 };
	for (unsigned i = 0; i < nseg; i++, n++)
		t[n] = (struct vring_desc){
			.addr = data + (uint64_t)i * s->seg_bytes,
			.len = s->seg_bytes,
			.flags = (uint16_t)(VRING_DESC_F_NEXT |
					    (s->write ? 0 : VRING_DESC_F_WRITE)),
			.next = (uint16_t)(n + 1) };
	t[n++] = (struct vring_desc){ .addr = hdr + 32, .len = 1,
				      .flags = VRING_DESC_F_WRITE };
	d[slot] = (struct vring_desc){ .addr = tgpa, .len = 16 * n,
				       .flags = VRING_DESC_F_INDIRECT };
	a->ring[q->avail_idx % q->size] = (uint16_t)slot;
	q->avail_idx++;
}

/* Publish the posted chains; kick if the device asked for it (2.7.10:
 * avail_event in [old, new)), as Linux's virtqueue_kick_prepare does. */
static void qd_publish(uint16_t old)
{
	struct vdrv_q *q = &drv.q[0];
	struct vring_avail *a = (struct vring_avail *)(ram + q->avail);
	struct vring_used *u = (struct vring_used *)(ram + q->used);
	uint16_t ev;

	__atomic_store_n(&a->idx, q->avail_idx, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	ev = __atomic_load_n(&u->ring[q->size].id, __ATOMIC_RELAXED) & 0xffff;
	if ((uint16_t)(q->avail_idx - ev - 1) < (uint16_t)(q->avail_idx - old))
		virtio_pci_kick_queue(blk, 0);
}

/* MSI-X vector 0 for queue 0 (its irqfd is what the driver sleeps on). */
static int qd_msix(void)
{
	struct pci_dev *p = &blk->pci;
	uint32_t x;

	x = 0xfee00000;
	virtio_pci_bar_access(blk, VIRTIO_PCI_MSIX_TABLE_OFF, &x, 4, true);
	x = 0;
	virtio_pci_bar_access(blk, VIRTIO_PCI_MSIX_TABLE_OFF + 4, &x, 4, true);
	x = 0x40;
	virtio_pci_bar_access(blk, VIRTIO_PCI_MSIX_TABLE_OFF + 8, &x, 4, true);
	x = 0; /* unmasked */
	virtio_pci_bar_access(blk, VIRTIO_PCI_MSIX_TABLE_OFF + 12, &x, 4, true);
	pci_cfg_write(p, p->msix.cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	VDRV_WR(&drv, queue_select, 0);
	VDRV_WR(&drv, queue_msix_vector, 0);
	if (VDRV_RD(&drv, queue_msix_vector) != 0 || p->msix.v[0].efd < 0)
		return -1;
	return p->msix.v[0].efd;
}

/* --publish each (the default): the driver stores the avail index after
 * every request it adds, as Linux's virtio_ring does (virtqueue_add
 * stores it each time, the kick waits for the batch's last request), so
 * the device may take a request while the driver is still adding the
 * rest; batch: once a batch (the bench before 2026-12-04). */
static bool publish_each = true;

/* Keep qd requests of shape s in flight for `seconds` (or until `ops`
 * requests are done, when not 0); requests a second. */
static uint64_t qd_done; /* requests run_qd saw completed, in all */

static double run_qd(const struct shape *s, unsigned qd, double seconds,
		     uint64_t ops, int irq)
{
	struct vdrv_q *q = &drv.q[0];
	struct vring_avail *a = (struct vring_avail *)(ram + q->avail);
	struct vring_used *u = (struct vring_used *)(ram + q->used);
	uint16_t *used_event = &a->ring[q->size];
	uint64_t k = 0, done = 0, counted = 0;
	unsigned inflight = 0;
	double t0, t = 0;
	bool stopping = false;

	rnd_state = 88172645463325252ULL;
	t0 = now();
	for (unsigned r = 0; r < qd && (!ops || k < ops); r++, inflight++)
		qd_post(s, r, offset_of(s, k++));
	qd_publish(q->avail_idx - (uint16_t)inflight);
	while (inflight) {
		uint16_t old = q->avail_idx;
		unsigned n = 0;

		while (__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) !=
		       q->last_used) {
			struct vring_used_elem e =
				u->ring[q->last_used % q->size];

			q->last_used++;
			if (e.id >= qd || e.len != (s->write ? 1 : s->req_bytes + 1) ||
			    ram[HDRS + 64ULL * e.id + 32] != VIRTIO_BLK_S_OK) {
				fprintf(stderr, "blk-devmodel: %s: request failed\n",
					s->name);
				exit(1);
			}
			done++;
			n++;
			if (!stopping) {
				t = now() - t0;
				counted = done;
				stopping = ops ? k >= ops : t >= seconds;
			}
			if (stopping) { /* let the rest come back */
				inflight--;
				continue;
			}
			qd_post(s, e.id, offset_of(s, k++));
			if (publish_each)
				__atomic_store_n(&a->idx, q->avail_idx,
						 __ATOMIC_RELEASE);
		}
		if (q->avail_idx != old) /* reposted in this batch */
			qd_publish(old);
		if (n)
			continue;
		/* interrupts on again from here (Linux's
		 * virtqueue_enable_cb), then look once more */
		__atomic_store_n(used_event, q->last_used, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) != q->last_used)
			continue;
		struct pollfd pf = { irq, POLLIN, 0 };
		uint64_t cnt;

		if (poll(&pf, 1, 10000) <= 0) {
			fprintf(stderr, "blk-devmodel: %s: no interrupt for 10 s "
				"(%u in flight)\n", s->name, inflight);
			exit(1);
		}
		if (read(irq, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
			exit(1);
	}
	qd_done = done;
	return counted / t;
}

/* CPU seconds (user + system) and context switches of the process. */
static void usage_now(double *cpu, double *cs)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	*cs = (double)ru.ru_nvcsw + (double)ru.ru_nivcsw;
}

/* The --iodepth mode: attach the device to a PCI bus (starts its I/O
 * thread), set up MSI-X, run. */
static int main_qd(const char *test, unsigned qd, double seconds,
		   uint64_t ops, const struct shape *shapes, unsigned nshapes,
		   bool cost)
{
	const struct shape *s = NULL;
	double cpu0, cs0, cpu1, cs1;
	int irq;

	for (unsigned i = 0; i < nshapes; i++)
		if (!strcmp(shapes[i].name, test))
			s = &shapes[i];
	if (!s || qd < 1 || qd > MAX_QD ||
	    DATA + (uint64_t)qd * s->req_bytes > RAM_SIZE)
		usage();
	clk = CLOCK_MONOTONIC; /* the work is on the I/O thread */
	if (virtio_pci_start(blk)) {
		fprintf(stderr, "blk-devmodel: cannot start the device\n");
		return 1;
	}
	if (!(vdrv_negotiate(&drv, vdrv_device_features(&drv)) &
	      VIRTIO_CONFIG_S_FEATURES_OK))
		return 1;
	vdrv_setup_queue(&drv, 0, QSIZE, QBASE);
	irq = qd_msix();
	if (irq < 0) {
		fprintf(stderr, "blk-devmodel: no MSI-X irqfd\n");
		return 1;
	}
	vdrv_driver_ok(&drv);
	usage_now(&cpu0, &cs0);
	double r = run_qd(s, qd, seconds, ops, irq);
	usage_now(&cpu1, &cs1);
	printf("%s qd=%u %.0f ops/s %.1f MB/s", s->name, qd, r,
	       r * s->req_bytes / 1e6);
	if (cost && qd_done)
		printf(" cpu-us/op %.2f cs/op %.3f",
		       (cpu1 - cpu0) * 1e6 / (double)qd_done,
		       (cs1 - cs0) / (double)qd_done);
	printf("\n");
	/* stops the I/O thread; closing writes qcow2's metadata back */
	virtio_pci_destroy(blk);
	pci_bus_destroy(&pbus);
	blk->dev.ops->free(&blk->dev);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: blk-devmodel [--image PATH] [--size MIB] [--cache writeback|none] [--aio io_uring|sync]\n"
		"                    [--lone inline|async] [--quiet-depth N] [--poll US]\n"
		"                    [--publish each|batch]\n"
		"                    [--format raw|qcow2 --ceiling-image RAW]\n"
		"                    [--seconds S] [--clock cpu|wall] [--only TEST:dev|TEST:ceil --ops N]\n"
		"                    [--iodepth N --test TEST [--cost]]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *image = "/tmp/blk-devmodel.img", *only = NULL;
	const char *format = "raw", *ceiling_image = NULL, *test = NULL;
	uint64_t size_mib = 256, ops = 0;
	unsigned iodepth = 0;
	double seconds = 1.0;
	enum blockdev_cache cache = BLOCKDEV_CACHE_WRITEBACK;
	enum virtio_blk_aio aio = VIRTIO_BLK_AIO_IO_URING;
	bool lone_async = false, cost = false;
	unsigned quiet_depth = 0, poll_us = VIRTIO_BLK_POLL_US;
	static const struct shape shapes[] = {
		{ "seq-read-1m", 1 << 20, 128 << 10, false, false },
		{ "seq-write-1m", 1 << 20, 128 << 10, true, false },
		{ "seq-read-512k-4kseg", 512 << 10, 4096, false, false },
		{ "rand-read-4k", 4096, 4096, false, true },
		/* for --iodepth only: not in the table */
		{ "rand-write-4k", 4096, 4096, true, true },
	};
	const unsigned nshapes = sizeof(shapes) / sizeof(shapes[0]);
	const unsigned ntable = nshapes - 1;
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
		else if (!strcmp(argv[i], "--iodepth") && i + 1 < argc)
			iodepth = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--test") && i + 1 < argc)
			test = argv[++i];
		else if (!strcmp(argv[i], "--cost"))
			cost = true;
		else if (!strcmp(argv[i], "--cache") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "none"))
				cache = BLOCKDEV_CACHE_NONE;
			else if (strcmp(argv[i], "writeback"))
				usage();
		} else if (!strcmp(argv[i], "--aio") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "sync"))
				aio = VIRTIO_BLK_AIO_SYNC;
			else if (strcmp(argv[i], "io_uring"))
				usage();
		} else if (!strcmp(argv[i], "--poll") && i + 1 < argc) {
			poll_us = (unsigned)strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--quiet-depth") && i + 1 < argc) {
			quiet_depth = (unsigned)strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--publish") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "batch"))
				publish_each = false;
			else if (strcmp(argv[i], "each"))
				usage();
		} else if (!strcmp(argv[i], "--lone") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "async"))
				lone_async = true;
			else if (strcmp(argv[i], "inline"))
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
	if (strcmp(format, "raw") && !ceiling_image && !iodepth)
		usage();
	if (!!iodepth != !!test)
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
	/* written data is not all zeroes: a copy of an image the bench
	 * wrote has no holes for cp to make */
	memset(ram + DATA, 0x5a, RAM_SIZE - DATA);

	o.path = image;
	o.format = format;
	o.cache = cache;
	if (blockdev_open(&o, &bd, err, sizeof(err))) {
		fprintf(stderr, "blk-devmodel: %s\n", err);
		return 1;
	}
	if (iodepth && (bus_init(&vm.pio, "pio") || bus_init(&vm.mmio, "mmio") ||
			pci_bus_init(&pbus, &vm, &host)))
		return 1;
	if (virtio_blk_create(&vm, &(struct virtio_blk_cfg){ .bd = bd,
		.serial = "bench", .nr_queues = 1, .aio = aio,
		.lone_async = lone_async, .quiet_depth = quiet_depth,
		.poll_us = poll_us }, &blk))
		return 1;
	if (virtio_blk_aio_error(blk))
		fprintf(stderr, "blk-devmodel: no io_uring (%s): synchronous I/O\n",
			strerror(-virtio_blk_aio_error(blk)));
	drv.dev = blk;
	drv.ram = ram;
	if (iodepth)
		return main_qd(test, iodepth, seconds, ops, shapes, nshapes,
			       cost);
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
		for (unsigned i = 0; i < nshapes; i++)
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
	for (unsigned i = 0; i < ntable; i++) {
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
