/* SPDX-License-Identifier: MIT
 * qcow2.c - the qcow2 image format, versions 2 and 3
 * (QEMU's docs/interop/qcow2.rst): opening an image (the header, its
 * extensions and feature bits, the sizes and places of the L1, refcount
 * and snapshot tables, all validated; the backing image), closing it, and
 * the blockdev operations. The rest of the format:
 *
 *   qcow2_meta.c      where the metadata is; overlap checks, corruption
 *   qcow2_map.c       L1/L2 lookup and update, the table cache
 *   qcow2_io.c        read, write with copy-on-write, discard, zeroes
 *   qcow2_refcount.c  refcounts, allocation, crash-safe write-back order
 *   qcow2_check.c     consistency check (`minivmm img check`)
 *
 * Internal snapshots are left alone: their tables are read (the snapshot
 * table at open, the rest by the checker) but never written; clusters
 * shared with a snapshot are copied before being written (their COPIED
 * flag is clear).
 */
#include "devices/disk/qcow2_int.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

/* ---- flush, close, the operations ---- */

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
	.aio_map = qcow2_aio_map,
	.aio_end = qcow2_aio_end,
};

/* ---- open ---- */

/* Each open step returns 0, or a negative errno with one line in err that
 * starts with the image's path. */
static int __attribute__((format(printf, 4, 5)))
open_err(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

#define FAIL(...) return open_err(err, errlen, -EINVAL, __VA_ARGS__)
#define NOMEM(p) \
	return open_err(err, errlen, -ENOMEM, "%s: %s", p, strerror(ENOMEM))

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
}

/* What opening reads before the image's state is complete: the header, its
 * first cluster (header extensions, the backing file name) and where in it
 * the backing file name and the feature name table are. */
struct qopen {
	struct bdfile *f;
	const struct blockdev_opts *o;
	uint64_t fsize;
	uint8_t h[112];
	uint8_t *c0;
	uint64_t bf_off;
	uint32_t bf_size;
	const uint8_t *ftab;
	uint32_t ftab_len;
};

static struct qcow2 *qcow2_alloc(struct bdfile *f, const struct blockdev_opts *o)
{
	struct qcow2 *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->f = *f;
	s->bd.path = strdup(o->path);
	s->bd.ops = &qcow2_ops;
	s->bd.format = "qcow2";
	s->bd.readonly = o->readonly;
	s->bd.direct = f->direct;
	s->bd.align = f->align;
	s->bd.aio_fd = f->fd;
	s->l1_dirty_lo = UINT32_MAX;
	return s;
}

/* The version 2 header (72 bytes): magic, version, cluster size, virtual
 * size, where the tables are. */
static int read_header(struct qcow2 *s, struct qopen *q, char *err,
		       size_t errlen)
{
	const char *p = s->bd.path;
	const uint8_t *h = q->h;
	int ret;

	ret = bdfile_size(q->f, &q->fsize);
	if (!ret)
		ret = bdfile_pread(q->f, q->h, sizeof(q->h), 0);
	if (ret)
		return open_err(err, errlen, ret, "%s: cannot read: %s", p,
				strerror(-ret));
	if (q->fsize < 72)
		FAIL("%s: qcow2 file too short (%llu bytes)", p,
		     (unsigned long long)q->fsize);
	if (rd32(h) != QCOW2_MAGIC)
		FAIL("%s: not a qcow2 image (bad magic)", p);
	s->version = rd32(h + 4);
	if (s->version != 2 && s->version != 3)
		FAIL("%s: unsupported qcow2 version %u (2 and 3 are supported)",
		     p, s->version);
	q->bf_off = rd64(h + 8);
	q->bf_size = rd32(h + 16);
	s->cluster_bits = rd32(h + 20);
	if (s->cluster_bits < 9 || s->cluster_bits > 21)
		FAIL("%s: cluster_bits %u out of range (9..21)", p,
		     s->cluster_bits);
	s->cluster_size = 1u << s->cluster_bits;
	s->l2_bits = s->cluster_bits - 3;
	s->l2_entries = s->cluster_size / 8;
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
	return 0;
}

/* Version 3 adds feature bits, the refcount width, the header length and
 * the compression type. */
static int read_header_v3(struct qcow2 *s, struct qopen *q, char *err,
			  size_t errlen)
{
	const char *p = s->bd.path;
	const uint8_t *h = q->h;

	if (s->version < 3)
		return 0;
	s->incompat = rd64(h + 72);
	s->compat = rd64(h + 80);
	s->autoclear = rd64(h + 88);
	s->refcount_order = rd32(h + 96);
	s->header_length = rd32(h + 100);
	if (q->fsize < 104)
		FAIL("%s: qcow2 file too short (%llu bytes)", p,
		     (unsigned long long)q->fsize);
	if (s->header_length < 104 || s->header_length % 8 ||
	    s->header_length > s->cluster_size)
		FAIL("%s: bad header_length %u", p, s->header_length);
	if (s->header_length > 104)
		s->compression_type = h[104];
	return 0;
}

/* Refcount width, and the bit fields of a compressed cluster descriptor,
 * which both follow from the header's sizes. */
static int set_refcount_geometry(struct qcow2 *s, char *err, size_t errlen)
{
	if (s->refcount_order > 6)
		FAIL("%s: refcount_order %u out of range (0..6)", s->bd.path,
		     s->refcount_order);
	s->refcount_bits = 1u << s->refcount_order;
	s->refcount_max = s->refcount_bits == 64 ? UINT64_MAX
			  : (1ull << s->refcount_bits) - 1;
	s->rb_bits = s->cluster_bits + 3 - s->refcount_order;
	s->csize_shift = 62 - (s->cluster_bits - 8);
	s->csize_mask = (1ull << (s->cluster_bits - 8)) - 1;
	s->coffset_mask = (1ull << s->csize_shift) - 1;
	return 0;
}

/* Cluster 0 past the header: the header extensions (backing format,
 * feature name table), which end at the backing file name if that is in
 * the same cluster. */
static int read_extensions(struct qcow2 *s, struct qopen *q, char *err,
			   size_t errlen)
{
	const char *p = s->bd.path;
	uint32_t cs = s->cluster_size, ext_end = cs;
	int ret;

	q->c0 = malloc(cs);
	if (!q->c0)
		NOMEM(p);
	ret = bdfile_pread(q->f, q->c0, cs, 0);
	if (ret)
		return open_err(err, errlen, ret, "%s: cannot read: %s", p,
				strerror(-ret));
	if (q->bf_off && q->bf_off < ext_end)
		ext_end = (uint32_t)q->bf_off;
	for (uint32_t pos = s->version >= 3 ? s->header_length : 72;;) {
		if (pos + 8 > ext_end)
			break; /* no end marker: tolerated (v2 images) */
		uint32_t type = rd32(q->c0 + pos), len = rd32(q->c0 + pos + 4);
		if (type == QCOW2_EXT_END)
			break;
		if (len > ext_end - pos - 8)
			FAIL("%s: header extension 0x%x overruns the header cluster",
			     p, type);
		const uint8_t *d = q->c0 + pos + 8;
		if (type == QCOW2_EXT_BACKING_FMT) {
			if (len >= sizeof(s->backing_fmt))
				FAIL("%s: backing format name too long", p);
			memcpy(s->backing_fmt, d, len);
			s->backing_fmt[len] = 0;
		} else if (type == QCOW2_EXT_FEATURES) {
			q->ftab = d;
			q->ftab_len = len;
		}
		pos += 8 + ((len + 7) & ~7u);
	}
	return 0;
}

/* Incompatible feature bits this code does not know, by their names from
 * the image's feature name table. */
static int refuse_unknown_features(struct qcow2 *s, struct qopen *q,
				   char *err, size_t errlen)
{
	uint64_t unknown = s->incompat & ~0x1full;
	char list[512] = "", nb[64];

	if (!unknown)
		return 0;
	for (int b = 0; b < 64; b++) {
		if (!(unknown & (1ull << b)))
			continue;
		size_t l = strlen(list);
		snprintf(list + l, sizeof(list) - l, "%s%s", l ? ", " : "",
			 feature_name(q->ftab, q->ftab_len, 0, b, nb, sizeof(nb)));
	}
	FAIL("%s: unsupported qcow2 features: %s", s->bd.path, list);
}

/* The known incompatible features: the ones not implemented are refused,
 * a corrupt or dirty image only opens read-only. */
static int check_features(struct qcow2 *s, struct qopen *q, char *err,
			  size_t errlen)
{
	const char *p = s->bd.path;
	bool ro = q->o->readonly;
	char nb[64];
	int ret = refuse_unknown_features(s, q, err, errlen);

	if (ret)
		return ret;
	if (s->incompat & QCOW2_INCOMPAT_DATA_FILE)
		FAIL("%s: images with an external data file (%s) are not supported",
		     p, feature_name(q->ftab, q->ftab_len, 0, 2, nb, sizeof(nb)));
	if (s->incompat & QCOW2_INCOMPAT_EXTL2)
		FAIL("%s: images with extended L2 entries (%s) are not supported",
		     p, feature_name(q->ftab, q->ftab_len, 0, 4, nb, sizeof(nb)));
	if (s->incompat & QCOW2_INCOMPAT_COMPRESSION) {
		if (s->header_length <= 104 || s->compression_type != 1)
			FAIL("%s: unsupported compression type %u (zlib and zstd are supported)",
			     p, s->compression_type);
	} else if (s->compression_type) {
		FAIL("%s: compression type %u set without its feature bit", p,
		     s->compression_type);
	}
	if ((s->incompat & QCOW2_INCOMPAT_CORRUPT) && !ro)
		FAIL("%s: the image is marked corrupt; open it with readonly=on or repair it (qemu-img check -r all)",
		     p);
	if ((s->incompat & QCOW2_INCOMPAT_DIRTY) && !ro)
		FAIL("%s: the image is dirty (lazy refcounts not written back); repair it with `qemu-img check -r all %s` or open it with readonly=on",
		     p, p);
	return 0;
}

/* The virtual size, and an L1 table that covers it, inside the file. */
static int check_l1_table(struct qcow2 *s, struct qopen *q, char *err,
			  size_t errlen)
{
	const char *p = s->bd.path;
	uint32_t cs = s->cluster_size;

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
	    !range_in(s->l1_offset, (uint64_t)s->l1_size * 8, q->fsize))
		FAIL("%s: L1 table offset 0x%llx invalid or outside the file", p,
		     (unsigned long long)s->l1_offset);
	return 0;
}

/* The refcount table inside the file and off the L1 table; the snapshot
 * table's start (its length is known once its entries are read). */
static int check_rt_and_snapshots(struct qcow2 *s, struct qopen *q, char *err,
				  size_t errlen)
{
	const char *p = s->bd.path;
	uint32_t cs = s->cluster_size;
	uint64_t rt_len = (uint64_t)s->rt_clusters * cs;

	if (!s->rt_clusters || rt_len > QCOW2_MAX_RT_BYTES)
		FAIL("%s: bad refcount table size (%u clusters)", p,
		     s->rt_clusters);
	if (s->rt_offset % cs || s->rt_offset < cs ||
	    !range_in(s->rt_offset, rt_len, q->fsize))
		FAIL("%s: refcount table offset 0x%llx invalid or outside the file",
		     p, (unsigned long long)s->rt_offset);
	if (s->l1_size && s->l1_offset < s->rt_offset + rt_len &&
	    s->rt_offset < s->l1_offset + (uint64_t)s->l1_size * 8)
		FAIL("%s: L1 table and refcount table overlap", p);
	if (s->nb_snapshots > 65536 ||
	    (s->nb_snapshots && (s->snapshots_offset % cs ||
				 s->snapshots_offset < cs ||
				 s->snapshots_offset >= q->fsize)))
		FAIL("%s: bad snapshot table (%u snapshots at 0x%llx)", p,
		     s->nb_snapshots, (unsigned long long)s->snapshots_offset);
	return 0;
}

/* The backing file name: inside cluster 0, no NUL byte in it. */
static int read_backing_name(struct qcow2 *s, struct qopen *q, char *err,
			     size_t errlen)
{
	uint32_t cs = s->cluster_size, len = q->bf_size;

	if (!q->bf_off)
		return 0;
	if (len == 0 || len > 1023 || q->bf_off > cs || len > cs - q->bf_off)
		FAIL("%s: bad backing file name location", s->bd.path);
	memcpy(s->backing_name, q->c0 + q->bf_off, len);
	s->backing_name[len] = 0;
	if (strlen(s->backing_name) != len)
		FAIL("%s: backing file name contains a NUL byte", s->bd.path);
	return 0;
}

/* The L1 and refcount tables, kept in memory in host byte order, and the
 * cluster-sized buffers for compressed clusters. */
static int load_tables(struct qcow2 *s, struct qopen *q, char *err,
		       size_t errlen)
{
	const char *p = s->bd.path;
	uint32_t cs = s->cluster_size;
	int ret;

	s->l1 = calloc(s->l1_size ? s->l1_size : 1, 8);
	s->rt_entries = (uint64_t)s->rt_clusters * cs / 8;
	s->rt = calloc(s->rt_entries, 8);
	s->cbuf = malloc(cs);
	s->dbuf = malloc(cs);
	s->zbuf = malloc(2 * (size_t)cs);
	if (!s->l1 || !s->rt || !s->cbuf || !s->dbuf || !s->zbuf)
		NOMEM(p);
	ret = bdfile_pread(q->f, s->l1, (size_t)s->l1_size * 8, s->l1_offset);
	if (!ret)
		ret = bdfile_pread(q->f, s->rt, s->rt_entries * 8, s->rt_offset);
	if (ret)
		return open_err(err, errlen, ret, "%s: cannot read tables: %s",
				p, strerror(-ret));
	for (uint32_t i = 0; i < s->l1_size; i++)
		s->l1[i] = be64toh(s->l1[i]);
	for (uint64_t i = 0; i < s->rt_entries; i++)
		s->rt[i] = be64toh(s->rt[i]);
	if (s->compression_type == 1 && !(s->zstd = ZSTD_createDCtx()))
		NOMEM(p);
	return 0;
}

/* The table caches, filled on demand: 4 MiB of L2 tables (8..1024 tables,
 * 64 KiB clusters: 64 tables mapping 32 GiB), 1 MiB of refcount blocks
 * (4..64); and where allocation starts looking. */
static int init_caches(struct qcow2 *s, struct qopen *q, char *err,
		       size_t errlen)
{
	uint32_t cs = s->cluster_size;
	int nl2 = (int)((4u << 20) / cs), nrb = (int)((1u << 20) / cs);

	nl2 = nl2 < 8 ? 8 : nl2 > 1024 ? 1024 : nl2;
	nrb = nrb < 4 ? 4 : nrb > 64 ? 64 : nrb;
	if (qcache_init(&s->l2c, nl2) || qcache_init(&s->rbc, nrb))
		NOMEM(s->bd.path);
	s->end_cl = (q->fsize + cs - 1) / cs;
	s->free_hint = 1;
	return 0;
}

/* The backing image: read-only, in a format that is known (the user's
 * backing-format= for the top image, else the image's backing format
 * extension; never detected), at a place the resolver allows
 * (backing.c). */
static int open_backing(struct qcow2 *s, struct bd_chain *chain,
			const struct blockdev_opts *o, char *err, size_t errlen)
{
	const char *p = s->bd.path;
	char real[4096], berr[768];
	int ret, fd;

	if (!s->backing_name[0] || chain->no_backing)
		return 0;
	const char *bfmt = s->backing_fmt[0] ? s->backing_fmt : NULL;
	if (chain->n == 1 && chain->top && chain->top->backing_format)
		bfmt = chain->top->backing_format;
	if (!bfmt)
		return open_err(err, errlen, -EINVAL,
				"%s: backing file %s: its format is not recorded in the image; refused (give it with backing-format=raw|qcow2, or record it: qemu-img rebase -u -b NAME -F FMT)",
				p, s->backing_name);
	if (strcmp(bfmt, "raw") && strcmp(bfmt, "qcow2"))
		FAIL("%s: backing file format '%s' is not supported", p, bfmt);
	if (!chain->allow.n) {
		const struct blockdev_opts *t = chain->top ? chain->top : o;
		ret = backing_allow_init(&chain->allow, t->path,
					 t->backing_dirs, t->nr_backing_dirs,
					 berr, sizeof(berr));
		if (ret)
			return open_err(err, errlen, ret, "%s: %s", p, berr);
	}
	int flags = O_RDONLY | (o->cache == BLOCKDEV_CACHE_NONE ? O_DIRECT : 0);
	ret = backing_resolve(p, s->backing_name, &chain->allow, flags, &fd,
			      real, sizeof(real), err, errlen);
	if (ret)
		return ret;
	struct blockdev_opts bo = { .path = real, .format = bfmt,
				    .readonly = true, .cache = o->cache };
	chain->fd = fd;
	ret = blockdev_open_chain(&bo, chain, &s->backing, berr, sizeof(berr));
	if (ret)
		return open_err(err, errlen, ret, "%s: backing file: %s", p,
				berr);
	return 0;
}

/* Unknown autoclear bits (e.g. bitmaps not kept in sync here) must be
 * cleared before the first write. */
static int clear_autoclear(struct qcow2 *s, struct qopen *q, char *err,
			   size_t errlen)
{
	uint64_t z = 0;
	int ret;

	if (q->o->readonly || !s->autoclear)
		return 0;
	ret = bdfile_pwrite(q->f, &z, 8, 88);
	if (!ret)
		ret = bdfile_flush(q->f);
	if (ret)
		return open_err(err, errlen, ret,
				"%s: cannot update the header: %s", s->bd.path,
				strerror(-ret));
	s->autoclear = 0;
	return 0;
}

int qcow2_open(struct bdfile *f, const struct blockdev_opts *o,
	       struct bd_chain *chain, struct blockdev **out, char *err,
	       size_t errlen)
{
	struct qopen q = { .f = f, .o = o };
	struct qcow2 *s = qcow2_alloc(f, o);
	int ret;

	if (!s)
		return -ENOMEM;
	if (!s->bd.path)
		ret = open_err(err, errlen, -ENOMEM, "%s: %s", o->path,
			       strerror(ENOMEM));
	else
		ret = read_header(s, &q, err, errlen);
	if (!ret)
		ret = read_header_v3(s, &q, err, errlen);
	if (!ret)
		ret = set_refcount_geometry(s, err, errlen);
	if (!ret)
		ret = read_extensions(s, &q, err, errlen);
	if (!ret)
		ret = check_features(s, &q, err, errlen);
	if (!ret)
		ret = check_l1_table(s, &q, err, errlen);
	if (!ret)
		ret = check_rt_and_snapshots(s, &q, err, errlen);
	if (!ret)
		ret = read_backing_name(s, &q, err, errlen);
	if (!ret)
		ret = load_tables(s, &q, err, errlen);
	if (!ret)
		ret = init_caches(s, &q, err, errlen);
	if (!ret)
		ret = load_snapshots(s, q.fsize, err, errlen);
	if (!ret)
		ret = qcow2_meta_build(s, err, errlen);
	if (!ret)
		ret = open_backing(s, chain, o, err, errlen);
	if (!ret)
		ret = clear_autoclear(s, &q, err, errlen);
	free(q.c0);
	if (ret) {
		s->bd.readonly = true;
		qcow2_free(s);
		return ret;
	}
	pthread_mutex_init(&s->f.rmw_lock, NULL);
	*out = &s->bd;
	return 0;
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
