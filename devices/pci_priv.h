/* SPDX-License-Identifier: MIT
 * pci_priv.h - the glue between pci.c (configuration space, the bus) and
 * msix.c (the MSI-X capability, table and PBA). Not for device models:
 * they use devices/pci.h only.
 */
#ifndef MINIVMM_PCI_PRIV_H
#define MINIVMM_PCI_PRIV_H

#include "pci.h"

/* Type-0 configuration header offsets and bits (PCI 3.0, 6.1 and 6.2). */
#define PCI_CFG_VENDOR_ID 0x00
#define PCI_CFG_DEVICE_ID 0x02
#define PCI_CFG_COMMAND 0x04
#define PCI_CFG_STATUS 0x06
#define PCI_CFG_REVISION 0x08
#define PCI_CFG_CLASS_PROG 0x09
#define PCI_CFG_CACHE_LINE 0x0c
#define PCI_CFG_LATENCY 0x0d
#define PCI_CFG_HEADER_TYPE 0x0e
#define PCI_CFG_BAR0 0x10
#define PCI_CFG_SUBSYS_VENDOR 0x2c
#define PCI_CFG_SUBSYS_ID 0x2e
#define PCI_CFG_ROM 0x30
#define PCI_CFG_CAP_PTR 0x34
#define PCI_CFG_INT_LINE 0x3c
#define PCI_CFG_INT_PIN 0x3d
#define PCI_CFG_FIRST_CAP 0x40

#define PCI_CMD_IO 0x0001
#define PCI_CMD_MEM 0x0002
#define PCI_CMD_MASTER 0x0004
#define PCI_CMD_PARITY 0x0040
#define PCI_CMD_SERR 0x0100
#define PCI_CMD_INTX_DISABLE 0x0400

#define PCI_STS_INTX 0x0008 /* interrupt status (read-only) */
#define PCI_STS_CAP_LIST 0x0010
/* master data parity error, signaled/received target abort, received
 * master abort, signaled system error, detected parity error */
#define PCI_STS_W1C 0xf900

#define PCI_CAP_ID_MSIX 0x11
#define PCI_MSIX_CTRL 2 /* Message Control, from the capability start */
#define PCI_MSIX_CTRL_SIZE 0x07ff
#define PCI_MSIX_CTRL_MASK 0x4000
#define PCI_MSIX_CTRL_ENABLE 0x8000
#define PCI_MSIX_TABLE 4 /* Table Offset / BIR */
#define PCI_MSIX_PBA 8   /* PBA Offset / BIR */
#define PCI_MSIX_CAP_LEN 12
#define PCI_MSIX_MAX_VECTORS 2048
#define PCI_MSIX_ENTRY_SIZE 16

/* msix.c: the guest wrote Message Control (bus lock held). */
void msix_ctrl_written(struct pci_dev *d);
/* msix.c: allocate a GSI, an eventfd and an irqfd per vector once the
 * device is on a bus (d->bus->vm is known). Failures are logged and the
 * vector falls back to KVM_SIGNAL_MSI. */
void msix_attach(struct pci_dev *d);
/* msix.c: undo msix_attach and free the table. */
void msix_release(struct pci_dev *d);

#endif
