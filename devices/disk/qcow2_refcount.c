/* SPDX-License-Identifier: MIT
 * qcow2_refcount.c - qcow2 refcount blocks, the refcount table and its
 * growth, cluster allocation and the ordered write-back of all cached
 * metadata (QEMU's docs/interop/qcow2.rst, "Host cluster management").
 *
 * Stored refcounts are untrusted: a cluster is handed out only if its
 * refcount is 0 and it holds no metadata (header, L1 table, refcount table,
 * refcount blocks, active L2 tables, snapshot table and snapshot L1
 * tables; see qcow2_meta.c), else the image is corrupt. Refcount table
 * entries are checked the same way before their block is used.
 *
 * Crash-safety ordering. Guest data is written straight to its host
 * cluster; L2 tables, the L1 table and refcount blocks are cached and
 * written back by qcow2_flush_locked() in this order:
 *
 *   1. refcount blocks (increments of newly allocated clusters)
 *   2. fdatasync      -> data and refcounts are durable
 *   3. L2 tables, fdatasync, then the L1 table (new L2 tables are durable
 *      before L1 points to them), fdatasync
 *   4. only now the decrements of clusters that L2/L1 stopped using
 *      (freed by discard, copy-on-write, rewritten compressed clusters)
 *      are applied; a freed cluster cannot be reused before that.
 *
 * So on disk a reference is never written before the refcount that covers
 * it and before the data it points to, and a cluster is never reused while
 * a durable table may still point to it. A crash (process or power) at any
 * point leaves at worst leaked clusters (refcount higher than the uses),
 * never a table pointing to garbage, and a flush makes all completed
 * writes durable. New refcount blocks and a grown refcount table are
 * written and synced before the table/header that points to them.
 * Refcounts are updated eagerly (lazy refcounts are never used).
 */
#include "devices/disk/qcow2_int.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/log.h"

/* ---- refcount entries of any width (refcount_order 0..6) ---- */

static uint64_t rb_get(struct qcow2 *s, const uint8_t *b, uint64_t i)
{
	switch (s->refcount_order) {
	case 0: case 1: case 2: {
		uint32_t bits = s->refcount_bits;
		uint64_t bit = i * bits;
		return (b[bit / 8] >> (bit % 8)) & ((1u << bits) - 1);
	}
	case 3:
		return b[i];
	case 4: {
		uint16_t v;
		memcpy(&v, b + i * 2, 2);
		return be16toh(v);
	}
	case 5: {
		uint32_t v;
		memcpy(&v, b + i * 4, 4);
		return be32toh(v);
	}
	default: {
		uint64_t v;
		memcpy(&v, b + i * 8, 8);
		return be64toh(v);
	}
	}
}

static void rb_set(struct qcow2 *s, uint8_t *b, uint64_t i, uint64_t val)
{
	switch (s->refcount_order) {
	case 0: case 1: case 2: {
		uint32_t bits = s->refcount_bits;
		uint64_t bit = i * bits;
		uint8_t mask = (uint8_t)(((1u << bits) - 1) << (bit % 8));
		b[bit / 8] = (uint8_t)((b[bit / 8] & ~mask) |
				       ((val << (bit % 8)) & mask));
		break;
	}
	case 3:
		b[i] = (uint8_t)val;
		break;
	case 4: {
		uint16_t v = htobe16((uint16_t)val);
		memcpy(b + i * 2, &v, 2);
		break;
	}
	case 5: {
		uint32_t v = htobe32((uint32_t)val);
		memcpy(b + i * 4, &v, 4);
		break;
	}
	default: {
		uint64_t v = htobe64(val);
		memcpy(b + i * 8, &v, 8);
		break;
	}
	}
}

/* ---- refcounts ---- */

/* A refcount table entry, checked: 0 = no block, else the block offset. */
static int rt_block(struct qcow2 *s, uint64_t rti, uint64_t *off)
{
	uint64_t e = s->rt[rti];
	const char *why = qcow2_rb_bad(s, e);
	*off = e & QCOW2_OFFSET_MASK;
	if (why)
		return qcow2_corrupt(s, "refcount table entry %llu (0x%llx): refcount block %s",
				     (unsigned long long)rti,
				     (unsigned long long)e, why);
	return 0;
}

int qcow2_get_refcount(struct qcow2 *s, uint64_t cl, uint64_t *rc)
{
	uint64_t rti = cl >> s->rb_bits, boff;
	int ret;

	*rc = 0;
	if (rti >= s->rt_entries)
		return 0;
	ret = rt_block(s, rti, &boff);
	if (ret || !boff)
		return ret;
	int i = qcache_get(s, &s->rbc, boff, false);
	if (i < 0)
		return i;
	*rc = rb_get(s, s->rbc.e[i].data, cl & ((1ull << s->rb_bits) - 1));
	return 0;
}

/* Write the refcount table entries [lo, hi] to the file. */
static int rt_write(struct qcow2 *s, uint64_t lo, uint64_t hi)
{
	size_t n = (size_t)(hi - lo + 1);
	uint64_t *buf = malloc(n * 8);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		buf[i] = htobe64(s->rt[lo + i]);
	int ret = bdfile_pwrite(&s->f, buf, n * 8, s->rt_offset + lo * 8);
	free(buf);
	return ret;
}

/* Grow the refcount table so that it covers cluster `need`. The new table
 * and the refcount blocks describing it go after everything in use; they
 * are written and synced before the header points to the new table; the
 * old table's clusters are freed afterwards. */
static int grow_refcount_table(struct qcow2 *s, uint64_t need)
{
	uint64_t cs = s->cluster_size, per_rb = 1ull << s->rb_bits;
	uint64_t cover = s->rt_entries * per_rb;
	uint64_t start = s->end_cl > cover ? s->end_cl : cover;
	uint64_t tcl, nblk = 0, first_blk, last_blk, new_entries;
	uint64_t undo = 0; /* new blocks in the map, not yet in use */
	int ret = 0;

	if (start <= need)
		start = need + 1;
	tcl = (s->rt_entries * 2 * 8 + cs - 1) / cs;
	for (;;) {
		first_blk = start / per_rb;
		uint64_t n = 0;
		for (int it = 0; it < 64; it++) {
			uint64_t last = start + tcl + n - 1;
			uint64_t want = last / per_rb - first_blk + 1;
			if (want == n)
				break;
			n = want;
		}
		nblk = n;
		last_blk = first_blk + nblk - 1;
		new_entries = tcl * cs / 8;
		if (new_entries > last_blk && new_entries > need / per_rb)
			break;
		tcl *= 2;
		if (tcl * cs > QCOW2_MAX_RT_BYTES)
			return -EFBIG;
	}
	if (tcl * cs > QCOW2_MAX_RT_BYTES)
		return -EFBIG;

	uint64_t tab_off = start * cs;
	uint64_t blk0 = start + tcl; /* clusters of the new blocks */
	uint64_t used_end = blk0 + nblk;
	const char *why = qcow2_overlaps_meta(s, tab_off, (used_end - start) * cs,
					      QM_ALL);
	if (why)
		return qcow2_corrupt(s, "new refcount table at cluster %llu would be %s",
				     (unsigned long long)start, why);
	uint8_t *blk = calloc(1, cs);
	uint64_t *tab = calloc(1, tcl * cs);
	uint64_t *nrt = calloc(new_entries, 8);
	if (!blk || !tab || !nrt) {
		ret = -ENOMEM;
		goto out;
	}
	undo = nblk;
	ret = qcow2_meta_add(s, blk0 * cs, nblk * cs, QM_RB);
	if (ret)
		goto out;
	memcpy(nrt, s->rt, s->rt_entries * 8);
	for (uint64_t b = 0; b < nblk; b++) {
		uint64_t bi = first_blk + b;
		memset(blk, 0, cs);
		for (uint64_t c = start; c < used_end; c++)
			if (c / per_rb == bi)
				rb_set(s, blk, c % per_rb, 1);
		ret = bdfile_pwrite(&s->f, blk, cs, (blk0 + b) * cs);
		if (ret)
			goto out;
		nrt[bi] = (blk0 + b) * cs;
	}
	for (uint64_t i = 0; i < new_entries; i++)
		tab[i] = htobe64(nrt[i]);
	ret = bdfile_pwrite(&s->f, tab, tcl * cs, tab_off);
	if (!ret)
		ret = bdfile_flush(&s->f);
	if (ret)
		goto out;
	/* header fields 48..59: refcount_table_offset, _clusters */
	uint8_t h[12];
	uint64_t o = htobe64(tab_off);
	uint32_t c = htobe32((uint32_t)tcl);
	memcpy(h, &o, 8);
	memcpy(h + 8, &c, 4);
	ret = bdfile_pwrite(&s->f, h, sizeof(h), 48);
	if (!ret)
		ret = bdfile_flush(&s->f);
	if (ret)
		goto out;
	undo = 0; /* the header points to them: in use */
	uint64_t old_off = s->rt_offset, old_cl = s->rt_clusters;
	free(s->rt);
	s->rt = nrt;
	nrt = NULL;
	s->rt_entries = new_entries;
	s->rt_offset = tab_off;
	s->rt_clusters = (uint32_t)tcl;
	if (used_end > s->end_cl)
		s->end_cl = used_end;
	/* the header no longer points to the old table: free it now */
	for (uint64_t i = 0; i < old_cl && !ret; i++)
		ret = qcow2_update_refcount(s, old_off / cs + i, -1);
out:
	qcow2_meta_drop(s, blk0 * cs, undo * cs, QM_RB);
	free(blk);
	free(tab);
	free(nrt);
	return ret;
}

/* Create the missing refcount block for table index rti. The block lives
 * inside the range it describes, on a cluster other than `avoid`. */
static int create_block(struct qcow2 *s, uint64_t rti, uint64_t avoid)
{
	uint64_t per_rb = 1ull << s->rb_bits, cs = s->cluster_size;
	uint64_t first = rti * per_rb;
	uint64_t b = first;

	if (b == 0)
		b = 1; /* cluster 0 is the header */
	if (b == avoid)
		b++;
	if (b >= first + per_rb)
		return -ENOSPC;
	/* the whole range has refcount 0, so a sound image has nothing here */
	const char *why = qcow2_overlaps_meta(s, b * cs, cs, QM_ALL);
	if (why)
		return qcow2_corrupt(s, "new refcount block at cluster %llu would be %s",
				     (unsigned long long)b, why);
	int i = qcache_get(s, &s->rbc, b * cs, true);
	if (i < 0)
		return i;
	rb_set(s, s->rbc.e[i].data, b - first, 1);
	int ret = bdfile_pwrite(&s->f, s->rbc.e[i].data, cs, b * cs);
	if (!ret)
		ret = bdfile_flush(&s->f); /* block durable before the table */
	if (!ret)
		ret = qcow2_meta_add(s, b * cs, cs, QM_RB);
	if (ret) {
		qcache_drop(&s->rbc, b * cs);
		return ret;
	}
	s->rt[rti] = b * cs;
	ret = rt_write(s, rti, rti);
	if (b + 1 > s->end_cl)
		s->end_cl = b + 1;
	return ret;
}

/* delta applied to cluster cl; with expect_free the cluster must have
 * refcount 0 (after any block creation or table growth), else -EAGAIN. */
static int update(struct qcow2 *s, uint64_t cl, int64_t delta,
		  bool expect_free)
{
	uint64_t rti, boff, per_rb = 1ull << s->rb_bits;
	int ret;

	if (s->corrupt)
		return -EIO;
	if (cl > (QCOW2_OFFSET_MASK >> s->cluster_bits))
		return -EFBIG;
	rti = cl / per_rb;
	if (rti >= s->rt_entries) {
		if (delta < 0)
			return -EIO;
		ret = grow_refcount_table(s, cl);
		if (ret)
			return ret;
	}
	ret = rt_block(s, rti, &boff);
	if (ret)
		return ret;
	if (!boff) {
		if (delta < 0) {
			pr_err("%s: refcount of cluster %llu would drop below 0",
			       s->bd.path, (unsigned long long)cl);
			return -EIO;
		}
		ret = create_block(s, rti, cl);
		if (ret)
			return ret;
		boff = s->rt[rti];
	}
	int i = qcache_get(s, &s->rbc, boff, false);
	if (i < 0)
		return i;
	uint8_t *b = s->rbc.e[i].data;
	uint64_t idx = cl % per_rb, v = rb_get(s, b, idx);
	if (expect_free && v)
		return -EAGAIN;
	if ((delta < 0 && v < (uint64_t)-delta) ||
	    (delta > 0 && s->refcount_max - v < (uint64_t)delta)) {
		pr_err("%s: refcount of cluster %llu out of range (%llu%+lld)",
		       s->bd.path, (unsigned long long)cl,
		       (unsigned long long)v, (long long)delta);
		return -ERANGE;
	}
	rb_set(s, b, idx, v + (uint64_t)delta);
	s->rbc.e[i].dirty = true;
	if (delta < 0 && v + (uint64_t)delta == 0 && cl < s->free_hint)
		s->free_hint = cl;
	return 0;
}

int qcow2_update_refcount(struct qcow2 *s, uint64_t cl, int64_t delta)
{
	return update(s, cl, delta, false);
}

/* The first cluster at or after cl whose stored refcount is 0. Scans a
 * loaded refcount block in memory; a missing block or a cluster past the
 * table means free. Gives up (-ENOSPC) after 2^26 used clusters so that a
 * hostile image cannot make it spin. */
static int find_free(struct qcow2 *s, uint64_t cl, uint64_t *found)
{
	uint64_t per_rb = 1ull << s->rb_bits, scanned = 0;

	for (;;) {
		uint64_t rti = cl >> s->rb_bits, boff;
		if (rti >= s->rt_entries)
			break;
		int ret = rt_block(s, rti, &boff);
		if (ret)
			return ret;
		if (!boff)
			break;
		int i = qcache_get(s, &s->rbc, boff, false);
		if (i < 0)
			return i;
		const uint8_t *b = s->rbc.e[i].data;
		for (uint64_t k = cl & (per_rb - 1); k < per_rb; k++, cl++)
			if (!rb_get(s, b, k))
				goto out;
		scanned += per_rb;
		if (scanned > (1ull << 26)) {
			pr_err("%s: no free cluster found (refcounts corrupt?)",
			       s->bd.path);
			return -ENOSPC;
		}
	}
out:
	*found = cl;
	return 0;
}

int qcow2_alloc_cluster(struct qcow2 *s, uint64_t *off)
{
	uint64_t cl = s->free_hint ? s->free_hint : 1;

	for (;; cl++) {
		int ret = find_free(s, cl, &cl);
		if (ret)
			return ret;
		const char *why = qcow2_overlaps_meta(s, cl << s->cluster_bits,
						      s->cluster_size, QM_ALL);
		if (why)
			return qcow2_corrupt(s, "cluster %llu has refcount 0 but is %s",
					     (unsigned long long)cl, why);
		ret = update(s, cl, 1, true);
		if (ret == -EAGAIN)
			continue;
		if (ret)
			return ret;
		s->free_hint = cl + 1;
		if (cl + 1 > s->end_cl)
			s->end_cl = cl + 1;
		*off = cl << s->cluster_bits;
		return 0;
	}
}

int qcow2_free_later(struct qcow2 *s, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	if (s->npend == s->cappend) {
		size_t n = s->cappend ? s->cappend * 2 : 64;
		struct qfree *p = realloc(s->pend, n * sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->pend = p;
		s->cappend = n;
	}
	s->pend[s->npend].off = off;
	s->pend[s->npend].len = len;
	s->npend++;
	return 0;
}

static bool l2_dirty(struct qcow2 *s)
{
	for (int i = 0; i < s->l2c.n; i++)
		if (s->l2c.e[i].off && s->l2c.e[i].dirty)
			return true;
	return false;
}

static int write_l1(struct qcow2 *s)
{
	if (s->l1_dirty_lo > s->l1_dirty_hi)
		return 0;
	uint32_t lo = s->l1_dirty_lo, n = s->l1_dirty_hi - lo + 1;
	uint64_t *buf = malloc((size_t)n * 8);
	if (!buf)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		buf[i] = htobe64(s->l1[lo + i]);
	int ret = bdfile_pwrite(&s->f, buf, (size_t)n * 8,
				s->l1_offset + (uint64_t)lo * 8);
	free(buf);
	if (!ret) {
		s->l1_dirty_lo = UINT32_MAX;
		s->l1_dirty_hi = 0;
	}
	return ret;
}

int qcow2_flush_locked(struct qcow2 *s)
{
	int ret;
	bool tables = l2_dirty(s) || s->l1_dirty_lo <= s->l1_dirty_hi;

	if (s->bd.readonly)
		return 0;
	if (s->corrupt)
		return -EIO; /* completed writes may be lost: say so */
	/* 1-2: refcount increments and guest data durable */
	ret = qcache_write_dirty(s, &s->rbc);
	if (!ret)
		ret = bdfile_flush(&s->f);
	if (ret || (!tables && !s->npend))
		return ret;
	/* 3: tables, L2 before the L1 that points to them */
	ret = qcache_write_dirty(s, &s->l2c);
	if (!ret && s->l1_dirty_lo <= s->l1_dirty_hi) {
		ret = bdfile_flush(&s->f);
		if (!ret)
			ret = write_l1(s);
	}
	if (!ret)
		ret = bdfile_flush(&s->f);
	if (ret)
		return ret;
	/* 4: deferred decrements, now that no durable table uses them;
	 * not while asynchronous transfers mapped before the change may be
	 * in flight to those clusters (qcow2_aio_map). With nothing in
	 * flight, all of them. Otherwise those queued before the last switch
	 * of generation (pend[0..nwait)) once the older generation has
	 * drained; and when it is empty the generations switch: new extents
	 * count there, what is queued now waits for the current one. A
	 * guest that always has some transfer in flight thus does not keep
	 * freed clusters from being reused. */
	unsigned old = !(s->aio_gen & 1);
	bool old_empty = !__atomic_load_n(&s->aio_cnt[old], __ATOMIC_ACQUIRE);
	size_t n = 0;

	if (old_empty && !__atomic_load_n(&s->aio_cnt[!old], __ATOMIC_ACQUIRE))
		n = s->npend;
	else if (old_empty)
		n = s->nwait;
	s->nwait -= n < s->nwait ? n : s->nwait;
	if (old_empty && n < s->npend) {
		s->aio_gen++;
		s->nwait = s->npend - n;
	}
	if (!n)
		return 0;
	for (size_t i = 0; i < n && !ret; i++) {
		uint64_t a = s->pend[i].off >> s->cluster_bits;
		uint64_t z = (s->pend[i].off + s->pend[i].len - 1) >>
			     s->cluster_bits;
		for (uint64_t c = a; c <= z && !ret; c++)
			ret = qcow2_update_refcount(s, c, -1);
	}
	memmove(s->pend, s->pend + n, (s->npend - n) * sizeof(*s->pend));
	s->npend -= n;
	if (!ret)
		ret = qcache_write_dirty(s, &s->rbc);
	return ret;
}
