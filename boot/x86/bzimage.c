/* SPDX-License-Identifier: MIT
 * bzimage.c - the Linux/x86 boot protocol, 64-bit entry (spec:
 * Documentation/arch/x86/boot.rst, "64-bit Boot Protocol", and zero-page.rst).
 *
 * A bzImage is: a 512-byte boot sector, setup_sects sectors of real-mode
 * setup code (never run here), then the protected-mode kernel. The setup
 * header at 0x1f1 tells the loader what the kernel needs. A 64-bit loader:
 *   1. copies the setup header into a zeroed boot_params ("zero page"),
 *   2. fills the loader fields (type_of_loader, cmdline, initrd, e820 map),
 *   3. loads the protected-mode kernel at its load address,
 *   4. enters it at load address + 0x200 in long mode with %rsi = zero page.
 *
 * Guest layout used (vmm/x86/layout.h): zero page at X86_ZERO_PAGE, command
 * line at X86_CMDLINE, kernel at 1 MiB or its preferred address, initrd at
 * the top of low RAM (below the kernel's initrd_addr_max).
 */
#include "boot/x86/boot_priv.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vmm/x86/layout.h"

/* Offsets in the file's first sectors and in boot_params (same offsets:
 * the setup header is copied to where it sits in the file). */
#define BP_SIZE 0x1000
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128 /* 0xa00 bytes of 20-byte entries */
#define HDR_START 0x1f1 /* setup_sects: first byte of the setup header */
#define HDR_LIMIT 0x290 /* edd_mbr_sig_buffer: the header never goes past */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_SYSSIZE 0x1f4
#define HDR_VID_MODE 0x1fa
#define HDR_JUMP 0x200 /* EB xx: the header ends at 0x202 + xx */
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define HDR_NEEDED_END 0x264 /* the fields above must all be present */

#define LOADFLAGS_CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x0001
#define LOADER_UNDEFINED 0xff
#define VID_MODE_NORMAL 0xffff
/* No real-mode code runs, but the field is obligatory: the sample value
 * from the spec (heap end 0xe000 in the setup segment, minus 0x200). */
#define HEAP_END_PTR (0xe000 - 0x200)

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = (v << 8) | p[n];
	return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Round v up to a power-of-two a; 0 on overflow. */
static uint64_t align_up(uint64_t v, uint64_t a)
{
	uint64_t r;

	if (__builtin_add_overflow(v, a - 1, &r))
		return 0;
	return r & ~(a - 1);
}

/* Does [start, start + len) lie inside [X86_HIMEM_START, limit)? */
static int fits(uint64_t start, uint64_t len, uint64_t limit)
{
	uint64_t end;

	return start >= X86_HIMEM_START &&
	       !__builtin_add_overflow(start, len, &end) && end <= limit;
}

/* Choose the protected-mode kernel's load address and the end of the memory
 * it needs while starting (init_size from its run-time start). */
static int place_kernel(const uint8_t *hdr, uint16_t version,
			uint64_t kernel_bytes, uint64_t low_size,
			const char *path, uint64_t *load, uint64_t *end,
			char *err, size_t errlen)
{
	uint64_t pref = version >= 0x20a ? le(hdr + HDR_PREF_ADDRESS, 8) : 0;
	uint64_t init = version >= 0x20a ? le(hdr + HDR_INIT_SIZE, 4) : 0;
	uint64_t need = init > kernel_bytes ? init : kernel_bytes;
	uint64_t run;

	if (hdr[HDR_RELOCATABLE]) {
		/* Loaded at an address aligned to kernel_alignment, the
		 * kernel runs where it is: try the preferred address first,
		 * then the lowest aligned address from 1 MiB. */
		uint64_t align = le(hdr + HDR_KERNEL_ALIGNMENT, 4);
		uint64_t cand[2];

		if (!align || (align & (align - 1)) || align > (1ULL << 30)) {
			boot_err(err, errlen,
				 "%s: bad kernel_alignment 0x%llx in the setup header",
				 path, (unsigned long long)align);
			return -ENOEXEC;
		}
		cand[0] = align_up(pref > X86_HIMEM_START ? pref :
				   X86_HIMEM_START, align);
		cand[1] = align_up(X86_HIMEM_START, align);
		for (int i = 0; i < 2; i++) {
			if (cand[i] && fits(cand[i], need, low_size)) {
				*load = cand[i];
				*end = cand[i] + need;
				return 0;
			}
		}
		run = cand[1];
	} else {
		/* A fixed kernel is loaded at 1 MiB (the bzImage address)
		 * and moves itself to pref_address to run. */
		run = pref ? pref : X86_HIMEM_START;
		if (fits(X86_HIMEM_START, kernel_bytes, low_size) &&
		    fits(run, init, low_size)) {
			*load = X86_HIMEM_START;
			*end = run + init;
			if (*end < X86_HIMEM_START + kernel_bytes)
				*end = X86_HIMEM_START + kernel_bytes;
			return 0;
		}
	}
	boot_err(err, errlen,
		 "%s: kernel needs %llu MiB of RAM from 0x%llx, but guest RAM below 4 GiB ends at 0x%llx (%llu MiB)",
		 path, (unsigned long long)((need + (1 << 20) - 1) >> 20),
		 (unsigned long long)run, (unsigned long long)low_size,
		 (unsigned long long)(low_size >> 20));
	return -ENOMEM;
}

/* The e820 map into boot_params. */
static int put_e820(uint8_t *bp, const struct x86_boot_cfg *cfg)
{
	struct x86_e820_entry map[BP_E820_MAX];
	int n = x86_e820_build(cfg->low_size, cfg->high_size, map, BP_E820_MAX);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		uint8_t *e = bp + BP_E820_TABLE + 20 * i;
		put_le(e, map[i].addr, 8);
		put_le(e + 8, map[i].size, 8);
		put_le(e + 16, map[i].type, 4);
	}
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	return 0;
}

/* A bzImage being loaded: its setup header and what follows from it. */
struct bzimage {
	const char *path;
	int fd;
	uint64_t fsize;
	uint8_t hdr[HDR_LIMIT];
	unsigned hdr_end;          /* end of the setup header, <= HDR_LIMIT */
	uint16_t version;          /* boot protocol */
	uint64_t setup_size;       /* boot sector and real-mode setup */
	uint64_t kernel_bytes;     /* the protected-mode kernel after them */
	uint64_t load, kernel_end; /* where the kernel goes in the guest */
	uint64_t rd_addr, rd_size; /* the initrd, 0 without one */
};

/* The setup header: the 'HdrS' magic and the boot protocol version. */
static int bz_read_header(struct bzimage *bz, char *err, size_t errlen)
{
	int ret;

	if (bz->fsize < HDR_VERSION + 2) {
		boot_err(err, errlen,
			 "%s: file too short for a bzImage (%llu bytes)",
			 bz->path, (unsigned long long)bz->fsize);
		return -ENOEXEC;
	}
	ret = boot_pread(bz->fd, bz->hdr,
			 bz->fsize < sizeof(bz->hdr) ? bz->fsize : sizeof(bz->hdr),
			 0);
	if (ret < 0) {
		boot_err(err, errlen, "%s: %s", bz->path, strerror(-ret));
		return ret;
	}
	if (memcmp(bz->hdr + HDR_MAGIC, "HdrS", 4)) {
		boot_err(err, errlen,
			 "%s: not a bzImage (no 'HdrS' magic at 0x202)", bz->path);
		return -ENOEXEC;
	}
	bz->version = (uint16_t)le(bz->hdr + HDR_VERSION, 2);
	return 0;
}

/* What this loader needs of the protocol: 2.06 or later, a 64-bit entry,
 * a setup header that reaches the last field used. */
static int bz_check_protocol(struct bzimage *bz, char *err, size_t errlen)
{
	unsigned v = bz->version;
	uint16_t xloadflags;

	if (v < 0x206) {
		boot_err(err, errlen,
			 "%s: boot protocol %u.%02u is too old (need 2.06)",
			 bz->path, v >> 8, v & 0xff);
		return -ENOEXEC;
	}
	xloadflags = v >= 0x20c ? (uint16_t)le(bz->hdr + HDR_XLOADFLAGS, 2) : 0;
	if (!(xloadflags & XLF_KERNEL_64)) {
		boot_err(err, errlen,
			 "%s: not a 64-bit kernel (no XLF_KERNEL_64 in xloadflags, boot protocol %u.%02u)",
			 bz->path, v >> 8, v & 0xff);
		return -ENOEXEC;
	}
	/* The jump at 0x200 (EB xx) doubles as the header length. */
	bz->hdr_end = 0x202 + bz->hdr[HDR_JUMP + 1];
	if (bz->hdr_end < HDR_NEEDED_END) {
		boot_err(err, errlen,
			 "%s: setup header ends at 0x%x, too short for boot protocol %u.%02u",
			 bz->path, bz->hdr_end, v >> 8, v & 0xff);
		return -ENOEXEC;
	}
	if (bz->hdr_end > HDR_LIMIT)
		bz->hdr_end = HDR_LIMIT;
	return 0;
}

/* The setup sectors and the kernel after them, all inside the file. */
static int bz_measure(struct bzimage *bz, char *err, size_t errlen)
{
	unsigned setup_sects = bz->hdr[HDR_SETUP_SECTS] ? bz->hdr[HDR_SETUP_SECTS]
							: 4;
	uint64_t syssize = 16 * le(bz->hdr + HDR_SYSSIZE, 4);

	bz->setup_size = (setup_sects + 1) * 512ULL;
	if (bz->fsize < bz->hdr_end || bz->fsize <= bz->setup_size ||
	    bz->fsize - bz->setup_size < syssize) {
		boot_err(err, errlen,
			 "%s: truncated bzImage (%llu bytes; setup %llu + kernel %llu expected)",
			 bz->path, (unsigned long long)bz->fsize,
			 (unsigned long long)bz->setup_size,
			 (unsigned long long)syssize);
		return -ENOEXEC;
	}
	bz->kernel_bytes = bz->fsize - bz->setup_size;
	return 0;
}

/* The protected-mode kernel into guest RAM at its load address. */
static int bz_load_kernel(struct bzimage *bz, struct guest_mem *gm, char *err,
			  size_t errlen)
{
	int ret = boot_read_to_guest(gm, bz->fd, bz->setup_size,
				     bz->kernel_bytes, bz->load);

	if (ret < 0)
		boot_err(err, errlen, "%s: cannot load the kernel at 0x%llx: %s",
			 bz->path, (unsigned long long)bz->load, strerror(-ret));
	return ret;
}

/* The initrd above the kernel; initrd_addr_max is the highest byte it may
 * occupy. */
static int bz_load_initrd(struct bzimage *bz, struct guest_mem *gm,
			  const struct x86_boot_cfg *cfg, char *err,
			  size_t errlen)
{
	uint64_t initrd_max, initrd_top;

	initrd_max = bz->version >= 0x203 ? le(bz->hdr + HDR_INITRD_ADDR_MAX, 4)
					  : X86_INITRD_OLD_MAX;
	initrd_top = initrd_max + 1 < cfg->low_size ? initrd_max + 1
						    : cfg->low_size;
	return boot_load_initrd(gm, cfg->initrd, bz->kernel_end, initrd_top,
				&bz->rd_addr, &bz->rd_size, err, errlen);
}

/* boot_params (the zero page): zeroed, the setup header at its own offset,
 * then what the loader fills in: where the kernel, command line and initrd
 * are, the ACPI RSDP and the e820 map. */
static int bz_put_boot_params(const struct bzimage *bz, struct guest_mem *gm,
			      const struct x86_boot_cfg *cfg, char *err,
			      size_t errlen)
{
	uint8_t bp[BP_SIZE];
	int ret;

	memset(bp, 0, sizeof(bp));
	memcpy(bp + HDR_START, bz->hdr + HDR_START, bz->hdr_end - HDR_START);
	bp[HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	bp[HDR_LOADFLAGS] |= LOADFLAGS_CAN_USE_HEAP;
	put_le(bp + HDR_HEAP_END_PTR, HEAP_END_PTR, 2);
	put_le(bp + HDR_VID_MODE, VID_MODE_NORMAL, 2);
	put_le(bp + HDR_CODE32_START, bz->load, 4);
	put_le(bp + HDR_CMD_LINE_PTR, X86_CMDLINE, 4);
	put_le(bp + BP_EXT_CMD_LINE_PTR, X86_CMDLINE >> 32, 4);
	put_le(bp + HDR_RAMDISK_IMAGE, bz->rd_addr, 4);
	put_le(bp + HDR_RAMDISK_SIZE, bz->rd_size, 4);
	put_le(bp + BP_EXT_RAMDISK_IMAGE, bz->rd_addr >> 32, 4);
	put_le(bp + BP_EXT_RAMDISK_SIZE, bz->rd_size >> 32, 4);
	if (cfg->acpi_rsdp && bz->version >= 0x20e)
		put_le(bp + BP_ACPI_RSDP_ADDR, cfg->acpi_rsdp, 8);
	ret = put_e820(bp, cfg);
	if (ret < 0) {
		boot_err(err, errlen, "cannot build the e820 map: %s",
			 strerror(-ret));
		return ret;
	}
	if (gm_write(gm, X86_ZERO_PAGE, bp, sizeof(bp)) < 0) {
		boot_err(err, errlen, "zero page at 0x%llx is not RAM",
			 (unsigned long long)X86_ZERO_PAGE);
		return -EFAULT;
	}
	return 0;
}

int x86_bzimage_load(struct guest_mem *gm, const struct x86_boot_cfg *cfg,
		     struct x86_boot_entry *entry, char *err, size_t errlen)
{
	struct bzimage bz = { .path = cfg->kernel };
	int ret;

	ret = boot_open(bz.path, &bz.fd, &bz.fsize, err, errlen);
	if (ret < 0)
		return ret;
	ret = bz_read_header(&bz, err, errlen);
	if (!ret)
		ret = bz_check_protocol(&bz, err, errlen);
	if (!ret)
		ret = bz_measure(&bz, err, errlen);
	if (!ret)
		ret = place_kernel(bz.hdr, bz.version, bz.kernel_bytes,
				   cfg->low_size, bz.path, &bz.load,
				   &bz.kernel_end, err, errlen);
	if (!ret)
		ret = boot_put_cmdline(gm, cfg->cmdline,
				       le(bz.hdr + HDR_CMDLINE_SIZE, 4), bz.path,
				       err, errlen);
	if (!ret)
		ret = bz_load_kernel(&bz, gm, err, errlen);
	if (!ret)
		ret = bz_load_initrd(&bz, gm, cfg, err, errlen);
	if (!ret)
		ret = bz_put_boot_params(&bz, gm, cfg, err, errlen);
	if (!ret) {
		entry->mode = X86_ENTRY_LINUX64;
		entry->rip = bz.load + 0x200;
		entry->rsi = X86_ZERO_PAGE;
		entry->rbx = 0;
		entry->kernel_end = bz.kernel_end;
	}
	close(bz.fd);
	return ret;
}
