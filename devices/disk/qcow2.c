/* SPDX-License-Identifier: MIT
 * qcow2.c - the qcow2 image format, versions 2 and 3
 * (/work/shared/specs/qcow2.rst): header and extension validation, the
 * two-level L1/L2 mapping of guest clusters to host clusters, reads
 * (allocated, zero, compressed with deflate or zstd, or from the backing
 * image), writes with cluster allocation and copy-on-write, discard and
 * write-zeroes. Refcounts, allocation, the metadata cache and the
 * crash-safe write-back order are in qcow2_refcount.c.
 *
 * Every value read from the image is untrusted: offsets are checked for
 * alignment, overflow and overlap with metadata (the header, L1 and
 * refcount tables, refcount blocks, L2 tables, the snapshot table and
 * snapshot L1 tables) before use; a bad image gives -EIO and a message,
 * never a crash, and once found corrupt it is not written any more.
 * Internal snapshots are left alone: their tables are read (the snapshot
 * table at open, the rest by the checker) but never written; clusters
 * shared with a snapshot are copied before being written (their COPIED
 * flag is clear).
 */
#include "devices/disk/qcow2_int.h"

#include <endian.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "vmm/log.h"

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return be64toh(v);
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return be32toh(v);
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return be16toh(v);
}

/* ---- mapping ---- */

/* Guest data and new tables must never land on metadata: the fixed
 * tables by range, the rest by the metadata map. Runs on every mapped
 * cluster and allocation, so: a few compares and hash lookups. */
const char *qcow2_overlaps_meta(struct qcow2 *s, uint64_t off, uint64_t len,
				uint32_t kinds)
{
	uint64_t end = off + len;
	if (end < off || off < s->cluster_size)
		return "on the header cluster";
	uint64_t l1e = s->l1_offset + (uint64_t)s->l1_size * 8;
	if (s->l1_size && off < l1e && end > s->l1_offset)
		return "on the L1 table";
	uint64_t rte = s->rt_offset +
		       ((uint64_t)s->rt_clusters << s->cluster_bits);
	if (off < rte && end > s->rt_offset)
		return "on the refcount table";
	for (uint64_t cl = off >> s->cluster_bits;
	     kinds && cl << s->cluster_bits < end; cl++) {
		uint32_t k = qcow2_meta_kinds(s, cl) & kinds;
		if (k & QM_RB)
			return "on a refcount block";
		if (k & QM_L2)
			return "on an L2 table";
		if (k & QM_SNAP)
			return "on the snapshot table or a snapshot's L1 table";
	}
	return NULL;
}

int qcow2_corrupt(struct qcow2 *s, const char *fmt, ...)
{
	if (!s->corrupt) {
		char msg[256];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		pr_err("%s: corrupt image: %s%s", s->bd.path, msg,
		       s->bd.readonly ? "" : "; no more writes to it");
	}
	s->corrupt = true;
	return -EIO;
}

/* The L2 table offset for L1 index i, checked; 0 if none. */
static int l1_table(struct qcow2 *s, uint64_t i, uint64_t *off)
{
	if (i >= s->l1_size) {
		*off = 0;
		return 0;
	}
	uint64_t e = s->l1[i];
	*off = e & QCOW2_OFFSET_MASK;
	if (!*off)
		return 0;
	const char *why = *off % s->cluster_size ? "misaligned" :
		qcow2_overlaps_meta(s, *off, s->cluster_size, QM_ALL & ~QM_L2);
	if (why)
		return qcow2_corrupt(s, "L1 entry %llu (0x%llx): L2 table %s",
				     (unsigned long long)i,
				     (unsigned long long)e, why);
	return 0;
}

int qcow2_l2_entry(struct qcow2 *s, uint64_t gcl, uint64_t *entry)
{
	uint64_t l2off;
	int ret = l1_table(s, gcl >> s->l2_bits, &l2off);
	*entry = 0;
	if (ret || !l2off)
		return ret;
	int i = qcache_get(s, &s->l2c, l2off, false);
	if (i < 0)
		return i;
	uint64_t v;
	memcpy(&v, s->l2c.e[i].data + (gcl & (s->l2_entries - 1)) * 8, 8);
	*entry = be64toh(v);
	return 0;
}

enum ctype { C_UNALLOC, C_ZERO, C_NORMAL, C_COMPRESSED };

/* Classify an L2 entry; *host = the cluster's host offset (for normal and
 * zero-with-allocation clusters). Checks the offset. */
static int classify(struct qcow2 *s, uint64_t e, enum ctype *t, uint64_t *host)
{
	*host = 0;
	if (e & QCOW2_OFLAG_COMPRESSED) {
		*t = C_COMPRESSED;
		return 0;
	}
	uint64_t off = e & QCOW2_OFFSET_MASK;
	if (e & QCOW2_OFLAG_ZERO) {
		if (s->version < 3)
			return qcow2_corrupt(s, "zero flag in a version 2 image (0x%llx)",
					     (unsigned long long)e);
		*t = C_ZERO;
	} else {
		*t = off ? C_NORMAL : C_UNALLOC;
		if (!off && (e & QCOW2_OFLAG_COPIED))
			return qcow2_corrupt(s, "L2 entry with host offset 0 (0x%llx)",
					     (unsigned long long)e);
	}
	const char *why = !off ? NULL : off % s->cluster_size ? "misaligned" :
		qcow2_overlaps_meta(s, off, s->cluster_size, QM_ALL);
	if (why)
		return qcow2_corrupt(s, "L2 entry 0x%llx: data cluster %s",
				     (unsigned long long)e, why);
	*host = off;
	return 0;
}

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

/* One step of a walk over guest clusters: the part of [g, g+left) inside
 * the cluster holding g, with that cluster's checked L2 entry. */
struct cstep {
	uint64_t gcl;   /* guest cluster index */
	uint32_t in;    /* offset of g inside it */
	size_t n;       /* bytes of the walk inside it */
	uint64_t e;     /* its L2 entry */
	uint64_t host;  /* host offset, as classify() gives it */
	enum ctype t;
};

static int cluster_step(struct qcow2 *s, uint64_t g, uint64_t left,
			struct cstep *c)
{
	c->gcl = g >> s->cluster_bits;
	c->in = (uint32_t)(g & (s->cluster_size - 1));
	c->n = s->cluster_size - c->in;
	if (c->n > left)
		c->n = (size_t)left;
	int ret = qcow2_l2_entry(s, c->gcl, &c->e);
	if (!ret)
		ret = classify(s, c->e, &c->t, &c->host);
	return ret;
}

static int qcow2_preadv(struct blockdev *bd, const struct iovec *iov,
			int iovcnt, uint64_t off)
{
	struct qcow2 *s = to_qcow2(bd);
	size_t len = iov_size(iov, iovcnt), done = 0;
	struct run r = { 0 };
	int ret = 0;

	if (off > bd->size || len > bd->size - off)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	while (done < len && !ret) {
		uint64_t g = off + done;
		struct cstep c;
		ret = cluster_step(s, g, len - done, &c);
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
			ret = read_backing(s, iov, iovcnt, done, g, c.n);
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

static void l1_mark(struct qcow2 *s, uint32_t i)
{
	if (s->l1_dirty_lo > s->l1_dirty_hi) {
		s->l1_dirty_lo = s->l1_dirty_hi = i;
		return;
	}
	if (i < s->l1_dirty_lo)
		s->l1_dirty_lo = i;
	if (i > s->l1_dirty_hi)
		s->l1_dirty_hi = i;
}

/* Make the L2 table for guest cluster gcl writable (allocated, refcount
 * one, COPIED in L1) and return its cache slot. A table shared with a
 * snapshot is copied; the copy stands in for the active L1's share of the
 * old table, whose reference is dropped after the next flush. */
static int l2_for_write(struct qcow2 *s, uint64_t gcl)
{
	uint32_t l1i = (uint32_t)(gcl >> s->l2_bits);
	uint64_t old, e = s->l1[l1i], noff;
	int ret = l1_table(s, l1i, &old), i;

	if (ret)
		return ret;
	if (old && (e & QCOW2_OFLAG_COPIED))
		return qcache_get(s, &s->l2c, old, false);
	if (old) {
		i = qcache_get(s, &s->l2c, old, false);
		if (i < 0)
			return i;
		memcpy(s->cbuf, s->l2c.e[i].data, s->cluster_size);
	}
	ret = qcow2_alloc_cluster(s, &noff);
	if (!ret)
		ret = qcow2_meta_add(s, noff, s->cluster_size, QM_L2);
	if (ret)
		return ret;
	i = qcache_get(s, &s->l2c, noff, true);
	if (i < 0) {
		qcow2_meta_drop(s, noff, s->cluster_size, QM_L2);
		return i;
	}
	if (old) {
		/* The copy takes over the old table's share: each data cluster
		 * keeps its refcount (it was counted once per L1 that reached
		 * the shared table, and still is), so it stays shared and its
		 * COPIED flag stays clear. */
		uint64_t *t = (uint64_t *)s->l2c.e[i].data;
		memcpy(t, s->cbuf, s->cluster_size);
		for (uint32_t k = 0; k < s->l2_entries; k++)
			t[k] = htobe64(be64toh(t[k]) & ~QCOW2_OFLAG_COPIED);
		ret = qcow2_free_later(s, old, s->cluster_size);
		if (ret)
			return ret;
	}
	s->l2c.e[i].dirty = true;
	s->l1[l1i] = noff | QCOW2_OFLAG_COPIED;
	l1_mark(s, l1i);
	if (old)
		qcow2_meta_drop(s, old, s->cluster_size, QM_L2);
	return i;
}

static int set_l2(struct qcow2 *s, uint64_t gcl, uint64_t val)
{
	int i = l2_for_write(s, gcl);
	if (i < 0)
		return i;
	uint64_t v = htobe64(val);
	memcpy(s->l2c.e[i].data + (gcl & (s->l2_entries - 1)) * 8, &v, 8);
	s->l2c.e[i].dirty = true;
	return 0;
}

/* Queue the release of what entry e holds (after a flush). */
static int release(struct qcow2 *s, uint64_t e)
{
	enum ctype t;
	uint64_t host;
	int ret = classify(s, e, &t, &host);
	if (ret)
		return ret;
	if (t == C_COMPRESSED) {
		uint64_t co = (e & s->coffset_mask) & ~511ull;
		uint64_t nb = ((e >> s->csize_shift) & s->csize_mask) + 1;
		if (s->cbuf_entry == e)
			s->cbuf_entry = 0;
		return qcow2_free_later(s, co, nb * 512);
	}
	if (host)
		return qcow2_free_later(s, host, s->cluster_size);
	return 0;
}

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
	int ret = classify(s, e, &t, &host);
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
	ret = set_l2(s, gcl, newh | QCOW2_OFLAG_COPIED);
	if (!ret && !reuse)
		ret = release(s, e);
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
		ret = set_l2(s, p->gcl[i], p->host[i] | QCOW2_OFLAG_COPIED);
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
		ret = cluster_step(s, off + done, len - done, &c);
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

static int qcow2_pwritev(struct blockdev *bd, const struct iovec *iov,
			 int iovcnt, uint64_t off)
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
		uint64_t g = off + done;
		struct cstep c;
		ret = cluster_step(s, g, len - done, &c);
		if (ret)
			break;
		uint64_t gcl = c.gcl, n = c.n, e = c.e, host = c.host;
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
			ret = set_l2(s, gcl, ne);
			if (!ret && !keep)
				ret = release(s, e);
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

static int qcow2_discard(struct blockdev *bd, uint64_t off, uint64_t len)
{
	return zero_range_checked(bd, off, len, true, true);
}

static int qcow2_write_zeroes(struct blockdev *bd, uint64_t off, uint64_t len,
			      bool may_unmap)
{
	return zero_range_checked(bd, off, len, may_unmap, false);
}

static int qcow2_flush(struct blockdev *bd)
{
	struct qcow2 *s = to_qcow2(bd);
	pthread_mutex_lock(&s->lock);
	int ret = qcow2_flush_locked(s);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static void qcow2_free(struct qcow2 *s)
{
	blockdev_close(s->backing);
	qcache_free(&s->l2c);
	qcache_free(&s->rbc);
	qmeta_free(&s->meta);
	free(s->snaps);
	free(s->l1);
	free(s->rt);
	free(s->pend);
	free(s->cbuf);
	free(s->zbuf);
	free(s->dbuf);
	if (s->zstd)
		ZSTD_freeDCtx(s->zstd);
	free(s->bd.path);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static void qcow2_close(struct blockdev *bd)
{
	struct qcow2 *s = to_qcow2(bd);
	if (!bd->readonly) {
		int ret = qcow2_flush(bd);
		if (ret)
			pr_err("%s: flush on close failed: %s", bd->path,
			       strerror(-ret));
	}
	close(s->f.fd);
	pthread_mutex_destroy(&s->f.rmw_lock);
	qcow2_free(s);
}

static const struct blockdev_ops qcow2_ops = {
	.preadv = qcow2_preadv,
	.pwritev = qcow2_pwritev,
	.flush = qcow2_flush,
	.discard = qcow2_discard,
	.write_zeroes = qcow2_write_zeroes,
	.close = qcow2_close,
};

/* ---- open ---- */

#define FAIL(...)                                                  \
	do {                                                       \
		snprintf(err, errlen, __VA_ARGS__);                \
		ret = -EINVAL;                                     \
		goto fail;                                         \
	} while (0)

static const char *feature_name(const uint8_t *tab, uint32_t tablen, int type,
				int bit, char *buf, size_t buflen)
{
	for (uint32_t i = 0; tab && i + 48 <= tablen; i += 48) {
		if (tab[i] == type && tab[i + 1] == bit) {
			snprintf(buf, buflen, "%.46s", (const char *)tab + i + 2);
			return buf;
		}
	}
	snprintf(buf, buflen, "bit %d", bit);
	return buf;
}

static bool range_in(uint64_t off, uint64_t len, uint64_t fsize)
{
	return off <= fsize && len <= fsize - off;
}

/* The snapshot table: where each snapshot's L1 table is (checked like the
 * active one) and how long the table is. */
static int load_snapshots(struct qcow2 *s, uint64_t fsize, char *err,
			  size_t errlen)
{
	const char *p = s->bd.path;
	uint64_t pos = s->snapshots_offset, end = pos, l1cl = 0;
	uint32_t cs = s->cluster_size;
	uint8_t e[40];
	int ret;

	s->snaps = calloc(s->nb_snapshots ? s->nb_snapshots : 1,
			  sizeof(*s->snaps));
	if (!s->snaps) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s: %s", p, strerror(-ret));
		return ret;
	}
	for (uint32_t i = 0; i < s->nb_snapshots; i++) {
		if (pos - s->snapshots_offset > QCOW2_MAX_SNAP_BYTES ||
		    !range_in(pos, sizeof(e), fsize))
			FAIL("%s: snapshot table too large or outside the file", p);
		ret = bdfile_pread(&s->f, e, sizeof(e), pos);
		if (ret) {
			snprintf(err, errlen, "%s: cannot read the snapshot table: %s",
				 p, strerror(-ret));
			return ret;
		}
		struct qsnap *sn = &s->snaps[i];
		sn->l1_offset = rd64(e);
		sn->l1_size = rd32(e + 8);
		uint64_t l1len = (uint64_t)sn->l1_size * 8;
		if (sn->l1_offset % cs || (l1len && sn->l1_offset < cs) ||
		    l1len > QCOW2_MAX_L1_BYTES ||
		    !range_in(sn->l1_offset, l1len, fsize))
			FAIL("%s: snapshot %u: L1 table offset 0x%llx invalid or outside the file",
			     p, i, (unsigned long long)sn->l1_offset);
		l1cl += (l1len + cs - 1) / cs;
		if (l1cl > QCOW2_MAX_SNAP_L1_CLUSTERS)
			FAIL("%s: snapshot L1 tables too large", p);
		uint32_t extra = rd32(e + 36);
		if (extra > 1024)
			FAIL("%s: snapshot %u: bad extra data size %u", p, i, extra);
		/* entries start 8-aligned; QEMU does not pad the last one */
		end = pos + 40 + extra + rd16(e + 12) + rd16(e + 14);
		pos = (end + 7) & ~7ull;
	}
	s->snapshots_size = end - s->snapshots_offset;
	if (s->snapshots_size > QCOW2_MAX_SNAP_BYTES ||
	    !range_in(s->snapshots_offset, s->snapshots_size, fsize))
		FAIL("%s: snapshot table too large or outside the file", p);
	return 0;
fail:
	return ret;
}

/* Fill the metadata map (active L2 tables, refcount blocks, the snapshot
 * table and snapshot L1 tables), then check the snapshot tables and every
 * refcount table entry against it. */
static int build_meta(struct qcow2 *s, char *err, size_t errlen)
{
	const char *p = s->bd.path, *why;
	uint32_t cs = s->cluster_size;
	int ret = 0;

	for (uint32_t i = 0; i < s->l1_size && !ret; i++) {
		uint64_t l2 = s->l1[i] & QCOW2_OFFSET_MASK;
		if (l2 && !(l2 % cs))
			ret = qcow2_meta_add(s, l2, cs, QM_L2);
	}
	for (uint64_t i = 0; i < s->rt_entries && !ret; i++) {
		uint64_t b = s->rt[i] & QCOW2_OFFSET_MASK;
		if (b && (qcow2_meta_kinds(s, b >> s->cluster_bits) & QM_RB))
			FAIL("%s: refcount table entry %llu: refcount block 0x%llx is used twice",
			     p, (unsigned long long)i, (unsigned long long)b);
		if (b)
			ret = qcow2_meta_add(s, b, cs, QM_RB);
	}
	for (uint32_t i = 0; i < s->nb_snapshots && !ret; i++)
		ret = qcow2_meta_add(s, s->snaps[i].l1_offset,
				     (uint64_t)s->snaps[i].l1_size * 8, QM_SNAP);
	if (!ret)
		ret = qcow2_meta_add(s, s->snapshots_offset, s->snapshots_size,
				     QM_SNAP);
	if (ret) {
		snprintf(err, errlen, "%s: %s", p, strerror(-ret));
		return ret;
	}
	for (uint32_t i = 0; i < s->nb_snapshots; i++)
		if (s->snaps[i].l1_size &&
		    (why = qcow2_overlaps_meta(s, s->snaps[i].l1_offset,
					       (uint64_t)s->snaps[i].l1_size * 8,
					       0)))
			FAIL("%s: snapshot %u: L1 table %s", p, i, why);
	if (s->snapshots_size &&
	    (why = qcow2_overlaps_meta(s, s->snapshots_offset,
				       s->snapshots_size, 0)))
		FAIL("%s: snapshot table %s", p, why);
	for (uint64_t i = 0; i < s->rt_entries; i++)
		if ((why = qcow2_rb_bad(s, s->rt[i])))
			FAIL("%s: refcount table entry %llu (0x%llx): refcount block %s",
			     p, (unsigned long long)i,
			     (unsigned long long)s->rt[i], why);
	return 0;
fail:
	return ret;
}

int qcow2_open(struct bdfile *f, const struct blockdev_opts *o,
	       struct bd_chain *chain, struct blockdev **out, char *err,
	       size_t errlen)
{
	const char *p = o->path;
	uint8_t h[112];
	uint8_t *c0 = NULL;
	uint64_t fsize;
	int ret;
	struct qcow2 *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->f = *f;
	s->bd.path = strdup(p);
	s->bd.ops = &qcow2_ops;
	s->bd.format = "qcow2";
	s->bd.readonly = o->readonly;
	s->bd.direct = f->direct;
	s->bd.align = f->align;
	s->l1_dirty_lo = UINT32_MAX;
	if (!s->bd.path) {
		ret = -ENOMEM;
		goto fail_nomsg;
	}
	ret = bdfile_size(f, &fsize);
	if (!ret)
		ret = bdfile_pread(f, h, sizeof(h), 0);
	if (ret) {
		snprintf(err, errlen, "%s: cannot read: %s", p, strerror(-ret));
		goto fail;
	}
	if (fsize < 72)
		FAIL("%s: qcow2 file too short (%llu bytes)", p,
		     (unsigned long long)fsize);
	if (rd32(h) != QCOW2_MAGIC)
		FAIL("%s: not a qcow2 image (bad magic)", p);
	s->version = rd32(h + 4);
	if (s->version != 2 && s->version != 3)
		FAIL("%s: unsupported qcow2 version %u (2 and 3 are supported)",
		     p, s->version);
	uint64_t bf_off = rd64(h + 8);
	uint32_t bf_size = rd32(h + 16);
	s->cluster_bits = rd32(h + 20);
	if (s->cluster_bits < 9 || s->cluster_bits > 21)
		FAIL("%s: cluster_bits %u out of range (9..21)", p,
		     s->cluster_bits);
	uint32_t cs = s->cluster_size = 1u << s->cluster_bits;
	s->l2_bits = s->cluster_bits - 3;
	s->l2_entries = cs / 8;
	s->bd.size = rd64(h + 24);
	if (rd32(h + 32))
		FAIL("%s: encrypted images are not supported", p);
	s->l1_size = rd32(h + 36);
	s->l1_offset = rd64(h + 40);
	s->rt_offset = rd64(h + 48);
	s->rt_clusters = rd32(h + 56);
	s->nb_snapshots = rd32(h + 60);
	s->snapshots_offset = rd64(h + 64);
	s->refcount_order = 4;
	s->header_length = 72;
	if (s->version >= 3) {
		s->incompat = rd64(h + 72);
		s->compat = rd64(h + 80);
		s->autoclear = rd64(h + 88);
		s->refcount_order = rd32(h + 96);
		s->header_length = rd32(h + 100);
		if (fsize < 104)
			FAIL("%s: qcow2 file too short (%llu bytes)", p,
			     (unsigned long long)fsize);
		if (s->header_length < 104 || s->header_length % 8 ||
		    s->header_length > cs)
			FAIL("%s: bad header_length %u", p, s->header_length);
		if (s->header_length > 104)
			s->compression_type = h[104];
	}
	if (s->refcount_order > 6)
		FAIL("%s: refcount_order %u out of range (0..6)", p,
		     s->refcount_order);
	s->refcount_bits = 1u << s->refcount_order;
	s->refcount_max = s->refcount_bits == 64 ? UINT64_MAX
			  : (1ull << s->refcount_bits) - 1;
	s->rb_bits = s->cluster_bits + 3 - s->refcount_order;
	s->csize_shift = 62 - (s->cluster_bits - 8);
	s->csize_mask = (1ull << (s->cluster_bits - 8)) - 1;
	s->coffset_mask = (1ull << s->csize_shift) - 1;

	/* cluster 0: header extensions and backing file name */
	c0 = malloc(cs);
	if (!c0) {
		ret = -ENOMEM;
		goto fail_nomsg;
	}
	ret = bdfile_pread(f, c0, cs, 0);
	if (ret) {
		snprintf(err, errlen, "%s: cannot read: %s", p, strerror(-ret));
		goto fail;
	}
	const uint8_t *ftab = NULL;
	uint32_t ftab_len = 0;
	uint32_t ext_end = cs;
	if (bf_off && bf_off < ext_end)
		ext_end = (uint32_t)bf_off;
	for (uint32_t pos = s->version >= 3 ? s->header_length : 72;;) {
		if (pos + 8 > ext_end)
			break; /* no end marker: tolerated (v2 images) */
		uint32_t type = rd32(c0 + pos), len = rd32(c0 + pos + 4);
		if (type == QCOW2_EXT_END)
			break;
		if (len > ext_end - pos - 8)
			FAIL("%s: header extension 0x%x overruns the header cluster",
			     p, type);
		const uint8_t *d = c0 + pos + 8;
		if (type == QCOW2_EXT_BACKING_FMT) {
			if (len >= sizeof(s->backing_fmt))
				FAIL("%s: backing format name too long", p);
			memcpy(s->backing_fmt, d, len);
			s->backing_fmt[len] = 0;
		} else if (type == QCOW2_EXT_FEATURES) {
			ftab = d;
			ftab_len = len;
		}
		pos += 8 + ((len + 7) & ~7u);
	}

	/* incompatible features */
	char nb[64];
	uint64_t unknown = s->incompat & ~0x1full;
	if (unknown) {
		char list[512] = "";
		for (int b = 0; b < 64; b++) {
			if (!(unknown & (1ull << b)))
				continue;
			size_t l = strlen(list);
			snprintf(list + l, sizeof(list) - l, "%s%s", l ? ", " : "",
				 feature_name(ftab, ftab_len, 0, b, nb, sizeof(nb)));
		}
		FAIL("%s: unsupported qcow2 features: %s", p, list);
	}
	if (s->incompat & QCOW2_INCOMPAT_DATA_FILE)
		FAIL("%s: images with an external data file (%s) are not supported",
		     p, feature_name(ftab, ftab_len, 0, 2, nb, sizeof(nb)));
	if (s->incompat & QCOW2_INCOMPAT_EXTL2)
		FAIL("%s: images with extended L2 entries (%s) are not supported",
		     p, feature_name(ftab, ftab_len, 0, 4, nb, sizeof(nb)));
	if (s->incompat & QCOW2_INCOMPAT_COMPRESSION) {
		if (s->header_length <= 104 || s->compression_type != 1)
			FAIL("%s: unsupported compression type %u (zlib and zstd are supported)",
			     p, s->compression_type);
	} else if (s->compression_type) {
		FAIL("%s: compression type %u set without its feature bit", p,
		     s->compression_type);
	}
	if ((s->incompat & QCOW2_INCOMPAT_CORRUPT) && !o->readonly)
		FAIL("%s: the image is marked corrupt; open it with readonly=on or repair it (qemu-img check -r all)",
		     p);
	if ((s->incompat & QCOW2_INCOMPAT_DIRTY) && !o->readonly)
		FAIL("%s: the image is dirty (lazy refcounts not written back); repair it with `qemu-img check -r all %s` or open it with readonly=on",
		     p, p);

	/* sizes and tables */
	if (s->bd.size % 512)
		FAIL("%s: virtual size %llu is not a multiple of 512", p,
		     (unsigned long long)s->bd.size);
	if (s->bd.size > (1ull << 56))
		FAIL("%s: virtual size %llu too large", p,
		     (unsigned long long)s->bd.size);
	uint64_t per_l1 = (uint64_t)cs * s->l2_entries; /* bytes per L1 entry */
	uint64_t l1_need = (s->bd.size + per_l1 - 1) / per_l1;
	if ((uint64_t)s->l1_size * 8 > QCOW2_MAX_L1_BYTES)
		FAIL("%s: L1 table too large (%u entries)", p, s->l1_size);
	if (s->l1_size < l1_need)
		FAIL("%s: L1 table too small for the virtual size (%u < %llu entries)",
		     p, s->l1_size, (unsigned long long)l1_need);
	if (s->l1_offset % cs || (s->l1_size && s->l1_offset < cs) ||
	    !range_in(s->l1_offset, (uint64_t)s->l1_size * 8, fsize))
		FAIL("%s: L1 table offset 0x%llx invalid or outside the file", p,
		     (unsigned long long)s->l1_offset);
	if (!s->rt_clusters || (uint64_t)s->rt_clusters * cs > QCOW2_MAX_RT_BYTES)
		FAIL("%s: bad refcount table size (%u clusters)", p,
		     s->rt_clusters);
	if (s->rt_offset % cs || s->rt_offset < cs ||
	    !range_in(s->rt_offset, (uint64_t)s->rt_clusters * cs, fsize))
		FAIL("%s: refcount table offset 0x%llx invalid or outside the file",
		     p, (unsigned long long)s->rt_offset);
	if (s->l1_size &&
	    s->l1_offset < s->rt_offset + (uint64_t)s->rt_clusters * cs &&
	    s->rt_offset < s->l1_offset + (uint64_t)s->l1_size * 8)
		FAIL("%s: L1 table and refcount table overlap", p);
	if (s->nb_snapshots > 65536 ||
	    (s->nb_snapshots && (s->snapshots_offset % cs ||
				 s->snapshots_offset < cs ||
				 s->snapshots_offset >= fsize)))
		FAIL("%s: bad snapshot table (%u snapshots at 0x%llx)", p,
		     s->nb_snapshots, (unsigned long long)s->snapshots_offset);
	if (bf_off) {
		if (bf_size == 0 || bf_size > 1023 || bf_off > cs ||
		    bf_size > cs - bf_off)
			FAIL("%s: bad backing file name location", p);
		memcpy(s->backing_name, c0 + bf_off, bf_size);
		s->backing_name[bf_size] = 0;
		if (strlen(s->backing_name) != bf_size)
			FAIL("%s: backing file name contains a NUL byte", p);
	}

	/* load L1 and the refcount table */
	s->l1 = calloc(s->l1_size ? s->l1_size : 1, 8);
	s->rt_entries = (uint64_t)s->rt_clusters * cs / 8;
	s->rt = calloc(s->rt_entries, 8);
	s->cbuf = malloc(cs);
	s->dbuf = malloc(cs);
	s->zbuf = malloc(2 * (size_t)cs);
	if (!s->l1 || !s->rt || !s->cbuf || !s->dbuf || !s->zbuf) {
		ret = -ENOMEM;
		goto fail_nomsg;
	}
	ret = bdfile_pread(f, s->l1, (size_t)s->l1_size * 8, s->l1_offset);
	if (!ret)
		ret = bdfile_pread(f, s->rt, s->rt_entries * 8, s->rt_offset);
	if (ret) {
		snprintf(err, errlen, "%s: cannot read tables: %s", p,
			 strerror(-ret));
		goto fail;
	}
	for (uint32_t i = 0; i < s->l1_size; i++)
		s->l1[i] = be64toh(s->l1[i]);
	for (uint64_t i = 0; i < s->rt_entries; i++)
		s->rt[i] = be64toh(s->rt[i]);
	if (s->compression_type == 1 && !(s->zstd = ZSTD_createDCtx())) {
		ret = -ENOMEM;
		goto fail_nomsg;
	}
	/* caches, filled on demand: 4 MiB of L2 tables (8..1024 tables,
	 * 64 KiB clusters: 64 tables mapping 32 GiB), 1 MiB of refcount
	 * blocks (4..64) */
	int nl2 = (int)((4u << 20) / cs), nrb = (int)((1u << 20) / cs);
	nl2 = nl2 < 8 ? 8 : nl2 > 1024 ? 1024 : nl2;
	nrb = nrb < 4 ? 4 : nrb > 64 ? 64 : nrb;
	if (qcache_init(&s->l2c, nl2, cs) || qcache_init(&s->rbc, nrb, cs)) {
		ret = -ENOMEM;
		goto fail_nomsg;
	}
	s->end_cl = (fsize + cs - 1) / cs;
	s->free_hint = 1;
	ret = load_snapshots(s, fsize, err, errlen);
	if (!ret)
		ret = build_meta(s, err, errlen);
	if (ret)
		goto fail;

	/* backing image: read-only, relative names from the image's folder */
	if (s->backing_name[0]) {
		char path[4096], dirbuf[4096];
		if (s->backing_name[0] == '/') {
			snprintf(path, sizeof(path), "%s", s->backing_name);
		} else {
			snprintf(dirbuf, sizeof(dirbuf), "%s", p);
			snprintf(path, sizeof(path), "%s/%s", dirname(dirbuf),
				 s->backing_name);
		}
		const char *bfmt = s->backing_fmt[0] ? s->backing_fmt : NULL;
		if (bfmt && strcmp(bfmt, "raw") && strcmp(bfmt, "qcow2"))
			FAIL("%s: backing file format '%s' is not supported", p,
			     bfmt);
		struct blockdev_opts bo = { .path = path, .format = bfmt,
					    .readonly = true,
					    .cache = o->cache };
		char berr[512];
		bool quiet = chain->quiet_detect;
		chain->quiet_detect = true; /* detection is normal for backing */
		ret = blockdev_open_chain(&bo, chain, &s->backing, berr,
					  sizeof(berr));
		chain->quiet_detect = quiet;
		if (ret) {
			snprintf(err, errlen, "%s: backing file: %s", p, berr);
			goto fail;
		}
	}

	/* unknown autoclear bits (e.g. bitmaps we do not keep in sync) must
	 * be cleared before the first write */
	if (!o->readonly && s->autoclear) {
		uint64_t z = 0;
		ret = bdfile_pwrite(f, &z, 8, 88);
		if (!ret)
			ret = bdfile_flush(f);
		if (ret) {
			snprintf(err, errlen, "%s: cannot update the header: %s",
				 p, strerror(-ret));
			goto fail;
		}
		s->autoclear = 0;
	}
	free(c0);
	pthread_mutex_init(&s->f.rmw_lock, NULL);
	*out = &s->bd;
	return 0;

fail_nomsg:
	snprintf(err, errlen, "%s: %s", p, strerror(-ret));
fail:
	free(c0);
	s->bd.readonly = true;
	qcow2_free(s);
	return ret;
}

/* ---- for the image tool ---- */

int qcow2_get_info(struct blockdev *bd, struct qcow2_info *info)
{
	if (!bd || bd->ops != &qcow2_ops)
		return -EINVAL;
	struct qcow2 *s = to_qcow2(bd);
	memset(info, 0, sizeof(*info));
	info->version = s->version;
	info->cluster_size = s->cluster_size;
	info->refcount_bits = s->refcount_bits;
	info->nb_snapshots = s->nb_snapshots;
	info->lazy_refcounts = s->compat & QCOW2_COMPAT_LAZY_REFCOUNTS;
	info->dirty = s->incompat & QCOW2_INCOMPAT_DIRTY;
	info->corrupt = s->incompat & QCOW2_INCOMPAT_CORRUPT;
	info->compression = s->compression_type ? "zstd" : "zlib";
	snprintf(info->backing_file, sizeof(info->backing_file), "%s",
		 s->backing_name);
	snprintf(info->backing_format, sizeof(info->backing_format), "%s",
		 s->backing_fmt);
	info->backing = s->backing;
	return 0;
}

struct blockdev *blockdev_backing(struct blockdev *bd)
{
	if (!bd || bd->ops != &qcow2_ops)
		return NULL;
	return to_qcow2(bd)->backing;
}
