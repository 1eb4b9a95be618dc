/* SPDX-License-Identifier: MIT
 * blkdump - drive minivmm's block backends (blockdev.h) from test scripts.
 *
 *   blkdump read  IMG OUT                 whole image -> raw file OUT
 *   blkdump rw    IMG REF SEED COUNT      COUNT random writes, write-zeroes,
 *                                         discards and flushes through the
 *                                         backend, mirrored into the raw
 *                                         file REF (expected content)
 *   blkdump write IMG OFF LEN             LEN bytes of 0xa5 at OFF, flush
 *   blkdump crash IMG SEED LOG [STOP]     endless writes/write-zeroes with a
 *                                         flush every few; after each flush
 *                                         appends the last durable op to LOG
 *                                         (STOP: exit after the first flush
 *                                         from op STOP on, before logging it)
 *   blkdump verify IMG SEED LOG           after the writer was killed: every
 *                                         flushed write reads back intact
 *                                         (sectors written later, up to the
 *                                         next flush, may hold either value)
 *
 * Options before the command: -f FMT (format), -n (cache=none),
 * -B DIR (a directory backing files may be in; repeatable).
 * Exit status 0 = ok; messages name what differed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/disk/blockdev.h"

static const char *fmt;
static bool nocache;
static const char *bdirs[BLOCKDEV_MAX_BACKING_DIRS];
static unsigned nbdirs;

static struct blockdev *open_bd(const char *path, bool ro)
{
	struct blockdev_opts o = { .path = path, .format = fmt, .readonly = ro,
				   .cache = nocache ? BLOCKDEV_CACHE_NONE
						    : BLOCKDEV_CACHE_WRITEBACK,
				   .backing_dirs = bdirs,
				   .nr_backing_dirs = nbdirs };
	struct blockdev *bd;
	char err[600];
	int ret = blockdev_open(&o, &bd, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "blkdump: %s\n", err);
		exit(1);
	}
	return bd;
}

static void die(const char *what, int ret)
{
	fprintf(stderr, "blkdump: %s: %s\n", what, strerror(-ret));
	exit(1);
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static int cmd_read(const char *img, const char *out)
{
	struct blockdev *bd = open_bd(img, true);
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	size_t chunk = 1 << 20;
	uint8_t *buf = malloc(chunk);
	if (fd < 0 || !buf)
		die(out, -errno);
	for (uint64_t off = 0; off < bd->size; off += chunk) {
		size_t n = bd->size - off < chunk ? bd->size - off : chunk;
		/* split into two iovecs to exercise vectored reads */
		struct iovec v[2] = { { buf, n / 3 }, { buf + n / 3, n - n / 3 } };
		int ret = blockdev_preadv(bd, v, 2, off);
		if (ret)
			die("read", ret);
		if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n)
			die("write output", -errno);
	}
	close(fd);
	blockdev_close(bd);
	free(buf);
	return 0;
}

/* Random op: offset/length in 512-byte units, biased to small and
 * cluster-crossing requests. */
static void pick(uint64_t size, uint64_t *off, uint64_t *len)
{
	uint64_t maxlen = (rnd() % 4) ? 64 * 1024 : 1024 * 1024;
	*len = ((rnd() % (maxlen / 512)) + 1) * 512;
	if (*len > size)
		*len = size;
	*off = (rnd() % ((size - *len) / 512 + 1)) * 512;
}

static void fill(uint8_t *p, uint64_t len, uint64_t op, uint64_t off)
{
	for (uint64_t i = 0; i < len; i += 8) {
		uint64_t v = (op << 40) ^ ((off + i) / 512) ^
			     0x5a5a000000000000ull;
		memcpy(p + i, &v, 8);
	}
}

static int cmd_rw(const char *img, const char *ref, uint64_t seed, long count)
{
	struct blockdev *bd = open_bd(img, false);
	int rfd = open(ref, O_RDWR);
	uint8_t *buf = malloc(1 << 20), *old = malloc(1 << 20);
	if (rfd < 0 || !buf || !old)
		die(ref, -errno);
	rng_state = seed * 2654435761u + 1;
	for (long op = 1; op <= count; op++) {
		uint64_t off, len;
		unsigned kind = (unsigned)(rnd() % 16);
		pick(bd->size, &off, &len);
		int ret = 0;
		if (kind < 10) {
			fill(buf, len, (uint64_t)op, off);
			/* split into several iovecs at odd places */
			struct iovec v[3];
			uint64_t a = (len / 3) & ~7ull, b = (len / 2) & ~7ull;
			v[0] = (struct iovec){ buf, a };
			v[1] = (struct iovec){ buf + a, b - a };
			v[2] = (struct iovec){ buf + b, len - b };
			ret = blockdev_pwritev(bd, v, 3, off);
			if (pwrite(rfd, buf, len, (off_t)off) != (ssize_t)len)
				die("ref", -errno);
		} else if (kind < 12) {
			ret = blockdev_write_zeroes(bd, off, len, rnd() & 1);
			memset(buf, 0, len);
			if (pwrite(rfd, buf, len, (off_t)off) != (ssize_t)len)
				die("ref", -errno);
		} else if (kind < 14) {
			/* discard: each byte must read as zero or as before */
			if (pread(rfd, old, len, (off_t)off) != (ssize_t)len)
				die("ref", -errno);
			ret = blockdev_discard(bd, off, len);
			if (ret)
				die("discard", ret);
			struct iovec v = { buf, len };
			ret = blockdev_preadv(bd, &v, 1, off);
			if (ret)
				die("read after discard", ret);
			for (uint64_t i = 0; i < len; i++)
				if (buf[i] && buf[i] != old[i]) {
					fprintf(stderr,
						"blkdump: op %ld: byte %llu after discard is neither zero nor old data\n",
						op,
						(unsigned long long)(off + i));
					exit(1);
				}
			if (pwrite(rfd, buf, len, (off_t)off) != (ssize_t)len)
				die("ref", -errno);
		} else if (kind < 15) {
			ret = blockdev_flush(bd);
		} else {
			/* read back and compare with the reference */
			struct iovec v = { buf, len };
			ret = blockdev_preadv(bd, &v, 1, off);
			if (pread(rfd, old, len, (off_t)off) != (ssize_t)len)
				die("ref", -errno);
			if (!ret && memcmp(buf, old, len)) {
				fprintf(stderr, "blkdump: op %ld: read at %llu+%llu differs from expected\n",
					op, (unsigned long long)off,
					(unsigned long long)len);
				exit(1);
			}
		}
		if (ret)
			die("op", ret);
	}
	int ret = blockdev_flush(bd);
	if (ret)
		die("flush", ret);
	blockdev_close(bd);
	close(rfd);
	free(buf);
	free(old);
	return 0;
}

static int cmd_write(const char *img, uint64_t off, uint64_t len)
{
	struct blockdev *bd = open_bd(img, false);
	uint8_t *buf = malloc(len);
	if (!buf)
		die("memory", -ENOMEM);
	memset(buf, 0xa5, len);
	struct iovec v = { buf, len };
	int ret = blockdev_pwritev(bd, &v, 1, off);
	if (ret)
		die("write", ret);
	ret = blockdev_flush(bd);
	if (ret)
		die("flush", ret);
	blockdev_close(bd);
	free(buf);
	return 0;
}

/* ---- crash test ---- */
#define FLUSH_EVERY 6 /* a flush after at most this many ops */

struct cop {
	uint64_t off, len;
	bool zero;
	bool flush_after;
};

static void crash_op(uint64_t size, uint64_t op, struct cop *c)
{
	pick(size, &c->off, &c->len);
	c->zero = rnd() % 8 == 0;
	c->flush_after = rnd() % FLUSH_EVERY == 0 || op % FLUSH_EVERY == 0;
}

static __attribute__((noreturn)) void cmd_crash(const char *img, uint64_t seed,
						const char *log, uint64_t stop)
{
	struct blockdev *bd = open_bd(img, false);
	int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0644);
	uint8_t *buf = malloc(1 << 20);
	if (lfd < 0 || !buf)
		die(log, -errno);
	rng_state = seed * 2654435761u + 1;
	for (uint64_t op = 1;; op++) {
		struct cop c;
		crash_op(bd->size, op, &c);
		int ret;
		if (c.zero) {
			ret = blockdev_write_zeroes(bd, c.off, c.len, true);
		} else {
			fill(buf, c.len, op, c.off);
			struct iovec v = { buf, c.len };
			ret = blockdev_pwritev(bd, &v, 1, c.off);
		}
		if (ret)
			die("write", ret);
		if (c.flush_after) {
			ret = blockdev_flush(bd);
			if (ret)
				die("flush", ret);
			if (stop && op >= stop)
				_exit(0); /* like a kill before the log write */
			char line[32];
			int l = snprintf(line, sizeof(line), "%llu\n",
					 (unsigned long long)op);
			if (write(lfd, line, (size_t)l) != l)
				die("log", -errno);
		}
	}
}

static int cmd_verify(const char *img, uint64_t seed, const char *log)
{
	FILE *lf = fopen(log, "r");
	unsigned long long last = 0, v;
	if (lf) {
		while (fscanf(lf, "%llu", &v) == 1)
			last = v;
		fclose(lf);
	}
	struct blockdev *bd = open_bd(img, true);
	uint64_t size = bd->size, nsec = size / 512;
	uint8_t *want = calloc(1, size), *got = malloc(size);
	uint8_t *sec = malloc(1 << 20);
	if (!want || !got || !sec)
		die("memory", -ENOMEM);
	rng_state = seed * 2654435761u + 1;
	/* The ops after the last logged flush that may have reached the
	 * image: those up to and including the next flush (the writer may
	 * have died after that flush but before logging it); the writer
	 * cannot have started any op after it. */
	struct cop later[FLUSH_EVERY];
	int nlater = 0;
	for (uint64_t op = 1;; op++) {
		struct cop c;
		crash_op(size, op, &c);
		if (op <= last) {
			if (c.zero)
				memset(want + c.off, 0, c.len);
			else
				fill(want + c.off, c.len, op, c.off);
			continue;
		}
		later[nlater++] = c;
		if (c.flush_after)
			break;
	}
	for (uint64_t off = 0; off < size; off += 1 << 20) {
		struct iovec io = { got + off, 1 << 20 };
		int ret = blockdev_preadv(bd, &io, 1, off);
		if (ret)
			die("read", ret);
	}
	uint64_t bad = 0;
	for (uint64_t s = 0; s < nsec; s++) {
		uint64_t o = s * 512;
		if (!memcmp(got + o, want + o, 512))
			continue;
		bool ok = false;
		for (int k = 0; k < nlater && !ok; k++) {
			struct cop *c = &later[k];
			if (o < c->off || o >= c->off + c->len)
				continue;
			if (c->zero)
				memset(sec, 0, 512);
			else
				fill(sec, 512, last + 1 + (uint64_t)k, o);
			ok = !memcmp(got + o, sec, 512);
		}
		if (!ok) {
			if (bad < 5)
				fprintf(stderr, "blkdump: sector %llu: flushed data lost or garbage\n",
					(unsigned long long)s);
			bad++;
		}
	}
	blockdev_close(bd);
	free(want);
	free(got);
	free(sec);
	printf("verify: %llu flushed ops checked, %llu bad sectors\n", last,
	       (unsigned long long)bad);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	int c;
	while ((c = getopt(argc, argv, "+f:nB:")) != -1) {
		if (c == 'f')
			fmt = optarg;
		else if (c == 'B' && nbdirs < BLOCKDEV_MAX_BACKING_DIRS)
			bdirs[nbdirs++] = optarg;
		else if (c == 'n')
			nocache = true;
		else
			return 2;
	}
	argc -= optind;
	argv += optind;
	if (argc == 3 && !strcmp(argv[0], "read"))
		return cmd_read(argv[1], argv[2]);
	if (argc == 5 && !strcmp(argv[0], "rw"))
		return cmd_rw(argv[1], argv[2], strtoull(argv[3], NULL, 0),
			      atol(argv[4]));
	if (argc == 4 && !strcmp(argv[0], "write"))
		return cmd_write(argv[1], strtoull(argv[2], NULL, 0),
				 strtoull(argv[3], NULL, 0));
	if ((argc == 4 || argc == 5) && !strcmp(argv[0], "crash"))
		cmd_crash(argv[1], strtoull(argv[2], NULL, 0), argv[3],
			  argc == 5 ? strtoull(argv[4], NULL, 0) : 0);
	if (argc == 4 && !strcmp(argv[0], "verify"))
		return cmd_verify(argv[1], strtoull(argv[2], NULL, 0), argv[3]);
	fprintf(stderr, "usage: blkdump [-f FMT] [-n] read IMG OUT | rw IMG REF SEED COUNT | write IMG OFF LEN | crash IMG SEED LOG [STOP] | verify IMG SEED LOG\n");
	return 2;
}
