/* SPDX-License-Identifier: MIT
 * qcow2_meta.c - where a qcow2 image keeps its metadata, and the checks
 * that keep guest data and new tables off it (QEMU's docs/interop/qcow2.rst:
 * the header, the L1 and refcount tables, refcount blocks, L2 tables, the
 * snapshot table and snapshot L1 tables).
 *
 * Every value read from the image is untrusted: offsets are checked for
 * alignment, overflow and overlap with metadata before use; a bad image
 * gives -EIO and a message, never a crash, and once found corrupt it is
 * not written any more (qcow2_corrupt).
 *
 * The header, the L1 table and the refcount table are checked by range.
 * Every other metadata cluster is in a hash map from cluster index to what
 * it holds (struct qmeta), filled at open (qcow2_meta_build) and kept up to
 * date as tables are allocated and dropped.
 */
#include "devices/disk/qcow2_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/log.h"

/* ---- the map of metadata clusters ---- */

static struct qmeta_ent *qmeta_slot(const struct qmeta *m, uint64_t cl)
{
	size_t mask = ((size_t)1 << m->bits) - 1;
	size_t i = (size_t)((cl * 0x9e3779b97f4a7c15ull) >> (64 - m->bits));
	while (m->e[i].cl && m->e[i].cl != cl)
		i = (i + 1) & mask;
	return &m->e[i];
}

static bool qmeta_live(const struct qmeta_ent *e)
{
	return e->cl && (e->kinds || e->l2refs);
}

/* Room for one more key: rehash (dropping emptied entries) once half the
 * slots are taken. */
static int qmeta_reserve(struct qmeta *m)
{
	size_t cap = m->e ? (size_t)1 << m->bits : 0, live = 0;
	if (2 * (m->used + 1) <= cap)
		return 0;
	for (size_t i = 0; i < cap; i++)
		live += qmeta_live(&m->e[i]);
	struct qmeta n = { .bits = 6 };
	while (((size_t)1 << n.bits) < 4 * (live + 1))
		n.bits++;
	n.e = calloc((size_t)1 << n.bits, sizeof(*n.e));
	if (!n.e)
		return -ENOMEM;
	for (size_t i = 0; i < cap; i++)
		if (qmeta_live(&m->e[i])) {
			*qmeta_slot(&n, m->e[i].cl) = m->e[i];
			n.used++;
		}
	free(m->e);
	*m = n;
	return 0;
}

void qmeta_free(struct qmeta *m)
{
	free(m->e);
	memset(m, 0, sizeof(*m));
}

/* What cluster cl holds: QM_* bits, 0 for none (or guest data). */
static uint32_t meta_kinds(struct qcow2 *s, uint64_t cl)
{
	if (!s->meta.e)
		return 0;
	const struct qmeta_ent *e = qmeta_slot(&s->meta, cl);
	return e->cl ? e->kinds | (e->l2refs ? QM_L2 : 0) : 0;
}

int qcow2_meta_add(struct qcow2 *s, uint64_t off, uint64_t len, uint32_t k)
{
	for (uint64_t i = 0; i < len; i += s->cluster_size) {
		uint64_t cl = (off + i) >> s->cluster_bits;
		if (!cl)
			continue; /* the header: checked by range */
		int ret = qmeta_reserve(&s->meta);
		if (ret)
			return ret;
		struct qmeta_ent *e = qmeta_slot(&s->meta, cl);
		if (!e->cl) {
			e->cl = cl;
			s->meta.used++;
		}
		if (k == QM_L2)
			e->l2refs++;
		else
			e->kinds |= k;
	}
	return 0;
}

void qcow2_meta_drop(struct qcow2 *s, uint64_t off, uint64_t len, uint32_t k)
{
	for (uint64_t i = 0; i < len && s->meta.e; i += s->cluster_size) {
		struct qmeta_ent *e =
			qmeta_slot(&s->meta, (off + i) >> s->cluster_bits);
		if (e->cl && k != QM_L2)
			e->kinds &= ~k;
		else if (e->cl && e->l2refs)
			e->l2refs--;
	}
}

/* ---- overlap checks ---- */

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
		uint32_t k = meta_kinds(s, cl) & kinds;
		if (k & QM_RB)
			return "on a refcount block";
		if (k & QM_L2)
			return "on an L2 table";
		if (k & QM_SNAP)
			return "on the snapshot table or a snapshot's L1 table";
	}
	return NULL;
}

const char *qcow2_rb_bad(struct qcow2 *s, uint64_t e)
{
	uint64_t off = e & QCOW2_OFFSET_MASK;
	if (!e)
		return NULL;
	if ((e & ~QCOW2_OFFSET_MASK) || off % s->cluster_size)
		return "misaligned or with reserved bits set";
	if (off >> s->cluster_bits >= s->end_cl)
		return "outside the file";
	return qcow2_overlaps_meta(s, off, s->cluster_size, QM_ALL & ~QM_RB);
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

/* ---- at open ---- */

int qcow2_meta_build(struct qcow2 *s, char *err, size_t errlen)
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
		if (b && (meta_kinds(s, b >> s->cluster_bits) & QM_RB)) {
			snprintf(err, errlen, "%s: refcount table entry %llu: refcount block 0x%llx is used twice",
				 p, (unsigned long long)i,
				 (unsigned long long)b);
			return -EINVAL;
		}
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
					       0))) {
			snprintf(err, errlen, "%s: snapshot %u: L1 table %s", p,
				 i, why);
			return -EINVAL;
		}
	if (s->snapshots_size &&
	    (why = qcow2_overlaps_meta(s, s->snapshots_offset,
				       s->snapshots_size, 0))) {
		snprintf(err, errlen, "%s: snapshot table %s", p, why);
		return -EINVAL;
	}
	for (uint64_t i = 0; i < s->rt_entries; i++)
		if ((why = qcow2_rb_bad(s, s->rt[i]))) {
			snprintf(err, errlen, "%s: refcount table entry %llu (0x%llx): refcount block %s",
				 p, (unsigned long long)i,
				 (unsigned long long)s->rt[i], why);
			return -EINVAL;
		}
	return 0;
}
