/* SPDX-License-Identifier: MIT
 * fuzz_ide - libFuzzer target: a hostile driver (fuzz_pci.h) against the
 * PIIX3 IDE function (devices/piix_ide.c) and its ATA disks
 * (devices/ata.c): the legacy command and control ports of both channels
 * (PIO_READ/PIO_WRITE at 0x1F0-0x1F7, 0x3F6, 0x170-0x177, 0x376), config
 * space, and bus-master DMA through BAR 4 with PRD tables in guest RAM.
 * Disks: primary master and secondary slave, 256 KiB raw images in
 * memfds, zeroed for every input.
 */
#include <stdlib.h>

#include "devices/piix_ide.h"
#include "fuzz_pci.h"

#define DISK_SIZE (256 << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct piix_ide_cfg cfg = { .disks = {
		fz_raw_disk(0, DISK_SIZE), NULL, NULL, fz_raw_disk(1, DISK_SIZE) } };
	struct piix_ide *ide;

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
