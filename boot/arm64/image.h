/* SPDX-License-Identifier: MIT
 * image.h - loading an arm64 Linux kernel Image and its initrd into guest
 * RAM (Documentation/arch/arm64/booting.rst).
 *
 * The Image starts with a 64-byte header: code0/code1 (the first
 * instructions; an EFI-stub kernel puts "MZ" there), text_offset,
 * image_size (bytes the kernel needs from its start, BSS included), flags
 * (bit 0 big-endian, bits 1-2 page size, bit 3 "may be placed anywhere"),
 * and the magic "ARM\x64" at 0x38. A gzip-compressed Image (Image.gz) is
 * accepted too and inflated straight into guest RAM.
 *
 * Placement (the rules of booting.rst, section "Call the kernel image"):
 *   - the Image at RAM base + text_offset: the RAM base is 2 MiB-aligned,
 *     and placing it as low as possible suits kernels without flag bit 3,
 *     which cannot use memory below their 2 MiB-aligned base;
 *   - the device tree in the last 2 MiB-aligned 2 MiB of RAM: it may be at
 *     most 2 MiB, 8-byte aligned, and that 2 MiB block holds nothing else;
 *   - the initrd right below it, page-aligned, after the kernel's
 *     image_size bytes, and inside the 1 GiB-aligned window of at most
 *     32 GiB that also covers the kernel.
 * The kernel is entered at its first byte (booting.rst: "called there").
 */
#ifndef MINIVMM_ARM64_IMAGE_H
#define MINIVMM_ARM64_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/guest_mem.h"

#define ARM64_IMAGE_HDR_SIZE 64
#define ARM64_FDT_MAX_SIZE (2ULL << 20) /* booting.rst: at most 2 MiB */

struct arm64_boot_cfg {
	const char *kernel; /* Image or Image.gz */
	const char *initrd; /* or NULL */
	uint64_t ram_base;  /* guest RAM [ram_base, ram_base + ram_size) */
	uint64_t ram_size;
};

struct arm64_boot_info {
	uint64_t entry;        /* PC of the boot vCPU: the Image's first byte */
	uint64_t kernel_start; /* = entry */
	uint64_t kernel_end;   /* start + the bytes the kernel needs */
	uint64_t initrd_start; /* [start, end); both 0 without an initrd */
	uint64_t initrd_end;
	uint64_t fdt_addr;     /* where the device tree goes (X0) */
	uint64_t fdt_max;      /* its room there: ARM64_FDT_MAX_SIZE */
	unsigned page_size;    /* the kernel's page size, 0 if unspecified */
	int gzip;              /* 1 if the file was an Image.gz */
};

/* Load the kernel (and the initrd) into guest RAM. 0, or -errno with a
 * one-line message naming the file and the problem in err: unreadable or
 * short file, no arm64 magic, big-endian kernel, corrupt or truncated
 * gzip data, kernel or initrd too big for RAM. Nothing is written to
 * guest RAM outside the ranges returned in info. */
int arm64_boot_load(struct guest_mem *gm, const struct arm64_boot_cfg *cfg,
		    struct arm64_boot_info *info, char *err, size_t errlen);

/* The checks of the 64-byte header alone (exposed for tests and fuzzing):
 * text_offset, image_size (0 means an old kernel: text_offset 0x80000 is
 * assumed, booting.rst) and the page size in bytes (0 unspecified).
 * 0, or -ENOEXEC (no magic) / -ENOTSUP (big-endian) with err filled
 * ("<name>: ..."). */
int arm64_image_header(const uint8_t hdr[ARM64_IMAGE_HDR_SIZE],
		       const char *name, uint64_t *text_offset,
		       uint64_t *image_size, unsigned *page_size, char *err,
		       size_t errlen);

#endif
