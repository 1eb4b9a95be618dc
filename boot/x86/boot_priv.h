/* SPDX-License-Identifier: MIT
 * boot_priv.h - internals shared by the x86 loaders (boot.c, bzimage.c,
 * pvh.c, entry.c). Not part of the public contract (boot.h); unit tests use
 * it to call each loader and the vCPU-state helper directly.
 */
#ifndef MINIVMM_X86_BOOT_PRIV_H
#define MINIVMM_X86_BOOT_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "boot/boot_err.h"
#include "boot/x86/boot.h"
#include "vmm/guest_mem.h"

/* Largest flat firmware image (--firmware), placed to end at 1 MiB. */
#define X86_FIRMWARE_MAX (256u * 1024)

/* PVH: where the memory map and module list go, inside the start_info page
 * (X86_PVH_START_INFO .. +0xfff). */
#define X86_PVH_MEMMAP (X86_PVH_START_INFO + 0x40)
#define X86_PVH_MEMMAP_MAX 32
#define X86_PVH_MODLIST (X86_PVH_START_INFO + 0x800)

/* Highest initrd byte for a bzImage header without initrd_addr_max (boot
 * protocol < 2.03), and for PVH kernels (which have no such field; 2 GiB
 * like the initrd_addr_max of current kernels). */
#define X86_INITRD_OLD_MAX 0x37ffffffULL
#define X86_INITRD_PVH_MAX 0x7fffffffULL

/* Loader entry points (boot.c dispatches to them). Same contract as
 * x86_boot_load: 0 or -errno with a one-line message in err. */
int x86_bzimage_load(struct guest_mem *gm, const struct x86_boot_cfg *cfg,
		     struct x86_boot_entry *entry, char *err, size_t errlen);
int x86_pvh_load(struct guest_mem *gm, const struct x86_boot_cfg *cfg,
		 struct x86_boot_entry *entry, char *err, size_t errlen);
int x86_firmware_load(struct guest_mem *gm, const struct x86_boot_cfg *cfg,
		      struct x86_boot_entry *entry, char *err, size_t errlen);

/* ---- helpers in boot.c ---- */

/* Open a regular file for reading; *size = its length. 0 or -errno (message
 * "<path>: <reason>" in err). */
int boot_open(const char *path, int *fd, uint64_t *size, char *err,
	      size_t errlen);

/* pread exactly len bytes at off (retrying short reads). 0, -EIO if the file
 * ends early, or -errno. */
int boot_pread(int fd, void *buf, size_t len, uint64_t off);

/* Read len bytes of fd at off straight into guest RAM at gpa: 0, -EFAULT if
 * [gpa, gpa+len) is not RAM, or an I/O error. */
int boot_read_to_guest(struct guest_mem *gm, int fd, uint64_t off,
		       uint64_t len, uint64_t gpa);

/* Copy the command line (NULL means "") with its NUL to X86_CMDLINE.
 * max_len is the longest line the kernel accepts (without the NUL). */
int boot_put_cmdline(struct guest_mem *gm, const char *cmdline,
		     uint64_t max_len, const char *kernel, char *err,
		     size_t errlen);

/* Load cfg->initrd (if any) as high as possible, page-aligned, in
 * [low, high) (high exclusive). The address and size are 0 without an initrd. */
int boot_load_initrd(struct guest_mem *gm, const char *path, uint64_t low,
		     uint64_t high, uint64_t *addr, uint64_t *size, char *err,
		     size_t errlen);

/* ---- vCPU entry state (entry.c) ---- */

/* Fill sregs/regs for entry->mode and write what that mode needs into guest
 * RAM (LINUX64: GDT and identity page tables for 4 GiB; PVH32: GDT). sregs
 * should hold the vCPU's current state (KVM_GET_SREGS); only the fields the
 * boot state defines are changed. regs is fully overwritten. 0 or -errno. */
int x86_boot_entry_state(struct guest_mem *gm,
			 const struct x86_boot_entry *entry,
			 struct kvm_sregs *sregs, struct kvm_regs *regs);

/* Control register and EFER bits used by the entry states. */
#define X86_CR0_PE (1ULL << 0)
#define X86_CR0_ET (1ULL << 4)
#define X86_CR0_NE (1ULL << 5)
#define X86_CR0_NW (1ULL << 29)
#define X86_CR0_CD (1ULL << 30)
#define X86_CR0_PG (1ULL << 31)
#define X86_CR4_PAE (1ULL << 5)
#define X86_EFER_LME (1ULL << 8)
#define X86_EFER_LMA (1ULL << 10)

/* GDT selectors of the boot protocol (__BOOT_CS / __BOOT_DS) and our TSS. */
#define X86_BOOT_CS 0x10
#define X86_BOOT_DS 0x18
#define X86_BOOT_TSS 0x20
#define X86_BOOT_GDT_ENTRIES 5

#endif
