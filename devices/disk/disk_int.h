/* SPDX-License-Identifier: MIT
 * disk_int.h - internals shared by the image formats in devices/disk/:
 * the host-file layer (positional vectored I/O that handles short
 * transfers and O_DIRECT alignment through a bounce buffer), the format
 * openers, and what the image tool (img.c) needs to look inside a qcow2.
 * Not a contract for other areas: use blockdev.h.
 */
#ifndef MINIVMM_DISK_INT_H
#define MINIVMM_DISK_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "devices/disk/blockdev.h"
#include "vmm/iov.h" /* iovec byte ranges, for every format */

/* ---- host file ---- */
struct bdfile {
	int fd;
	bool direct;      /* O_DIRECT: buffers, offsets, lengths aligned */
	bool blkdev;      /* a block device, not a regular file */
	uint32_t align;   /* 1 without O_DIRECT */
	pthread_mutex_t rmw_lock; /* serialises unaligned read-modify-writes */
};

/* Full transfers: loop over short reads/writes; reads past end of file
 * return zeroes. Misaligned requests on an O_DIRECT file go through an
 * aligned bounce buffer. 0 or -errno. */
int bdfile_preadv(struct bdfile *f, const struct iovec *iov, int iovcnt,
		  uint64_t off);
int bdfile_pwritev(struct bdfile *f, const struct iovec *iov, int iovcnt,
		   uint64_t off);
int bdfile_pread(struct bdfile *f, void *buf, size_t len, uint64_t off);
int bdfile_pwrite(struct bdfile *f, const void *buf, size_t len,
		  uint64_t off);
int bdfile_flush(struct bdfile *f);
/* Deallocate (punch a hole) / make read as zeroes; fall back to writing
 * zeroes where the filesystem cannot. */
int bdfile_discard(struct bdfile *f, uint64_t off, uint64_t len);
int bdfile_zero(struct bdfile *f, uint64_t off, uint64_t len, bool may_unmap);
int bdfile_size(struct bdfile *f, uint64_t *size);
int bdfile_truncate(struct bdfile *f, uint64_t size);

/* ---- asynchronous I/O (aio.c) ----
 * Test seams (tests/unit), all NULL in minivmm: a stand-in for
 * io_uring_submit (to return -EINTR or -EAGAIN), for a completion's
 * result given the bytes asked for (a short transfer), a reordering
 * of a batch of completions (struct io_uring_cqe pointers) before they are
 * handled, and a stand-in for io_uring_queue_init_params (a kernel that
 * refuses some set-up flags). */
struct io_uring;
struct io_uring_params;
struct bdaio;
struct bdaio_hooks {
	int (*submit)(struct io_uring *ring);
	int (*result)(int res, size_t want);
	void (*order)(void **cqes, unsigned n);
	int (*setup)(unsigned entries, struct io_uring *ring,
		     struct io_uring_params *par);
};
extern struct bdaio_hooks bdaio_hooks;
/* The IORING_SETUP_* flags the context's ring was created with. */
unsigned bdaio_ring_flags(const struct bdaio *a);

/* ---- backing files (backing.c) ---- */
/* The directories a backing chain may use, as real paths: the top
 * image's own directory first, then the ones the user added. */
struct bd_allow {
	int n;
	char *dir[1 + BLOCKDEV_MAX_BACKING_DIRS];
};
/* Fill a from the top image's path and the extra directories (each must
 * exist); 0 or -errno with one line in err. */
int backing_allow_init(struct bd_allow *a, const char *image,
		       const char *const *extra, unsigned nextra, char *err,
		       size_t errlen);
void backing_allow_free(struct bd_allow *a);
/* The backing file `name` that the image at path `image` names: resolved
 * from the image's directory; must be a regular file beneath a directory
 * of a (after symlinks). Opens it with open flags (O_RDONLY, maybe
 * O_DIRECT) into *fd and writes its real path into real. 0, or -errno
 * with one line naming the file and the reason in err. */
int backing_resolve(const char *image, const char *name,
		    const struct bd_allow *a, int flags, int *fd, char *real,
		    size_t reallen, char *err, size_t errlen);

/* ---- opening ---- */
/* Images already open along a backing chain (loop detection), and the
 * rules the chain's backing files follow. */
#define BLOCKDEV_MAX_CHAIN 16
struct bd_chain {
	int n;
	dev_t dev[BLOCKDEV_MAX_CHAIN];
	ino_t ino[BLOCKDEV_MAX_CHAIN];
	int fd;                 /* >= 0: the next image, already opened */
	bool no_backing;        /* open the top image without its backing */
	const struct blockdev_opts *top; /* the user's options */
	struct bd_allow allow;  /* filled at the first backing file */
};
#define BD_CHAIN_INIT(o) { .fd = -1, .top = (o) }

/* blockdev_open with the chain of images that lead to this one. */
int blockdev_open_chain(const struct blockdev_opts *o, struct bd_chain *chain,
			struct blockdev **out, char *err, size_t errlen);

/* Format openers; f->fd is owned by the new device on success. */
/* probed: the format was detected, not given: guest writes that would
 * make the image detect as another format are refused. */
int raw_open(struct bdfile *f, const struct blockdev_opts *o, bool probed,
	     struct blockdev **out, char *err, size_t errlen);
int qcow2_open(struct bdfile *f, const struct blockdev_opts *o,
	       struct bd_chain *chain, struct blockdev **out, char *err,
	       size_t errlen);

/* ---- what `minivmm img` needs ---- */
struct qcow2_info {
	uint32_t version;
	uint32_t cluster_size;
	uint32_t refcount_bits;
	uint32_t nb_snapshots;
	bool lazy_refcounts, dirty, corrupt;
	const char *compression;       /* "zlib" (deflate) or "zstd" */
	char backing_file[1024];       /* as stored in the header, or "" */
	char backing_format[32];
	struct blockdev *backing;      /* the opened backing image or NULL */
};
/* Fill info for an opened qcow2 device. -EINVAL if bd is not qcow2. */
int qcow2_get_info(struct blockdev *bd, struct qcow2_info *info);
/* The backing image of any device (NULL for raw or no backing). */
struct blockdev *blockdev_backing(struct blockdev *bd);

struct qcow2_check_result {
	uint64_t corruptions;   /* refcount too low, bad offsets, bad flags */
	uint64_t leaks;         /* clusters with refcount higher than used */
	uint64_t allocated_clusters;
	uint64_t total_clusters; /* virtual size in clusters */
	uint64_t image_end;      /* file offset after the last used cluster */
	uint64_t leaks_fixed;
};
/* Rebuild the refcounts from the metadata in memory and compare with
 * the image's. Problems are printed with report() (one line each).
 * repair_leaks: lower refcounts that are too high (needs read-write). */
int qcow2_check(struct blockdev *bd, bool repair_leaks,
		struct qcow2_check_result *res,
		void (*report)(void *opaque, const char *line), void *opaque);

#endif
