/* SPDX-License-Identifier: MIT
 * ata_fixture.h - what the ATA disk and ATAPI CD-ROM tests (test_ata.c,
 * test_atapi.c) share: one ATA channel whose interrupt line is counted,
 * guest RAM for the DMA engine and its PRD tables, the channel's registers
 * as a host reaches them, and the PIIX3 function on a fake PC PCI bus.
 */
#ifndef MINIVMM_ATA_FIXTURE_H
#define MINIVMM_ATA_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "devices/ata.h"
#include "devices/pci.h"
#include "devices/piix_ide.h"
#include "vmm/guest_mem.h"
#include "vmm/vm.h"

#define RAM_SIZE (2u << 20)
#define PRD_TABLE 0x1000u

extern struct ata_channel ch;
extern unsigned irq_raises; /* rising edges of the channel's line */
extern bool irq_now;        /* its level */
extern struct guest_mem gm; /* RAM_SIZE bytes of ram at 0 */
extern uint8_t *ram;
extern struct iovec scratch[BM_IOV_BATCH];
extern struct vm vm;        /* the machine of the PIIX3 tests */

/* The channel's interrupt line: counts into irq_raises and irq_now. */
void ata_fixture_irq(void *opaque, bool level);
/* ch empty with the counting interrupt line, RAM allocated and zeroed;
 * ata_fixture_teardown frees the RAM. */
void ata_fixture_setup(void);
void ata_fixture_teardown(void);

/* ch's command block and control block registers. */
uint8_t inb(unsigned reg);
void outb(unsigned reg, uint8_t v);
uint8_t altstatus(void);
void devctl(uint8_t v);

/* Entry i of the PRD table at PRD_TABLE. */
void prd(unsigned i, uint32_t addr, uint32_t count, bool eot);

/* The PIIX3 function with cfg's drives, created and attached on a fake PC
 * PCI bus in vm (whose RAM is gm); returns its PCI function. */
struct pci_dev *piix_fixture(const struct piix_ide_cfg *cfg,
			     struct pci_bus *bus, struct piix_ide **ide);
/* Port I/O on vm's port bus. */
uint32_t pin(uint64_t port, unsigned len);
void pout(uint64_t port, unsigned len, uint32_t v);

#endif
