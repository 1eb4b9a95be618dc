/* SPDX-License-Identifier: MIT
 * piix_ide.h - the IDE function of an Intel PIIX3 (82371SB) as a PCI
 * device: 8086:7010, both channels in legacy ("compatibility") mode and
 * bus-master DMA (see piix_ide.c).
 */
#ifndef MINIVMM_PIIX_IDE_H
#define MINIVMM_PIIX_IDE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "devices/ata.h"
#include "devices/pci.h"
#include "vmm/device.h"

struct vm;
struct blockdev;
struct guest_mem;

#define PIIX_IDE_VENDOR 0x8086
#define PIIX_IDE_DEVICE 0x7010
#define PIIX_IDE_CLASS 0x010180 /* IDE, legacy mode both channels, bus master */
#define PIIX_IDE_MAX_DISKS 4

/* Bus-master IDE registers, per channel (+0 primary, +8 secondary). */
#define BM_CMD 0
#define BM_STATUS 2
#define BM_PRD 4
#define BM_CMD_START 0x01
#define BM_CMD_TO_MEMORY 0x08 /* read/write control: 1 = the device's data to memory */
#define BM_ST_ACTIVE 0x01
#define BM_ST_ERROR 0x02
#define BM_ST_INTR 0x04
#define BM_ST_DMA0 0x20
#define BM_ST_DMA1 0x40
#define BM_ST_SIMPLEX 0x80

/* A PRD table is walked for at most this many entries: the table may not
 * cross a 64 KiB boundary, so no real one is longer. */
#define BM_PRD_MAX 8192
/* Guest buffers handed to the block backend per call. */
#define BM_IOV_BATCH 256

struct piix_ide_cfg {
	/* primary master, primary slave, secondary master, secondary slave;
	 * NULL: that position is empty */
	struct blockdev *disks[PIIX_IDE_MAX_DISKS];
	const char *serials[PIIX_IDE_MAX_DISKS]; /* NULL: from the position */
	/* that position holds an ATAPI CD-ROM with disks[i] as its disc
	 * (read-only) instead of an ATA disk */
	bool cdrom[PIIX_IDE_MAX_DISKS];
};

struct piix_ide {
	struct device dev;
	struct pci_dev pci;
};

/* Create the controller with its disks (device.h); attaching it claims
 * the legacy ports of both channels, takes their ISA IRQs from the PCI
 * host (legacy_ide_irq) and plugs it into vm->pci (-ENODEV without one, or
 * on a platform without those IRQs). On success the device owns the block devices given
 * (closed by its free). Prints nothing: 0 or -errno. */
int piix_ide_create(struct vm *vm, const struct piix_ide_cfg *cfg,
		    struct piix_ide **out);

/* ---- the DMA engine, exposed for tests ---- */
/* Walk the PRD table at prd for the pending DMA command of ch and move its
 * data. Returns the bus-master status bits to set (ACTIVE cleared unless
 * the table is longer than the transfer, INTR, ERROR) and ends the ATA
 * command itself. iov: BM_IOV_BATCH entries of scratch space. */
uint8_t bm_run_dma(struct ata_channel *ch, const struct guest_mem *mem,
		   uint32_t prd, struct iovec *iov);

#endif
