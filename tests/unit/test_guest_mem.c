/* SPDX-License-Identifier: MIT
 * Unit tests: the checked guest-physical accessor. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/guest_mem.h"

static uint8_t low[0x10000], high[0x1000];

static struct guest_mem two_regions(void)
{
	struct guest_mem gm = { 0 };
	assert_int_equal(gm_add_region(&gm, 0, sizeof(low), low), 0);
	assert_int_equal(gm_add_region(&gm, 0x100000000ULL, sizeof(high), high), 0);
	return gm;
}

static void test_inside(void **state)
{
	(void)state;
	struct guest_mem gm = two_regions();
	assert_ptr_equal(gm_ptr(&gm, 0, 16), low);
	assert_ptr_equal(gm_ptr(&gm, 0x100, 0x10), low + 0x100);
	assert_ptr_equal(gm_ptr(&gm, sizeof(low) - 1, 1), low + sizeof(low) - 1);
	assert_ptr_equal(gm_ptr(&gm, 0x100000000ULL + 8, 8), high + 8);
	assert_int_equal(gm.ram_size, sizeof(low) + sizeof(high));
}

static void test_outside(void **state)
{
	(void)state;
	struct guest_mem gm = two_regions();
	/* crosses the end of a region */
	assert_null(gm_ptr(&gm, sizeof(low) - 1, 2));
	/* in the hole between regions */
	assert_null(gm_ptr(&gm, 0x20000, 1));
	/* spans the hole into the next region */
	assert_null(gm_ptr(&gm, 0x100, 0x100000000ULL));
	/* overflow of gpa + len */
	assert_null(gm_ptr(&gm, 0x100000000ULL + 8, UINT64_MAX));
	assert_null(gm_ptr(&gm, UINT64_MAX, 2));
	assert_null(gm_ptr(&gm, UINT64_MAX - 1, UINT64_MAX));
}

static void test_copy(void **state)
{
	(void)state;
	struct guest_mem gm = two_regions();
	char buf[8] = "abcdefg";
	assert_int_equal(gm_write(&gm, 0x200, buf, 8), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(gm_read(&gm, 0x200, buf, 8), 0);
	assert_string_equal(buf, "abcdefg");
	assert_int_equal(gm_read(&gm, sizeof(low) - 4, buf, 8), -EFAULT);
	assert_int_equal(gm_write(&gm, 0x30000, buf, 1), -EFAULT);
}

static void test_add_region_checks(void **state)
{
	(void)state;
	struct guest_mem gm = { 0 };
	assert_int_equal(gm_add_region(&gm, 0, 0, low), -EINVAL);
	assert_int_equal(gm_add_region(&gm, UINT64_MAX - 10, 100, low), -EINVAL);
	assert_int_equal(gm_add_region(&gm, 0x1000, 0x1000, low), 0);
	assert_int_equal(gm_add_region(&gm, 0x1800, 0x1000, high), -EINVAL);
	assert_int_equal(gm_add_region(&gm, 0x0, 0x1001, high), -EINVAL);
	assert_int_equal(gm_add_region(&gm, 0x2000, 0x1000, high), 0);
}

/* Anonymous guest RAM starts on a 2 MiB boundary, whatever its size, and
 * is usable; hugetlb RAM must be whole 2 MiB pages. */
static void test_map_ram(void **state)
{
	(void)state;
	uint64_t sizes[] = { 4096, 3ULL << 20, (64ULL << 20) + 4096 };
	void *p;

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(gm_map_ram(sizes[i], false, &p), 0);
		assert_int_equal((uintptr_t)p & (GM_HUGE_PAGE - 1), 0);
		memset(p, 0xa5, (size_t)sizes[i]);
		assert_int_equal(((uint8_t *)p)[sizes[i] - 1], 0xa5);
		gm_unmap_ram(p, sizes[i]);
	}
	assert_int_equal(gm_map_ram(0, false, &p), -EINVAL);
	assert_int_equal(gm_map_ram(3ULL << 20, true, &p), -EINVAL);
	assert_int_equal(gm_map_ram(UINT64_MAX - 4095, false, &p), -EINVAL);
	/* hugetlb with whole pages: mapped when the pool has them, -ENOMEM
	 * (or -EINVAL/-ENOENT without hugetlbfs) otherwise; never a crash */
	int r = gm_map_ram(2ULL << 20, true, &p);
	if (!r) {
		assert_int_equal((uintptr_t)p & (GM_HUGE_PAGE - 1), 0);
		gm_unmap_ram(p, 2ULL << 20);
	} else {
		assert_true(r < 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inside),
		cmocka_unit_test(test_outside),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_add_region_checks),
		cmocka_unit_test(test_map_ram),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
