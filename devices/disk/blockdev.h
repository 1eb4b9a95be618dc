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

/* Where the start of a request lies in the host file, for asynchronous
 * I/O (aio.c): bytes [off, off + len) of the guest disk are bytes
 * [host, host + len) of the file (sync false), or are to go through the
 * format's own preadv/pwritev (sync true: backing data, zero clusters,
 * allocation, copy-on-write). */
struct bd_extent {
	uint64_t host;
	uint64_t len;         /* > 0, at most what was asked */
	bool sync;
	unsigned ticket;      /* the format's, given back to aio_end */
};

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
	/* Optional, for asynchronous I/O on bd->aio_fd (aio.c): map the
	 * start of [off, off + len) (inside the disk) for a read or a write.
	 * Each extent given with sync false is in flight until aio_end is
	 * called for it once, with its ticket (the format may defer what
	 * could move it, like freeing clusters). 0 or -errno. */
	int (*aio_map)(struct blockdev *bd, uint64_t off, uint64_t len,
		       bool write, struct bd_extent *e);
	void (*aio_end)(struct blockdev *bd, unsigned ticket); /* optional */
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
	int aio_fd;           /* the file aio_map's extents are in */
	bool aio_fsync;       /* flush is exactly fdatasync(aio_fd) */
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

/* ---- asynchronous I/O (aio.c, io_uring) ----
 * One context per thread that submits (a virtio-blk queue): an io_uring
 * with the image's file registered (fixed file) and an eventfd that
 * becomes readable when completions wait. Requests are split where the
 * format maps them; pieces the format cannot hand out go through its
 * synchronous path at submission. Short transfers are continued, reads at
 * end of file return zeroes; completions are reported in the order they
 * finish. Not thread-safe: one thread uses a context. */
struct bdaio;

/* A request finished: tag as given, ret 0 or -errno. */
typedef void bdaio_done_fn(void *opaque, void *tag, int ret);

/* depth: requests expected in flight (sizes the ring). -EOPNOTSUPP if the
 * format has no aio_map, else what io_uring set-up returned (-ENOSYS,
 * -EPERM where it is missing or forbidden). */
int bdaio_new(struct blockdev *bd, unsigned depth, bdaio_done_fn *done,
	      void *opaque, struct bdaio **out);
/* Waits for the requests in flight (done is called), then frees. */
void bdaio_free(struct bdaio *a);
/* An eventfd signalled whenever bdaio_reap has new work: read it to clear
 * it, or watch it edge-triggered (every signal is a new edge). */
int bdaio_fd(const struct bdaio *a);
/* Queue a read (into iov) or write (from iov) at guest offset off,
 * checked by the caller to be inside the disk. iov[0..iovcnt) must stay
 * valid until done. Returns 0: in flight, done(opaque, tag, ret) will be
 * called from bdaio_reap/bdaio_wait/a later submission; 1: completed
 * already, successfully; -errno: completed already, failed (done is not
 * called for these two). */
int bdaio_rw(struct bdaio *a, bool write, const struct iovec *iov,
	     int iovcnt, uint64_t off, void *tag);
/* FLUSH: durable once every write of this context queued before it has
 * completed (fdatasync once they have, or waiting for them and the
 * format's flush). Same returns as bdaio_rw; -EBUSY while blocked. */
int bdaio_flush(struct bdaio *a, void *tag);
/* A flush waits for writes in flight: queue nothing more until it went
 * (a completion unblocks the context). */
bool bdaio_blocked(const struct bdaio *a);
/* Hand what was queued to the kernel (retrying EINTR and EAGAIN). */
void bdaio_submit(struct bdaio *a);
/* Report every finished request (done) and submit what continues a
 * short transfer; never blocks. Returns how many requests finished. */
unsigned bdaio_reap(struct bdaio *a);
/* Submit and wait until no request is in flight. */
void bdaio_wait(struct bdaio *a);
/* Requests in flight. */
unsigned bdaio_inflight(const struct bdaio *a);

#endif
