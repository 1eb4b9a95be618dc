/* SPDX-License-Identifier: MIT
 * Unit tests: the iovec byte-range helpers (vmm/iov.c): copies at an
 * offset, memset, slices into a bounded array and the overflow-checked
 * total, over zero-length entries, ranges that cross entries, offsets past
 * the end, too small output arrays and lengths near SIZE_MAX. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/iov.h"

/* Three buffers with an empty entry at each end and between them:
 * bytes 0-3 in a, 4-5 in b, 6-12 in c (13 bytes in all). */
static uint8_t a[4], b[2], c[7];
static struct iovec v[6];

static int setup(void **state)
{
	(void)state;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memset(c, 0, sizeof(c));
	v[0] = (struct iovec){ a, 0 };
	v[1] = (struct iovec){ a, sizeof(a) };
	v[2] = (struct iovec){ NULL, 0 };
	v[3] = (struct iovec){ b, sizeof(b) };
	v[4] = (struct iovec){ c, sizeof(c) };
	v[5] = (struct iovec){ NULL, 0 };
	return 0;
}

static void test_total(void **state)
{
	size_t len = 77;

	(void)state;
	assert_int_equal(iov_total(v, 6, &len), 0);
	assert_int_equal(len, 13);
	assert_int_equal(iov_size(v, 6), 13);
	assert_int_equal(iov_total(v, 0, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(iov_size(v, 1), 0); /* only the empty entry */
}

static void test_total_overflow(void **state)
{
	/* lengths only: the buffers are never touched by a sum */
	struct iovec big[3] = { { NULL, SIZE_MAX - 1 }, { NULL, 1 },
				{ NULL, 1 } };
	size_t len = 77;

	(void)state;
	assert_int_equal(iov_total(big, 2, &len), 0);
	assert_true(len == SIZE_MAX);
	len = 77;
	assert_int_equal(iov_total(big, 3, &len), -EOVERFLOW);
	assert_int_equal(len, 77); /* untouched on failure */
	assert_true(iov_size(big, 3) == SIZE_MAX);
}

static void test_from_to_buf_crossing(void **state)
{
	uint8_t src[13], dst[13];

	(void)state;
	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i + 1);
	/* all of it, across every entry, empty ones included */
	assert_int_equal(iov_from_buf(v, 6, 0, src, 13), 13);
	assert_int_equal(a[0], 1);
	assert_int_equal(a[3], 4);
	assert_int_equal(b[0], 5);
	assert_int_equal(b[1], 6);
	assert_int_equal(c[0], 7);
	assert_int_equal(c[6], 13);
	memset(dst, 0, sizeof(dst));
	assert_int_equal(iov_to_buf(v, 6, 0, dst, 13), 13);
	assert_memory_equal(dst, src, 13);

	/* from the middle of a to the middle of c */
	memset(dst, 0, sizeof(dst));
	assert_int_equal(iov_to_buf(v, 6, 3, dst, 5), 5);
	assert_memory_equal(dst, src + 3, 5);
	/* starting exactly at an entry boundary (4: first byte of b) */
	assert_int_equal(iov_to_buf(v, 6, 4, dst, 2), 2);
	assert_int_equal(dst[0], 5);
	assert_int_equal(dst[1], 6);
	/* zero length: nothing copied, nothing touched */
	assert_int_equal(iov_to_buf(v, 6, 5, NULL, 0), 0);
	assert_int_equal(iov_from_buf(v, 6, 5, NULL, 0), 0);
}

static void test_short_and_past_end(void **state)
{
	uint8_t dst[32];
	uint8_t src[32];

	(void)state;
	memset(src, 0xab, sizeof(src));
	memset(dst, 0, sizeof(dst));
	/* the iovecs end first: fewer bytes, and no more are written */
	assert_int_equal(iov_to_buf(v, 6, 10, dst, sizeof(dst)), 3);
	assert_int_equal(dst[3], 0);
	assert_int_equal(iov_from_buf(v, 6, 10, src, sizeof(src)), 3);
	assert_int_equal(c[3], 0);
	assert_int_equal(c[4], 0xab);
	/* offsets at and past the end, up to SIZE_MAX */
	assert_int_equal(iov_to_buf(v, 6, 13, dst, 1), 0);
	assert_int_equal(iov_to_buf(v, 6, 14, dst, 1), 0);
	assert_int_equal(iov_from_buf(v, 6, SIZE_MAX, src, 1), 0);
	assert_int_equal(iov_memset(v, 6, SIZE_MAX, 0, SIZE_MAX), 0);
	/* a length of SIZE_MAX stops at the end of the iovecs */
	assert_int_equal(iov_memset(v, 6, 12, 0x11, SIZE_MAX), 1);
	assert_int_equal(c[6], 0x11);
	/* no iovecs at all */
	assert_int_equal(iov_to_buf(v, 0, 0, dst, 1), 0);
}

static void test_memset(void **state)
{
	(void)state;
	assert_int_equal(iov_memset(v, 6, 2, 0x5a, 6), 6);
	assert_int_equal(a[1], 0);
	assert_int_equal(a[2], 0x5a);
	assert_int_equal(a[3], 0x5a);
	assert_int_equal(b[0], 0x5a);
	assert_int_equal(b[1], 0x5a);
	assert_int_equal(c[0], 0x5a);
	assert_int_equal(c[1], 0x5a);
	assert_int_equal(c[2], 0);
}

static void test_slice(void **state)
{
	struct iovec out[4];

	(void)state;
	/* crossing three entries, trimmed at both ends, empty ones left out */
	assert_int_equal(iov_slice(v, 6, 3, 5, out, 4), 3);
	assert_ptr_equal(out[0].iov_base, a + 3);
	assert_int_equal(out[0].iov_len, 1);
	assert_ptr_equal(out[1].iov_base, b);
	assert_int_equal(out[1].iov_len, 2);
	assert_ptr_equal(out[2].iov_base, c);
	assert_int_equal(out[2].iov_len, 2);
	/* inside one entry */
	assert_int_equal(iov_slice(v, 6, 7, 3, out, 1), 1);
	assert_ptr_equal(out[0].iov_base, c + 1);
	assert_int_equal(out[0].iov_len, 3);
	/* the whole range, exactly to the end */
	assert_int_equal(iov_slice(v, 6, 0, 13, out, 3), 3);
	/* empty range: no entries, even past the end */
	assert_int_equal(iov_slice(v, 6, 13, 0, out, 0), 0);
	assert_int_equal(iov_slice(v, 6, 100, 0, out, 4), 0);
}

static void test_slice_errors(void **state)
{
	struct iovec out[4];

	(void)state;
	/* output array too small: one entry short, or none at all */
	assert_int_equal(iov_slice(v, 6, 0, 13, out, 2), -EINVAL);
	assert_int_equal(iov_slice(v, 6, 0, 1, out, 0), -EINVAL);
	/* the range runs past the end, or starts there */
	assert_int_equal(iov_slice(v, 6, 12, 2, out, 4), -EINVAL);
	assert_int_equal(iov_slice(v, 6, 13, 1, out, 4), -EINVAL);
	assert_int_equal(iov_slice(v, 6, SIZE_MAX, 1, out, 4), -EINVAL);
	/* off + len would overflow: no sum is formed, the range is refused */
	assert_int_equal(iov_slice(v, 6, 5, SIZE_MAX, out, 4), -EINVAL);
	assert_int_equal(iov_slice(v, 0, 0, 1, out, 4), -EINVAL);
}

static void test_slice_in_place(void **state)
{
	struct iovec w[6];

	(void)state;
	memcpy(w, v, sizeof(w));
	assert_int_equal(iov_slice(w, 6, 2, 9, w, 6), 3);
	assert_ptr_equal(w[0].iov_base, a + 2);
	assert_int_equal(w[0].iov_len, 2);
	assert_ptr_equal(w[1].iov_base, b);
	assert_int_equal(w[1].iov_len, 2);
	assert_ptr_equal(w[2].iov_base, c);
	assert_int_equal(w[2].iov_len, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_total, setup),
		cmocka_unit_test_setup(test_total_overflow, setup),
		cmocka_unit_test_setup(test_from_to_buf_crossing, setup),
		cmocka_unit_test_setup(test_short_and_past_end, setup),
		cmocka_unit_test_setup(test_memset, setup),
		cmocka_unit_test_setup(test_slice, setup),
		cmocka_unit_test_setup(test_slice_errors, setup),
		cmocka_unit_test_setup(test_slice_in_place, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
