/* SPDX-License-Identifier: MIT
 * qcow2_check.c - consistency check of a qcow2 image (what `minivmm img
 * check` runs): rebuild every cluster's reference count in memory from the
 * header, the active and snapshot L1/L2 tables, the snapshot table and the
 * refcount structures, then compare with the refcounts stored in the
 * image. A stored refcount lower than the uses is a corruption (a write
 * could reuse a cluster still in use); higher is a leak (wasted space).
 * Also checks the COPIED flags of the active tables (set exactly when the
 * refcount is one). Bitmap clusters (bitmaps extension) are not counted.
 */
#include "devices/disk/qcow2_int.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ck {
	struct qcow2 *s;
	uint32_t *refs;
	uint64_t ncl;
	struct qcow2_check_result *res;
	void (*report)(void *, const char *);
	void *opaque;
	uint8_t *buf;
	uint64_t fsize;
	uint64_t l2_visits;  /* bounded: a hostile image cannot spin */
	bool repair_leaks;
};

static void say(struct ck *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(struct ck *c, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (c->report)
		c->report(c->opaque, line);
}

/* One more use of every cluster in [off, off+len). */
static void inc(struct ck *c, uint64_t off, uint64_t len, const char *what)
{
	if (!len)
		return;
	uint64_t a = off >> c->s->cluster_bits;
	uint64_t z = (off + len - 1) >> c->s->cluster_bits;
	if (off + len < off || z >= c->ncl) {
		say(c, "ERROR %s at offset 0x%llx is beyond the end of the image",
		    what, (unsigned long long)off);
		c->res->corruptions++;
		return;
	}
	for (uint64_t i = a; i <= z; i++)
		if (c->refs[i] != UINT32_MAX)
			c->refs[i]++;
}

static uint64_t disk_refcount(struct ck *c, uint64_t cl)
{
	uint64_t rc = 0;
	if (qcow2_get_refcount(c->s, cl, &rc))
		c->res->corruptions++;
	return rc;
}

/* One L2 entry: the clusters it uses (a compressed cluster's sectors, or a
 * data cluster). */
static void count_l2_entry(struct ck *c, uint64_t v, bool active)
{
	struct qcow2 *s = c->s;
	uint32_t cs = s->cluster_size;

	if (v & QCOW2_OFLAG_COMPRESSED) {
		uint64_t co = (v & s->coffset_mask) & ~511ull;
		uint64_t nb = ((v >> s->csize_shift) & s->csize_mask) + 1;
		inc(c, co, nb * 512, "compressed cluster");
		if (active)
			c->res->allocated_clusters++;
		return;
	}
	uint64_t h = v & QCOW2_OFFSET_MASK;
	if (!h) {
		if (active && s->version < 3 && (v & 1)) {
			say(c, "ERROR zero flag in a version 2 image");
			c->res->corruptions++;
		}
		return;
	}
	if (h % cs || h < cs) {
		say(c, "ERROR L2 entry 0x%llx: bad cluster offset",
		    (unsigned long long)v);
		c->res->corruptions++;
		return;
	}
	inc(c, h, cs, "data cluster");
	if (active)
		c->res->allocated_clusters++;
}

/* One L1 entry: its L2 table and, if that is inside the file, what the
 * table's entries use. 1 when the walk must stop (too many L2 tables). */
static int count_l2_table(struct ck *c, uint32_t i, uint64_t e, bool active)
{
	struct qcow2 *s = c->s;
	uint32_t cs = s->cluster_size;
	uint64_t l2 = e & QCOW2_OFFSET_MASK;
	int ret;

	if (!l2)
		return 0;
	if (l2 % cs || l2 < cs) {
		say(c, "ERROR L1 entry %u: bad L2 table offset 0x%llx", i,
		    (unsigned long long)l2);
		c->res->corruptions++;
		return 0;
	}
	inc(c, l2, cs, "L2 table");
	if (l2 >> s->cluster_bits >= c->ncl)
		return 0;
	if (++c->l2_visits > (1u << 22)) {
		say(c, "ERROR too many L2 table references");
		c->res->corruptions++;
		return 1;
	}
	ret = bdfile_pread(&s->f, c->buf, cs, l2);
	const uint64_t *t = (const uint64_t *)c->buf;
	for (uint32_t k = 0; k < s->l2_entries && !ret; k++) {
		uint64_t v = be64toh(t[k]);
		if (v)
			count_l2_entry(c, v, active);
	}
	return ret;
}

/* Count an L1 table and everything it reaches; active tables also get
 * their COPIED flags checked and their clusters counted as allocated. */
static int walk_l1(struct ck *c, uint64_t l1off, uint32_t l1n, bool active)
{
	struct qcow2 *s = c->s;
	uint32_t cs = s->cluster_size;
	if ((uint64_t)l1n * 8 > QCOW2_MAX_L1_BYTES || l1off % cs ||
	    l1off > c->fsize || (uint64_t)l1n * 8 > c->fsize - l1off) {
		say(c, "ERROR bad L1 table at 0x%llx (%u entries)",
		    (unsigned long long)l1off, l1n);
		c->res->corruptions++;
		return 0;
	}
	inc(c, l1off, (uint64_t)l1n * 8, "L1 table");
	uint64_t *l1 = malloc((size_t)l1n * 8 + 8);
	if (!l1)
		return -ENOMEM;
	int ret = bdfile_pread(&s->f, l1, (size_t)l1n * 8, l1off);
	for (uint32_t i = 0; i < l1n && !ret; i++)
		ret = count_l2_table(c, i, be64toh(l1[i]), active);
	free(l1);
	return ret == 1 ? 0 : ret;
}

/* COPIED flags of the active tables against the stored refcounts. */
static int check_copied(struct ck *c)
{
	struct qcow2 *s = c->s;
	uint32_t cs = s->cluster_size;
	int ret = 0;
	for (uint32_t i = 0; i < s->l1_size && !ret; i++) {
		uint64_t e = s->l1[i], l2 = e & QCOW2_OFFSET_MASK;
		if (!l2 || l2 % cs || (l2 >> s->cluster_bits) >= c->ncl)
			continue;
		uint64_t rc = disk_refcount(c, l2 >> s->cluster_bits);
		if ((rc == 1) != !!(e & QCOW2_OFLAG_COPIED)) {
			say(c, "ERROR OFLAG_COPIED L2 cluster: l1_index=%u l1_entry=%llx refcount=%llu",
			    i, (unsigned long long)e, (unsigned long long)rc);
			c->res->corruptions++;
		}
		ret = bdfile_pread(&s->f, c->buf, cs, l2);
		const uint64_t *t = (const uint64_t *)c->buf;
		for (uint32_t k = 0; k < s->l2_entries && !ret; k++) {
			uint64_t v = be64toh(t[k]), h = v & QCOW2_OFFSET_MASK;
			if ((v & QCOW2_OFLAG_COMPRESSED) || !h || h % cs ||
			    (h >> s->cluster_bits) >= c->ncl)
				continue;
			rc = disk_refcount(c, h >> s->cluster_bits);
			if ((rc == 1) != !!(v & QCOW2_OFLAG_COPIED)) {
				say(c, "ERROR OFLAG_COPIED data cluster: l2_entry=%llx refcount=%llu",
				    (unsigned long long)v,
				    (unsigned long long)rc);
				c->res->corruptions++;
			}
		}
	}
	return ret;
}

/* The snapshots' tables (the snapshot table was read and checked at open). */
static int walk_snapshots(struct ck *c)
{
	struct qcow2 *s = c->s;
	int ret = 0;

	for (uint32_t i = 0; i < s->nb_snapshots && !ret; i++)
		ret = walk_l1(c, s->snaps[i].l1_offset, s->snaps[i].l1_size,
			      false);
	inc(c, s->snapshots_offset, s->snapshots_size, "snapshot table");
	return ret;
}

/* The file's size in clusters and the in-memory reference counts. */
static int ck_setup(struct ck *c)
{
	struct qcow2 *s = c->s;
	uint64_t fsize;
	int ret;

	ret = qcow2_flush_locked(s);
	if (!ret)
		ret = bdfile_size(&s->f, &fsize);
	if (ret)
		return ret;
	c->fsize = fsize;
	c->ncl = (fsize + s->cluster_size - 1) >> s->cluster_bits;
	if (c->ncl > (1ull << 28))
		return -EFBIG;
	c->refs = calloc(c->ncl + 1, sizeof(*c->refs));
	c->buf = malloc(s->cluster_size);
	if (!c->refs || !c->buf)
		return -ENOMEM;
	return 0;
}

/* The refcount table and every refcount block it points to. */
static void count_refcount_structures(struct ck *c)
{
	struct qcow2 *s = c->s;

	inc(c, s->rt_offset, (uint64_t)s->rt_clusters << s->cluster_bits,
	    "refcount table");
	for (uint64_t i = 0; i < s->rt_entries; i++) {
		uint64_t b = s->rt[i] & QCOW2_OFFSET_MASK;
		if (!b)
			continue;
		if (b % s->cluster_size || (s->rt[i] & ~QCOW2_OFFSET_MASK)) {
			say(c, "ERROR refcount block %llu is not cluster aligned; refcount table entry corrupted",
			    (unsigned long long)i);
			c->res->corruptions++;
			continue;
		}
		inc(c, b, s->cluster_size, "refcount block");
	}
}

/* One cluster whose stored refcount (have) differs from its uses (want):
 * lower is a corruption, higher a leak, repaired when asked. */
static int report_mismatch(struct ck *c, uint64_t cl, uint64_t have,
			   uint64_t want)
{
	int ret;

	if (have < want) {
		say(c, "ERROR cluster %llu refcount=%llu reference=%llu",
		    (unsigned long long)cl, (unsigned long long)have,
		    (unsigned long long)want);
		c->res->corruptions++;
		return 0;
	}
	if (!c->repair_leaks) {
		say(c, "Leaked cluster %llu refcount=%llu reference=%llu",
		    (unsigned long long)cl, (unsigned long long)have,
		    (unsigned long long)want);
		c->res->leaks++;
		return 0;
	}
	/* lower the refcount by have - want, which may exceed INT64_MAX
	 * with 64-bit refcounts: in steps a signed delta can hold */
	for (uint64_t left = have - want; left;) {
		uint64_t step = left > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX
							   : left;
		ret = qcow2_update_refcount(c->s, cl, -(int64_t)step);
		if (ret)
			return ret;
		left -= step;
	}
	c->res->leaks_fixed++;
	say(c, "Repairing cluster %llu refcount=%llu reference=%llu",
	    (unsigned long long)cl, (unsigned long long)have,
	    (unsigned long long)want);
	return 0;
}

/* Compare every cluster of the file that the refcount table reaches (like
 * qemu-img, refcounts past the end of the file are not looked at); each
 * compared cluster is marked UINT32_MAX. */
static int compare_refcounts(struct ck *c)
{
	struct qcow2 *s = c->s;
	uint64_t per_rb = 1ull << s->rb_bits;
	int ret;

	for (uint64_t i = 0; i < s->rt_entries; i++) {
		uint64_t b = s->rt[i] & QCOW2_OFFSET_MASK;
		uint64_t first = i * per_rb;
		if (first >= c->ncl)
			break;
		for (uint64_t k = 0; k < per_rb && first + k < c->ncl; k++) {
			uint64_t cl = first + k, want = c->refs[cl], have = 0;
			if (b && !(b % s->cluster_size))
				have = disk_refcount(c, cl);
			c->refs[cl] = UINT32_MAX; /* compared */
			if (have == want)
				continue;
			ret = report_mismatch(c, cl, have, want);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* Used clusters beyond the refcount table's reach. */
static void report_unreachable(struct ck *c)
{
	for (uint64_t cl = 0; cl < c->ncl; cl++) {
		if (c->refs[cl] && c->refs[cl] != UINT32_MAX) {
			say(c, "ERROR cluster %llu refcount=0 reference=%u",
			    (unsigned long long)cl, c->refs[cl]);
			c->res->corruptions++;
		}
	}
}

/* The end of the last cluster with a stored refcount. */
static uint64_t image_end(struct ck *c)
{
	struct qcow2 *s = c->s;
	uint64_t per_rb = 1ull << s->rb_bits, end = 0;

	for (uint64_t cl = 0; cl < s->rt_entries * per_rb && cl < c->ncl; cl++)
		if (disk_refcount(c, cl))
			end = cl + 1;
	return end << s->cluster_bits;
}

int qcow2_check(struct blockdev *bd, bool repair_leaks,
		struct qcow2_check_result *res,
		void (*report)(void *opaque, const char *line), void *opaque)
{
	struct qcow2_info info;
	if (qcow2_get_info(bd, &info))
		return -EINVAL;
	struct qcow2 *s = to_qcow2(bd);
	struct ck c = { .s = s, .res = res, .report = report,
			.opaque = opaque, .repair_leaks = repair_leaks };
	int ret;

	memset(res, 0, sizeof(*res));
	if (repair_leaks && bd->readonly)
		return -EROFS;
	pthread_mutex_lock(&s->lock);
	ret = ck_setup(&c);
	if (ret)
		goto out;
	res->total_clusters = (bd->size + s->cluster_size - 1) >> s->cluster_bits;
	inc(&c, 0, s->cluster_size, "header");
	ret = walk_l1(&c, s->l1_offset, s->l1_size, true);
	if (!ret)
		ret = walk_snapshots(&c);
	if (ret)
		goto out;
	count_refcount_structures(&c);
	ret = compare_refcounts(&c);
	if (ret)
		goto out;
	report_unreachable(&c);
	ret = check_copied(&c);
	res->image_end = image_end(&c);
	if (repair_leaks && !ret)
		ret = qcow2_flush_locked(s);
out:
	pthread_mutex_unlock(&s->lock);
	free(c.refs);
	free(c.buf);
	return ret;
}
