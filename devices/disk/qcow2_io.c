/* SPDX-License-Identifier: MIT
 * qcow2_io.c - guest reads and writes on a qcow2 image
 * (QEMU's docs/interop/qcow2.rst): reads of allocated, zero and compressed
 * clusters (deflate or zstd) and of the backing image; writes with cluster
 * allocation and copy-on-write (of compressed clusters, of clusters shared
 * with a snapshot, of the backing image's data); discard and write-zeroes.
 * Contiguous host runs are issued as one I/O; a new cluster's L2 entry is
 * set only after its data is written. The mapping is in qcow2_map.c,
 * allocation and refcounts in qcow2_refcount.c.
 */
#include "devices/disk/qcow2_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

/* ---- compressed clusters ---- */

/* Decompress the compressed cluster described by L2 entry e into
 * s->dbuf (one cluster). */
static int decompress(struct qcow2 *s, uint64_t e)
{
	uint64_t coff = e & s->coffset_mask;
	uint64_t nsec = ((e >> s->csize_shift) & s->csize_mask) + 1;
	uint64_t csize = nsec * 512 - (coff & 511);
	uint32_t cs = s->cluster_size;
	int ret;

	if (s->cbuf_entry == e)
		return 0;
	if (coff < cs || coff >> 56)
		return qcow2_corrupt(s, "compressed cluster offset (0x%llx)",
				     (unsigned long long)e);
	if (csize > 2ull * cs)
		csize = 2ull * cs;
	ret = bdfile_pread(&s->f, s->zbuf, csize, coff);
	if (ret)
		return ret;
	s->cbuf_entry = 0;
	if (s->compression_type == 0) {
		z_stream z;
		memset(&z, 0, sizeof(z));
		if (inflateInit2(&z, -12) != Z_OK)
			return -ENOMEM;
		z.next_in = s->zbuf;
		z.avail_in = (uInt)csize;
		z.next_out = s->dbuf;
		z.avail_out = cs;
		int r = inflate(&z, Z_FINISH);
		bool ok = (r == Z_STREAM_END || r == Z_BUF_ERROR || r == Z_OK) &&
			  z.avail_out == 0;
		inflateEnd(&z);
		if (!ok)
			return qcow2_corrupt(s, "bad deflate data in compressed cluster (0x%llx)",
					     (unsigned long long)e);
	} else {
		ZSTD_DCtx *d = s->zstd;
		ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
		ZSTD_inBuffer in = { s->zbuf, csize, 0 };
		ZSTD_outBuffer out = { s->dbuf, cs, 0 };
		while (out.pos < out.size) {
			size_t r = ZSTD_decompressStream(d, &out, &in);
			if (ZSTD_isError(r))
				return qcow2_corrupt(s, "bad zstd data in compressed cluster (0x%llx)",
						     (unsigned long long)e);
			if (r == 0 || (in.pos == in.size && out.pos < out.size))
				break;
		}
		if (out.pos != out.size)
			return qcow2_corrupt(s, "short zstd data in compressed cluster (0x%llx)",
					     (unsigned long long)e);
	}
	s->cbuf_entry = e;
	return 0;
}

/* ---- pieces of a request: iovec parts, backing reads, host runs ---- */

/* The sub-vector [skip, skip+len) of a request's iovec: on the stack for
 * up to 64 entries, else on the heap. Release it with iov_part_put. */
struct iov_part {
	struct iovec sub[64], *v;
	int n;
};

static void iov_part_put(struct iov_part *p)
{
	if (p->v != p->sub)
		free(p->v);
	p->v = p->sub;
}

static int iov_part_get(struct iov_part *p, const struct iovec *iov,
			int iovcnt, size_t skip, size_t len)
{
	p->v = p->sub;
	if (iovcnt > 64) {
		p->v = malloc(sizeof(*p->v) * (size_t)iovcnt);
		if (!p->v)
			return -ENOMEM;
	}
	p->n = iov_slice(iov, iovcnt, skip, len, p->v, iovcnt);
	if (p->n < 0) {
		int ret = p->n;
		iov_part_put(p);
		return ret;
	}
	return 0;
}

/* Read [goff, goff+len) of the backing image into iov at skip; the part
 * past the end of a shorter backing image reads as zeroes. */
static int read_backing(struct qcow2 *s, const struct iovec *iov, int iovcnt,
			size_t skip, uint64_t goff, uint64_t len)
{
	struct blockdev *b = s->backing;
	uint64_t have = 0;
	if (b && goff < b->size)
		have = b->size - goff < len ? b->size - goff : len;
	if (have) {
		struct iov_part p;
		int ret = iov_part_get(&p, iov, iovcnt, skip, have);
		if (ret)
			return ret;
		ret = blockdev_preadv(b, p.v, p.n, goff);
		iov_part_put(&p);
		if (ret)
			return ret;
	}
	if (len > have)
		iov_memset(iov, iovcnt, skip + have, 0, len - have);
	return 0;
}

/* A contiguous host run collected across clusters, issued as one I/O. */
struct run {
	uint64_t host;
	size_t skip, len;
};

static int run_io(struct qcow2 *s, const struct iovec *iov, int iovcnt,
		  struct run *r, bool write)
{
	if (!r->len)
		return 0;
	struct iov_part p;
	int ret = iov_part_get(&p, iov, iovcnt, r->skip, r->len);
	if (!ret) {
		if (write)
			ret = bdfile_pwritev(&s->f, p.v, p.n, r->host);
		else
			ret = bdfile_preadv(&s->f, p.v, p.n, r->host);
		iov_part_put(&p);
	}
	r->len = 0;
	return ret;
}

/* Add n bytes at host offset host (request bytes from skip) to the run:
 * appended when contiguous, else the run so far is issued and a new one
 * starts here. */
static int run_add(struct qcow2 *s, const struct iovec *iov, int iovcnt,
		   struct run *r, uint64_t host, size_t skip, size_t n,
		   bool write)
{
	int ret;

	if (r->len && r->host + r->len == host) {
		r->len += n;
		return 0;
	}
	ret = run_io(s, iov, iovcnt, r, write);
	r->host = host;
	r->skip = skip;
	r->len = n;
	return ret;
}

/* ---- reads ---- */

int qcow2_preadv(struct blockdev *bd, const struct iovec *iov, int iovcnt,
		 uint64_t off)
{
	struct qcow2 *s = to_qcow2(bd);
	size_t len = iov_size(iov, iovcnt), done = 0;
	struct run r = { 0 };
	int ret = 0;

	if (off > bd->size || len > bd->size - off)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	while (done < len && !ret) {
		struct cstep c;
		ret = qcow2_cluster_step(s, off + done, len - done, &c);
		if (ret)
			break;
		if (c.t == C_NORMAL) {
			ret = run_add(s, iov, iovcnt, &r, c.host + c.in, done,
				      c.n, false);
			done += c.n;
			continue;
		}
		ret = run_io(s, iov, iovcnt, &r, false);
		if (ret)
			break;
		if (c.t == C_ZERO || (c.t == C_UNALLOC && !s->backing)) {
			iov_memset(iov, iovcnt, done, 0, c.n);
		} else if (c.t == C_UNALLOC) {
			ret = read_backing(s, iov, iovcnt, done, c.g, c.n);
		} else {
			ret = decompress(s, c.e);
			if (!ret)
				iov_from_buf(iov, iovcnt, done, s->dbuf + c.in,
					     c.n);
		}
		done += c.n;
	}
	if (!ret)
		ret = run_io(s, iov, iovcnt, &r, false);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* ---- writes ---- */

/* Write n bytes (iov at skip) at offset `in` of guest cluster gcl, whose
 * current entry e is not a writable allocated cluster: allocate (or
 * reuse a zero cluster's own allocation), fill the rest of the cluster
 * from the old contents (backing, zeroes, compressed, shared), write the
 * data, then point L2 to it. */
static int write_alloc(struct qcow2 *s, uint64_t gcl, uint64_t e,
		       const struct iovec *iov, int iovcnt, size_t skip,
		       uint32_t in, size_t n)
{
	uint32_t cs = s->cluster_size;
	uint64_t host, newh;
	enum ctype t;
	int ret = qcow2_classify(s, e, &t, &host);
	if (ret)
		return ret;
	bool reuse = t == C_ZERO && host && (e & QCOW2_OFLAG_COPIED);
	if (reuse) {
		newh = host;
	} else {
		ret = qcow2_alloc_cluster(s, &newh);
		if (ret)
			return ret;
	}
	if (n == cs) {
		struct run r = { newh, skip, n };
		ret = run_io(s, iov, iovcnt, &r, true);
	} else {
		uint64_t gstart = gcl << s->cluster_bits;
		struct iovec cv = { s->cbuf, cs };
		if (t == C_COMPRESSED) {
			ret = decompress(s, e);
			if (!ret)
				memcpy(s->cbuf, s->dbuf, cs);
		} else if (t == C_NORMAL) {
			ret = bdfile_pread(&s->f, s->cbuf, cs, host);
		} else if (t == C_UNALLOC && s->backing) {
			ret = read_backing(s, &cv, 1, 0, gstart, cs);
		} else {
			memset(s->cbuf, 0, cs);
		}
		if (ret)
			return ret;
		iov_to_buf(iov, iovcnt, skip, s->cbuf + in, n);
		ret = bdfile_pwrite(&s->f, s->cbuf, cs, newh);
	}
	if (ret)
		return ret;
	ret = qcow2_set_l2(s, gcl, newh | QCOW2_OFLAG_COPIED);
	if (!ret && !reuse)
		ret = qcow2_release(s, e);
	return ret;
}

/* Guest clusters newly allocated inside the current run: their L2
 * entries are set only after the run's data is written (data before the
 * reference). Until then they are leaks at worst. */
#define PEND_MAX 256
struct pend_l2 {
	int n;
	uint64_t gcl[PEND_MAX], host[PEND_MAX];
};

static int run_flush(struct qcow2 *s, const struct iovec *iov, int iovcnt,
		     struct run *r, struct pend_l2 *p)
{
	int ret = run_io(s, iov, iovcnt, r, true);
	for (int i = 0; i < p->n && !ret; i++)
		ret = qcow2_set_l2(s, p->gcl[i],
				   p->host[i] | QCOW2_OFLAG_COPIED);
	p->n = 0;
	return ret;
}

static int pwritev_locked(struct qcow2 *s, const struct iovec *iov,
			  int iovcnt, uint64_t off)
{
	size_t len = iov_size(iov, iovcnt), done = 0;
	struct run r = { 0 };
	struct pend_l2 *p = malloc(sizeof(*p));
	int ret = 0;

	if (!p)
		return -ENOMEM;
	p->n = 0;
	while (done < len && !ret) {
		struct cstep c;
		ret = qcow2_cluster_step(s, off + done, len - done, &c);
		if (ret)
			break;
		bool fresh = c.n == s->cluster_size && !c.host &&
			     (c.t == C_UNALLOC || c.t == C_ZERO);
		if (fresh && p->n == PEND_MAX)
			ret = run_flush(s, iov, iovcnt, &r, p);
		if (!ret && fresh) {
			/* whole new cluster, nothing to copy: join the run */
			ret = qcow2_alloc_cluster(s, &c.host);
			if (ret)
				break;
			c.e = QCOW2_OFLAG_COPIED;
			p->gcl[p->n] = c.gcl;
			p->host[p->n] = c.host;
			p->n++;
		}
		if (ret)
			break;
		if (fresh || (c.t == C_NORMAL && (c.e & QCOW2_OFLAG_COPIED))) {
			/* a new cluster's entry is already queued: it is set
			 * after its data, in a later flush */
			ret = run_add(s, iov, iovcnt, &r, c.host + c.in, done,
				      c.n, true);
		} else {
			ret = run_flush(s, iov, iovcnt, &r, p);
			if (!ret)
				ret = write_alloc(s, c.gcl, c.e, iov, iovcnt,
						  done, c.in, c.n);
		}
		done += c.n;
	}
	if (!ret)
		ret = run_flush(s, iov, iovcnt, &r, p);
	free(p);
	return ret;
}

int qcow2_pwritev(struct blockdev *bd, const struct iovec *iov, int iovcnt,
		  uint64_t off)
{
	struct qcow2 *s = to_qcow2(bd);
	size_t len = iov_size(iov, iovcnt);

	if (bd->readonly)
		return -EROFS;
	if (off > bd->size || len > bd->size - off)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	int ret = s->corrupt ? -EIO : pwritev_locked(s, iov, iovcnt, off);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* ---- asynchronous I/O ---- */

/* blockdev.h aio_map: a run of allocated clusters, contiguous in the
 * file, that the guest may read, or write in place (COPIED: not shared
 * with a snapshot, nothing to copy), is looked up under the lock and
 * handed out; its transfer then runs without the lock. Anything else
 * (backing data, zero and compressed clusters, allocation, copy-on-write)
 * is one cluster step for the synchronous path, which keeps allocation
 * ordered as it is. While runs mapped before a discard are in flight,
 * the clusters it freed stay allocated (qcow2_flush_locked): a run in
 * flight never lands in a cluster that was given to another guest
 * offset. */
int qcow2_aio_map(struct blockdev *bd, uint64_t off, uint64_t len,
		  bool write, struct bd_extent *e)
{
	struct qcow2 *s = to_qcow2(bd);
	uint64_t done = 0;
	int ret = 0;

	if (off > bd->size || len > bd->size - off)
		return -EINVAL;
	e->sync = false;
	e->len = 0;
	pthread_mutex_lock(&s->lock);
	while (done < len) {
		struct cstep c;
		bool direct;

		ret = qcow2_cluster_step(s, off + done, len - done, &c);
		if (ret)
			break;
		direct = c.t == C_NORMAL && !(write && s->corrupt) &&
			 (!write || (c.e & QCOW2_OFLAG_COPIED));
		if (!direct) {
			if (!done) {
				e->sync = true;
				e->len = c.n;
			}
			break;
		}
		if (!done)
			e->host = c.host + c.in;
		else if (e->host + done != c.host + c.in)
			break;
		done += c.n;
		e->len = done;
	}
	if (ret && e->len)
		ret = 0; /* what was mapped goes; the next call fails */
	if (!ret && !e->sync) {
		e->ticket = s->aio_gen & 1;
		__atomic_fetch_add(&s->aio_cnt[e->ticket], 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void qcow2_aio_end(struct blockdev *bd, unsigned ticket)
{
	__atomic_fetch_sub(&to_qcow2(bd)->aio_cnt[ticket & 1], 1,
			   __ATOMIC_RELEASE);
}

/* ---- discard and write-zeroes ---- */

/* Write len zero bytes at guest offset g through the normal write path. */
static int write_zero_bytes(struct qcow2 *s, uint64_t g, uint64_t len)
{
	uint8_t *z = calloc(1, len);
	if (!z)
		return -ENOMEM;
	struct iovec v = { z, (size_t)len };
	int ret = pwritev_locked(s, &v, 1, g);
	free(z);
	return ret;
}

/* Zero [off, off+len): whole clusters become zero clusters (v3) or
 * unallocated (no backing image); partial clusters get zero bytes. A
 * discard leaves partial clusters alone, and on a v2 image with a backing
 * file (no zero flag) whole clusters too: after a discard the old data may
 * stay, but the backing file's must not show through. */
static int zero_range(struct qcow2 *s, uint64_t off, uint64_t len,
		      bool may_unmap, bool discard)
{
	uint32_t cs = s->cluster_size;
	int ret = 0;
	uint64_t done = 0;

	while (done < len && !ret) {
		struct cstep c;
		ret = qcow2_cluster_step(s, off + done, len - done, &c);
		if (ret)
			break;
		uint64_t g = c.g, gcl = c.gcl, n = c.n, e = c.e, host = c.host;
		enum ctype t = c.t;
		bool whole = c.in == 0 &&
			     (n == cs || g + n == s->bd.size);
		if (!whole) {
			if (!discard && !(t == C_ZERO ||
					  (t == C_UNALLOC && !s->backing))) {
				/* partial cluster: write zero bytes */
				ret = write_zero_bytes(s, g, n);
			}
			done += n;
			continue;
		}
		uint64_t ne;
		if (s->version >= 3 && (s->backing || !discard))
			ne = QCOW2_OFLAG_ZERO;
		else if (!s->backing)
			ne = 0;
		else if (discard)
			ne = e; /* v2 + backing: keep the data (allowed) */
		else
			ne = UINT64_MAX; /* v2 + backing: must write zeroes */
		if (ne == UINT64_MAX) {
			ret = write_zero_bytes(s, g, n);
			done += n;
			continue;
		}
		bool keep = !may_unmap && !discard && t == C_NORMAL &&
			    (e & QCOW2_OFLAG_COPIED) && s->version >= 3;
		if (keep)
			ne = host | QCOW2_OFLAG_COPIED | QCOW2_OFLAG_ZERO;
		if (e != ne) {
			ret = qcow2_set_l2(s, gcl, ne);
			if (!ret && !keep)
				ret = qcow2_release(s, e);
		}
		done += n;
	}
	return ret;
}

/* zero_range with the checks and the lock of a blockdev entry point. */
static int zero_range_checked(struct blockdev *bd, uint64_t off, uint64_t len,
			      bool may_unmap, bool discard)
{
	struct qcow2 *s = to_qcow2(bd);
	if (bd->readonly)
		return -EROFS;
	if (off > bd->size || len > bd->size - off)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	int ret = s->corrupt ? -EIO : zero_range(s, off, len, may_unmap, discard);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int qcow2_discard(struct blockdev *bd, uint64_t off, uint64_t len)
{
	return zero_range_checked(bd, off, len, true, true);
}

int qcow2_write_zeroes(struct blockdev *bd, uint64_t off, uint64_t len,
		       bool may_unmap)
{
	return zero_range_checked(bd, off, len, may_unmap, false);
}
