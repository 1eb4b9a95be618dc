/* SPDX-License-Identifier: MIT
 * img.c - `minivmm img create|info|check` (usage in img.h). The output is
 * laid out like qemu-img's so that its users read it at a glance.
 *
 * A new qcow2 image is version 3 (compat 1.1), refcount_order 4 (16-bit
 * refcounts) unless -o refcount_bits says otherwise, 64 KiB clusters by
 * default; it holds the header (+ backing format and feature name
 * extensions and the backing file name) in cluster 0, then the refcount
 * table, the refcount blocks and the L1 table; no data cluster is
 * allocated.
 */
#include "devices/disk/img.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/disk/disk_int.h"
#include "devices/disk/qcow2_int.h"
#include "vmm/log.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: minivmm img create [-f raw|qcow2] [-b BACKING -F FMT] [-B DIR]... [-o cluster_size=N[,refcount_bits=N]] FILE [SIZE]\n"
		"       minivmm img info [-f FMT] [-B DIR]... FILE\n"
		"       minivmm img check [-f FMT] [-B DIR]... [-r leaks|all] FILE\n"
		"SIZE takes a K, M, G or T suffix (powers of 1024).\n"
		"A backing file must be in the image's directory (or below) or in a\n"
		"directory given with -B DIR; its format is never guessed.\n");
	return 1;
}

/* -B DIR: directories backing files may be in, besides the image's. */
struct bdirs {
	const char *dir[BLOCKDEV_MAX_BACKING_DIRS];
	unsigned n;
};

static int add_bdir(struct bdirs *b, const char *d)
{
	if (b->n == BLOCKDEV_MAX_BACKING_DIRS) {
		pr_err("-B: at most %d directories", BLOCKDEV_MAX_BACKING_DIRS);
		return 1;
	}
	b->dir[b->n++] = d;
	return 0;
}

/* "10G" -> bytes; -EINVAL on junk or overflow. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	unsigned shift = 0;
	switch (*end) {
	case 0: break;
	case 'b': case 'B': shift = 0; end++; break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'i' || *end == 'B')
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* The largest virtual size an image of the format can have: what the
 * qcow2 opener accepts, what a file offset can hold for raw. */
static uint64_t img_max_size(const char *fmt)
{
	return strcmp(fmt, "raw") ? 1ull << 56 : (uint64_t)INT64_MAX & ~511ull;
}

static void human(uint64_t v, char *buf, size_t len)
{
	static const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB",
				   "EiB" };
	double d = (double)v;
	int i = 0;
	while (d >= 1024 && i < 6) {
		d /= 1024;
		i++;
	}
	snprintf(buf, len, "%.3g %s", d, u[i]);
}

/* ---- create ---- */

static void put64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static void rc_set(uint8_t *b, uint32_t order, uint64_t i, uint64_t val)
{
	uint32_t bits = 1u << order;
	if (bits < 8) {
		uint64_t bit = i * bits;
		b[bit / 8] |= (uint8_t)(val << (bit % 8));
		return;
	}
	for (uint32_t k = 0; k < bits / 8; k++)
		b[i * (bits / 8) + k] =
			(uint8_t)(val >> (8 * (bits / 8 - 1 - k)));
}

static int write_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static const struct { uint8_t type, bit; const char *name; } features[] = {
	{ 0, 0, "dirty bit" },     { 0, 1, "corrupt bit" },
	{ 0, 2, "external data file" }, { 0, 3, "compression type" },
	{ 0, 4, "extended L2 entries" }, { 1, 0, "lazy refcounts" },
	{ 2, 0, "bitmaps" },       { 2, 1, "raw external data" },
};

/* Where a new image's metadata goes: the header cluster, the refcount
 * table, the refcount blocks (enough to count themselves, the table, the
 * header and the L1 table), then the L1 table. */
struct qlayout {
	uint32_t cs, order;
	uint64_t l1_size, l1_cl;   /* L1 entries and clusters */
	uint64_t per_rb;           /* refcounts per refcount block */
	uint64_t rt_cl, rb_n;      /* refcount table clusters, blocks */
	uint64_t rt_off, rb_off, l1_off, total;
};

static void qlayout_compute(struct qlayout *L, uint64_t size, uint32_t cs,
			    uint32_t order)
{
	uint64_t per_l1 = (uint64_t)cs * (cs / 8);

	L->cs = cs;
	L->order = order;
	L->l1_size = (size + per_l1 - 1) / per_l1;
	L->l1_cl = (L->l1_size * 8 + cs - 1) / cs;
	L->per_rb = (uint64_t)cs * 8 >> order;
	L->rt_cl = 1;
	L->rb_n = 1;
	for (int it = 0; it < 64; it++) {
		uint64_t n = 1 + L->rt_cl + L->rb_n + L->l1_cl;
		uint64_t need_rb = (n + L->per_rb - 1) / L->per_rb;
		uint64_t need_rt = (need_rb * 8 + cs - 1) / cs;
		if (need_rb == L->rb_n && need_rt == L->rt_cl)
			break;
		L->rb_n = need_rb;
		L->rt_cl = need_rt;
	}
	L->rt_off = cs;
	L->rb_off = L->rt_off + L->rt_cl * cs;
	L->l1_off = L->rb_off + L->rb_n * cs;
	L->total = L->l1_off + L->l1_cl * cs;
}

/* The version 3 header fields; returns where the extensions start. */
static uint32_t put_header(uint8_t *h, const struct qlayout *L, uint64_t size)
{
	put32(h, QCOW2_MAGIC);
	put32(h + 4, 3);
	put32(h + 20, (uint32_t)__builtin_ctz(L->cs));
	put64(h + 24, size);
	put32(h + 36, (uint32_t)L->l1_size);
	put64(h + 40, L->l1_off);
	put64(h + 48, L->rt_off);
	put32(h + 56, (uint32_t)L->rt_cl);
	put32(h + 96, L->order);
	put32(h + 100, 112);
	return 112;
}

/* Header extensions: the backing format, the feature name table (when it
 * leaves room for a backing file name), the end marker. Returns the end. */
static uint32_t put_extensions(uint8_t *h, uint32_t pos, uint32_t cs,
			       const char *backing, const char *backing_fmt)
{
	uint32_t nf = sizeof(features) / sizeof(features[0]);

	if (backing && backing_fmt) {
		uint32_t l = (uint32_t)strlen(backing_fmt);
		put32(h + pos, QCOW2_EXT_BACKING_FMT);
		put32(h + pos + 4, l);
		memcpy(h + pos + 8, backing_fmt, l);
		pos += 8 + ((l + 7) & ~7u);
	}
	if (pos + 8 + nf * 48 + 8 + 1024 <= cs) {
		put32(h + pos, QCOW2_EXT_FEATURES);
		put32(h + pos + 4, nf * 48);
		for (uint32_t i = 0; i < nf; i++) {
			h[pos + 8 + i * 48] = features[i].type;
			h[pos + 8 + i * 48 + 1] = features[i].bit;
			memcpy(h + pos + 8 + i * 48 + 2, features[i].name,
			       strlen(features[i].name));
		}
		pos += 8 + nf * 48;
	}
	return pos + 8; /* end of extensions */
}

/* The refcount table, and a refcount of one for every metadata cluster. */
static void put_refcounts(uint8_t *buf, const struct qlayout *L)
{
	for (uint64_t i = 0; i < L->rb_n; i++)
		put64(buf + L->rt_off + i * 8, L->rb_off + i * L->cs);
	for (uint64_t c = 0; c < L->total / L->cs; c++)
		rc_set(buf + L->rb_off + (c / L->per_rb) * L->cs, L->order,
		       c % L->per_rb, 1);
}

static int write_new_file(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ret;

	if (fd < 0) {
		ret = -errno;
		pr_err("%s: cannot create: %s", path, strerror(errno));
		return ret;
	}
	ret = write_all(fd, buf, len, 0);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	close(fd);
	if (ret)
		pr_err("%s: write failed: %s", path, strerror(-ret));
	return ret;
}

static int create_qcow2(const char *path, uint64_t size, uint32_t cs,
			uint32_t order, const char *backing,
			const char *backing_fmt)
{
	struct qlayout L;
	uint32_t pos;
	int ret;

	qlayout_compute(&L, size, cs, order);
	if (L.l1_size * 8 > QCOW2_MAX_L1_BYTES) {
		pr_err("%s: size too large for cluster size %u", path, cs);
		return -EFBIG;
	}
	uint8_t *buf = calloc(1, L.total);
	if (!buf)
		return -ENOMEM;
	pos = put_header(buf, &L, size);
	pos = put_extensions(buf, pos, cs, backing, backing_fmt);
	if (backing) {
		size_t l = strlen(backing);
		if (l > 1023 || pos + l > cs) {
			free(buf);
			pr_err("%s: backing file name too long", path);
			return -ENAMETOOLONG;
		}
		put64(buf + 8, pos);
		put32(buf + 16, (uint32_t)l);
		memcpy(buf + pos, backing, l);
	}
	put_refcounts(buf, &L);
	ret = write_new_file(path, buf, L.total);
	free(buf);
	return ret;
}

/* What `img create` was asked for. Exit statuses are 0 or 1 (one error
 * line printed, or the usage). */
struct create_args {
	const char *fmt, *backing, *bfmt;
	struct bdirs bdirs;
	uint32_t cs, order;       /* cluster size, log2 of refcount bits */
	const char *path, *sz;    /* FILE and SIZE as given */
	uint64_t size;
};

/* One KEY=VALUE of -o. */
static int create_opt(struct create_args *a, const char *key, uint64_t v)
{
	if (!strcmp(key, "cluster_size")) {
		if (v < 512 || v > (2u << 20) || (v & (v - 1))) {
			pr_err("cluster_size must be a power of two from 512 to 2M");
			return 1;
		}
		a->cs = (uint32_t)v;
	} else if (!strcmp(key, "refcount_bits")) {
		if (!v || v > 64 || (v & (v - 1))) {
			pr_err("refcount_bits must be 1, 2, 4, ..., 64");
			return 1;
		}
		a->order = (uint32_t)__builtin_ctzll(v);
	} else {
		pr_err("unknown option '%s' (cluster_size, refcount_bits)", key);
		return 1;
	}
	return 0;
}

/* -o cluster_size=N,refcount_bits=N */
static int create_opts(struct create_args *a, const char *arg)
{
	char *opts = strdup(arg), *save = NULL;
	int ret = 0;

	for (char *t = strtok_r(opts, ",", &save); t && !ret;
	     t = strtok_r(NULL, ",", &save)) {
		uint64_t v;
		char *eq = strchr(t, '=');

		if (!eq || parse_size(eq + 1, &v)) {
			pr_err("bad option '%s'", t);
			ret = 1;
			break;
		}
		*eq = 0;
		ret = create_opt(a, t, v);
	}
	free(opts);
	return ret;
}

static int create_parse(struct create_args *a, int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "f:b:F:B:o:h")) != -1) {
		switch (c) {
		case 'f': a->fmt = optarg; break;
		case 'b': a->backing = optarg; break;
		case 'B':
			if (add_bdir(&a->bdirs, optarg))
				return 1;
			break;
		case 'F': a->bfmt = optarg; break;
		case 'o':
			if (create_opts(a, optarg))
				return 1;
			break;
		default: return usage();
		}
	}
	if (optind >= argc || argc - optind > 2)
		return usage();
	a->path = argv[optind];
	a->sz = argc - optind == 2 ? argv[optind + 1] : NULL;
	return 0;
}

/* The options that only make sense together, and SIZE. */
static int create_check(struct create_args *a)
{
	if (strcmp(a->fmt, "raw") && strcmp(a->fmt, "qcow2")) {
		pr_err("unknown format '%s' (raw or qcow2)", a->fmt);
		return 1;
	}
	if (a->bfmt && !a->backing) {
		pr_err("-F needs -b");
		return 1;
	}
	if (a->backing && strcmp(a->fmt, "qcow2")) {
		pr_err("a backing file needs -f qcow2");
		return 1;
	}
	if (a->backing && !a->bfmt) {
		pr_err("-b %s needs -F raw|qcow2: a backing file's format is never guessed",
		       a->backing);
		return 1;
	}
	if (a->bfmt && strcmp(a->bfmt, "raw") && strcmp(a->bfmt, "qcow2")) {
		pr_err("unknown backing format '%s' (raw or qcow2)", a->bfmt);
		return 1;
	}
	if (a->sz && parse_size(a->sz, &a->size)) {
		pr_err("bad size '%s' (a number with an optional K, M, G or T suffix)",
		       a->sz);
		return 1;
	}
	if (a->sz && a->size > img_max_size(a->fmt)) {
		pr_err("size '%s' too large (at most %llu bytes for %s)", a->sz,
		       (unsigned long long)img_max_size(a->fmt), a->fmt);
		return 1;
	}
	if (!a->backing && !a->sz) {
		pr_err("a SIZE is needed (or -b BACKING to take its size)");
		return 1;
	}
	return 0;
}

/* Open the backing image as the new image will (relative to its
 * directory, inside the allowed directories, in the format -F gives) to
 * check it and learn its size. */
static int create_probe_backing(struct create_args *a)
{
	char real[4096], err[768];
	struct bd_allow allow;
	struct blockdev *b;
	struct stat st1, st2;
	bool q = log_quiet;
	int fd, ret;

	ret = backing_allow_init(&allow, a->path, a->bdirs.dir, a->bdirs.n,
				 err, sizeof(err));
	if (!ret)
		ret = backing_resolve(a->path, a->backing, &allow, O_RDONLY,
				      &fd, real, sizeof(real), err,
				      sizeof(err));
	if (ret) {
		backing_allow_free(&allow);
		pr_err("%s", err);
		return 1;
	}
	struct blockdev_opts o = { .path = real, .format = a->bfmt,
				   .readonly = true,
				   .backing_dirs = a->bdirs.dir,
				   .nr_backing_dirs = a->bdirs.n };
	struct bd_chain chain = BD_CHAIN_INIT(&o);
	/* the backing image's own backing files: the same allowed set */
	chain.allow = allow;
	chain.fd = fd;
	log_quiet = true;
	ret = blockdev_open_chain(&o, &chain, &b, err, sizeof(err));
	log_quiet = q;
	backing_allow_free(&chain.allow);
	if (ret) {
		pr_err("backing file: %s", err);
		return 1;
	}
	if (stat(real, &st1) == 0 && stat(a->path, &st2) == 0 &&
	    st1.st_dev == st2.st_dev && st1.st_ino == st2.st_ino) {
		blockdev_close(b);
		pr_err("%s: the image cannot be its own backing file", a->path);
		return 1;
	}
	if (!a->sz)
		a->size = b->size;
	blockdev_close(b);
	return 0;
}

static int create_raw(const char *path, uint64_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ret;

	if (fd < 0) {
		pr_err("%s: cannot create: %s", path, strerror(errno));
		return 1;
	}
	ret = ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
	close(fd);
	if (ret) {
		pr_err("%s: cannot set the size: %s", path, strerror(-ret));
		return 1;
	}
	return 0;
}

/* The line qemu-img prints for a new image. */
static void create_report(const struct create_args *a)
{
	char hs[32];

	human(a->size, hs, sizeof(hs));
	printf("Formatting '%s', fmt=%s size=%llu (%s)", a->path, a->fmt,
	       (unsigned long long)a->size, hs);
	if (!strcmp(a->fmt, "qcow2"))
		printf(" cluster_size=%u refcount_bits=%u", a->cs,
		       1u << a->order);
	if (a->backing)
		printf(" backing_file=%s backing_fmt=%s", a->backing, a->bfmt);
	printf("\n");
}

static int cmd_create(int argc, char **argv)
{
	struct create_args a = { .fmt = "qcow2", .cs = 65536, .order = 4 };
	int ret;

	ret = create_parse(&a, argc, argv);
	if (!ret)
		ret = create_check(&a);
	if (!ret && a.backing)
		ret = create_probe_backing(&a);
	if (ret)
		return ret;
	a.size = (a.size + 511) & ~511ull;
	if (!strcmp(a.fmt, "raw"))
		ret = create_raw(a.path, a.size);
	else if (create_qcow2(a.path, a.size, a.cs, a.order, a.backing, a.bfmt))
		ret = 1;
	if (!ret)
		create_report(&a);
	return ret;
}

/* ---- info ---- */

/* Open an image with the backing-file rules of a run (-B adds
 * directories). no_backing: the image alone (to describe an image whose
 * chain is refused). On failure err holds the one-line reason. */
static int open_img(const char *path, const char *fmt, bool ro,
		    const struct bdirs *bd_dirs, bool no_backing,
		    struct blockdev **bd, char *err, size_t errlen)
{
	struct blockdev_opts o = { .path = path, .format = fmt,
				   .readonly = ro,
				   .backing_dirs = bd_dirs->dir,
				   .nr_backing_dirs = bd_dirs->n };
	struct bd_chain chain = BD_CHAIN_INIT(&o);
	bool q = log_quiet;

	chain.no_backing = no_backing;
	log_quiet = true; /* format detection is normal here */
	int ret = blockdev_open_chain(&o, &chain, bd, err, errlen);
	log_quiet = q;
	backing_allow_free(&chain.allow);
	return ret;
}

static void print_info(struct blockdev *bd)
{
	struct stat st;
	char hs[32], ds[32];
	uint64_t disk = 0;
	if (stat(bd->path, &st) == 0)
		disk = (uint64_t)st.st_blocks * 512;
	human(bd->size, hs, sizeof(hs));
	human(disk, ds, sizeof(ds));
	printf("image: %s\nfile format: %s\nvirtual size: %s (%llu bytes)\ndisk size: %s\n",
	       bd->path, bd->format, hs, (unsigned long long)bd->size, ds);
	struct qcow2_info qi;
	if (qcow2_get_info(bd, &qi))
		return;
	printf("cluster_size: %u\n", qi.cluster_size);
	if (qi.backing_file[0]) {
		printf("backing file: %s", qi.backing_file);
		if (qi.backing && strcmp(qi.backing->path, qi.backing_file))
			printf(" (actual path: %s)", qi.backing->path);
		printf("\n");
		if (qi.backing_format[0])
			printf("backing file format: %s\n", qi.backing_format);
	}
	if (qi.nb_snapshots)
		printf("snapshots: %u (internal)\n", qi.nb_snapshots);
	printf("Format specific information:\n"
	       "    compat: %s\n    compression type: %s\n"
	       "    lazy refcounts: %s\n    refcount bits: %u\n"
	       "    corrupt: %s\n    dirty: %s\n",
	       qi.version >= 3 ? "1.1" : "0.10", qi.compression,
	       qi.lazy_refcounts ? "true" : "false", qi.refcount_bits,
	       qi.corrupt ? "true" : "false", qi.dirty ? "true" : "false");
}

/* Every image the chain opens, with its format and real path. */
static void print_chain(struct blockdev *bd)
{
	char real[4096];

	printf("backing chain:\n");
	for (struct blockdev *b = bd; b; b = blockdev_backing(b)) {
		const char *p = b->path;
		if (b == bd && realpath(b->path, real))
			p = real;
		printf("    %s (%s)\n", p, b->format);
	}
}

static int cmd_info(int argc, char **argv)
{
	const char *fmt = NULL;
	struct bdirs dirs = { .n = 0 };
	char err[768];
	int c;
	while ((c = getopt(argc, argv, "f:B:h")) != -1) {
		if (c == 'f')
			fmt = optarg;
		else if (c == 'B') {
			if (add_bdir(&dirs, optarg))
				return 1;
		} else
			return usage();
	}
	if (optind != argc - 1)
		return usage();
	struct blockdev *bd;
	if (open_img(argv[optind], fmt, true, &dirs, false, &bd, err,
		     sizeof(err))) {
		/* describe the image alone, then why its chain is refused */
		char err2[768];
		if (open_img(argv[optind], fmt, true, &dirs, true, &bd, err2,
			     sizeof(err2))) {
			pr_err("%s", err);
			return 1;
		}
		print_info(bd);
		blockdev_close(bd);
		printf("backing chain: refused: %s\n", err);
		pr_err("%s", err);
		return 1;
	}
	print_info(bd);
	if (blockdev_backing(bd))
		print_chain(bd);
	blockdev_close(bd);
	return 0;
}

/* ---- check ---- */

static void print_line(void *opaque, const char *line)
{
	(void)opaque;
	printf("%s\n", line);
}

static int cmd_check(int argc, char **argv)
{
	const char *fmt = NULL, *repair = NULL;
	struct bdirs dirs = { .n = 0 };
	char err[768];
	int c;
	while ((c = getopt(argc, argv, "f:r:B:h")) != -1) {
		if (c == 'f')
			fmt = optarg;
		else if (c == 'r')
			repair = optarg;
		else if (c == 'B') {
			if (add_bdir(&dirs, optarg))
				return 1;
		} else
			return usage();
	}
	if (optind != argc - 1)
		return usage();
	if (repair && strcmp(repair, "leaks") && strcmp(repair, "all")) {
		pr_err("-r takes leaks or all");
		return 1;
	}
	struct blockdev *bd;
	if (open_img(argv[optind], fmt, !repair, &dirs, false, &bd, err,
		     sizeof(err))) {
		pr_err("%s", err);
		return 1;
	}
	if (strcmp(bd->format, "qcow2")) {
		printf("This image format does not support checks\n");
		blockdev_close(bd);
		return 63;
	}
	struct qcow2_check_result r;
	int ret = qcow2_check(bd, repair != NULL, &r, print_line, NULL);
	blockdev_close(bd);
	if (ret) {
		pr_err("%s: check could not be completed: %s", argv[optind],
		       strerror(-ret));
		return 1;
	}
	if (r.leaks_fixed)
		printf("The following inconsistencies were found and repaired:\n\n    %llu leaked clusters\n    0 corruptions\n\n",
		       (unsigned long long)r.leaks_fixed);
	if (r.corruptions) {
		printf("\n%llu errors were found on the image.\n"
		       "Data may be corrupted, or further writes to the image may corrupt it.\n",
		       (unsigned long long)r.corruptions);
	}
	if (r.leaks) {
		printf("\n%llu leaked clusters were found on the image.\n"
		       "This means waste of disk space, but no harm to data.\n",
		       (unsigned long long)r.leaks);
	}
	if (!r.corruptions && !r.leaks)
		printf("No errors were found on the image.\n");
	if (r.total_clusters)
		printf("%llu/%llu = %.2f%% allocated\n",
		       (unsigned long long)r.allocated_clusters,
		       (unsigned long long)r.total_clusters,
		       100.0 * (double)r.allocated_clusters /
			       (double)r.total_clusters);
	printf("Image end offset: %llu\n", (unsigned long long)r.image_end);
	if (r.corruptions)
		return 2;
	if (r.leaks)
		return 3;
	return 0;
}

int img_main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *cmd = argv[1];
	optind = 1; /* getopt over argv[1..]: argv[1] is the command */
	if (!strcmp(cmd, "create"))
		return cmd_create(argc - 1, argv + 1);
	if (!strcmp(cmd, "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(cmd, "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(cmd, "help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "--help")) {
		usage();
		return 0;
	}
	pr_err("img: unknown command '%s' (create, info, check)", cmd);
	return usage();
}
