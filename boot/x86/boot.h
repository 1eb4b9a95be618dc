/* SPDX-License-Identifier: MIT
 * boot.h - loading a guest kernel into RAM and the entry state of the boot
 * vCPU, for the three kinds of image minivmm accepts (picked by magic):
 *
 *  - bzImage (Linux x86 boot protocol >= 2.06 with XLF_KERNEL_64): kernel at
 *    1 MiB (or pref_address), boot_params with e820, cmdline and initrd;
 *    entered at the 64-bit entry (load address + 0x200) in long mode with
 *    identity-mapped page tables, %rsi = boot_params.
 *  - ELF vmlinux with a Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY):
 *    segments loaded at their physical addresses, hvm_start_info with the
 *    memory map, cmdline and initrd module; entered in 32-bit protected
 *    mode, paging off, %ebx = start_info.
 *  - firmware (--firmware): a flat image of at most 256 KiB placed so that it
 *    ends at 1 MiB (and mirrored below 4 GiB is not needed); entered in real
 *    mode at the reset vector F000:FFF0 like a BIOS.
 */
#ifndef MINIVMM_X86_BOOT_H
#define MINIVMM_X86_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/guest_mem.h"

enum x86_entry_mode {
	X86_ENTRY_LINUX64, /* bzImage 64-bit boot protocol */
	X86_ENTRY_PVH32,   /* PVH: 32-bit protected mode, paging off */
	X86_ENTRY_REAL16,  /* firmware: real mode at F000:FFF0 */
};

struct x86_boot_cfg {
	const char *kernel;   /* path (bzImage or ELF), or NULL with firmware */
	const char *initrd;   /* path or NULL */
	const char *cmdline;  /* or NULL/"" */
	const char *firmware; /* path of a flat real-mode image, or NULL */
	uint64_t low_size;    /* RAM at [0, low_size) */
	uint64_t high_size;   /* RAM at [4 GiB, 4 GiB + high_size) */
	uint64_t acpi_rsdp;   /* address of the RSDP if ACPI tables exist, 0 */
};

struct x86_boot_entry {
	enum x86_entry_mode mode;
	uint64_t rip;  /* entry point (guest-physical) */
	uint64_t rsi;  /* LINUX64: boot_params address */
	uint64_t rbx;  /* PVH32: hvm_start_info address */
	uint64_t kernel_end; /* first byte after the loaded kernel image */
};

/* Which loader a file needs, from its magic: 0 bzImage, 1 ELF; -ENOEXEC if
 * neither ("not a kernel"); -errno if unreadable. */
int x86_kernel_kind(const char *path);

/* Load everything into guest RAM. 0, or -errno with a one-line message
 * (naming the file and the problem, no "minivmm:" prefix) in err:
 * missing/unreadable file, not a kernel, protocol too old, not 64-bit
 * capable, kernel or initrd too large for RAM, cmdline too long. */
int x86_boot_load(struct guest_mem *gm, const struct x86_boot_cfg *cfg,
		  struct x86_boot_entry *entry, char *err, size_t errlen);

/* Put the boot vCPU in the entry state: page tables and GDT in guest RAM
 * (LINUX64), segment registers, control registers, EFER, RIP, RSI/RBX,
 * RFLAGS. vcpu_fd is a KVM vCPU file descriptor. 0 or -errno. */
int x86_boot_setup_vcpu(int vcpu_fd, struct guest_mem *gm,
			const struct x86_boot_entry *entry);

/* The e820 map for a RAM layout: low RAM below the EBDA, reserved EBDA and
 * BIOS area, RAM from 1 MiB to low_size, and RAM above 4 GiB. The PCI hole
 * is left out (a gap), as on real hardware. Returns the number of entries
 * written (<= max) or -ENOSPC. */
struct x86_e820_entry {
	uint64_t addr, size;
	uint32_t type; /* 1 RAM, 2 reserved, 3 ACPI data */
};
int x86_e820_build(uint64_t low_size, uint64_t high_size,
		   struct x86_e820_entry *out, int max);

#endif
