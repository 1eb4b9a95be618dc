/* SPDX-License-Identifier: MIT
 * blockdev.h - the block-backend interface behind every disk device
 * (virtio-blk, IDE): byte-addressed vectored reads and writes, flush,
 * discard, write-zeroes, size and read-only, whatever the image format.
 *
 * All functions return 0 on success (the whole transfer done) or a negative
 * errno. Calls may come from several I/O threads at once (one per queue):
 * each backend does its own locking. Offsets and lengths are checked
 * against the size by the caller (the device) and again by the backend.
 */
#ifndef MINIVMM_BLOCKDEV_H
#define MINIVMM_BLOCKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct blockdev;

struct blockdev_ops {
	int (*preadv)(struct blockdev *bd, const struct iovec *iov, int iovcnt,
		      uint64_t offset);
	int (*pwritev)(struct blockdev *bd, const struct iovec *iov,
		       int iovcnt, uint64_t offset);
	/* Make every completed write durable (fdatasync for raw; data and
	 * metadata for qcow2). */
	int (*flush)(struct blockdev *bd);
	/* Deallocate; later reads return zeroes or old data (like TRIM). */
	int (*discard)(struct blockdev *bd, uint64_t offset, uint64_t len);
	/* Later reads return zeroes; may_unmap allows deallocation. */
	int (*write_zeroes)(struct blockdev *bd, uint64_t offset, uint64_t len,
			    bool may_unmap);
	void (*close)(struct blockdev *bd); /* frees bd */
};

enum blockdev_cache { BLOCKDEV_CACHE_WRITEBACK, BLOCKDEV_CACHE_NONE };

struct blockdev {
	const struct blockdev_ops *ops;
	const char *format;   /* "raw", "qcow2" */
	char *path;
	uint64_t size;        /* virtual size in bytes, multiple of 512 */
	bool readonly;
	bool direct;          /* opened with O_DIRECT (cache=none) */
	uint32_t align;       /* buffer/offset alignment O_DIRECT needs, or 1 */
};

#define BLOCKDEV_MAX_BACKING_DIRS 8

struct blockdev_opts {
	const char *path;
	const char *format;   /* "raw", "qcow2", or NULL to detect by magic */
	bool readonly;
	enum blockdev_cache cache;
	/* The format of the image's backing file, overriding the image's
	 * own record (NULL: the image must record it). Deeper backing
	 * files must record theirs. */
	const char *backing_format;
	/* Directories backing files may be in, besides the image's own
	 * directory (and below). */
	const char *const *backing_dirs;
	unsigned nr_backing_dirs;
};

/* Detecting a format from an image's first bytes: how many are looked
 * at, and the format they make it ("qcow2" or "raw"). */
#define BLOCKDEV_PROBE_BYTES 4
const char *blockdev_probe(const uint8_t *first);
/* first (BLOCKDEV_PROBE_BYTES) would make a raw image detect as another
 * format. */
bool blockdev_probe_refuses(const uint8_t *first);

/* Open an image. On failure returns -errno and writes a one-line message
 * naming the file and the problem into err (no "minivmm:" prefix). */
int blockdev_open(const struct blockdev_opts *o, struct blockdev **out,
		  char *err, size_t errlen);

static inline int blockdev_preadv(struct blockdev *bd, const struct iovec *iov,
				  int iovcnt, uint64_t off)
{
	return bd->ops->preadv(bd, iov, iovcnt, off);
}
static inline int blockdev_pwritev(struct blockdev *bd,
				   const struct iovec *iov, int iovcnt,
				   uint64_t off)
{
	return bd->ops->pwritev(bd, iov, iovcnt, off);
}
static inline int blockdev_flush(struct blockdev *bd)
{
	return bd->ops->flush(bd);
}
static inline int blockdev_discard(struct blockdev *bd, uint64_t off,
				   uint64_t len)
{
	return bd->ops->discard(bd, off, len);
}
static inline int blockdev_write_zeroes(struct blockdev *bd, uint64_t off,
					uint64_t len, bool may_unmap)
{
	return bd->ops->write_zeroes(bd, off, len, may_unmap);
}
static inline void blockdev_close(struct blockdev *bd)
{
	if (bd)
		bd->ops->close(bd);
}

#endif
