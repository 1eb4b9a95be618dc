/* SPDX-License-Identifier: MIT
 * Unit tests: blockdev_open checks and the raw backend (vectored reads and
 * writes, O_DIRECT bounce buffering, discard, write-zeroes, range checks,
 * format detection, the sector-0 guard of a detected raw image). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/disk/blockdev.h"
#include "vmm/log.h"

static char dir[64];

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void make_file(const char *p, size_t size, int fill)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	uint8_t *b = malloc(size ? size : 1);
	memset(b, fill, size);
	assert_int_equal(write(fd, b, size), (ssize_t)size);
	close(fd);
	free(b);
}

static int open_img(const char *p, const char *fmt, bool ro, bool direct,
		    struct blockdev **bd, char *err, size_t errlen)
{
	struct blockdev_opts o = { .path = p, .format = fmt, .readonly = ro,
				   .cache = direct ? BLOCKDEV_CACHE_NONE
						   : BLOCKDEV_CACHE_WRITEBACK };
	return blockdev_open(&o, bd, err, errlen);
}

static int setup(void **state)
{
	(void)state;
	log_quiet = true;
	snprintf(dir, sizeof(dir), "/tmp/test_raw.XXXXXX");
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

static void test_open_errors(void **state)
{
	(void)state;
	char p[128], err[256];
	struct blockdev *bd;

	path_of(p, sizeof(p), "missing.img");
	assert_int_equal(open_img(p, "raw", false, false, &bd, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, p));
	assert_non_null(strstr(err, "no such file"));

	assert_int_equal(open_img(dir, "raw", false, false, &bd, err,
				  sizeof(err)), -EISDIR);
	assert_non_null(strstr(err, "directory"));

	path_of(p, sizeof(p), "odd.img");
	make_file(p, 1000, 0);
	assert_int_equal(open_img(p, "raw", false, false, &bd, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "multiple of 512"));

	path_of(p, sizeof(p), "ok.img");
	make_file(p, 4096, 0);
	assert_int_equal(open_img(p, "vmdk", false, false, &bd, err,
				  sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown format"));

	/* write-protected file opened for writing (root bypasses modes) */
	if (geteuid() != 0) {
		path_of(p, sizeof(p), "ro.img");
		make_file(p, 4096, 0);
		chmod(p, 0444);
		assert_int_equal(open_img(p, "raw", false, false, &bd, err,
					  sizeof(err)), -EACCES);
		assert_non_null(strstr(err, "use readonly=on"));
	}
}

static void test_readonly(void **state)
{
	(void)state;
	char p[128], err[256];
	struct blockdev *bd;
	uint8_t buf[512] = { 0 };
	struct iovec v = { buf, sizeof(buf) };

	path_of(p, sizeof(p), "r.img");
	make_file(p, 8192, 0x7e);
	assert_int_equal(open_img(p, "raw", true, false, &bd, err, sizeof(err)), 0);
	assert_true(bd->readonly);
	assert_int_equal(bd->size, 8192);
	assert_int_equal(blockdev_pwritev(bd, &v, 1, 0), -EROFS);
	assert_int_equal(blockdev_discard(bd, 0, 512), -EROFS);
	assert_int_equal(blockdev_preadv(bd, &v, 1, 512), 0);
	assert_int_equal(buf[0], 0x7e);
	blockdev_close(bd);
}

static void rw_roundtrip(bool direct)
{
	char p[128], err[256];
	struct blockdev *bd;
	size_t size = 1 << 20;

	path_of(p, sizeof(p), direct ? "d.img" : "w.img");
	make_file(p, size, 0);
	assert_int_equal(open_img(p, "raw", false, direct, &bd, err,
				  sizeof(err)), 0);
	assert_string_equal(bd->format, "raw");
	assert_int_equal(bd->direct, direct);
	if (direct)
		assert_true(bd->align == 512 || bd->align == 4096);

	/* misaligned buffers and offsets in several pieces */
	uint8_t *raw = malloc(70000), *back = malloc(70000);
	uint8_t *a = raw + 1;
	for (int i = 0; i < 69999; i++)
		a[i] = (uint8_t)(i * 7 + 3);
	struct iovec v[3] = { { a, 100 }, { a + 100, 4000 }, { a + 4100, 60000 } };
	assert_int_equal(blockdev_pwritev(bd, v, 3, 1536), 0);
	memset(back, 0, 70000);
	struct iovec r[2] = { { back + 3, 64000 }, { back + 64003, 100 } };
	assert_int_equal(blockdev_preadv(bd, r, 2, 1536), 0);
	assert_memory_equal(back + 3, a, 64100);

	/* neighbours of the written range stay zero */
	uint8_t z[512];
	struct iovec zv = { z, 512 };
	assert_int_equal(blockdev_preadv(bd, &zv, 1, 1024), 0);
	for (int i = 0; i < 512; i++)
		assert_int_equal(z[i], 0);

	/* range checks */
	assert_int_equal(blockdev_preadv(bd, &zv, 1, size), -EINVAL);
	assert_int_equal(blockdev_preadv(bd, &zv, 1, UINT64_MAX - 100), -EINVAL);
	assert_int_equal(blockdev_discard(bd, size - 512, 1024), -EINVAL);

	/* write zeroes and discard read back as zeroes */
	assert_int_equal(blockdev_write_zeroes(bd, 4096, 8192, false), 0);
	assert_int_equal(blockdev_discard(bd, 32768, 32768), 0);
	struct iovec all = { back, 65536 };
	assert_int_equal(blockdev_preadv(bd, &all, 1, 0), 0);
	for (int i = 4096; i < 4096 + 8192; i++)
		assert_int_equal(back[i], 0);
	for (int i = 32768; i < 65536; i++)
		assert_int_equal(back[i], 0);
	assert_int_equal(back[1536 + 10], a[10]);
	assert_int_equal(blockdev_flush(bd), 0);
	blockdev_close(bd);
	free(raw);
	free(back);
}

static void test_rw(void **state)
{
	(void)state;
	rw_roundtrip(false);
}

static void test_rw_direct(void **state)
{
	(void)state;
	rw_roundtrip(true);
}

static void test_detect(void **state)
{
	(void)state;
	char p[128], err[256];
	struct blockdev *bd;
	path_of(p, sizeof(p), "looks.img");
	make_file(p, 4096, 0);
	/* a raw file starting with the qcow2 magic but no valid header */
	int fd = open(p, O_WRONLY);
	assert_int_equal(pwrite(fd, "QFI\xfb", 4, 0), 4);
	close(fd);
	assert_int_not_equal(open_img(p, NULL, false, false, &bd, err,
				      sizeof(err)), 0);
	assert_non_null(strstr(err, p));
	/* explicit raw is honoured */
	assert_int_equal(open_img(p, "raw", false, false, &bd, err, sizeof(err)), 0);
	assert_string_equal(bd->format, "raw");
	blockdev_close(bd);
	/* no magic: raw */
	path_of(p, sizeof(p), "plain.img");
	make_file(p, 4096, 1);
	assert_int_equal(open_img(p, NULL, false, false, &bd, err, sizeof(err)), 0);
	assert_string_equal(bd->format, "raw");
	blockdev_close(bd);
}

static int wr_at(struct blockdev *bd, const void *b, size_t len, uint64_t off)
{
	struct iovec v = { (void *)b, len };
	return blockdev_pwritev(bd, &v, 1, off);
}

/* A raw image whose format was detected stays raw: the guest cannot
 * write a qcow2 header into sector 0 (whole, split over iovecs, or
 * piecewise), other writes to sector 0 pass, and with format=raw given
 * there is no restriction. */
static void test_sector0_guard(void **state)
{
	(void)state;
	char p[128], err[256];
	uint8_t sec[512], got[512];
	struct blockdev *bd;

	path_of(p, sizeof(p), "guard.img");
	make_file(p, 65536, 0);
	assert_int_equal(open_img(p, NULL, false, false, &bd, err, sizeof(err)), 0);
	assert_string_equal(bd->format, "raw");
	memset(sec, 0, sizeof(sec));
	memcpy(sec, "QFI\xfb\0\0\0\3", 8);
	assert_int_equal(wr_at(bd, sec, sizeof(sec), 0), -EPERM);
	/* the same header split over two iovecs */
	struct iovec v[2] = { { sec, 2 }, { sec + 2, 510 } };
	assert_int_equal(blockdev_pwritev(bd, v, 2, 0), -EPERM);
	/* piecewise: the first half passes, the second would complete it */
	assert_int_equal(wr_at(bd, "QF", 2, 0), 0);
	assert_int_equal(wr_at(bd, "I\xfb", 2, 2), -EPERM);
	/* ordinary data in sector 0 and the header elsewhere pass */
	memset(got, 0x5a, sizeof(got));
	assert_int_equal(wr_at(bd, got, sizeof(got), 0), 0);
	assert_int_equal(wr_at(bd, sec, sizeof(sec), 512), 0);
	assert_int_equal(blockdev_write_zeroes(bd, 0, 4096, false), 0);
	blockdev_close(bd);
	/* the file never held the header: it is detected as raw again */
	int fd = open(p, O_RDONLY);
	assert_int_equal(pread(fd, got, 4, 0), 4);
	close(fd);
	assert_memory_not_equal(got, "QFI\xfb", 4);
	assert_int_equal(open_img(p, NULL, false, false, &bd, err, sizeof(err)), 0);
	assert_string_equal(bd->format, "raw");
	blockdev_close(bd);
	/* format=raw: the guest may write anything */
	assert_int_equal(open_img(p, "raw", false, false, &bd, err, sizeof(err)), 0);
	assert_int_equal(wr_at(bd, sec, sizeof(sec), 0), 0);
	blockdev_close(bd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_readonly),
		cmocka_unit_test(test_rw),
		cmocka_unit_test(test_rw_direct),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_sector0_guard),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
