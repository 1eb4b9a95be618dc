/* SPDX-License-Identifier: MIT
 * Unit tests: the qcow2 backend and `img create/check` - images made by
 * img_main read and write correctly across cluster sizes and refcount
 * widths, survive reopen, discard/write-zeroes, backing files, and stay
 * consistent (qcow2_check); malformed headers are refused; a writer that
 * dies without closing leaves a consistent image holding its flushed data.
 * Crafted images whose tables point at other metadata (refcount blocks on
 * the L1 table, data on an L2 table, a free refcount on the L1 table...)
 * are refused or fail with -EIO without a byte of the file changing.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/disk/blockdev.h"
#include "devices/disk/disk_int.h"
#include "devices/disk/img.h"
#include "devices/disk/qcow2_int.h"
#include "vmm/log.h"

static char dir[64];

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static int img(const char *a1, const char *a2, const char *a3,
	       const char *a4, const char *a5, const char *a6)
{
	char *argv[8] = { "img", (char *)a1, (char *)a2, (char *)a3,
			  (char *)a4, (char *)a5, (char *)a6, NULL };
	int argc = 1;
	while (argc < 7 && argv[argc])
		argc++;
	/* silence the tool's stdout */
	fflush(stdout);
	int save = dup(1), nul = open("/dev/null", O_WRONLY);
	dup2(nul, 1);
	int ret = img_main(argc, argv);
	fflush(stdout);
	dup2(save, 1);
	close(save);
	close(nul);
	return ret;
}

static struct blockdev *open_q(const char *p, bool ro)
{
	struct blockdev_opts o = { .path = p, .format = "qcow2", .readonly = ro };
	struct blockdev *bd = NULL;
	char err[512];
	int ret = blockdev_open(&o, &bd, err, sizeof(err));
	if (ret)
		fprintf(stderr, "open %s: %s\n", p, err);
	assert_int_equal(ret, 0);
	return bd;
}

static void assert_clean(struct blockdev *bd)
{
	struct qcow2_check_result r;
	assert_int_equal(qcow2_check(bd, false, &r, NULL, NULL), 0);
	assert_int_equal(r.corruptions, 0);
	assert_int_equal(r.leaks, 0);
}

static int setup(void **state)
{
	(void)state;
	log_quiet = true;
	snprintf(dir, sizeof(dir), "/tmp/test_qcow2.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void pattern(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)((i * 31 + seed * 7) ^ (i >> 9));
}

static int rd(struct blockdev *bd, void *buf, size_t len, uint64_t off)
{
	struct iovec v = { buf, len };
	return blockdev_preadv(bd, &v, 1, off);
}

static int wr(struct blockdev *bd, const void *buf, size_t len, uint64_t off)
{
	struct iovec v = { (void *)buf, len };
	return blockdev_pwritev(bd, &v, 1, off);
}

/* A model of the disk kept in memory, compared after each step. */
static void exercise(const char *name, const char *opt)
{
	char p[128];
	const uint64_t size = 8 << 20;
	path_of(p, sizeof(p), name);
	if (opt)
		assert_int_equal(img("create", "-o", opt, p, "8M", NULL), 0);
	else
		assert_int_equal(img("create", p, "8M", NULL, NULL, NULL), 0);
	struct blockdev *bd = open_q(p, false);
	assert_int_equal(bd->size, size);
	uint8_t *model = calloc(1, size), *got = malloc(size), *buf = malloc(1 << 20);

	assert_int_equal(rd(bd, got, size, 0), 0);
	assert_memory_equal(got, model, size);
	/* writes: unaligned inside a cluster, crossing clusters, large */
	struct { uint64_t off; size_t len; } w[] = {
		{ 512, 512 }, { 4096 + 1024, 70000 & ~511u }, { 65536 - 512, 1024 },
		{ 3 << 20, 1 << 20 }, { size - 4096, 4096 }, { 2 << 20, 300 * 512 },
		{ 512, 4096 },
	};
	for (unsigned i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		pattern(buf, w[i].len, i + 1);
		assert_int_equal(wr(bd, buf, w[i].len, w[i].off), 0);
		memcpy(model + w[i].off, buf, w[i].len);
	}
	assert_int_equal(rd(bd, got, size, 0), 0);
	assert_memory_equal(got, model, size);
	/* zeroes and discard */
	assert_int_equal(blockdev_write_zeroes(bd, 3 << 20, 200 * 1024, false), 0);
	memset(model + (3 << 20), 0, 200 * 1024);
	assert_int_equal(blockdev_write_zeroes(bd, 1000 * 512, 3 * 512, true), 0);
	memset(model + 1000 * 512, 0, 3 * 512);
	assert_int_equal(blockdev_discard(bd, 3 << 20, 1 << 20), 0);
	assert_int_equal(rd(bd, got, size, 0), 0);
	/* discard: zero or old data, here (no backing) whole clusters zero */
	for (uint64_t i = 0; i < size; i++)
		if (got[i] != model[i])
			assert_true(got[i] == 0 && i >= (3 << 20) &&
				    i < (4 << 20));
	memcpy(model, got, size);
	/* out of range */
	assert_int_equal(rd(bd, buf, 1024, size - 512), -EINVAL);
	assert_int_equal(wr(bd, buf, 512, size), -EINVAL);
	assert_int_equal(blockdev_flush(bd), 0);
	assert_clean(bd);
	blockdev_close(bd);

	/* reopen: same content, still consistent */
	bd = open_q(p, false);
	assert_int_equal(rd(bd, got, size, 0), 0);
	assert_memory_equal(got, model, size);
	pattern(buf, 1 << 20, 9);
	assert_int_equal(wr(bd, buf, 1 << 20, 5 << 20), 0);
	memcpy(model + (5 << 20), buf, 1 << 20);
	blockdev_close(bd);
	bd = open_q(p, true);
	assert_int_equal(rd(bd, got, size, 0), 0);
	assert_memory_equal(got, model, size);
	assert_int_equal(wr(bd, buf, 512, 0), -EROFS);
	assert_clean(bd);
	blockdev_close(bd);
	free(model);
	free(got);
	free(buf);
}

static void test_rw_64k(void **state) { (void)state; exercise("a.qcow2", NULL); }
static void test_rw_512(void **state) { (void)state; exercise("b.qcow2", "cluster_size=512"); }
static void test_rw_2m(void **state) { (void)state; exercise("c.qcow2", "cluster_size=2M"); }
static void test_rw_rc1(void **state) { (void)state; exercise("d.qcow2", "refcount_bits=1,cluster_size=4096"); }
static void test_rw_rc64(void **state) { (void)state; exercise("e.qcow2", "refcount_bits=64,cluster_size=4096"); }
static void test_rw_rc4(void **state) { (void)state; exercise("f.qcow2", "refcount_bits=4,cluster_size=1024"); }

static void test_backing(void **state)
{
	(void)state;
	char base[128], top[128];
	const size_t bsize = 1 << 20;
	path_of(base, sizeof(base), "base.raw");
	path_of(top, sizeof(top), "top.qcow2");
	uint8_t *b = malloc(bsize), *got = malloc(2 * bsize);
	pattern(b, bsize, 5);
	int fd = open(base, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(write(fd, b, bsize), (ssize_t)bsize);
	close(fd);
	/* overlay larger than its backing: the tail reads as zeroes */
	assert_int_equal(img("create", "-b", "base.raw", "-F", "raw", top), 0);
	struct blockdev *bd = open_q(top, false);
	assert_int_equal(bd->size, bsize);
	blockdev_close(bd);
	assert_int_equal(img("create", "-b", "base.raw", "-Fraw", top, "2M"), 0);
	bd = open_q(top, false);
	assert_int_equal(bd->size, 2 * bsize);
	assert_int_equal(rd(bd, got, 2 * bsize, 0), 0);
	assert_memory_equal(got, b, bsize);
	for (size_t i = bsize; i < 2 * bsize; i++)
		assert_int_equal(got[i], 0);
	/* a partial write copies the rest of the cluster from the backing */
	uint8_t x[512];
	memset(x, 0xee, sizeof(x));
	assert_int_equal(wr(bd, x, 512, 4096), 0);
	assert_int_equal(rd(bd, got, 65536, 0), 0);
	assert_memory_equal(got, b, 4096);
	assert_memory_equal(got + 4096, x, 512);
	assert_memory_equal(got + 4608, b + 4608, 65536 - 4608);
	/* write-zeroes over backing data reads zero (zero cluster) */
	assert_int_equal(blockdev_write_zeroes(bd, 131072, 65536, true), 0);
	assert_int_equal(rd(bd, got, 65536, 131072), 0);
	for (int i = 0; i < 65536; i++)
		assert_int_equal(got[i], 0);
	assert_clean(bd);
	blockdev_close(bd);
	/* the backing file is untouched */
	fd = open(base, O_RDONLY);
	assert_int_equal(read(fd, got, bsize), (ssize_t)bsize);
	close(fd);
	assert_memory_equal(got, b, bsize);
	free(b);
	free(got);
}

/* Requests with more than 64 iovecs (the on-stack limit of the sub-vector
 * helper): a write spanning partial and whole clusters over a backing
 * file, then a read covering allocated clusters, backing data and the
 * zero tail past the backing file, each checked against a model. */
static void test_many_iovecs(void **state)
{
	(void)state;
	char base[128], top[128];
	const size_t bsize = 1 << 20, size = 2 << 20;
	const size_t wpiece = 1000, wn = 200, woff = 30000;
	const size_t rpiece = 1024, rn = size / rpiece;
	path_of(base, sizeof(base), "many-base.raw");
	path_of(top, sizeof(top), "many.qcow2");
	uint8_t *model = calloc(1, size), *w = malloc(wpiece * wn);
	uint8_t *got = malloc(size);
	struct iovec *v = calloc(rn, sizeof(*v));
	assert_non_null(model);
	assert_non_null(w);
	assert_non_null(got);
	assert_non_null(v);
	pattern(model, bsize, 9);
	int fd = open(base, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(write(fd, model, bsize), (ssize_t)bsize);
	close(fd);
	assert_int_equal(img("create", "-b", "many-base.raw", "-Fraw", top, "2M"),
			 0);
	struct blockdev *bd = open_q(top, false);

	pattern(w, wpiece * wn, 3);
	for (size_t i = 0; i < wn; i++)
		v[i] = (struct iovec){ w + i * wpiece, wpiece };
	assert_int_equal(blockdev_pwritev(bd, v, (int)wn, woff), 0);
	memcpy(model + woff, w, wpiece * wn);

	memset(got, 0xa5, size);
	for (size_t i = 0; i < rn; i++)
		v[i] = (struct iovec){ got + i * rpiece, rpiece };
	assert_int_equal(blockdev_preadv(bd, v, (int)rn, 0), 0);
	assert_memory_equal(got, model, size);
	assert_clean(bd);
	blockdev_close(bd);
	free(model);
	free(w);
	free(got);
	free(v);
}

/* Patch bytes of a fresh image's header and expect open to fail. */
static void expect_refused(const char *what, uint64_t off, const void *val,
			   size_t len)
{
	char p[128], err[512];
	path_of(p, sizeof(p), "bad.qcow2");
	assert_int_equal(img("create", p, "16M", NULL, NULL, NULL), 0);
	int fd = open(p, O_WRONLY);
	assert_int_equal(pwrite(fd, val, len, (off_t)off), (ssize_t)len);
	close(fd);
	struct blockdev_opts o = { .path = p, .format = "qcow2" };
	struct blockdev *bd = NULL;
	err[0] = 0;
	int ret = blockdev_open(&o, &bd, err, sizeof(err));
	if (ret == 0) {
		fprintf(stderr, "%s: accepted\n", what);
		blockdev_close(bd);
	}
	assert_int_not_equal(ret, 0);
	assert_non_null(strstr(err, p));
}

static void test_malformed(void **state)
{
	(void)state;
	uint32_t v32;
	uint64_t v64;
#define BE32(x) (v32 = htobe32(x), (const void *)&v32)
#define BE64(x) (v64 = htobe64(x), (const void *)&v64)
	expect_refused("magic", 0, "QFI\xfa", 4);
	expect_refused("version 1", 4, BE32(1), 4);
	expect_refused("cluster_bits 8", 20, BE32(8), 4);
	expect_refused("cluster_bits 30", 20, BE32(30), 4);
	expect_refused("crypt", 32, BE32(2), 4);
	expect_refused("l1 huge", 36, BE32(0xffffffffu), 4);
	expect_refused("l1 too small", 36, BE32(0), 4);
	expect_refused("l1 past eof", 40, BE64(1ull << 40), 8);
	expect_refused("l1 overflow", 40, BE64(UINT64_MAX - 65535), 8);
	expect_refused("rt unaligned", 48, BE64(65536 + 512), 8);
	expect_refused("rt clusters 0", 56, BE32(0), 4);
	expect_refused("rt huge", 56, BE32(0x7fffffff), 4);
	expect_refused("overlap", 40, BE64(65536), 8);
	expect_refused("refcount_order 7", 96, BE32(7), 4);
	expect_refused("header_length", 100, BE32(1 << 30), 4);
	expect_refused("extended l2", 72, BE64(1 << 4), 8);
	expect_refused("unknown bit", 72, BE64(1ull << 40), 8);
	expect_refused("size overflow", 24, BE64(UINT64_MAX & ~511ull), 8);
	expect_refused("snapshots", 60, BE32(100000), 4);
	expect_refused("backing too long", 8, BE64(65000), 8);
}

static void test_backing_loop(void **state)
{
	(void)state;
	char a[128];
	path_of(a, sizeof(a), "loop.qcow2");
	/* an image whose backing file is itself */
	assert_int_equal(img("create", a, "1M", NULL, NULL, NULL), 0);
	int fd = open(a, O_WRONLY);
	const char *name = "loop.qcow2";
	uint64_t off = htobe64(1024);
	uint32_t len = htobe32((uint32_t)strlen(name));
	assert_int_equal(pwrite(fd, name, strlen(name), 1024), (ssize_t)strlen(name));
	assert_int_equal(pwrite(fd, &off, 8, 8), 8);
	assert_int_equal(pwrite(fd, &len, 4, 16), 4);
	close(fd);
	struct blockdev_opts o = { .path = a, .format = "qcow2",
				   .backing_format = "qcow2" };
	struct blockdev *bd;
	char err[512];
	assert_int_equal(blockdev_open(&o, &bd, err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, "loop"));
}

/* A child writes and flushes, writes more without flushing, then dies
 * with _exit (no close: cached metadata is lost). The image must be
 * consistent apart from leaks, and hold everything flushed. */
static void test_crash(void **state)
{
	(void)state;
	char p[128];
	path_of(p, sizeof(p), "crash.qcow2");
	assert_int_equal(img("create", "-o", "cluster_size=4096", p, "4M", NULL), 0);
	uint8_t *a = malloc(1 << 20), *b = malloc(1 << 20), *got = malloc(1 << 20);
	pattern(a, 1 << 20, 1);
	pattern(b, 1 << 20, 2);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct blockdev *bd = open_q(p, false);
		if (wr(bd, a, 1 << 20, 0) || blockdev_flush(bd))
			_exit(1);
		/* unflushed: new allocations, overwrites, discards */
		if (wr(bd, b, 1 << 20, 2 << 20) || wr(bd, b, 8192, 0) ||
		    blockdev_discard(bd, 65536, 65536))
			_exit(1);
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	struct blockdev *bd = open_q(p, true);
	struct qcow2_check_result r;
	assert_int_equal(qcow2_check(bd, false, &r, NULL, NULL), 0);
	assert_int_equal(r.corruptions, 0);
	assert_int_equal(rd(bd, got, 1 << 20, 0), 0);
	/* overwritten in place but unflushed: either version per byte */
	for (int i = 0; i < 1 << 20; i++)
		assert_true(got[i] == a[i] || (i < 8192 && got[i] == b[i]) ||
			    (i >= 65536 && i < 131072 && got[i] == 0));
	blockdev_close(bd);
	/* leaks are repairable */
	bd = open_q(p, false);
	assert_int_equal(qcow2_check(bd, true, &r, NULL, NULL), 0);
	assert_int_equal(r.corruptions, 0);
	assert_clean(bd);
	blockdev_close(bd);
	free(a);
	free(b);
	free(got);
}

static void test_img_check_status(void **state)
{
	(void)state;
	char p[128];
	path_of(p, sizeof(p), "st.qcow2");
	assert_int_equal(img("create", p, "1M", NULL, NULL, NULL), 0);
	assert_int_equal(img("check", p, NULL, NULL, NULL, NULL), 0);
	/* a refcount on an unused cluster inside the file: a leak */
	assert_int_equal(truncate(p, 1 << 20), 0);
	int fd = open(p, O_RDWR);
	uint64_t rt, rb;
	assert_int_equal(pread(fd, &rt, 8, 48), 8);
	assert_int_equal(pread(fd, &rb, 8, (off_t)be64toh(rt)), 8);
	uint16_t one = htobe16(1);
	assert_int_equal(pwrite(fd, &one, 2, (off_t)be64toh(rb) + 2 * 10), 2);
	close(fd);
	assert_int_equal(img("check", p, NULL, NULL, NULL, NULL), 3);
	assert_int_equal(img("check", "-r", "leaks", p, NULL, NULL), 0);
	assert_int_equal(img("check", p, NULL, NULL, NULL, NULL), 0);
	/* the header cluster's refcount dropped to 0: corruption */
	fd = open(p, O_RDWR);
	uint16_t zero = 0;
	assert_int_equal(pwrite(fd, &zero, 2, (off_t)be64toh(rb)), 2);
	close(fd);
	assert_int_equal(img("check", p, NULL, NULL, NULL, NULL), 2);
	/* raw: not supported (63), bad usage: 1 */
	char r[128];
	path_of(r, sizeof(r), "x.raw");
	assert_int_equal(img("create", "-f", "raw", r, "1M", NULL), 0);
	assert_int_equal(img("check", r, NULL, NULL, NULL, NULL), 63);
	assert_int_equal(img("create", r, "12Q", NULL, NULL, NULL), 1);
	assert_int_equal(img("frobnicate", NULL, NULL, NULL, NULL, NULL), 1);
}

/* 64-bit refcounts near 2^63 and 2^64 on a used cluster: a leak that
 * -r leaks lowers to the real count (the difference does not fit a
 * signed delta), after which the image is clean. */
static void test_check_rc64_leak(void **state)
{
	(void)state;
	static const uint64_t huge[] = { (1ull << 63) + 5, 1ull << 63,
					 UINT64_MAX, (1ull << 63) - 1 };
	char p[128];
	path_of(p, sizeof(p), "rc64.qcow2");
	for (unsigned i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		assert_int_equal(img("create", "-o",
				     "refcount_bits=64,cluster_size=4096", p,
				     "1M", NULL), 0);
		int fd = open(p, O_RDWR);
		uint64_t rt, rb, v = htobe64(huge[i]);
		assert_int_equal(pread(fd, &rt, 8, 48), 8);
		assert_int_equal(pread(fd, &rb, 8, (off_t)be64toh(rt)), 8);
		/* cluster 0, the header: used once */
		assert_int_equal(pwrite(fd, &v, 8, (off_t)be64toh(rb)), 8);
		close(fd);
		assert_int_equal(img("check", p, NULL, NULL, NULL, NULL), 3);
		assert_int_equal(img("check", "-r", "leaks", p, NULL, NULL), 0);
		assert_int_equal(img("check", p, NULL, NULL, NULL, NULL), 0);
	}
}

/* img create refuses a size that rounds past 2^64 or that the format
 * cannot hold, instead of making an empty image. */
static void test_create_huge(void **state)
{
	(void)state;
	char p[128];
	struct stat st;
	path_of(p, sizeof(p), "huge.img");
	unlink(p);
	assert_int_equal(img("create", "-f", "raw", p, "18446744073709551615",
			     NULL), 1);
	assert_int_equal(img("create", "-f", "raw", p, "18446744073709551104",
			     NULL), 1);
	assert_int_equal(img("create", "-f", "raw", p, "16777215T", NULL), 1);
	assert_int_equal(img("create", p, "18446744073709551615", NULL, NULL,
			     NULL), 1);
	assert_int_equal(img("create", p, "65537T", NULL, NULL, NULL), 1);
	assert_int_not_equal(stat(p, &st), 0);
	/* the largest sizes that are accepted */
	assert_int_equal(img("create", "-f", "raw", p, "1T", NULL), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 1ll << 40);
	unlink(p);
}

/* ---- metadata overlaps in crafted images ---- */

static uint64_t get64(const char *p, uint64_t off)
{
	uint64_t v = 0;
	int fd = open(p, O_RDONLY);
	assert_int_equal(pread(fd, &v, 8, (off_t)off), 8);
	close(fd);
	return be64toh(v);
}

static void put(const char *p, uint64_t off, const void *v, size_t len)
{
	int fd = open(p, O_WRONLY);
	assert_int_equal(pwrite(fd, v, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void put64(const char *p, uint64_t off, uint64_t v)
{
	v = htobe64(v);
	put(p, off, &v, 8);
}

/* 16-bit refcount of the cluster at file offset `at` (one refcount block) */
static void put_rc(const char *p, uint64_t at, uint16_t rc)
{
	uint64_t rb = get64(p, get64(p, 48));
	rc = htobe16(rc);
	put(p, rb + 2 * (at / 4096), &rc, 2);
}

static uint8_t *slurp(const char *p, size_t *len)
{
	int fd = open(p, O_RDONLY);
	off_t n = lseek(fd, 0, SEEK_END);
	uint8_t *b = malloc((size_t)n);
	assert_int_equal(pread(fd, b, (size_t)n, 0), n);
	close(fd);
	*len = (size_t)n;
	return b;
}

/* Where things are in the image meta_image makes. */
struct layout {
	uint64_t rt, rb, l1, l2a, l2b;
};

/* 8 MiB, 4 KiB clusters: guest clusters 0, 1 (L2 table a) and 512 (L2
 * table b) written with pattern 1. */
static void meta_image(const char *p, struct layout *l)
{
	uint8_t buf[8192];
	assert_int_equal(img("create", "-o", "cluster_size=4096", p, "8M", NULL),
			 0);
	struct blockdev *bd = open_q(p, false);
	pattern(buf, sizeof(buf), 1);
	assert_int_equal(wr(bd, buf, 8192, 0), 0);
	assert_int_equal(wr(bd, buf, 4096, 2 << 20), 0);
	blockdev_close(bd);
	l->rt = get64(p, 48);
	l->rb = get64(p, l->rt);
	l->l1 = get64(p, 40);
	l->l2a = get64(p, l->l1) & 0x00fffffffffffe00ull;
	l->l2b = get64(p, l->l1 + 8) & 0x00fffffffffffe00ull;
}

static void expect_open_fails(const char *p, const char *what,
			      const char *needle)
{
	struct blockdev_opts o = { .path = p, .format = "qcow2" };
	struct blockdev *bd = NULL;
	char err[512] = "";
	int ret = blockdev_open(&o, &bd, err, sizeof(err));
	if (ret == 0) {
		fprintf(stderr, "%s: accepted\n", what);
		blockdev_close(bd);
	} else if (!strstr(err, needle)) {
		fprintf(stderr, "%s: '%s' lacks '%s'\n", what, err, needle);
	}
	assert_int_not_equal(ret, 0);
	assert_non_null(strstr(err, p));
	assert_non_null(strstr(err, needle));
}

/* Lines of the file at p holding needle. */
static int count_lines(const char *p, const char *needle)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

/* Open read-write, expect a write (and a read, if rd_fails) of guest
 * cluster gcl to fail with -EIO, later writes and the flush too, the
 * corruption to be reported once, and the file to be unchanged. */
static void expect_eio(const char *p, const char *what, uint64_t gcl,
		       bool rd_fails)
{
	size_t n0, n1;
	uint8_t *before = slurp(p, &n0), buf[4096], back[4096], want[4096];
	char logp[128];
	path_of(logp, sizeof(logp), "stderr.txt");
	struct blockdev *bd = open_q(p, false);
	memset(buf, 0xcc, sizeof(buf));
	/* messages to a file while the image is in use */
	fflush(stderr);
	int save = dup(2), lfd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(lfd, 2);
	close(lfd);
	log_quiet = false;
	int w = wr(bd, buf, 512, gcl * 4096);
	int r = rd_fails ? rd(bd, back, 4096, gcl * 4096) : -EIO;
	/* the image is corrupt now: nothing more is written */
	int w2 = wr(bd, buf, 512, 0), w3 = wr(bd, buf, 512, 4096 * 3);
	int z = blockdev_write_zeroes(bd, 0, 4096, true);
	int f = blockdev_flush(bd);
	/* reads of intact clusters still work */
	int r2 = rd(bd, back, 4096, 0);
	blockdev_close(bd);
	fflush(stderr);
	dup2(save, 2);
	close(save);
	log_quiet = true;
	if (w != -EIO)
		fprintf(stderr, "%s: write returned %d\n", what, w);
	assert_int_equal(w, -EIO);
	assert_int_equal(r, -EIO);
	assert_int_equal(w2, -EIO);
	assert_int_equal(w3, -EIO);
	assert_int_equal(z, -EIO);
	assert_int_equal(f, -EIO);
	assert_int_equal(r2, 0);
	pattern(want, sizeof(want), 1);
	assert_memory_equal(back, want, 4096);
	assert_int_equal(count_lines(logp, "corrupt image"), 1);
	uint8_t *after = slurp(p, &n1);
	assert_int_equal(n0, n1);
	assert_memory_equal(before, after, n0);
	free(before);
	free(after);
}

/* A metadata cluster whose refcount reads 0 is never handed out. */
static void test_alloc_on_metadata(void **state)
{
	(void)state;
	char p[128];
	struct layout l;
	path_of(p, sizeof(p), "am.qcow2");
	const char *name[] = { "refcount table", "refcount block", "L1 table",
			       "L2 table" };
	for (int i = 0; i < 4; i++) {
		meta_image(p, &l);
		uint64_t at[] = { l.rt, l.rb, l.l1, l.l2a };
		put_rc(p, at[i], 0);
		/* guest cluster 2 is unallocated: its write allocates */
		expect_eio(p, name[i], 2, false);
	}
}

/* Refcount table entries must point at a refcount block of their own,
 * inside the file. */
static void test_bad_refcount_block(void **state)
{
	(void)state;
	char p[128];
	struct layout l;
	path_of(p, sizeof(p), "rb.qcow2");
	struct { const char *what; int idx; int which; } c[] = {
		{ "refcount block on the L1 table", 0, 0 },
		{ "refcount block on the refcount table", 0, 1 },
		{ "refcount block on an L2 table", 0, 2 },
		{ "unused entry on the L1 table", 1, 0 },
		{ "two entries, one block", 1, 3 },
		{ "refcount block past the end of the file", 0, 4 },
	};
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		meta_image(p, &l);
		uint64_t to[] = { l.l1, l.rt, l.l2a, l.rb, 1ull << 40 };
		put64(p, l.rt + 8 * (uint64_t)c[i].idx, to[c[i].which]);
		expect_open_fails(p, c[i].what, "refcount block");
	}
}

/* L1 and L2 entries pointing at other metadata. */
static void test_l2_on_metadata(void **state)
{
	(void)state;
	char p[128];
	struct layout l;
	path_of(p, sizeof(p), "l2.qcow2");
	const uint64_t COPIED = 1ull << 63;

	meta_image(p, &l);
	put64(p, l.l1, l.rb | COPIED);
	expect_open_fails(p, "L1 entry on a refcount block", "refcount block");

	/* guest cluster 1's L2 entry (in table a) redirected */
	const char *name[] = { "its own L2 table", "another L2 table",
			       "a refcount block", "the L1 table",
			       "the refcount table" };
	for (int i = 0; i < 5; i++) {
		meta_image(p, &l);
		uint64_t to[] = { l.l2a, l.l2b, l.rb, l.l1, l.rt };
		put64(p, l.l2a + 8, to[i] | COPIED);
		expect_eio(p, name[i], 1, true);
	}
}

/* Append a snapshot table with one snapshot whose L1 table is a copy of
 * the active one; returns the offsets of both (refcounts left 0 unless
 * counted). */
static void add_snapshot(const char *p, uint64_t *tab, uint64_t *l1,
			 bool counted)
{
	size_t n;
	free(slurp(p, &n));
	*tab = n;
	*l1 = n + 4096;
	uint8_t e[48] = { 0 };
	uint64_t v64 = htobe64(*l1);
	uint32_t v32 = htobe32(4);
	uint16_t one = htobe16(1);
	memcpy(e, &v64, 8);
	memcpy(e + 8, &v32, 4);
	memcpy(e + 12, &one, 2);  /* id "1" */
	memcpy(e + 14, &one, 2);  /* name "s" */
	e[40] = '1';
	e[41] = 's';
	put(p, *tab, e, sizeof(e));
	uint64_t t[4];
	for (int i = 0; i < 4; i++)
		t[i] = htobe64(get64(p, get64(p, 40) + 8 * (uint64_t)i) &
			       ~(1ull << 63));
	put(p, *l1, t, sizeof(t));
	uint32_t nb = htobe32(1);
	put(p, 60, &nb, 4);
	put64(p, 64, *tab);
	if (counted) {
		put_rc(p, *tab, 1);
		put_rc(p, *l1, 1);
	}
}

static void test_snapshot_metadata(void **state)
{
	(void)state;
	char p[128];
	struct layout l;
	uint64_t tab, sl1;
	path_of(p, sizeof(p), "sn.qcow2");

	/* the image opens and reads (the snapshot is parsed) */
	meta_image(p, &l);
	add_snapshot(p, &tab, &sl1, true);
	struct blockdev *bd = open_q(p, true);
	uint8_t buf[8192], want[8192];
	pattern(want, sizeof(want), 1);
	assert_int_equal(rd(bd, buf, 8192, 0), 0);
	assert_memory_equal(buf, want, 8192);
	blockdev_close(bd);

	/* data clusters on the snapshot table or the snapshot's L1 table */
	for (int i = 0; i < 2; i++) {
		meta_image(p, &l);
		add_snapshot(p, &tab, &sl1, true);
		put64(p, l.l2a + 8, (i ? sl1 : tab) | (1ull << 63));
		expect_eio(p, i ? "data on a snapshot L1 table"
				: "data on the snapshot table", 1, true);
	}
	/* a free refcount on the snapshot table: not allocated */
	meta_image(p, &l);
	add_snapshot(p, &tab, &sl1, false);
	expect_eio(p, "snapshot table with refcount 0", 2, false);
	/* a snapshot L1 table on the active L1 table */
	meta_image(p, &l);
	add_snapshot(p, &tab, &sl1, true);
	put64(p, tab, l.l1);
	expect_open_fails(p, "snapshot L1 on the L1 table", "snapshot");
}

/* A raw backing file whose size is not a multiple of 512 (qemu-img
 * accepts one): the overlay reads it, zeroes after its end. */
static void test_odd_raw_backing(void **state)
{
	(void)state;
	char base[128], top[128];
	uint8_t b[1000], got[4096];
	path_of(base, sizeof(base), "odd.raw");
	path_of(top, sizeof(top), "odd-top.qcow2");
	pattern(b, sizeof(b), 4);
	int fd = open(base, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(write(fd, b, sizeof(b)), (ssize_t)sizeof(b));
	close(fd);
	assert_int_equal(img("create", "-b", "odd.raw", "-Fraw", top, "1M"),
			 0);
	struct blockdev *bd = open_q(top, false);
	assert_int_equal(rd(bd, got, sizeof(got), 0), 0);
	assert_memory_equal(got, b, sizeof(b));
	for (size_t i = sizeof(b); i < sizeof(got); i++)
		assert_int_equal(got[i], 0);
	/* a partial write copies the backing part of its cluster */
	memset(got, 0x77, 512);
	assert_int_equal(wr(bd, got, 512, 1024), 0);
	assert_int_equal(rd(bd, got, sizeof(got), 0), 0);
	assert_memory_equal(got, b, sizeof(b));
	assert_int_equal(got[1023], 0);
	assert_int_equal(got[1024], 0x77);
	assert_clean(bd);
	blockdev_close(bd);
}

/* Several I/O threads on one image: each writes, flushes, zeroes and
 * reads back its own interleaved slices (so allocations, L2 updates and
 * refcount blocks are shared between threads). */
struct thr {
	struct blockdev *bd;
	int id;
	int bad;
};

static void *thr_fn(void *arg)
{
	struct thr *t = arg;
	uint8_t buf[8192], back[8192];
	for (int round = 0; round < 3; round++) {
		for (int k = 0; k < 64; k++) {
			/* slice k of thread id: 8 KiB at (k*4+id)*8 KiB */
			uint64_t off = ((uint64_t)k * 4 + (uint64_t)t->id) * 8192;
			pattern(buf, sizeof(buf), (unsigned)(t->id * 1000 + k + round));
			if (wr(t->bd, buf, sizeof(buf), off))
				t->bad++;
			if (k % 16 == 0 && blockdev_flush(t->bd))
				t->bad++;
			if (rd(t->bd, back, sizeof(back), off) ||
			    memcmp(buf, back, sizeof(buf)))
				t->bad++;
		}
		if (blockdev_write_zeroes(t->bd, (uint64_t)t->id * 8192, 8192,
					  true))
			t->bad++;
	}
	return NULL;
}

/* Clusters a discard freed are reused although some asynchronous
 * transfer is in flight at every flush: only the transfers mapped before
 * the discard hold them back, not the ones that came after. */
static void test_aio_discard_generations(void **state)
{
	(void)state;
	char p[128];
	uint8_t buf[4096];
	struct bd_extent e1, e2, e3;
	uint64_t c0, c1, rc;

	path_of(p, sizeof(p), "aiogen.qcow2");
	assert_int_equal(img("create", "-o", "cluster_size=4096", p, "1M", NULL), 0);
	struct blockdev *bd = open_q(p, false);
	struct qcow2 *s = to_qcow2(bd);

	pattern(buf, sizeof(buf), 5);
	for (uint64_t g = 0; g < 3; g++)
		assert_int_equal(wr(bd, buf, sizeof(buf), g * 4096), 0);
	assert_int_equal(blockdev_flush(bd), 0);
	assert_int_equal(bd->ops->aio_map(bd, 4096, 4096, false, &e1), 0);
	assert_false(e1.sync);
	c1 = e1.host >> 12;
	/* a transfer mapped before the discard holds its cluster */
	assert_int_equal(blockdev_discard(bd, 4096, 4096), 0);
	assert_int_equal(blockdev_flush(bd), 0);
	assert_int_equal(qcow2_get_refcount(s, c1, &rc), 0);
	assert_int_equal(rc, 1);
	/* one mapped after it does not, once the first has ended */
	assert_int_equal(bd->ops->aio_map(bd, 0, 4096, false, &e2), 0);
	assert_false(e2.sync);
	c0 = e2.host >> 12;
	bd->ops->aio_end(bd, e1.ticket);
	assert_int_equal(blockdev_flush(bd), 0);
	assert_int_equal(qcow2_get_refcount(s, c1, &rc), 0);
	assert_int_equal(rc, 0);
	/* again, with the generations the other way round */
	assert_int_equal(blockdev_discard(bd, 0, 4096), 0);
	assert_int_equal(blockdev_flush(bd), 0);
	assert_int_equal(qcow2_get_refcount(s, c0, &rc), 0);
	assert_int_equal(rc, 1);
	assert_int_equal(bd->ops->aio_map(bd, 8192, 4096, false, &e3), 0);
	assert_false(e3.sync);
	bd->ops->aio_end(bd, e2.ticket);
	assert_int_equal(blockdev_flush(bd), 0);
	assert_int_equal(qcow2_get_refcount(s, c0, &rc), 0);
	assert_int_equal(rc, 0);
	bd->ops->aio_end(bd, e3.ticket);
	assert_int_equal(blockdev_flush(bd), 0);
	assert_clean(bd);
	assert_int_equal(rd(bd, buf, sizeof(buf), 8192), 0);
	blockdev_close(bd);
}

static void test_threads(void **state)
{
	(void)state;
	char p[128];
	path_of(p, sizeof(p), "thr.qcow2");
	assert_int_equal(img("create", "-o", "cluster_size=4096", p, "4M", NULL), 0);
	struct blockdev *bd = open_q(p, false);
	pthread_t th[4];
	struct thr t[4];
	for (int i = 0; i < 4; i++) {
		t[i] = (struct thr){ bd, i, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, thr_fn, &t[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(t[i].bad, 0);
	}
	uint8_t buf[8192], back[8192];
	for (int id = 0; id < 4; id++)
		for (int k = 1; k < 64; k++) {
			pattern(buf, sizeof(buf), (unsigned)(id * 1000 + k + 2));
			assert_int_equal(rd(bd, back, sizeof(back),
					    ((uint64_t)k * 4 + (uint64_t)id) * 8192), 0);
			assert_memory_equal(buf, back, sizeof(buf));
		}
	assert_int_equal(blockdev_flush(bd), 0);
	assert_clean(bd);
	blockdev_close(bd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rw_64k),
		cmocka_unit_test(test_rw_512),
		cmocka_unit_test(test_rw_2m),
		cmocka_unit_test(test_rw_rc1),
		cmocka_unit_test(test_rw_rc4),
		cmocka_unit_test(test_rw_rc64),
		cmocka_unit_test(test_backing),
		cmocka_unit_test(test_many_iovecs),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_backing_loop),
		cmocka_unit_test(test_crash),
		cmocka_unit_test(test_img_check_status),
		cmocka_unit_test(test_check_rc64_leak),
		cmocka_unit_test(test_create_huge),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_alloc_on_metadata),
		cmocka_unit_test(test_bad_refcount_block),
		cmocka_unit_test(test_l2_on_metadata),
		cmocka_unit_test(test_snapshot_metadata),
		cmocka_unit_test(test_odd_raw_backing),
		cmocka_unit_test(test_aio_discard_generations),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
