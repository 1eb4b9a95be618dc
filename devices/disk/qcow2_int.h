/* SPDX-License-Identifier: MIT
 * qcow2_int.h - the in-memory state of an open qcow2 image, shared by
 * qcow2.c (open, close, the blockdev operations), qcow2_meta.c (where the
 * metadata is, overlap checks), qcow2_map.c (L1/L2 mapping, table cache),
 * qcow2_io.c (read, write, discard, zeroes), qcow2_refcount.c (refcounts,
 * cluster allocation, write-back) and qcow2_check.c (consistency check).
 * Format reference: QEMU's docs/interop/qcow2.rst.
 */
#ifndef MINIVMM_QCOW2_INT_H
#define MINIVMM_QCOW2_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/disk/disk_int.h"

#define QCOW2_MAGIC 0x514649fbu /* "QFI\xfb" */

#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ull << 0)

#define QCOW2_OFLAG_COPIED (1ull << 63)    /* refcount is exactly one */
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO (1ull << 0)       /* v3: reads as zeroes */
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ull /* bits 9..55 */

#define QCOW2_EXT_END 0x00000000u
#define QCOW2_EXT_BACKING_FMT 0xe2792acau
#define QCOW2_EXT_FEATURES 0x6803f857u

#define QCOW2_MAX_L1_BYTES (32u << 20)  /* QEMU's limit, kept for safety */
#define QCOW2_MAX_RT_BYTES (8u << 20)
#define QCOW2_MAX_SNAP_BYTES (64u << 20) /* snapshot table, QEMU's limit */
#define QCOW2_MAX_SNAP_L1_CLUSTERS (1u << 22) /* all snapshot L1 tables */

/* A small write-back cache of one-cluster metadata tables (L2 tables or
 * refcount blocks), least recently used replaced first. */
struct qcache_entry {
	uint64_t off;     /* file offset of the table; 0 = empty slot */
	uint8_t *data;
	uint64_t lru;
	bool dirty;
};
struct qcache {
	int n;
	int last;         /* slot of the last hit */
	uint64_t tick;
	struct qcache_entry *e;
};

/* Which clusters hold metadata other than the header, the L1 table and
 * the refcount table (those are checked by range): a hash map from
 * cluster index to what the cluster holds, built at open and kept up to
 * date as tables are allocated and dropped (qcow2_meta.c). */
#define QM_RB 1u    /* a refcount block */
#define QM_SNAP 2u  /* the snapshot table or a snapshot's L1 table */
#define QM_L2 4u    /* an active L2 table */
#define QM_ALL (QM_RB | QM_SNAP | QM_L2)
struct qmeta_ent {
	uint64_t cl;      /* cluster index; 0 = empty slot (0 is the header) */
	uint32_t kinds;   /* QM_RB, QM_SNAP */
	uint32_t l2refs;  /* active L1 entries pointing here (QM_L2) */
};
struct qmeta {
	struct qmeta_ent *e;
	uint32_t bits;    /* 1 << bits slots, at most half of them used */
	size_t used;      /* slots with a key, including emptied ones */
};

/* A snapshot's L1 table (from the snapshot table, read at open). */
struct qsnap {
	uint64_t l1_offset;
	uint32_t l1_size;
};

/* A cluster whose refcount drops once the L2 change that stopped using
 * it is durable (see the ordering comment in qcow2_refcount.c). */
struct qfree {
	uint64_t off, len;
};

struct qcow2 {
	struct blockdev bd;
	struct bdfile f;
	pthread_mutex_t lock;          /* one lock for the whole image */

	/* header */
	uint32_t version;
	uint32_t cluster_bits, cluster_size;
	uint32_t l2_bits, l2_entries;  /* entries per L2 table */
	uint32_t l1_size;
	uint64_t l1_offset;
	uint64_t rt_offset;
	uint32_t rt_clusters;
	uint32_t nb_snapshots;
	uint64_t snapshots_offset;
	uint64_t snapshots_size;       /* bytes of the snapshot table */
	struct qsnap *snaps;
	uint64_t incompat, compat, autoclear;
	uint32_t refcount_order, refcount_bits;
	uint64_t refcount_max;
	uint32_t rb_bits;              /* log2(refcounts per block) */
	uint32_t header_length;
	uint8_t compression_type;      /* 0 deflate, 1 zstd */
	uint32_t csize_shift;          /* compressed descriptor layout */
	uint64_t csize_mask, coffset_mask;

	uint64_t *l1;                  /* host byte order */
	uint32_t l1_dirty_lo, l1_dirty_hi; /* dirty index range, lo > hi: none */
	uint64_t *rt;                  /* refcount table, host byte order */
	uint64_t rt_entries;

	struct qcache l2c, rbc;
	struct qmeta meta;
	bool corrupt;                  /* found corrupt: nothing more written */
	uint64_t free_hint;            /* first cluster index worth scanning */
	uint64_t end_cl;               /* clusters in use up to here (file end) */
	struct qfree *pend;            /* frees waiting for the next flush */
	size_t npend, cappend;
	/* Extents qcow2_aio_map handed out and not yet ended (atomic), in
	 * two generations: new ones count in aio_cnt[aio_gen & 1].
	 * pend[0..nwait) wait for the other generation to drain: they were
	 * queued before it stopped taking new extents (qcow2_flush_locked),
	 * so no extent mapped later can be in a cluster they free. */
	unsigned aio_gen;
	unsigned aio_cnt[2];
	size_t nwait;

	char backing_name[1024];
	char backing_fmt[32];
	struct blockdev *backing;

	uint8_t *cbuf;                 /* cluster-sized scratch */
	uint8_t *zbuf;                 /* compressed input (2 clusters) */
	uint64_t cbuf_entry;           /* compressed L2 entry now in dbuf, or 0 */
	uint8_t *dbuf;                 /* last decompressed cluster */
	void *zstd;                    /* ZSTD_DCtx */
};

static inline struct qcow2 *to_qcow2(struct blockdev *bd)
{
	return (struct qcow2 *)bd;
}

/* metadata table cache (qcow2_map.c) */
int qcache_init(struct qcache *c, int n);
void qcache_free(struct qcache *c);
/* Get table at off (loaded from the file unless fresh, then zeroed).
 * Evicting a dirty L2 table flushes the image first. Returns the slot
 * or -errno. The pointer stays valid until the next get on this cache. */
int qcache_get(struct qcow2 *s, struct qcache *c, uint64_t off, bool fresh);
int qcache_write_dirty(struct qcow2 *s, struct qcache *c);
void qcache_drop(struct qcache *c, uint64_t off);

/* metadata clusters (qcow2_meta.c) */
void qmeta_free(struct qmeta *m);
/* [off, off+len) now holds metadata of kind k (QM_L2: one more active L1
 * entry points to the table at off); qcow2_meta_drop undoes one add. */
int qcow2_meta_add(struct qcow2 *s, uint64_t off, uint64_t len, uint32_t k);
void qcow2_meta_drop(struct qcow2 *s, uint64_t off, uint64_t len, uint32_t k);
/* Why refcount table entry e is no usable refcount block ("misaligned...",
 * "outside the file", "on ..."), or NULL if it is fine (or 0). */
const char *qcow2_rb_bad(struct qcow2 *s, uint64_t e);
/* Where [off, off+len) lands on metadata: "on the header cluster", "on the
 * L1 table", "on the refcount table", or on a cluster holding metadata of
 * one of `kinds` (QM_*); NULL if nowhere. */
const char *qcow2_overlaps_meta(struct qcow2 *s, uint64_t off, uint64_t len,
				uint32_t kinds);
/* Report a corruption (the first one only: a guest may retry forever),
 * refuse every later write and metadata update, return -EIO. */
int qcow2_corrupt(struct qcow2 *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* At open, with the L1, refcount and snapshot tables loaded: fill the
 * map (active L2 tables, refcount blocks, the snapshot table and snapshot
 * L1 tables), then check the snapshot tables and every refcount table
 * entry against it. 0, or -errno with a message in err. */
int qcow2_meta_build(struct qcow2 *s, char *err, size_t errlen);

/* refcounts (qcow2_refcount.c) */
int qcow2_get_refcount(struct qcow2 *s, uint64_t cl, uint64_t *rc);
int qcow2_update_refcount(struct qcow2 *s, uint64_t cl, int64_t delta);
/* Allocate one free cluster (refcount 0 -> 1); *off = its file offset.
 * A cluster with refcount 0 that holds metadata makes the image corrupt
 * (-EIO). */
int qcow2_alloc_cluster(struct qcow2 *s, uint64_t *off);
/* Queue a decrement of every cluster in [off, off+len) for after the
 * next metadata write-back. */
int qcow2_free_later(struct qcow2 *s, uint64_t off, uint64_t len);
/* Write back everything in crash-safe order and fdatasync. */
int qcow2_flush_locked(struct qcow2 *s);

/* mapping (qcow2_map.c) */
enum ctype { C_UNALLOC, C_ZERO, C_NORMAL, C_COMPRESSED };
/* Classify an L2 entry; *host = the cluster's host offset (for normal and
 * zero-with-allocation clusters). Checks the offset. */
int qcow2_classify(struct qcow2 *s, uint64_t e, enum ctype *t, uint64_t *host);
/* One step of a walk over guest clusters: the part of [g, g+left) inside
 * the cluster holding g, with that cluster's checked L2 entry. */
struct cstep {
	uint64_t g;     /* where the step starts (guest offset) */
	uint64_t gcl;   /* guest cluster index */
	uint32_t in;    /* offset of g inside it */
	size_t n;       /* bytes of the walk inside it */
	uint64_t e;     /* its L2 entry */
	uint64_t host;  /* host offset, as qcow2_classify() gives it */
	enum ctype t;
};
int qcow2_cluster_step(struct qcow2 *s, uint64_t g, uint64_t left,
		       struct cstep *c);
/* Set the L2 entry of guest cluster gcl to val (host byte order), making
 * its L2 table writable first. */
int qcow2_set_l2(struct qcow2 *s, uint64_t gcl, uint64_t val);
/* Queue the release of what L2 entry e holds (after the next flush). */
int qcow2_release(struct qcow2 *s, uint64_t e);

/* guest I/O, the blockdev operations (qcow2_io.c) */
int qcow2_preadv(struct blockdev *bd, const struct iovec *iov, int iovcnt,
		 uint64_t off);
int qcow2_pwritev(struct blockdev *bd, const struct iovec *iov, int iovcnt,
		  uint64_t off);
int qcow2_discard(struct blockdev *bd, uint64_t off, uint64_t len);
int qcow2_aio_map(struct blockdev *bd, uint64_t off, uint64_t len,
		  bool write, struct bd_extent *e);
void qcow2_aio_end(struct blockdev *bd, unsigned ticket);
int qcow2_write_zeroes(struct blockdev *bd, uint64_t off, uint64_t len,
		       bool may_unmap);

#endif
