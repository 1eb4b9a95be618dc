/* SPDX-License-Identifier: MIT
 * Unit tests: the e820 memory map for several guest sizes (the caller splits
 * RAM into the part below the PCI hole and the part above 4 GiB). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "boot/x86/boot.h"
#include "vmm/x86/layout.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static void expect(const struct x86_e820_entry *e, uint64_t addr,
		   uint64_t size, uint32_t type)
{
	assert_int_equal(e->addr, addr);
	assert_int_equal(e->size, size);
	assert_int_equal(e->type, type);
}

/* Entries are sorted, do not overlap, and never cover the PCI hole. */
static void check_sane(const struct x86_e820_entry *e, int n)
{
	for (int i = 0; i < n; i++) {
		assert_true(e[i].size > 0);
		if (i)
			assert_true(e[i].addr >= e[i - 1].addr + e[i - 1].size);
		assert_false(e[i].addr < X86_PCI_HOLE_END &&
			     e[i].addr + e[i].size > X86_PCI_HOLE_START);
	}
}

static void test_128m(void **state)
{
	(void)state;
	struct x86_e820_entry e[8];
	int n = x86_e820_build(128 * MiB, 0, e, 8);

	assert_int_equal(n, 3);
	expect(&e[0], 0, X86_EBDA_START, 1);
	expect(&e[1], X86_EBDA_START, MiB - X86_EBDA_START, 2);
	expect(&e[2], MiB, 127 * MiB, 1);
	check_sane(e, n);
}

static void test_3_5g(void **state)
{
	(void)state;
	struct x86_e820_entry e[8];
	int n = x86_e820_build(3 * GiB, GiB / 2, e, 8);

	assert_int_equal(n, 4);
	expect(&e[0], 0, X86_EBDA_START, 1);
	expect(&e[1], X86_EBDA_START, MiB - X86_EBDA_START, 2);
	expect(&e[2], MiB, 3 * GiB - MiB, 1);
	expect(&e[3], 4 * GiB, GiB / 2, 1);
	check_sane(e, n);
	/* total RAM = 3.5 GiB less the reserved EBDA/BIOS area */
	assert_int_equal(e[0].size + e[2].size + e[3].size,
			 3 * GiB + GiB / 2 - (MiB - X86_EBDA_START));
}

static void test_8g(void **state)
{
	(void)state;
	struct x86_e820_entry e[4];
	int n = x86_e820_build(3 * GiB, 5 * GiB, e, 4);

	assert_int_equal(n, 4);
	expect(&e[2], MiB, 3 * GiB - MiB, 1);
	expect(&e[3], 4 * GiB, 5 * GiB, 1);
	check_sane(e, n);
}

static void test_limits(void **state)
{
	(void)state;
	struct x86_e820_entry e[4];

	assert_int_equal(x86_e820_build(128 * MiB, 0, e, 2), -ENOSPC);
	assert_int_equal(x86_e820_build(3 * GiB, MiB, e, 3), -ENOSPC);
	assert_int_equal(x86_e820_build(3 * GiB, MiB, NULL, 4), -ENOSPC);
	assert_int_equal(x86_e820_build(MiB, 0, e, 4), -EINVAL);
	assert_int_equal(x86_e820_build(2 * MiB - 1, 0, e, 4), -EINVAL);
	assert_int_equal(x86_e820_build(2 * MiB, 0, e, 4), 3);
	assert_int_equal(x86_e820_build(3 * GiB + 4096, 0, e, 4), -EINVAL);
	assert_int_equal(x86_e820_build(3 * GiB, UINT64_MAX - GiB, e, 4),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_128m),
		cmocka_unit_test(test_3_5g),
		cmocka_unit_test(test_8g),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
