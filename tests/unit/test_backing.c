/* SPDX-License-Identifier: MIT
 * Unit tests: where a qcow2 image's backing file may be (backing.c) and
 * that its format is never guessed. Images are made with img_main and
 * their backing file name rewritten in place, as a hostile image would
 * be: absolute names, ".." escapes, symlinks out, devices and FIFOs are
 * refused with an error naming the file; names inside the image's
 * directory or a backing-dir= directory open; chains follow the same
 * rules; `img create -b` and `img info` apply them too. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/disk/disk_int.h"
#include "devices/disk/img.h"
#include "vmm/log.h"

static char root[64];
static char in[128], out[128]; /* the images' directory, another one */

static void path_in(char *buf, size_t len, const char *d, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", d, name);
	assert_true(n > 0 && (size_t)n < len);
}

/* img_main with stdout (and, quiet, stderr) sent to file out_path. */
static int img_to(const char *out_path, const char *const *args)
{
	char *argv[16];
	int argc = 0;

	argv[argc++] = "img";
	while (*args && argc < 15)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	fflush(stdout);
	int save = dup(1);
	int fd = open(out_path ? out_path : "/dev/null",
		      O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 1);
	int ret = img_main(argc, argv);
	fflush(stdout);
	dup2(save, 1);
	close(save);
	close(fd);
	return ret;
}
#define IMG(...) img_to(NULL, (const char *const[]){ __VA_ARGS__, NULL })

static void make_file(const char *p, const char *text)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	char buf[4096] = { 0 };
	snprintf(buf, sizeof(buf), "%s", text);
	assert_int_equal(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);
}

/* Point the backing file name of the qcow2 image p at name (at offset
 * 4096 of cluster 0; the header's extensions end well before). */
static void set_backing(const char *p, const char *name)
{
	int fd = open(p, O_WRONLY);
	uint64_t off = htobe64(4096);
	uint32_t len = htobe32((uint32_t)strlen(name));
	assert_int_equal(pwrite(fd, name, strlen(name), 4096),
			 (ssize_t)strlen(name));
	assert_int_equal(pwrite(fd, &off, 8, 8), 8);
	assert_int_equal(pwrite(fd, &len, 4, 16), 4);
	close(fd);
}

/* A qcow2 image at p over the raw file "base.raw" of its directory (so
 * the backing format raw is recorded), then renamed to name. */
static void make_top(const char *p, const char *name)
{
	char base[192], d[160];
	int n = snprintf(d, sizeof(d), "%s", p);
	assert_true(n > 0 && (size_t)n < sizeof(d));
	*strrchr(d, '/') = 0;
	path_in(base, sizeof(base), d, "base.raw");
	make_file(base, "BASE");
	assert_int_equal(IMG("create", "-b", "base.raw", "-F", "raw", p, "1M"),
			 0);
	set_backing(p, name);
}

static int open_top(const char *p, const char *bfmt, const char *const *dirs,
		    unsigned ndirs, struct blockdev **bd, char *err,
		    size_t errlen)
{
	struct blockdev_opts o = { .path = p, .format = "qcow2",
				   .readonly = true, .backing_format = bfmt,
				   .backing_dirs = dirs,
				   .nr_backing_dirs = ndirs };
	*bd = NULL;
	err[0] = 0;
	return blockdev_open(&o, bd, err, errlen);
}

/* Opening p is refused with an error naming p and holding needle. */
static void refused(const char *p, const char *needle)
{
	struct blockdev *bd;
	char err[1024];
	int ret = open_top(p, NULL, NULL, 0, &bd, err, sizeof(err));
	if (!ret) {
		fprintf(stderr, "%s: opened (backing %s)\n", p,
			blockdev_backing(bd) ? blockdev_backing(bd)->path : "-");
		blockdev_close(bd);
	} else if (!strstr(err, needle)) {
		fprintf(stderr, "%s: '%s' lacks '%s'\n", p, err, needle);
	}
	assert_int_not_equal(ret, 0);
	assert_non_null(strstr(err, p));
	assert_non_null(strstr(err, needle));
}

/* The first bytes the image at p reads (through its backing file). */
static void reads(const char *p, const char *const *dirs, unsigned n,
		  const char *want)
{
	struct blockdev *bd;
	char err[1024], got[16] = { 0 };
	int ret = open_top(p, NULL, dirs, n, &bd, err, sizeof(err));
	if (ret)
		fprintf(stderr, "%s: %s\n", p, err);
	assert_int_equal(ret, 0);
	struct iovec v = { got, 8 };
	assert_int_equal(blockdev_preadv(bd, &v, 1, 0), 0);
	assert_string_equal(got, want);
	blockdev_close(bd);
}

static int setup(void **state)
{
	(void)state;
	log_quiet = true;
	snprintf(root, sizeof(root), "/tmp/test_backing.XXXXXX");
	assert_non_null(mkdtemp(root));
	path_in(in, sizeof(in), root, "vm");
	path_in(out, sizeof(out), root, "host");
	assert_int_equal(mkdir(in, 0755), 0);
	assert_int_equal(mkdir(out, 0755), 0);
	char p[192];
	path_in(p, sizeof(p), out, "secret");
	make_file(p, "SECRET");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* The escapes a hostile image can try, each refused. */
static void test_escapes(void **state)
{
	(void)state;
	char p[192], secret[192], link[192], fifo[192];

	path_in(secret, sizeof(secret), out, "secret");
	path_in(p, sizeof(p), in, "abs.qcow2");
	make_top(p, secret);
	refused(p, "outside the allowed directories");
	make_top(p, "/etc/passwd");
	refused(p, "/etc/passwd");
	make_top(p, "../host/secret");
	refused(p, "outside the allowed directories");
	/* a symlink inside the directory that points out of it */
	path_in(link, sizeof(link), in, "link.raw");
	assert_int_equal(symlink(secret, link), 0);
	make_top(p, "link.raw");
	refused(p, "outside the allowed directories");
	/* /proc/self/root names / through a magic link */
	make_top(p, "/proc/self/root/etc/passwd");
	refused(p, "outside the allowed directories");
	/* devices and FIFOs, even inside an allowed directory */
	make_top(p, "/dev/null");
	struct blockdev *bd;
	char err[1024];
	const char *dev[] = { "/dev" };
	assert_int_not_equal(open_top(p, NULL, dev, 1, &bd, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "a character device"));
	path_in(fifo, sizeof(fifo), in, "fifo.raw");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	make_top(p, "fifo.raw");
	refused(p, "a FIFO");
	make_top(p, "no-such.raw");
	refused(p, "no such file");
}

/* Names inside the allowed directories open, through symlinks that stay
 * inside too; backing-dir= adds a directory. */
static void test_allowed(void **state)
{
	(void)state;
	char p[192], sub[192], b2[192], link[192];

	path_in(p, sizeof(p), in, "ok.qcow2");
	make_top(p, "base.raw");
	reads(p, NULL, 0, "BASE");
	path_in(sub, sizeof(sub), in, "sub");
	assert_int_equal(mkdir(sub, 0755), 0);
	path_in(b2, sizeof(b2), sub, "b2.raw");
	make_file(b2, "SUB");
	make_top(p, "sub/b2.raw");
	reads(p, NULL, 0, "SUB");
	make_top(p, "./sub/../sub/b2.raw");
	reads(p, NULL, 0, "SUB");
	path_in(link, sizeof(link), in, "inner-link.raw");
	assert_int_equal(symlink("sub/b2.raw", link), 0);
	make_top(p, "inner-link.raw");
	reads(p, NULL, 0, "SUB");
	/* another directory, only when allowed */
	make_top(p, "../host/secret");
	refused(p, "outside");
	const char *dirs[] = { out };
	reads(p, dirs, 1, "SECRET");
	char secret[192];
	path_in(secret, sizeof(secret), out, "secret");
	make_top(p, secret);
	reads(p, dirs, 1, "SECRET");
	/* the image's own directory but not its parent */
	make_top(p, root);
	refused(p, "outside");
}

/* The backing format must be known: the image's record, or the user's
 * backing-format=; it is never detected. */
static void test_format_required(void **state)
{
	(void)state;
	char p[192], err[1024];
	struct blockdev *bd;

	path_in(p, sizeof(p), in, "nofmt.qcow2");
	make_file(p, "");
	char base[192];
	path_in(base, sizeof(base), in, "base.raw");
	make_file(base, "BASE");
	assert_int_equal(IMG("create", p, "1M"), 0);
	set_backing(p, "base.raw");
	refused(p, "format is not recorded");
	assert_int_equal(open_top(p, "raw", NULL, 0, &bd, err, sizeof(err)), 0);
	assert_string_equal(blockdev_backing(bd)->format, "raw");
	blockdev_close(bd);
	/* img create refuses -b without -F */
	path_in(p, sizeof(p), in, "c.qcow2");
	assert_int_equal(IMG("create", "-b", "base.raw", p, "1M"), 1);
	assert_int_equal(IMG("create", "-b", "base.raw", "-F", "raw", p, "1M"), 0);
}

/* A chain: each link is resolved from its own directory and must stay in
 * the allowed set; deeper links need their own recorded format. */
static void test_chain(void **state)
{
	(void)state;
	char top[192], mid[192], sub[192], base[192];

	path_in(sub, sizeof(sub), in, "chain");
	assert_int_equal(mkdir(sub, 0755), 0);
	path_in(base, sizeof(base), sub, "base.raw");
	make_file(base, "CHAIN");
	path_in(mid, sizeof(mid), sub, "mid.qcow2");
	assert_int_equal(IMG("create", "-b", "base.raw", "-F", "raw", mid, "1M"), 0);
	path_in(top, sizeof(top), in, "top.qcow2");
	assert_int_equal(IMG("create", "-b", "chain/mid.qcow2", "-F", "qcow2", top),
			 0);
	reads(top, NULL, 0, "CHAIN");
	/* the middle image escapes: refused, naming it */
	set_backing(mid, "../../host/secret");
	refused(top, mid);
	refused(top, "outside");
	/* img info shows the refusal */
	char info[192];
	path_in(info, sizeof(info), root, "info.txt");
	assert_int_equal(img_to(info, (const char *const[]){ "info", top, NULL }), 1);
	/* with the other directory allowed (img -B) the chain opens */
	assert_int_equal(img_to(info, (const char *const[]){ "info", "-B", out,
							     top, NULL }), 0);
	FILE *f = fopen(info, "r");
	char text[4096] = { 0 };
	assert_true(fread(text, 1, sizeof(text) - 1, f) > 0);
	fclose(f);
	assert_non_null(strstr(text, "backing chain:"));
	assert_non_null(strstr(text, "/host/secret (raw)"));
	assert_non_null(strstr(text, "/chain/mid.qcow2 (qcow2)"));
	/* img create -b applies the rules to the backing file's chain too */
	char top2[192];
	path_in(top2, sizeof(top2), in, "top2.qcow2");
	assert_int_equal(IMG("create", "-b", "chain/mid.qcow2", "-F", "qcow2",
			     top2), 1);
	assert_int_equal(IMG("create", "-b", "chain/mid.qcow2", "-F", "qcow2",
			     "-B", out, top2), 0);
	assert_int_equal(IMG("create", "-b", "/etc/passwd", "-F", "raw", top2,
			     "1M"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_format_required),
		cmocka_unit_test(test_chain),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
