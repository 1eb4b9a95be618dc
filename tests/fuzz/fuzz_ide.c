/* SPDX-License-Identifier: MIT
 * fuzz_ide - libFuzzer target: a hostile driver (fuzz_pci.h) against the
 * PIIX3 IDE function (devices/piix_ide.c), its ATA disks (devices/ata.c)
 * and an ATAPI CD-ROM (devices/atapi.c): the legacy command and control ports of both channels
 * (PIO_READ/PIO_WRITE at 0x1F0-0x1F7, 0x3F6, 0x170-0x177, 0x376), config
 * space, and bus-master DMA through BAR 4 with PRD tables in guest RAM.
 * Disks: primary master and secondary slave, 256 KiB raw images in
 * memfds, zeroed for every input; the CD-ROM is the primary slave, its
 * disc a 256 KiB image the device sees as read-only.
 */
#include <stdlib.h>

#include "devices/disk/blockdev.h"
#include "devices/piix_ide.h"
#include "fuzz_pci.h"

#define DISK_SIZE (256 << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct piix_ide_cfg cfg = { .disks = {
		fz_raw_disk(0, DISK_SIZE), fz_raw_disk(2, DISK_SIZE), NULL,
		fz_raw_disk(1, DISK_SIZE) }, .cdrom = { false, true, false, false } };
	struct piix_ide *ide;

	cfg.disks[1]->readonly = true; /* the disc: never written */
	fz_machine_begin();
	if (piix_ide_create(&fz_vm, &cfg, &ide))
		abort();
	if (ide->dev.ops->attach(&ide->dev) == 0)
		fz_run_program(&(struct fz_dev){ .pci = &ide->pci }, data, size);
	fz_pci_bus_end();
	ide->dev.ops->free(&ide->dev);
	fz_buses_end();
	return 0;
}
