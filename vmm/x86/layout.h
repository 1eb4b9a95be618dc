/* SPDX-License-Identifier: MIT
 * layout.h - the x86 machine's guest-physical and port map.
 *
 *   0x0000_0000  real-mode IVT and BIOS data area (RAM)
 *   0x0000_0500  boot GDT
 *   0x0000_6000  PVH start_info (+ its memory map)
 *   0x0000_7000  boot_params ("zero page")
 *   0x0000_9000  identity-map page tables (PML4, PDPT, 4 PDs: 4 GiB)
 *   0x0002_0000  kernel command line
 *   0x0009_fc00  EBDA: MP floating pointer and table          (reserved)
 *   0x000a_0000  VGA hole and BIOS area: RSDP and ACPI tables (reserved)
 *   0x0010_0000  kernel, then free RAM (initrd placed at the top of low RAM)
 *   0xc000_0000  32-bit PCI hole (MMIO BARs, platform MMIO, IOAPIC, LAPIC)
 *   0x1_0000_0000  RAM above 4 GiB for guests larger than 3 GiB
 */
#ifndef MINIVMM_X86_LAYOUT_H
#define MINIVMM_X86_LAYOUT_H

#define X86_BOOT_GDT 0x500ULL
#define X86_PVH_START_INFO 0x6000ULL
#define X86_ZERO_PAGE 0x7000ULL
#define X86_PML4 0x9000ULL
#define X86_PDPT 0xa000ULL
#define X86_PD 0xb000ULL /* four pages: 0xb000-0xefff */
#define X86_BOOT_STACK 0x8ff0ULL
#define X86_CMDLINE 0x20000ULL
#define X86_CMDLINE_MAX 0x10000ULL

#define X86_EBDA_START 0x9fc00ULL
#define X86_MPTABLE_START X86_EBDA_START /* up to 1 KiB at the EBDA */
#define X86_BIOS_START 0xa0000ULL
#define X86_ACPI_START 0xe0000ULL /* RSDP (16-byte aligned) then tables */
#define X86_ACPI_END 0x100000ULL
#define X86_HIMEM_START 0x100000ULL /* 1 MiB: kernel load address */

#define X86_PCI_HOLE_START 0xc0000000ULL /* RAM above this moves to 4 GiB */
#define X86_PCI_HOLE_END 0x100000000ULL
#define X86_PCI_MMIO_START 0xc0000000ULL /* 32-bit BAR window */
#define X86_PCI_MMIO_END 0xfc000000ULL   /* exclusive */
#define X86_PLATFORM_MMIO 0xfe000000ULL  /* small fixed MMIO devices */
#define X86_IOAPIC_ADDR 0xfec00000ULL
#define X86_LAPIC_ADDR 0xfee00000ULL
#define X86_HIGH_RAM_START 0x100000000ULL

/* Ports */
#define X86_PCI_IO_START 0xc000 /* PCI I/O BAR window */
#define X86_PCI_IO_END 0x10000
#define X86_ACPI_PM_BASE 0x600  /* PM1a event (4), PM1a control (2) */
#define X86_ACPI_RESET_PORT 0xcf9

/* ISA IRQs and IOAPIC pins */
#define X86_IRQ_COM1 4
#define X86_IRQ_RTC 8
#define X86_IRQ_ACPI_SCI 9
#define X86_IRQ_IDE_PRIMARY 14   /* legacy-mode IDE channels */
#define X86_IRQ_IDE_SECONDARY 15
#define X86_IRQ_PCI_FIRST 16 /* INTx: IOAPIC pins 16-23 */
#define X86_IRQ_PCI_COUNT 8
#define X86_IOAPIC_PINS 24

/* INTA# of PCI slot s: what the ACPI _PRT and the MP table describe (the
 * bus wires it from X86_PCI_HOST: devices/pci.h pci_slot_intx_gsi) */
#define X86_PCI_SLOT_GSI(s) (X86_IRQ_PCI_FIRST + ((s) % X86_IRQ_PCI_COUNT))

/* The PCI host of the PC (a struct pci_host initializer, devices/pci.h). */
#define X86_PCI_HOST {                                                   \
	.mmio_start = X86_PCI_MMIO_START, .mmio_end = X86_PCI_MMIO_END,  \
	.io_start = X86_PCI_IO_START, .io_end = X86_PCI_IO_END,          \
	.intx_first = X86_IRQ_PCI_FIRST, .intx_count = X86_IRQ_PCI_COUNT, \
	.legacy_ide_irq = { X86_IRQ_IDE_PRIMARY, X86_IRQ_IDE_SECONDARY }, \
}

#endif
