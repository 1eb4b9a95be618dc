/* SPDX-License-Identifier: MIT
 * blockdev.c - opening a disk image (checks, format detection) and the
 * host-file layer every format uses: full positional vectored transfers
 * (short reads and writes are continued), O_DIRECT alignment through an
 * aligned bounce buffer, flush (fdatasync), discard (punch a hole) and
 * write-zeroes (zero a range) with fallbacks.
 */
#include "devices/disk/disk_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/log.h"

/* ---- host file ---- */

static bool is_aligned(const struct bdfile *f, const struct iovec *iov,
		       int iovcnt, uint64_t off)
{
	uint32_t a = f->align;
	if (!f->direct || a <= 1)
		return true;
	if (off % a)
		return false;
	for (int i = 0; i < iovcnt; i++)
		if ((uintptr_t)iov[i].iov_base % a || iov[i].iov_len % a)
			return false;
	return true;
}

/* The plain loop: continue after short transfers and EINTR. A read that
 * reaches end of file fills the rest with zeroes. */
static int rw_loop(int fd, const struct iovec *iov_in, int iovcnt,
		   uint64_t off, bool write)
{
	struct iovec stack[64], *iov = stack;
	size_t left = iov_size(iov_in, iovcnt);
	int ret = 0;

	if (iovcnt > 64) {
		iov = malloc(sizeof(*iov) * iovcnt);
		if (!iov)
			return -ENOMEM;
	}
	memcpy(iov, iov_in, sizeof(*iov) * iovcnt);
	int first = 0;
	while (left) {
		int cnt = iovcnt - first;
		if (cnt > IOV_MAX)
			cnt = IOV_MAX;
		ssize_t n = write ? pwritev(fd, iov + first, cnt, (off_t)off)
				  : preadv(fd, iov + first, cnt, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (n == 0) {
			if (write) {
				ret = -EIO;
				break;
			}
			/* end of file: the rest reads as zeroes */
			for (int i = first; i < iovcnt; i++)
				memset(iov[i].iov_base, 0, iov[i].iov_len);
			break;
		}
		left -= (size_t)n;
		off += (uint64_t)n;
		while (n > 0 && first < iovcnt) {
			if ((size_t)n >= iov[first].iov_len) {
				n -= (ssize_t)iov[first].iov_len;
				iov[first].iov_len = 0;
				first++;
			} else {
				iov[first].iov_base =
					(uint8_t *)iov[first].iov_base + n;
				iov[first].iov_len -= (size_t)n;
				n = 0;
			}
		}
		while (first < iovcnt && iov[first].iov_len == 0)
			first++;
	}
	if (iov != stack)
		free(iov);
	return ret;
}

/* Misaligned O_DIRECT request: read (and for writes modify and write
 * back) the aligned span through a bounce buffer, in chunks. */
#define BOUNCE_CHUNK (1u << 20)
static int bounce_rw(struct bdfile *f, const struct iovec *iov, int iovcnt,
		     uint64_t off, bool write)
{
	uint32_t a = f->align;
	size_t len = iov_size(iov, iovcnt), done = 0;
	void *buf;
	int ret = 0;

	if (posix_memalign(&buf, a, BOUNCE_CHUNK + 2 * (size_t)a))
		return -ENOMEM;
	if (write)
		pthread_mutex_lock(&f->rmw_lock);
	while (done < len) {
		uint64_t pos = off + done;
		uint64_t start = pos / a * a;
		size_t head = (size_t)(pos - start);
		size_t n = len - done;
		if (n > BOUNCE_CHUNK)
			n = BOUNCE_CHUNK;
		size_t span = (head + n + a - 1) / a * a;
		struct iovec b = { buf, span };
		if (!write || head || (n % a)) {
			ret = rw_loop(f->fd, &b, 1, start, false);
			if (ret)
				break;
		}
		if (write) {
			iov_to_buf(iov, iovcnt, done, (uint8_t *)buf + head, n);
			ret = rw_loop(f->fd, &b, 1, start, true);
			if (ret)
				break;
		} else {
			iov_from_buf(iov, iovcnt, done, (uint8_t *)buf + head,
				     n);
		}
		done += n;
	}
	if (write)
		pthread_mutex_unlock(&f->rmw_lock);
	free(buf);
	return ret;
}

int bdfile_preadv(struct bdfile *f, const struct iovec *iov, int iovcnt,
		  uint64_t off)
{
	if (off > (uint64_t)INT64_MAX)
		return -EINVAL;
	if (is_aligned(f, iov, iovcnt, off))
		return rw_loop(f->fd, iov, iovcnt, off, false);
	return bounce_rw(f, iov, iovcnt, off, false);
}

int bdfile_pwritev(struct bdfile *f, const struct iovec *iov, int iovcnt,
		   uint64_t off)
{
	if (off > (uint64_t)INT64_MAX)
		return -EINVAL;
	if (is_aligned(f, iov, iovcnt, off))
		return rw_loop(f->fd, iov, iovcnt, off, true);
	return bounce_rw(f, iov, iovcnt, off, true);
}

int bdfile_pread(struct bdfile *f, void *buf, size_t len, uint64_t off)
{
	struct iovec v = { buf, len };
	return bdfile_preadv(f, &v, 1, off);
}

int bdfile_pwrite(struct bdfile *f, const void *buf, size_t len, uint64_t off)
{
	struct iovec v = { (void *)buf, len };
	return bdfile_pwritev(f, &v, 1, off);
}

int bdfile_flush(struct bdfile *f)
{
	if (fdatasync(f->fd) < 0)
		return -errno;
	return 0;
}

static int write_zero_bytes(struct bdfile *f, uint64_t off, uint64_t len)
{
	size_t chunk = BOUNCE_CHUNK;
	void *z;
	int ret = 0;

	if (posix_memalign(&z, 4096, chunk))
		return -ENOMEM;
	memset(z, 0, chunk);
	while (len && !ret) {
		size_t n = len < chunk ? (size_t)len : chunk;
		ret = bdfile_pwrite(f, z, n, off);
		off += n;
		len -= n;
	}
	free(z);
	return ret;
}

int bdfile_discard(struct bdfile *f, uint64_t off, uint64_t len)
{
	if (f->blkdev) {
		uint64_t r[2] = { off, len };
		if (ioctl(f->fd, BLKDISCARD, r) == 0)
			return 0;
		return 0; /* discard is advisory */
	}
	if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) == 0)
		return 0;
	if (errno == EOPNOTSUPP || errno == ENOSYS)
		return 0; /* advisory: nothing to do on this filesystem */
	return -errno;
}

int bdfile_zero(struct bdfile *f, uint64_t off, uint64_t len, bool may_unmap)
{
	if (!len)
		return 0;
	if (f->blkdev) {
		uint64_t r[2] = { off, len };
		if (ioctl(f->fd, BLKZEROOUT, r) == 0)
			return 0;
		return write_zero_bytes(f, off, len);
	}
	if (fallocate(f->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) == 0)
		return 0;
	if (may_unmap &&
	    fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) == 0)
		return 0;
	return write_zero_bytes(f, off, len);
}

int bdfile_size(struct bdfile *f, uint64_t *size)
{
	struct stat st;
	if (f->blkdev) {
		uint64_t s;
		if (ioctl(f->fd, BLKGETSIZE64, &s) < 0)
			return -errno;
		*size = s;
		return 0;
	}
	if (fstat(f->fd, &st) < 0)
		return -errno;
	*size = (uint64_t)st.st_size;
	return 0;
}

int bdfile_truncate(struct bdfile *f, uint64_t size)
{
	if (f->blkdev)
		return 0;
	if (ftruncate(f->fd, (off_t)size) < 0)
		return -errno;
	return 0;
}

/* The alignment O_DIRECT needs here: the smallest of 512 and 4096 that a
 * read at offset 0 accepts. */
static uint32_t probe_align(int fd)
{
	static const uint32_t cand[] = { 512, 4096 };
	void *buf;

	if (posix_memalign(&buf, 4096, 4096))
		return 4096;
	for (unsigned i = 0; i < 2; i++) {
		ssize_t n = pread(fd, buf, cand[i], 0);
		if (n >= 0) {
			free(buf);
			return cand[i];
		}
	}
	free(buf);
	return 4096;
}

/* ---- opening ---- */

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

const char *blockdev_probe(const uint8_t *first)
{
	return memcmp(first, "QFI\xfb", 4) ? "raw" : "qcow2";
}

bool blockdev_probe_refuses(const uint8_t *first)
{
	return strcmp(blockdev_probe(first), "raw") != 0;
}

/* The image file: the path's checks (a regular file or a block device),
 * then open it; or take the file the backing-file resolver opened. */
static int open_file(const struct blockdev_opts *o, struct bd_chain *chain,
		     struct bdfile *f, struct stat *st, char *err,
		     size_t errlen)
{
	const char *p = o->path;
	int flags = (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;

	if (o->cache == BLOCKDEV_CACHE_NONE)
		flags |= O_DIRECT;
	if (chain->fd >= 0) {
		f->fd = chain->fd;
		chain->fd = -1;
		if (fstat(f->fd, st) < 0) {
			int ret = -errno;
			close(f->fd);
			return fail(err, errlen, ret, "%s: %s", p,
				    strerror(-ret));
		}
	} else {
		if (stat(p, st) < 0)
			return fail(err, errlen, -errno, "%s: %s", p,
				    errno == ENOENT ? "no such file"
						    : strerror(errno));
		if (S_ISDIR(st->st_mode))
			return fail(err, errlen, -EISDIR,
				    "%s: is a directory, not a disk image", p);
		if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode))
			return fail(err, errlen, -EINVAL,
				    "%s: not a regular file or block device",
				    p);
		f->fd = open(p, flags);
		if (f->fd < 0) {
			int ret = -errno;
			if (!o->readonly && (errno == EACCES ||
					     errno == EROFS || errno == EPERM))
				return fail(err, errlen, ret,
					    "%s: permission denied: the image is read-only; use readonly=on",
					    p);
			if ((flags & O_DIRECT) && errno == EINVAL)
				return fail(err, errlen, ret,
					    "%s: cache=none (O_DIRECT) is not supported by this filesystem; use cache=writeback",
					    p);
			return fail(err, errlen, ret, "%s: %s", p,
				    strerror(errno));
		}
	}
	f->blkdev = S_ISBLK(st->st_mode);
	if (flags & O_DIRECT) {
		f->direct = true;
		f->align = probe_align(f->fd);
	}
	return 0;
}

int blockdev_open_chain(const struct blockdev_opts *o, struct bd_chain *chain,
			struct blockdev **out, char *err, size_t errlen)
{
	const char *p = o->path;
	struct bdfile f = { .fd = -1, .align = 1 };
	struct stat st;
	uint8_t magic[BLOCKDEV_PROBE_BYTES];
	const char *fmt = o->format;
	int ret;

	*out = NULL;
	if (!p || !*p) {
		if (chain->fd >= 0)
			close(chain->fd);
		chain->fd = -1;
		return fail(err, errlen, -EINVAL, "no image path given");
	}
	if (fmt && strcmp(fmt, "raw") && strcmp(fmt, "qcow2")) {
		if (chain->fd >= 0)
			close(chain->fd);
		chain->fd = -1;
		return fail(err, errlen, -EINVAL,
			    "%s: unknown format '%s' (use raw or qcow2)", p,
			    fmt);
	}
	ret = open_file(o, chain, &f, &st, err, errlen);
	if (ret)
		return ret;
	for (int i = 0; i < chain->n; i++)
		if (chain->dev[i] == st.st_dev && chain->ino[i] == st.st_ino) {
			close(f.fd);
			return fail(err, errlen, -ELOOP,
				    "%s: backing file loop: the image is its own backing file",
				    p);
		}
	if (chain->n >= BLOCKDEV_MAX_CHAIN) {
		close(f.fd);
		return fail(err, errlen, -ELOOP,
			    "%s: backing chain longer than %d images", p,
			    BLOCKDEV_MAX_CHAIN);
	}
	pthread_mutex_init(&f.rmw_lock, NULL);

	ret = bdfile_pread(&f, magic, sizeof(magic), 0);
	if (ret) {
		close(f.fd);
		pthread_mutex_destroy(&f.rmw_lock);
		return fail(err, errlen, ret, "%s: cannot read: %s", p,
			    strerror(-ret));
	}
	bool probed = !fmt;
	if (probed) {
		fmt = blockdev_probe(magic);
		pr_warn("%s: no format given, detected %s; pass format=%s to make it explicit%s",
			p, fmt, fmt,
			strcmp(fmt, "raw") ? "" : " (until then guest writes that would make sector 0 look like another format are refused)");
	}
	chain->dev[chain->n] = st.st_dev;
	chain->ino[chain->n] = st.st_ino;
	chain->n++;
	struct blockdev_opts o2 = *o;
	o2.format = fmt;
	if (!strcmp(fmt, "qcow2"))
		ret = qcow2_open(&f, &o2, chain, out, err, errlen);
	else
		ret = raw_open(&f, &o2, probed, out, err, errlen);
	chain->n--;
	/* the opener made its own copy of f (and of its lock) */
	pthread_mutex_destroy(&f.rmw_lock);
	if (ret)
		close(f.fd);
	return ret;
}

int blockdev_open(const struct blockdev_opts *o, struct blockdev **out,
		  char *err, size_t errlen)
{
	struct bd_chain chain = BD_CHAIN_INIT(o);
	int ret = blockdev_open_chain(o, &chain, out, err, errlen);

	backing_allow_free(&chain.allow);
	return ret;
}
