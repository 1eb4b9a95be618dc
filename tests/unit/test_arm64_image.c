/* SPDX-License-Identifier: MIT
 * Unit tests: the arm64 Image loader (boot/arm64/image.c). Crafted Image
 * and Image.gz files are written to temporary files and loaded into a
 * fake guest RAM at the arm64 RAM base; good images land where
 * booting.rst wants them, bad ones (short, no magic, big-endian, too big,
 * gzip garbage) give one error line and -errno.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "boot/arm64/image.h"
#include "vmm/arm64/layout.h"

#define MiB (1ULL << 20)
#define BASE ARM64_RAM_BASE
#define FILL 0x5a

struct img_case {
	struct guest_mem gm;
	uint8_t *ram;
	uint64_t ram_size;
	struct arm64_boot_cfg cfg;
	struct arm64_boot_info info;
	char err[256];
	char *kernel, *initrd;
};

static uint8_t pattern(unsigned seed, uint64_t i)
{
	return (uint8_t)(i * 31 + seed * 7 + (i >> 8));
}

static char *temp_file(const void *data, size_t len)
{
	char *path = strdup("/tmp/minivmm-arm64-test-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

static void temp_remove(char *path)
{
	if (path) {
		unlink(path);
		free(path);
	}
}

static void case_init(struct img_case *c, uint64_t ram_size)
{
	memset(c, 0, sizeof(*c));
	c->ram_size = ram_size;
	/* Untouched pages of an anonymous mapping cost nothing. */
	c->ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(c->ram != MAP_FAILED);
	memset(c->ram, FILL, ram_size < 8 * MiB ? ram_size : 8 * MiB);
	assert_int_equal(gm_add_region(&c->gm, BASE, ram_size, c->ram), 0);
	c->cfg.ram_base = BASE;
	c->cfg.ram_size = ram_size;
}

static void case_free(struct img_case *c)
{
	temp_remove(c->kernel);
	temp_remove(c->initrd);
	munmap(c->ram, c->ram_size);
}

static int load(struct img_case *c)
{
	int ret;

	c->cfg.kernel = c->kernel;
	c->cfg.initrd = c->initrd;
	c->err[0] = 0;
	ret = arm64_boot_load(&c->gm, &c->cfg, &c->info, c->err,
			      sizeof(c->err));
	if (ret < 0) {
		/* one line, naming the file */
		assert_non_null(c->err[0] ? c->err : NULL);
		assert_null(strchr(c->err, '\n'));
	}
	return ret;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* An Image of len bytes: header, then pattern(1, i). */
static uint8_t *make_image(size_t len, uint64_t text_offset,
			   uint64_t image_size, uint64_t flags)
{
	uint8_t *p = malloc(len);

	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = pattern(1, i);
	if (len >= ARM64_IMAGE_HDR_SIZE) {
		memset(p, 0, ARM64_IMAGE_HDR_SIZE);
		p[0] = 'M';
		p[1] = 'Z';
		put_le64(p + 0x08, text_offset);
		put_le64(p + 0x10, image_size);
		put_le64(p + 0x18, flags);
		memcpy(p + 0x38, "ARM\x64", 4);
	}
	return p;
}

static uint8_t *gzip(const uint8_t *in, size_t len, size_t *out_len)
{
	z_stream z = { 0 };
	size_t cap = compressBound(len) + 64;
	uint8_t *out = malloc(cap);

	assert_non_null(out);
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
				      Z_DEFAULT_STRATEGY),
			 Z_OK);
	z.next_in = (uint8_t *)in;
	z.avail_in = (unsigned)len;
	z.next_out = out;
	z.avail_out = (unsigned)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*out_len = z.total_out;
	deflateEnd(&z);
	return out;
}

static void set_kernel(struct img_case *c, const uint8_t *data, size_t len)
{
	temp_remove(c->kernel);
	c->kernel = temp_file(data, len);
}

/* ---- good images ---- */

/* A current kernel: text_offset 0, image_size beyond the file (BSS),
 * 4 KiB pages; and an initrd: the kernel at the RAM base, the device tree
 * in the last 2 MiB, the initrd right below it, page-aligned. */
static void test_plain_image(void **state)
{
	struct img_case c;
	size_t len = 1 * MiB + 100;
	uint8_t *img = make_image(len, 0, 3 * MiB, 0xa);
	uint8_t rd[5000];

	(void)state;
	case_init(&c, 64 * MiB);
	for (size_t i = 0; i < sizeof(rd); i++)
		rd[i] = pattern(2, i);
	c.kernel = temp_file(img, len);
	c.initrd = temp_file(rd, sizeof(rd));
	assert_int_equal(load(&c), 0);
	assert_int_equal(c.info.entry, BASE);
	assert_int_equal(c.info.kernel_start, BASE);
	assert_int_equal(c.info.kernel_end, BASE + 3 * MiB);
	assert_int_equal(c.info.page_size, 4096);
	assert_int_equal(c.info.gzip, 0);
	assert_memory_equal(c.ram, img, len);
	assert_int_equal(c.ram[len], FILL); /* nothing past the file */
	assert_int_equal(c.info.fdt_addr, BASE + 62 * MiB);
	assert_int_equal(c.info.fdt_max, 2 * MiB);
	assert_int_equal(c.info.initrd_end - c.info.initrd_start, sizeof(rd));
	assert_int_equal(c.info.initrd_start & 0xfff, 0);
	assert_true(c.info.initrd_end <= c.info.fdt_addr);
	assert_true(c.info.fdt_addr - c.info.initrd_start < 2 * 4096 + sizeof(rd));
	assert_memory_equal(c.ram + (c.info.initrd_start - BASE), rd, sizeof(rd));
	case_free(&c);
	free(img);
}

/* text_offset is honoured (2 MiB-aligned base + text_offset); the page
 * size flag is reported. */
static void test_text_offset(void **state)
{
	struct img_case c;
	size_t len = 4096;
	uint8_t *img = make_image(len, 0x80000, 2 * MiB, 3 << 1);

	(void)state;
	case_init(&c, 32 * MiB);
	c.kernel = temp_file(img, len);
	assert_int_equal(load(&c), 0);
	assert_int_equal(c.info.entry, BASE + 0x80000);
	assert_int_equal(c.info.kernel_end, BASE + 0x80000 + 2 * MiB);
	assert_int_equal(c.info.page_size, 65536);
	assert_memory_equal(c.ram + 0x80000, img, len);
	assert_int_equal(c.info.initrd_start, 0);
	assert_int_equal(c.info.initrd_end, 0);
	case_free(&c);
	free(img);
}

/* A kernel before 3.17: image_size 0, text_offset of unknown endianness
 * (here garbage) and flags ignored: 0x80000 is assumed, the kernel's
 * extent is the file. */
static void test_old_kernel(void **state)
{
	struct img_case c;
	size_t len = 8192;
	uint8_t *img = make_image(len, 0x123456789abcdefULL, 0, 1 /* BE? */);

	(void)state;
	case_init(&c, 32 * MiB);
	c.kernel = temp_file(img, len);
	assert_int_equal(load(&c), 0);
	assert_int_equal(c.info.entry, BASE + 0x80000);
	assert_int_equal(c.info.kernel_end, BASE + 0x80000 + len);
	assert_int_equal(c.info.page_size, 0);
	case_free(&c);
	free(img);
}

/* Image.gz: inflated straight into RAM at the same place. */
static void test_gzip_image(void **state)
{
	struct img_case c;
	size_t len = 3 * MiB + 17, gz_len;
	uint8_t *img = make_image(len, 0, 4 * MiB, 0xa);
	uint8_t *gz = gzip(img, len, &gz_len);

	(void)state;
	case_init(&c, 64 * MiB);
	c.kernel = temp_file(gz, gz_len);
	assert_int_equal(load(&c), 0);
	assert_int_equal(c.info.gzip, 1);
	assert_int_equal(c.info.entry, BASE);
	assert_int_equal(c.info.kernel_end, BASE + 4 * MiB);
	assert_memory_equal(c.ram, img, len);
	case_free(&c);
	free(img);
	free(gz);
}

/* The smallest RAM that works: 4 MiB (kernel in the first 2, tree in the
 * last 2); below that, one line. */
static void test_small_ram(void **state)
{
	struct img_case c;
	uint8_t *img = make_image(4096, 0, 1 * MiB, 0xa);

	(void)state;
	case_init(&c, 4 * MiB);
	c.kernel = temp_file(img, 4096);
	assert_int_equal(load(&c), 0);
	assert_int_equal(c.info.fdt_addr, BASE + 2 * MiB);
	case_free(&c);

	case_init(&c, 2 * MiB);
	c.kernel = temp_file(img, 4096);
	assert_int_equal(load(&c), -ENOMEM);
	assert_non_null(strstr(c.err, "too small"));
	case_free(&c);
	free(img);
}

/* ---- bad images: one line each ---- */

static void expect_fail(const uint8_t *data, size_t len, int err,
			const char *msg)
{
	struct img_case c;

	case_init(&c, 32 * MiB);
	set_kernel(&c, data, len);
	assert_int_equal(load(&c), err);
	if (!strstr(c.err, msg))
		fail_msg("error \"%s\" lacks \"%s\"", c.err, msg);
	assert_non_null(strstr(c.err, c.kernel));
	case_free(&c);
}

static void test_bad_headers(void **state)
{
	uint8_t *img = make_image(4096, 0, 1 * MiB, 0xa);
	uint8_t *gz;
	size_t gz_len;

	(void)state;
	/* empty and short files */
	expect_fail(img, 0, -ENOEXEC, "too short");
	expect_fail(img, 63, -ENOEXEC, "too short");
	/* no magic (an x86 bzImage, say) */
	img[0x38] = 'X';
	expect_fail(img, 4096, -ENOEXEC, "not an arm64");
	img[0x38] = 'A';
	/* big-endian */
	put_le64(img + 0x18, 0xb);
	expect_fail(img, 4096, -ENOTSUP, "big-endian");
	put_le64(img + 0x18, 0xa);
	/* image_size beyond RAM (32 MiB, of which 30 below the tree) */
	put_le64(img + 0x10, 31 * MiB);
	expect_fail(img, 4096, -EFBIG, "too big");
	put_le64(img + 0x10, ~0ULL);
	expect_fail(img, 4096, -EFBIG, "too big");
	put_le64(img + 0x10, 1 * MiB);
	/* text_offset beyond RAM, and wrapping */
	put_le64(img + 0x08, 30 * MiB);
	expect_fail(img, 4096, -EFBIG, "too big");
	put_le64(img + 0x08, ~0ULL - 10);
	expect_fail(img, 4096, -EFBIG, "too big");
	put_le64(img + 0x08, 0);
	/* gunzipped header too short */
	gz = gzip(img, 40, &gz_len);
	expect_fail(gz, gz_len, -ENOEXEC, "too short");
	free(gz);
	/* no magic inside the gzip */
	img[0x39] = 0;
	gz = gzip(img, 4096, &gz_len);
	expect_fail(gz, gz_len, -ENOEXEC, "not an arm64");
	free(gz);
	free(img);
}

/* A file larger than RAM: refused before anything is read into it. */
static void test_file_too_big(void **state)
{
	struct img_case c;
	uint8_t *img = make_image(4096, 0, 1 * MiB, 0xa);
	FILE *f;

	(void)state;
	case_init(&c, 32 * MiB);
	c.kernel = temp_file(img, 4096);
	f = fopen(c.kernel, "r+");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), 31 * MiB), 0); /* sparse */
	fclose(f);
	assert_int_equal(load(&c), -EFBIG);
	assert_non_null(strstr(c.err, "too big"));
	case_free(&c);
	free(img);
}

/* gzip garbage, a truncated stream, and a stream that inflates to more
 * than RAM holds (stopped at the room left, not after). */
static void test_bad_gzip(void **state)
{
	size_t len = 2 * MiB, gz_len;
	uint8_t *img = make_image(len, 0, 1 * MiB, 0xa);
	uint8_t *gz = gzip(img, len, &gz_len), *big, *bomb;
	uint8_t junk[4096];

	(void)state;
	/* garbage after a valid gzip magic */
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = pattern(3, i);
	junk[0] = 0x1f;
	junk[1] = 0x8b;
	expect_fail(junk, sizeof(junk), -EBADMSG, "corrupt gzip");
	/* a valid gzip header, then a corrupt deflate stream */
	memcpy(junk, gz, 10);
	expect_fail(junk, sizeof(junk), -EBADMSG, "corrupt gzip");
	/* the magic alone */
	expect_fail(junk, 2, -EPIPE, "truncated");
	/* cut in the middle */
	expect_fail(gz, gz_len / 2, -EPIPE, "truncated");
	/* a bad CRC in the trailer */
	gz[gz_len - 8] ^= 0xff;
	expect_fail(gz, gz_len, -EBADMSG, "corrupt gzip");
	/* 40 MiB of kernel for 32 MiB of RAM */
	big = calloc(1, 40 * MiB);
	assert_non_null(big);
	memcpy(big, img, ARM64_IMAGE_HDR_SIZE);
	bomb = gzip(big, 40 * MiB, &gz_len);
	expect_fail(bomb, gz_len, -EFBIG, "too big");
	free(bomb);
	free(big);
	free(gz);
	free(img);
}

static void test_missing_files(void **state)
{
	struct img_case c;
	uint8_t *img = make_image(4096, 0, 1 * MiB, 0xa);
	uint8_t rd[64] = { 1 };

	(void)state;
	case_init(&c, 32 * MiB);
	c.cfg.kernel = "/nonexistent/Image";
	assert_int_equal(arm64_boot_load(&c.gm, &c.cfg, &c.info, c.err,
					 sizeof(c.err)),
			 -ENOENT);
	assert_string_equal(c.err, "/nonexistent/Image: No such file or directory");

	c.kernel = temp_file(img, 4096);
	c.initrd = strdup("/nonexistent/initrd");
	assert_int_equal(load(&c), -ENOENT);
	assert_string_equal(c.err,
			    "/nonexistent/initrd: initrd: No such file or directory");
	temp_remove(c.initrd);
	/* an empty initrd */
	c.initrd = temp_file(rd, 0);
	assert_int_equal(load(&c), -EINVAL);
	assert_non_null(strstr(c.err, "empty"));
	temp_remove(c.initrd);
	/* a directory */
	c.initrd = strdup("/tmp");
	assert_int_equal(load(&c), -EINVAL);
	assert_string_equal(c.err, "/tmp: initrd: not a regular file");
	temp_remove(c.initrd);
	c.initrd = NULL;
	case_free(&c);
	free(img);
}

/* An initrd that does not fit between the kernel's image_size and the
 * device tree. */
static void test_initrd_too_big(void **state)
{
	struct img_case c;
	uint8_t *img = make_image(4096, 0, 20 * MiB, 0xa);
	FILE *f;

	(void)state;
	case_init(&c, 32 * MiB);
	c.kernel = temp_file(img, 4096);
	c.initrd = temp_file(img, 4096);
	f = fopen(c.initrd, "r+");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), 10 * MiB + 1), 0); /* > 30 - 20 */
	fclose(f);
	assert_int_equal(load(&c), -EFBIG);
	assert_non_null(strstr(c.err, c.initrd));
	assert_non_null(strstr(c.err, "initrd of 10485761 bytes does not fit"));
	/* 9 MiB fits, exactly below the tree's block */
	f = fopen(c.initrd, "r+");
	assert_int_equal(ftruncate(fileno(f), 9 * MiB), 0);
	fclose(f);
	assert_int_equal(load(&c), 0);
	assert_int_equal(c.info.initrd_end, c.info.fdt_addr);
	assert_true(c.info.initrd_start >= c.info.kernel_end);
	case_free(&c);
	free(img);
}

/* A Debian arm64 kernel when one is around (MINIVMM_ARM64_IMAGE): an EFI
 * stub ("MZ"), text_offset 0, 4 KiB pages, placement anywhere. */
static void test_real_kernel(void **state)
{
	const char *path = getenv("MINIVMM_ARM64_IMAGE");
	struct img_case c;

	(void)state;
	if (!path || access(path, R_OK)) {
		skip();
		return;
	}
	case_init(&c, 256 * MiB);
	c.cfg.kernel = path;
	assert_int_equal(arm64_boot_load(&c.gm, &c.cfg, &c.info, c.err,
					 sizeof(c.err)),
			 0);
	assert_int_equal(c.info.entry, BASE);
	assert_int_equal(c.ram[0], 'M');
	assert_int_equal(c.info.page_size, 4096);
	assert_true(c.info.kernel_end > BASE + 16 * MiB);
	munmap(c.ram, c.ram_size);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_image),
		cmocka_unit_test(test_text_offset),
		cmocka_unit_test(test_old_kernel),
		cmocka_unit_test(test_gzip_image),
		cmocka_unit_test(test_small_ram),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_file_too_big),
		cmocka_unit_test(test_bad_gzip),
		cmocka_unit_test(test_missing_files),
		cmocka_unit_test(test_initrd_too_big),
		cmocka_unit_test(test_real_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
