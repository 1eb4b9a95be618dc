/* SPDX-License-Identifier: MIT
 * layout.h - the arm64 machine's guest-physical map and interrupt numbers.
 *
 * Close to QEMU's `-M virt`, so that its device tree is a familiar
 * reference:
 *
 *   0x0800_0000  GICv3 distributor                   64 KiB
 *   0x0808_0000  GICv3 ITS                          128 KiB
 *   0x080a_0000  GICv3 redistributors, 128 KiB per vCPU (64 vCPUs: 8 MiB)
 *   0x0900_0000  16550 UART (ns16550a, 8 byte-wide registers)  4 KiB
 *   0x0901_0000  PL031 RTC                            4 KiB
 *   0x1000_0000  PCI 32-bit memory window (BARs), up to 0x3eff_0000
 *   0x3eff_0000  PCI I/O window: port p of the PCI bus is MMIO here + p
 *   0x3f00_0000  PCI ECAM, buses 0-15 (16 MiB)
 *   0x4000_0000  guest RAM, one piece: kernel Image at its start, initrd
 *                and device tree at its top (boot/arm64/image.h)
 *
 * Interrupts: "GSI" n is SPI n, GIC INTID 32 + n.
 */
#ifndef MINIVMM_ARM64_LAYOUT_H
#define MINIVMM_ARM64_LAYOUT_H

#define ARM64_GIC_DIST 0x08000000ULL
#define ARM64_GIC_DIST_SIZE 0x10000ULL
#define ARM64_GIC_ITS 0x08080000ULL
#define ARM64_GIC_ITS_SIZE 0x20000ULL
#define ARM64_GIC_REDIST 0x080a0000ULL
#define ARM64_GIC_REDIST_SIZE 0x20000ULL /* per vCPU: RD_base + SGI_base */
#define ARM64_MAX_CPUS 64

#define ARM64_UART 0x09000000ULL
#define ARM64_UART_SIZE 0x1000ULL
#define ARM64_UART_CLOCK 1843200 /* Hz: the PC UART's crystal */
#define ARM64_RTC 0x09010000ULL
#define ARM64_RTC_SIZE 0x1000ULL

#define ARM64_PCI_MMIO 0x10000000ULL
#define ARM64_PCI_MMIO_SIZE 0x2eff0000ULL
#define ARM64_PCI_IO 0x3eff0000ULL /* CPU address of PCI I/O port 0 */
#define ARM64_PCI_IO_SIZE 0x10000ULL
#define ARM64_PCI_ECAM 0x3f000000ULL
#define ARM64_PCI_ECAM_BUSES 16 /* 1 MiB of configuration space each */
#define ARM64_PCI_ECAM_SIZE (ARM64_PCI_ECAM_BUSES * 0x100000ULL)

#define ARM64_RAM_BASE 0x40000000ULL

/* SPIs (interrupt number n is GIC INTID 32 + n), all level-triggered,
 * active-high (the only polarity the GIC has for SPIs). */
#define ARM64_SPI_UART 1
#define ARM64_SPI_RTC 2
#define ARM64_SPI_PCI_FIRST 3 /* INTA# of slot s: SPI 3 + s % 4 */
#define ARM64_SPI_PCI_COUNT 4
#define ARM64_NR_SPIS 256

/* Architected timer PPIs (interrupt number n is GIC INTID 16 + n), in the
 * order of the arm,armv8-timer binding's interrupts property. */
#define ARM64_PPI_TIMER_SECURE 13
#define ARM64_PPI_TIMER_NONSECURE 14
#define ARM64_PPI_TIMER_VIRT 11
#define ARM64_PPI_TIMER_HYP 10

#endif
