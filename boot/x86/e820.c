/* SPDX-License-Identifier: MIT
 * e820.c - the BIOS memory map (INT 15h, AX=E820h) the guest gets in
 * boot_params (bzImage) or hvm_start_info (PVH). It describes what a PC has:
 *
 *   [0, EBDA)            RAM (conventional memory)
 *   [EBDA, 1 MiB)        reserved: EBDA (MP table), VGA hole, BIOS area with
 *                        the RSDP and ACPI tables
 *   [1 MiB, low_size)    RAM
 *   [low_size, 4 GiB)    not listed: the PCI hole (MMIO BARs, IOAPIC, LAPIC)
 *   [4 GiB, +high_size)  RAM, for guests larger than the low part
 *
 * The caller splits guest RAM into low_size (at most 3 GiB, the start of the
 * PCI hole) and high_size.
 */
#include <errno.h>

#include "boot/x86/boot.h"
#include "vmm/x86/layout.h"

#define E820_RAM 1
#define E820_RESERVED 2

int x86_e820_build(uint64_t low_size, uint64_t high_size,
		   struct x86_e820_entry *out, int max)
{
	const struct x86_e820_entry map[] = {
		{ 0, X86_EBDA_START, E820_RAM },
		{ X86_EBDA_START, X86_HIMEM_START - X86_EBDA_START,
		  E820_RESERVED },
		{ X86_HIMEM_START, low_size - X86_HIMEM_START, E820_RAM },
		{ X86_HIGH_RAM_START, high_size, E820_RAM },
	};
	int n = high_size ? 4 : 3;

	/* At least 1 MiB of RAM above the BIOS area (the kernel goes
	 * there); the low part stops at the PCI hole; the high part must not
	 * wrap around. */
	if (low_size < 2 * X86_HIMEM_START || low_size > X86_PCI_HOLE_START ||
	    high_size > UINT64_MAX - X86_HIGH_RAM_START)
		return -EINVAL;
	if (max < n || !out)
		return -ENOSPC;
	for (int i = 0; i < n; i++)
		out[i] = map[i];
	return n;
}
