/* SPDX-License-Identifier: MIT
 * qcow2_map.c - the two-level mapping of a qcow2 image
 * (QEMU's docs/interop/qcow2.rst, "Cluster mapping"): guest cluster ->
 * L1 entry -> L2 table -> L2 entry -> host cluster. Looks entries up,
 * classifies them (unallocated, zero, normal, compressed) with their host
 * offset checked, and changes them: an L2 table is made writable first
 * (allocated, or copied when a snapshot shares it). Tables are read
 * through a small write-back cache, which also holds the refcount blocks
 * of qcow2_refcount.c; it is written back in the crash-safe order
 * described there.
 */
#include "devices/disk/qcow2_int.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- the table cache ---- */

int qcache_init(struct qcache *c, int n)
{
	c->n = n; /* slots get their buffer when first used */
	c->tick = 0;
	c->e = calloc((size_t)n, sizeof(*c->e));
	return c->e ? 0 : -ENOMEM;
}

void qcache_free(struct qcache *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->e[i].data);
	free(c->e);
	c->e = NULL;
	c->n = 0;
}

void qcache_drop(struct qcache *c, uint64_t off)
{
	for (int i = 0; i < c->n; i++)
		if (c->e[i].off == off) {
			c->e[i].off = 0;
			c->e[i].dirty = false;
		}
}

int qcache_get(struct qcow2 *s, struct qcache *c, uint64_t off, bool fresh)
{
	int victim = -1;
	int ret;

	if (!off || off % s->cluster_size)
		return -EIO;
	/* fast path: the same table as last time (sequential access) */
	if (c->e[c->last].off == off) {
		c->e[c->last].lru = ++c->tick;
		if (fresh)
			memset(c->e[c->last].data, 0, s->cluster_size);
		return c->last;
	}
	for (int i = 0; i < c->n; i++) {
		if (c->e[i].off == off) {
			c->e[i].lru = ++c->tick;
			if (fresh)
				memset(c->e[i].data, 0, s->cluster_size);
			c->last = i;
			return i;
		}
		if (victim < 0 || !c->e[i].off ||
		    (c->e[victim].off && c->e[i].lru < c->e[victim].lru))
			victim = i;
	}
	struct qcache_entry *e = &c->e[victim];
	if (e->off && e->dirty) {
		if (s->corrupt)
			return -EIO;
		if (c == &s->l2c) {
			/* an L2 table may only reach the disk after the data
			 * and refcounts it depends on: full ordered flush */
			ret = qcow2_flush_locked(s);
		} else {
			ret = bdfile_pwrite(&s->f, e->data, s->cluster_size,
					    e->off);
			if (!ret)
				e->dirty = false;
		}
		if (ret)
			return ret;
	}
	e->off = 0;
	e->dirty = false;
	if (!e->data &&
	    posix_memalign((void **)&e->data, 4096, s->cluster_size))
		return -ENOMEM;
	if (fresh) {
		memset(e->data, 0, s->cluster_size);
	} else {
		ret = bdfile_pread(&s->f, e->data, s->cluster_size, off);
		if (ret)
			return ret;
	}
	e->off = off;
	e->lru = ++c->tick;
	c->last = victim;
	return victim;
}

int qcache_write_dirty(struct qcow2 *s, struct qcache *c)
{
	for (int i = 0; i < c->n; i++) {
		if (!c->e[i].off || !c->e[i].dirty)
			continue;
		int ret = bdfile_pwrite(&s->f, c->e[i].data, s->cluster_size,
					c->e[i].off);
		if (ret)
			return ret;
		c->e[i].dirty = false;
	}
	return 0;
}

/* ---- lookup ---- */

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

/* The L2 entry of guest cluster gcl (0 if it has no L2 table). */
static int l2_entry(struct qcow2 *s, uint64_t gcl, uint64_t *entry)
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

int qcow2_classify(struct qcow2 *s, uint64_t e, enum ctype *t, uint64_t *host)
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

int qcow2_cluster_step(struct qcow2 *s, uint64_t g, uint64_t left,
		       struct cstep *c)
{
	c->g = g;
	c->gcl = g >> s->cluster_bits;
	c->in = (uint32_t)(g & (s->cluster_size - 1));
	c->n = s->cluster_size - c->in;
	if (c->n > left)
		c->n = (size_t)left;
	int ret = l2_entry(s, c->gcl, &c->e);
	if (!ret)
		ret = qcow2_classify(s, c->e, &c->t, &c->host);
	return ret;
}

/* ---- update ---- */

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

int qcow2_set_l2(struct qcow2 *s, uint64_t gcl, uint64_t val)
{
	int i = l2_for_write(s, gcl);
	if (i < 0)
		return i;
	uint64_t v = htobe64(val);
	memcpy(s->l2c.e[i].data + (gcl & (s->l2_entries - 1)) * 8, &v, 8);
	s->l2c.e[i].dirty = true;
	return 0;
}

int qcow2_release(struct qcow2 *s, uint64_t e)
{
	enum ctype t;
	uint64_t host;
	int ret = qcow2_classify(s, e, &t, &host);
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
