/* SPDX-License-Identifier: MIT
 * Unit tests: the read-only memory at the top of 4 GiB (devices/rom.c):
 * placement, reads, ignored writes, bad images. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/rom.h"

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void test_rom(void **state)
{
	char path[] = "/tmp/minivmm-rom-XXXXXX";
	uint8_t img[4096], v[8];
	struct rom *r;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	for (unsigned i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 7);
	write_file(path, img, sizeof(img));
	assert_int_equal(rom_create(NULL, path, 0x100000000ULL, &r), 0);
	assert_int_equal(r->gpa, 0x100000000ULL - sizeof(img));
	rom_io(r, 0xff0, v, 4, false);
	assert_memory_equal(v, img + 0xff0, 4);
	/* writes change nothing */
	memset(v, 0, sizeof(v));
	rom_io(r, 0x10, v, 8, true);
	rom_io(r, 0x10, v, 8, false);
	assert_memory_equal(v, img + 0x10, 8);
	/* past the end (a wide access at the last byte): all ones */
	rom_io(r, sizeof(img) - 1, v, 4, false);
	assert_int_equal(v[0], img[sizeof(img) - 1]);
	assert_int_equal(v[1], 0xff);
	assert_int_equal(v[3], 0xff);
	r->dev.ops->free(&r->dev);
	/* an image larger than the space below its end, an empty one, a folder */
	assert_int_equal(rom_create(NULL, path, 100, &r), -EINVAL);
	write_file(path, img, 0);
	assert_int_equal(rom_create(NULL, path, 0x100000000ULL, &r), -EINVAL);
	assert_int_equal(rom_create(NULL, "/tmp", 0x100000000ULL, &r), -EINVAL);
	assert_int_equal(rom_create(NULL, "/nonexistent/rom", 0x100000000ULL, &r), -ENOENT);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
