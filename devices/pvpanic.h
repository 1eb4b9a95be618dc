/* SPDX-License-Identifier: MIT
 * pvpanic.h - the PCI pvpanic device (PCI 1b36:0011, as defined by QEMU's
 * docs/specs/pvpanic.txt and driven by Linux's pvpanic-pci driver): one
 * 16-byte memory BAR whose first byte reads as the events the host
 * supports and takes the event the guest reports.
 */
#ifndef MINIVMM_PVPANIC_H
#define MINIVMM_PVPANIC_H

#include "devices/pci.h"
#include "vmm/device.h"

struct vm;

#define PVPANIC_VENDOR 0x1b36 /* Red Hat */
#define PVPANIC_DEVICE 0x0011
#define PVPANIC_CLASS 0x088000 /* base 08 system peripheral, sub 80 other */
#define PVPANIC_BAR_SIZE 16    /* the smallest memory BAR */

#define PVPANIC_PANICKED (1u << 0)
#define PVPANIC_CRASH_LOADED (1u << 1)
#define PVPANIC_EVENTS (PVPANIC_PANICKED | PVPANIC_CRASH_LOADED)

struct pvpanic {
	struct device dev;
	struct vm *vm;
	struct pci_dev pci;
};

/* Create the device (device.h); attaching it plugs it into vm->pci (which
 * must exist by then: -ENODEV otherwise). A guest write of PANICKED stops
 * the VM with VM_EXIT_GUEST_PANIC. It lives until the machine frees it,
 * after the PCI bus is destroyed. 0 or -errno. */
int pvpanic_create(struct vm *vm, struct pvpanic **out);

/* Exposed for tests: the BAR 0 handler (opaque = struct pvpanic). */
void pvpanic_bar_io(void *opaque, uint64_t offset, void *data, unsigned len,
		    bool is_write);

#endif
