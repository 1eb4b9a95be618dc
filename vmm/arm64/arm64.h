/* SPDX-License-Identifier: MIT
 * arm64.h - the arm64 machine's own state (struct arch_vm of vmm/arch.h),
 * shared by vm_arm64.c, vcpu_arm64.c and machine_arm64.c, and the PCI host
 * the device tree describes.
 */
#ifndef MINIVMM_ARM64_ARM64_H
#define MINIVMM_ARM64_ARM64_H

#include <stdint.h>

#include "devices/pci_ecam.h"
#include "layout.h"

struct arch_vm {
	/* the in-kernel GICv3 from arch_vm_setup until arch_vm_finish
	 * initialises it (arm64_vgic_init); -1 otherwise */
	int gic_fd;
	uint64_t entry; /* the boot vCPU's PC: the Image's first byte */
	uint64_t fdt;   /* and X0: the device tree's guest-physical address */
	struct pci_ecam ecam; /* the PCI configuration window */
};

/* The PCI host of the device tree's pci-host-ecam-generic node (a struct
 * pci_host initializer, devices/pci.h): BARs in the 32-bit window, I/O
 * BARs from port 0x1000 (ports below are the legacy ISA range, which the
 * node's I/O window also maps), INTA# of slot s on SPI 3 + s % 4, no
 * legacy IDE. */
#define ARM64_PCI_HOST {                                                   \
	.mmio_start = ARM64_PCI_MMIO,                                      \
	.mmio_end = ARM64_PCI_MMIO + ARM64_PCI_MMIO_SIZE,                  \
	.io_start = 0x1000, .io_end = ARM64_PCI_IO_SIZE,                   \
	.io_mmio_base = ARM64_PCI_IO,                                      \
	.intx_first = ARM64_SPI_PCI_FIRST, .intx_count = ARM64_SPI_PCI_COUNT, \
}

#endif
