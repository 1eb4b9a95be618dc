/* SPDX-License-Identifier: MIT
 * iov.h - byte-range operations on arrays of struct iovec (scatter-gather
 * lists), shared by every device model and disk format.
 *
 * An iovec array iov[0..n) is read as one byte string, the buffers one
 * after the other; zero-length entries are allowed and hold no bytes. Every
 * operation takes a byte offset `off` into that string and a length, and is
 * bounded by the array: an offset or a range past its end transfers fewer
 * bytes (copies) or fails (slices), it never reads or writes outside the
 * buffers. Nothing here checks that the buffers are host memory one may
 * touch: the caller hands in checked ranges (for guest memory, the iovecs
 * the virtqueue layer built with gm_ptr()).
 */
#ifndef MINIVMM_IOV_H
#define MINIVMM_IOV_H

#include <stddef.h>
#include <string.h>
#include <sys/uio.h>

/* Total length of iov[0..n) into *len: 0, or -EOVERFLOW if the sum does
 * not fit in a size_t (*len is then left alone). */
int iov_total(const struct iovec *iov, unsigned n, size_t *len);

/* Total length of iov[0..n), or SIZE_MAX if the sum does not fit: a range
 * check against any real size then fails. */
size_t iov_size(const struct iovec *iov, unsigned n);

/* The general cases of iov_to_buf() and iov_from_buf(): call those. */
size_t iov_to_buf_walk(const struct iovec *iov, unsigned n, size_t off,
		       void *buf, size_t len);
size_t iov_from_buf_walk(const struct iovec *iov, unsigned n, size_t off,
			 const void *buf, size_t len);

/* Copy up to len bytes, starting at byte off of iov[0..n), into buf.
 * Returns the bytes copied: fewer than len when the iovecs end first (0
 * when off is at or past their end). Inline for the common case of a
 * small header inside the first buffer (a constant len then compiles to a
 * few moves). */
static inline size_t iov_to_buf(const struct iovec *iov, unsigned n,
				size_t off, void *buf, size_t len)
{
	if (n && off < iov[0].iov_len && len <= iov[0].iov_len - off) {
		memcpy(buf, (const char *)iov[0].iov_base + off, len);
		return len;
	}
	return iov_to_buf_walk(iov, n, off, buf, len);
}

/* Copy up to len bytes from buf into iov[0..n) starting at byte off.
 * Returns the bytes copied, as iov_to_buf(). */
static inline size_t iov_from_buf(const struct iovec *iov, unsigned n,
				  size_t off, const void *buf, size_t len)
{
	if (n && off < iov[0].iov_len && len <= iov[0].iov_len - off) {
		memcpy((char *)iov[0].iov_base + off, buf, len);
		return len;
	}
	return iov_from_buf_walk(iov, n, off, buf, len);
}

/* Set up to len bytes of iov[0..n), starting at byte off, to c. Returns the
 * bytes set, as iov_to_buf(). */
size_t iov_memset(const struct iovec *iov, unsigned n, size_t off, int c,
		  size_t len);

/* Describe the bytes [off, off + len) of iov[0..n) in out[0..max): one
 * entry per input buffer the range touches, trimmed to the range, none of
 * zero length. Returns the number of entries (0 for len == 0), or -EINVAL
 * if the range does not lie wholly inside the iovecs or needs more than
 * max entries (out[] may then have been written). out must not overlap
 * iov unless out == iov (slicing in place is fine: entry k of the output
 * is never written before entry k of the input was read). */
int iov_slice(const struct iovec *iov, unsigned n, size_t off, size_t len,
	      struct iovec *out, unsigned max);

#endif
