/* SPDX-License-Identifier: MIT
 * iov.c - byte-range operations on struct iovec arrays (see iov.h).
 *
 * All of them are one walk: skip whole buffers until byte `off`, then take
 * the bytes buffer by buffer until `len` are done or the array ends. No
 * sum of lengths or offsets is ever formed, so no guest-sized value can
 * overflow on the way.
 */
#include "vmm/iov.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* A walk over the bytes [off, off + left) of iov[0..n), one piece (the
 * part inside one buffer) at a time. */
struct iov_walk {
	const struct iovec *iov;
	unsigned n, i;
	size_t off, left;
};

/* The next non-empty piece: *p and *take. False when the range is done or
 * the array ends. */
static inline bool iov_next(struct iov_walk *w, uint8_t **p, size_t *take)
{
	while (w->i < w->n && w->left) {
		const struct iovec *v = &w->iov[w->i++];

		if (w->off >= v->iov_len) { /* also skips empty buffers */
			w->off -= v->iov_len;
			continue;
		}
		*take = v->iov_len - w->off;
		if (*take > w->left)
			*take = w->left;
		*p = (uint8_t *)v->iov_base + w->off;
		w->left -= *take;
		w->off = 0;
		return true;
	}
	return false;
}

int iov_total(const struct iovec *iov, unsigned n, size_t *len)
{
	size_t sum = 0;

	for (unsigned i = 0; i < n; i++)
		if (__builtin_add_overflow(sum, iov[i].iov_len, &sum))
			return -EOVERFLOW;
	*len = sum;
	return 0;
}

size_t iov_size(const struct iovec *iov, unsigned n)
{
	size_t len;

	return iov_total(iov, n, &len) ? SIZE_MAX : len;
}

size_t iov_to_buf_walk(const struct iovec *iov, unsigned n, size_t off,
		       void *buf, size_t len)
{
	struct iov_walk w = { iov, n, 0, off, len };
	uint8_t *d = buf, *p;
	size_t take;

	while (iov_next(&w, &p, &take)) {
		memcpy(d, p, take);
		d += take;
	}
	return len - w.left;
}

size_t iov_from_buf_walk(const struct iovec *iov, unsigned n, size_t off,
			 const void *buf, size_t len)
{
	struct iov_walk w = { iov, n, 0, off, len };
	const uint8_t *s = buf;
	uint8_t *p;
	size_t take;

	while (iov_next(&w, &p, &take)) {
		memcpy(p, s, take);
		s += take;
	}
	return len - w.left;
}

size_t iov_memset(const struct iovec *iov, unsigned n, size_t off, int c,
		  size_t len)
{
	struct iov_walk w = { iov, n, 0, off, len };
	uint8_t *p;
	size_t take;

	while (iov_next(&w, &p, &take))
		memset(p, c, take);
	return len - w.left;
}

int iov_slice(const struct iovec *iov, unsigned n, size_t off, size_t len,
	      struct iovec *out, unsigned max)
{
	struct iov_walk w = { iov, n, 0, off, len };
	unsigned k = 0;
	uint8_t *p;
	size_t take;

	while (iov_next(&w, &p, &take)) {
		if (k == max)
			return -EINVAL;
		out[k].iov_base = p;
		out[k].iov_len = take;
		k++;
	}
	if (w.left)
		return -EINVAL;
	return (int)k;
}
