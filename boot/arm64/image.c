/* SPDX-License-Identifier: MIT
 * image.c - the arm64 Linux boot protocol, loader side
 * (Documentation/arch/arm64/booting.rst, sections 3 "Decompress the kernel
 * image" and 4 "Call the kernel image"; the header layout is that of
 * arch/arm64/include/asm/image.h).
 *
 * Everything read from the files is untrusted: the header's offsets and
 * sizes are checked against guest RAM before use, a gzip stream can
 * inflate to at most the room left in RAM, and every write to the guest
 * goes through guest_mem.
 */
#include "boot/arm64/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "boot/boot_err.h"

/* Header fields (little-endian). */
#define HDR_TEXT_OFFSET 0x08
#define HDR_IMAGE_SIZE 0x10
#define HDR_FLAGS 0x18
#define HDR_MAGIC 0x38
#define IMAGE_MAGIC "ARM\x64"

#define FLAG_BE 0x1ULL               /* bit 0: kernel is big-endian */
#define FLAG_PAGE_SIZE(f) (((f) >> 1) & 3) /* 0 unspecified, 1 4K, 2 16K, 3 64K */

/* booting.rst: with image_size 0 (kernels before 3.17) text_offset is
 * of unknown endianness and 0x80000 is to be assumed. */
#define OLD_TEXT_OFFSET 0x80000ULL

#define SZ_2M (2ULL << 20)
#define SZ_1G (1ULL << 30)
#define INITRD_WINDOW (32ULL << 30) /* initrd and kernel in 32 GiB... */
#define PAGE 4096ULL

#define GZ_CHUNK (64u * 1024)     /* compressed bytes read at a time */
#define GZ_OUT_MAX (1u << 30)     /* avail_out per inflate call (a uInt) */

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

int arm64_image_header(const uint8_t hdr[ARM64_IMAGE_HDR_SIZE],
		       const char *name, uint64_t *text_offset,
		       uint64_t *image_size, unsigned *page_size, char *err,
		       size_t errlen)
{
	static const unsigned page_sizes[4] = { 0, 4096, 16384, 65536 };
	uint64_t flags;

	if (memcmp(hdr + HDR_MAGIC, IMAGE_MAGIC, 4)) {
		boot_err(err, errlen,
			"%s: not an arm64 Linux Image (no \"ARM\\x64\" magic at offset 0x38)",
			name);
		return -ENOEXEC;
	}
	*image_size = le64(hdr + HDR_IMAGE_SIZE);
	flags = *image_size ? le64(hdr + HDR_FLAGS) : 0;
	if (flags & FLAG_BE) {
		boot_err(err, errlen,
			"%s: big-endian arm64 kernel (only little-endian guests run here)",
			name);
		return -ENOTSUP;
	}
	*text_offset = *image_size ? le64(hdr + HDR_TEXT_OFFSET)
				   : OLD_TEXT_OFFSET;
	*page_size = page_sizes[FLAG_PAGE_SIZE(flags)];
	return 0;
}

/* Open a regular file; errors read "<path>: <what><reason>". */
static int open_file(const char *path, const char *what, int *fd,
		     uint64_t *size, char *err, size_t errlen)
{
	struct stat st;
	int f, ret;

	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0 || fstat(f, &st) < 0) {
		ret = -errno;
		boot_err(err, errlen, "%s: %s%s", path, what, strerror(-ret));
		if (f >= 0)
			close(f);
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		boot_err(err, errlen, "%s: %snot a regular file", path, what);
		close(f);
		return -EINVAL;
	}
	*fd = f;
	*size = (uint64_t)st.st_size;
	return 0;
}

/* pread exactly len bytes at off: 0, -EIO if the file ends first, -errno. */
static int read_full(int fd, void *buf, uint64_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len > (1u << 30) ? (1u << 30) : len,
				  (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (uint64_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* ---- placement ---- */

/* Where the device tree goes: the last 2 MiB-aligned 2 MiB block of RAM
 * that lies inside the window (RAM, capped for the initrd window), with at
 * least 2 MiB below it for the kernel. */
static int place_fdt(uint64_t lo, uint64_t hi, uint64_t *fdt)
{
	uint64_t top = hi & ~(SZ_2M - 1);

	if (top < lo + 2 * SZ_2M)
		return -ENOMEM;
	*fdt = top - SZ_2M;
	return 0;
}

/* ---- the kernel: plain Image ---- */

struct kernel {
	const char *path;
	uint64_t ram_base, limit; /* RAM the kernel may use: [base, limit) */
	uint64_t text_offset, image_size, loaded;
	unsigned page_size;
	int gzip;
};

/* Check the header and that the room it asks for (at least the header
 * itself) lies below k->limit; fills text_offset, image_size, page_size. */
static int kernel_header(struct kernel *k, const uint8_t *hdr, char *err,
			 size_t errlen)
{
	uint64_t avail = k->limit - k->ram_base;
	int ret;

	ret = arm64_image_header(hdr, k->path, &k->text_offset,
				 &k->image_size, &k->page_size, err, errlen);
	if (ret < 0)
		return ret;
	if (avail < ARM64_IMAGE_HDR_SIZE ||
	    k->text_offset > avail - ARM64_IMAGE_HDR_SIZE ||
	    k->image_size > avail - k->text_offset) {
		boot_err(err, errlen,
			"%s: kernel too big for guest RAM (text_offset 0x%llx, image_size %llu bytes, %llu MiB of RAM below the device tree)",
			k->path, (unsigned long long)k->text_offset,
			(unsigned long long)k->image_size,
			(unsigned long long)((k->limit - k->ram_base) >> 20));
		return -EFBIG;
	}
	return 0;
}

static int too_big(struct kernel *k, uint64_t bytes, char *err,
		   size_t errlen)
{
	boot_err(err, errlen,
		"%s: kernel too big for guest RAM (%s%llu bytes at 0x%llx, %llu MiB of RAM below the device tree)",
		k->path, k->gzip ? "more than " : "",
		(unsigned long long)bytes,
		(unsigned long long)(k->ram_base + k->text_offset),
		(unsigned long long)((k->limit - k->ram_base) >> 20));
	return -EFBIG;
}

static int load_plain(struct kernel *k, struct guest_mem *gm, int fd,
		      uint64_t fsize, char *err, size_t errlen)
{
	uint8_t hdr[ARM64_IMAGE_HDR_SIZE];
	uint64_t at;
	void *dst;
	int ret;

	if (fsize < ARM64_IMAGE_HDR_SIZE) {
		boot_err(err, errlen,
			"%s: too short for an arm64 Image (%llu bytes, the header is 64)",
			k->path, (unsigned long long)fsize);
		return -ENOEXEC;
	}
	ret = read_full(fd, hdr, sizeof(hdr), 0);
	if (ret < 0)
		goto io;
	ret = kernel_header(k, hdr, err, errlen);
	if (ret < 0)
		return ret;
	at = k->ram_base + k->text_offset;
	if (fsize > k->limit - at)
		return too_big(k, fsize, err, errlen);
	dst = gm_ptr(gm, at, fsize);
	if (!dst) {
		boot_err(err, errlen, "%s: cannot load at 0x%llx: not RAM",
			k->path, (unsigned long long)at);
		return -EFAULT;
	}
	ret = read_full(fd, dst, fsize, 0);
	if (ret < 0)
		goto io;
	k->loaded = fsize;
	return 0;
io:
	boot_err(err, errlen, "%s: %s", k->path, strerror(-ret));
	return ret;
}

/* ---- the kernel: Image.gz ---- */

/* Inflate into [out, out + len) (len may exceed what one call takes),
 * reading more of fd as needed. Returns 1 at the end of the stream, 0 when
 * the output is full first, or -errno (-EBADMSG corrupt, -EPIPE input
 * ended first). *produced += the bytes written. */
static int gz_fill(z_stream *z, int fd, uint8_t *in, uint8_t *out,
		   uint64_t len, uint64_t *produced)
{
	while (len) {
		unsigned chunk = len > GZ_OUT_MAX ? GZ_OUT_MAX : (unsigned)len;
		int r;

		if (!z->avail_in) {
			ssize_t n;

			do
				n = read(fd, in, GZ_CHUNK);
			while (n < 0 && errno == EINTR);
			if (n < 0)
				return -errno;
			if (n == 0)
				return -EPIPE;
			z->next_in = in;
			z->avail_in = (unsigned)n;
		}
		z->next_out = out;
		z->avail_out = chunk;
		r = inflate(z, Z_NO_FLUSH);
		chunk -= z->avail_out;
		out += chunk;
		len -= chunk;
		*produced += chunk;
		if (r == Z_STREAM_END)
			return 1;
		if (r == Z_MEM_ERROR)
			return -ENOMEM;
		if (r != Z_OK && r != Z_BUF_ERROR)
			return -EBADMSG;
	}
	return 0;
}

static int load_gzip(struct kernel *k, struct guest_mem *gm, int fd,
		     char *err, size_t errlen)
{
	uint8_t hdr[ARM64_IMAGE_HDR_SIZE], *in, *dst;
	uint64_t at, room, got = 0;
	z_stream z;
	int ret;

	in = malloc(GZ_CHUNK);
	if (!in) {
		boot_err(err, errlen, "%s: out of memory", k->path);
		return -ENOMEM;
	}
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) { /* gzip wrapper */
		free(in);
		boot_err(err, errlen, "%s: out of memory", k->path);
		return -ENOMEM;
	}
	/* The header first, to learn where the rest goes. */
	ret = gz_fill(&z, fd, in, hdr, sizeof(hdr), &got);
	if (ret == 1) {
		boot_err(err, errlen,
			"%s: too short for an arm64 Image (%llu bytes after gunzip, the header is 64)",
			k->path, (unsigned long long)got);
		ret = -ENOEXEC;
		goto out;
	}
	if (ret < 0)
		goto gz_err;
	ret = kernel_header(k, hdr, err, errlen);
	if (ret < 0)
		goto out;
	at = k->ram_base + k->text_offset;
	room = k->limit - at;
	dst = gm_ptr(gm, at, room);
	if (!dst) {
		boot_err(err, errlen, "%s: cannot load at 0x%llx: not RAM",
			k->path, (unsigned long long)at);
		ret = -EFAULT;
		goto out;
	}
	memcpy(dst, hdr, sizeof(hdr));
	ret = gz_fill(&z, fd, in, dst + sizeof(hdr), room - sizeof(hdr), &got);
	if (ret == 0) {
		/* RAM is full and the stream goes on. */
		ret = too_big(k, room, err, errlen);
		goto out;
	}
	if (ret < 0)
		goto gz_err;
	k->loaded = got;
	ret = 0;
	goto out;
gz_err:
	if (ret == -EBADMSG)
		boot_err(err, errlen, "%s: corrupt gzip data (%s)", k->path,
			z.msg ? z.msg : "inflate failed");
	else if (ret == -EPIPE)
		boot_err(err, errlen, "%s: truncated gzip data", k->path);
	else
		boot_err(err, errlen, "%s: %s", k->path, strerror(-ret));
out:
	inflateEnd(&z);
	free(in);
	return ret;
}

/* ---- the initrd ---- */

static int load_initrd(struct guest_mem *gm, const char *path, uint64_t low,
		       uint64_t high, uint64_t *start, uint64_t *end,
		       char *err, size_t errlen)
{
	uint64_t fsize, at;
	void *dst;
	int fd, ret;

	ret = open_file(path, "initrd: ", &fd, &fsize, err, errlen);
	if (ret < 0)
		return ret;
	if (!fsize) {
		boot_err(err, errlen, "%s: initrd is empty", path);
		close(fd);
		return -EINVAL;
	}
	low = align_up(low, PAGE);
	if (fsize > high || ((high - fsize) & ~(PAGE - 1)) < low) {
		boot_err(err, errlen,
			"%s: initrd of %llu bytes does not fit in guest RAM between the kernel's end 0x%llx and the device tree at 0x%llx",
			path, (unsigned long long)fsize,
			(unsigned long long)low, (unsigned long long)high);
		close(fd);
		return -EFBIG;
	}
	at = (high - fsize) & ~(PAGE - 1);
	dst = gm_ptr(gm, at, fsize);
	ret = dst ? read_full(fd, dst, fsize, 0) : -EFAULT;
	close(fd);
	if (ret < 0) {
		boot_err(err, errlen, "%s: initrd: %s", path, strerror(-ret));
		return ret;
	}
	*start = at;
	*end = at + fsize;
	return 0;
}

/* ---- the whole ---- */

int arm64_boot_load(struct guest_mem *gm, const struct arm64_boot_cfg *cfg,
		    struct arm64_boot_info *info, char *err, size_t errlen)
{
	struct kernel k = { .path = cfg->kernel };
	uint64_t ram_end, window_end, fsize;
	uint8_t magic[2];
	int fd, ret;

	memset(info, 0, sizeof(*info));
	if (!cfg->kernel) {
		boot_err(err, errlen, "no kernel to boot");
		return -EINVAL;
	}
	if ((cfg->ram_base & (SZ_2M - 1)) || !cfg->ram_size ||
	    __builtin_add_overflow(cfg->ram_base, cfg->ram_size, &ram_end)) {
		boot_err(err, errlen, "guest RAM at 0x%llx is not 2 MiB-aligned",
			(unsigned long long)cfg->ram_base);
		return -EINVAL;
	}
	/* The initrd must lie in a 1 GiB-aligned window of at most 32 GiB
	 * that covers the kernel, which sits at the RAM base: keep it and the
	 * device tree (its neighbour) below the window's end. */
	window_end = min_u64(ram_end, cfg->ram_base + INITRD_WINDOW -
					      (cfg->ram_base & (SZ_1G - 1)));
	if (place_fdt(cfg->ram_base, window_end, &info->fdt_addr) < 0) {
		boot_err(err, errlen,
			"%s: guest RAM of %llu MiB is too small for an arm64 kernel",
			cfg->kernel, (unsigned long long)(cfg->ram_size >> 20));
		return -ENOMEM;
	}
	info->fdt_max = ARM64_FDT_MAX_SIZE;
	k.ram_base = cfg->ram_base;
	k.limit = info->fdt_addr;

	ret = open_file(cfg->kernel, "", &fd, &fsize, err, errlen);
	if (ret < 0)
		return ret;
	k.gzip = fsize >= 2 && read_full(fd, magic, 2, 0) == 0 &&
		 magic[0] == 0x1f && magic[1] == 0x8b;
	if (k.gzip)
		ret = load_gzip(&k, gm, fd, err, errlen);
	else
		ret = load_plain(&k, gm, fd, fsize, err, errlen);
	close(fd);
	if (ret < 0)
		return ret;

	info->entry = info->kernel_start = k.ram_base + k.text_offset;
	/* image_size covers BSS and what the kernel uses right after it;
	 * an old kernel without it gets what was loaded. */
	info->kernel_end = info->kernel_start + max_u64(k.image_size, k.loaded);
	info->page_size = k.page_size;
	info->gzip = k.gzip;
	if (cfg->initrd) {
		ret = load_initrd(gm, cfg->initrd, info->kernel_end,
				  info->fdt_addr, &info->initrd_start,
				  &info->initrd_end, err, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}
