/* SPDX-License-Identifier: MIT
 * pci_ecam.h - the PCI Express Enhanced Configuration Access Mechanism
 * (PCI Express Base Specification, 7.2.2 "PCI Express Enhanced
 * Configuration Access Mechanism (ECAM)"): configuration space as a
 * memory window, 4 KiB per function, 1 MiB per bus, routed onto the
 * configuration space of devices/pci.c. The arm64 machine's only
 * configuration mechanism (pci-host-ecam-generic in its device tree).
 */
#ifndef MINIVMM_PCI_ECAM_H
#define MINIVMM_PCI_ECAM_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/pci.h"

#define PCI_ECAM_BUS_SIZE 0x100000ULL /* 32 devices x 8 functions x 4 KiB */

/* The offset of (bus, device, function, register) in the window. */
#define PCI_ECAM_OFFSET(b, d, f, r)                                            \
	((uint64_t)(b) << 20 | (uint64_t)(d) << 15 | (uint64_t)(f) << 12 |    \
	 (uint64_t)(r))

struct pci_ecam {
	struct pci_bus *bus;
	uint64_t base;  /* guest-physical */
	unsigned buses; /* window covers buses 0..buses-1 */
};

/* Claim [base, base + buses MiB) on bus->vm->mmio for bus's configuration
 * space (buses 1..256). 0, -EINVAL, or bus_add's -errno. */
int pci_ecam_init(struct pci_ecam *e, struct pci_bus *bus, uint64_t base,
		  unsigned buses);
/* Release the window. */
void pci_ecam_destroy(struct pci_ecam *e);

/* One access at offset off of the window (the MMIO handler; exposed for
 * tests and fuzzing). Only bus 0, function 0 of each slot exists; a
 * 1-, 2- or 4-byte access naturally aligned inside the 256-byte header
 * reaches the device. Anything else (other buses or functions, an empty
 * slot, extended config space, an unaligned or odd-sized access, an
 * offset beyond the window) reads as all ones and is ignored on write. */
void pci_ecam_access(struct pci_ecam *e, uint64_t off, void *data,
		     unsigned len, bool is_write);

#endif
