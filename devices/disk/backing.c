/* SPDX-License-Identifier: MIT
 * backing.c - where a qcow2 image's backing file may be (QEMU's
 * docs/interop/qcow2.rst: "backing_file_offset", a name taken relative to
 * the image). The name comes from the image, so it is untrusted: it is
 * resolved from the directory of the image that names it, and the file it
 * reaches (after every symlink) must be a regular file beneath one of the
 * allowed directories: the top image's own directory, and the ones the
 * user added (--disk backing-dir=, img -B). An absolute name outside them,
 * a ".." escape, a symlink out, a block or character device, a FIFO or a
 * directory is refused with one line naming the file.
 *
 * The check is made on the real path (realpath), and the file is then
 * opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) from the
 * allowed directory, so a path that changes between the two still cannot
 * leave it; where openat2 is missing the real path is opened with
 * O_NOFOLLOW.
 */
#include "devices/disk/disk_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define HAVE_OPENAT2 1
#endif

static int berr(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int berr(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* The directory part of path ("." when there is none), at most len. */
static void dir_of(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, len, ".");
	else if (slash == path)
		snprintf(out, len, "/");
	else
		snprintf(out, len, "%.*s", (int)(slash - path), path);
}

void backing_allow_free(struct bd_allow *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->dir[i]);
	a->n = 0;
}

int backing_allow_init(struct bd_allow *a, const char *image,
		       const char *const *extra, unsigned nextra, char *err,
		       size_t errlen)
{
	char d[PATH_MAX];

	a->n = 0;
	if (nextra > BLOCKDEV_MAX_BACKING_DIRS)
		return berr(err, errlen, -E2BIG,
			    "at most %d backing directories",
			    BLOCKDEV_MAX_BACKING_DIRS);
	for (unsigned i = 0; i <= nextra; i++) {
		const char *src = d;

		if (i == 0)
			dir_of(image, d, sizeof(d));
		else
			src = extra[i - 1];
		char *real = realpath(src, NULL);
		if (!real) {
			int e = errno;
			backing_allow_free(a);
			return berr(err, errlen, -e,
				    "backing directory %s: %s", src,
				    strerror(e));
		}
		struct stat st;
		if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
			backing_allow_free(a);
			free(real);
			return berr(err, errlen, -ENOTDIR,
				    "backing directory %s: not a directory",
				    src);
		}
		a->dir[a->n++] = real;
	}
	return 0;
}

/* Is real (no symlinks, no "..") dir itself or beneath it? */
static bool beneath(const char *real, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return real[0] == '/';
	return !strncmp(real, dir, n) && real[n] == '/';
}

static const char *kind_of(mode_t m)
{
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/* Open rel beneath the directory dir, following no symlink out of it. */
static int open_beneath(const char *dir, const char *rel, const char *real,
			int flags)
{
#ifdef HAVE_OPENAT2
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	struct open_how how = {
		.flags = (uint64_t)flags,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
	int e = errno;
	close(dfd);
	if (fd >= 0)
		return (int)fd;
	if (e != ENOSYS && e != EPERM) /* EPERM: a seccomp filter said no */
		return -e;
#else
	(void)dir;
	(void)rel;
#endif
	int fd2 = open(real, flags | O_NOFOLLOW);
	return fd2 < 0 ? -errno : fd2;
}

int backing_resolve(const char *image, const char *name,
		    const struct bd_allow *a, int flags, int *fd_out,
		    char *real_out, size_t reallen, char *err, size_t errlen)
{
	char cand[PATH_MAX * 2], d[PATH_MAX], allowed[512] = "";
	struct stat st;
	int i;

	*fd_out = -1;
	if (!name[0])
		return berr(err, errlen, -EINVAL, "%s: empty backing file name",
			    image);
	if (name[0] == '/') {
		snprintf(cand, sizeof(cand), "%s", name);
	} else {
		dir_of(image, d, sizeof(d));
		snprintf(cand, sizeof(cand), "%s/%s", d, name);
	}
	char *real = realpath(cand, NULL);
	if (!real) {
		int e = errno;
		return berr(err, errlen, -e, "%s: backing file %s: %s", image,
			    name, e == ENOENT ? "no such file" : strerror(e));
	}
	for (i = 0; i < a->n; i++)
		if (beneath(real, a->dir[i]))
			break;
	if (i == a->n) {
		for (int k = 0; k < a->n; k++) {
			size_t l = strlen(allowed);
			snprintf(allowed + l, sizeof(allowed) - l, "%s%s",
				 k ? ":" : "", a->dir[k]);
		}
		berr(err, errlen, -EPERM,
		     "%s: backing file %s (%s) is outside the allowed directories (%s); refused (allow its directory with backing-dir=DIR, or img -B DIR)",
		     image, name, real, allowed);
		free(real);
		return -EPERM;
	}
	if (stat(real, &st) < 0) {
		int e = errno;
		berr(err, errlen, -e, "%s: backing file %s (%s): %s", image,
		     name, real, strerror(e));
		free(real);
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		berr(err, errlen, -EPERM,
		     "%s: backing file %s (%s) is %s; refused", image, name,
		     real, kind_of(st.st_mode));
		free(real);
		return -EPERM;
	}
	const char *rel = strcmp(a->dir[i], "/") ? real + strlen(a->dir[i]) + 1
						 : real + 1;
	/* O_NONBLOCK: a FIFO swapped in after the check cannot block us */
	int fd = open_beneath(a->dir[i], rel, real,
			      flags | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		berr(err, errlen, fd, "%s: backing file %s (%s): %s", image,
		     name, real, strerror(-fd));
		free(real);
		return fd;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		berr(err, errlen, -EPERM,
		     "%s: backing file %s (%s) is not a regular file; refused",
		     image, name, real);
		close(fd);
		free(real);
		return -EPERM;
	}
	/* back to blocking I/O for the regular file */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	snprintf(real_out, reallen, "%s", real);
	free(real);
	*fd_out = fd;
	return 0;
}
