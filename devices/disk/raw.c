/* SPDX-License-Identifier: MIT
 * raw.c - the raw image format: guest byte N is file byte N. Reads and
 * writes are positional, so any number of I/O threads may call in at once
 * without a lock. FLUSH = fdatasync, DISCARD = punch a hole, WRITE_ZEROES =
 * zero the range (the host-file layer in blockdev.c does the work).
 *
 * The size is the file's, rounded up to whole sectors when the file is
 * opened read-only (as every backing file is; qemu-img accepts such a
 * base): the part past the end of the file reads as zeroes. A writable
 * image must be a multiple of 512 bytes.
 */
#include "devices/disk/disk_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/log.h"

struct raw {
	struct blockdev bd;
	struct bdfile f;
	bool probed;              /* format detected, not given */
	atomic_bool warned;       /* the sector-0 warning was printed */
};

static struct raw *to_raw(struct blockdev *bd)
{
	return (struct raw *)bd;
}

static int check_range(struct blockdev *bd, uint64_t off, uint64_t len)
{
	if (off > bd->size || len > bd->size - off)
		return -EINVAL;
	return 0;
}

static int raw_preadv(struct blockdev *bd, const struct iovec *iov,
		      int iovcnt, uint64_t off)
{
	int ret = check_range(bd, off, iov_size(iov, iovcnt));
	return ret ? ret : bdfile_preadv(&to_raw(bd)->f, iov, iovcnt, off);
}

/* A probed raw image must stay raw: a write that would make its first
 * bytes detect as another format is refused (the guest sees an I/O
 * error), with one warning per image. */
static int guard_sector0(struct raw *r, const struct iovec *iov, int iovcnt,
			 uint64_t off)
{
	uint8_t first[BLOCKDEV_PROBE_BYTES];
	size_t len = iov_size(iov, iovcnt);

	if (!r->probed || off >= sizeof(first) || !len)
		return 0;
	if (off > 0 || len < sizeof(first)) {
		/* a partial write: what the other first bytes hold now */
		int ret = bdfile_pread(&r->f, first, sizeof(first), 0);
		if (ret)
			return ret;
	}
	size_t n = sizeof(first) - off < len ? sizeof(first) - off : len;
	iov_to_buf(iov, iovcnt, 0, first + off, n);
	if (!blockdev_probe_refuses(first))
		return 0;
	if (!atomic_exchange(&r->warned, true))
		pr_warn("%s: the guest wrote a %s header to sector 0 of an image whose format was detected as raw; refused (pass format=raw if the guest may do that)",
			r->bd.path, blockdev_probe(first));
	return -EPERM;
}

static int raw_pwritev(struct blockdev *bd, const struct iovec *iov,
		       int iovcnt, uint64_t off)
{
	if (bd->readonly)
		return -EROFS;
	int ret = check_range(bd, off, iov_size(iov, iovcnt));
	if (!ret)
		ret = guard_sector0(to_raw(bd), iov, iovcnt, off);
	return ret ? ret : bdfile_pwritev(&to_raw(bd)->f, iov, iovcnt, off);
}

static int raw_flush(struct blockdev *bd)
{
	if (bd->readonly)
		return 0;
	return bdfile_flush(&to_raw(bd)->f);
}

static int raw_discard(struct blockdev *bd, uint64_t off, uint64_t len)
{
	if (bd->readonly)
		return -EROFS;
	int ret = check_range(bd, off, len);
	return ret ? ret : bdfile_discard(&to_raw(bd)->f, off, len);
}

static int raw_write_zeroes(struct blockdev *bd, uint64_t off, uint64_t len,
			    bool may_unmap)
{
	if (bd->readonly)
		return -EROFS;
	int ret = check_range(bd, off, len);
	return ret ? ret : bdfile_zero(&to_raw(bd)->f, off, len, may_unmap);
}

/* Asynchronous I/O: guest byte N is file byte N, except that a write
 * over the first bytes of a probed image goes through raw_pwritev (its
 * sector-0 guard). */
static int raw_aio_map(struct blockdev *bd, uint64_t off, uint64_t len,
		       bool write, struct bd_extent *e)
{
	int ret = check_range(bd, off, len);

	if (ret)
		return ret;
	e->host = off;
	e->len = len;
	e->sync = write && to_raw(bd)->probed && off < BLOCKDEV_PROBE_BYTES;
	return 0;
}

static void raw_close(struct blockdev *bd)
{
	struct raw *r = to_raw(bd);
	close(r->f.fd);
	pthread_mutex_destroy(&r->f.rmw_lock);
	free(r->bd.path);
	free(r);
}

static const struct blockdev_ops raw_ops = {
	.preadv = raw_preadv,
	.pwritev = raw_pwritev,
	.flush = raw_flush,
	.discard = raw_discard,
	.write_zeroes = raw_write_zeroes,
	.close = raw_close,
	.aio_map = raw_aio_map,
};

int raw_open(struct bdfile *f, const struct blockdev_opts *o, bool probed,
	     struct blockdev **out, char *err, size_t errlen)
{
	uint64_t size;
	int ret = bdfile_size(f, &size);
	if (ret) {
		snprintf(err, errlen, "%s: cannot get the size: %s", o->path,
			 strerror(-ret));
		return ret;
	}
	if (size % 512 && o->readonly) {
		size = (size + 511) & ~511ull;
	} else if (size % 512) {
		snprintf(err, errlen,
			 "%s: size %llu is not a multiple of 512 bytes (resize it, e.g. truncate -s %lluK)",
			 o->path, (unsigned long long)size,
			 (unsigned long long)((size + 1023) / 1024));
		return -EINVAL;
	}
	struct raw *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->bd.path = strdup(o->path);
	if (!r->bd.path) {
		free(r);
		return -ENOMEM;
	}
	r->f = *f;
	r->probed = probed;
	pthread_mutex_init(&r->f.rmw_lock, NULL);
	r->bd.ops = &raw_ops;
	r->bd.format = "raw";
	r->bd.size = size;
	r->bd.readonly = o->readonly;
	r->bd.direct = f->direct;
	r->bd.align = f->align;
	r->bd.aio_fd = f->fd;
	r->bd.aio_fsync = !o->readonly;
	*out = &r->bd;
	return 0;
}
