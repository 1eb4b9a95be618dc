/* SPDX-License-Identifier: MIT
 * fw_cfg_x86.h - what the x86 machine puts in the fw_cfg device for a
 * firmware (SeaBIOS) boot: the memory map, the CPU count, the boot order,
 * the serial console port, and minivmm's own ACPI tables as the files and
 * linker/loader commands through which the firmware installs them.
 */
#ifndef MINIVMM_X86_FW_CFG_X86_H
#define MINIVMM_X86_FW_CFG_X86_H

#include <stddef.h>
#include <stdint.h>

#include "devices/fw_cfg.h"

struct x86_fw_cfg_cfg {
	uint64_t low_size, high_size; /* guest RAM, as the machine has it */
	unsigned nr_cpus;
	const char *bootorder; /* "/pci@i0cf8/scsi@3/disk@0,0\n...", or NULL */
	uint16_t sercon_port;  /* 0: the firmware's console stays on VGA */
};

/* Fill f: FW_CFG_RAM_SIZE, FW_CFG_NB_CPUS, FW_CFG_MAX_CPUS, "etc/e820",
 * "bootorder", "etc/sercon-port", "etc/boot-fail-wait" and the ACPI files
 * ("etc/acpi/rsdp", "etc/acpi/tables", "etc/table-loader"). 0 or -errno. */
int x86_fw_cfg_fill(struct fw_cfg *f, const struct x86_fw_cfg_cfg *c);

/* The linker/loader ("etc/table-loader") command layout: 128-byte entries,
 * little-endian, command at offset 0 (QEMU hw/acpi/bios-linker-loader.c). */
#define FW_LOADER_ENTRY 128
#define FW_LOADER_ALLOCATE 1
#define FW_LOADER_ADD_POINTER 2
#define FW_LOADER_ADD_CHECKSUM 3
#define FW_LOADER_ZONE_HIGH 1
#define FW_LOADER_ZONE_FSEG 2

/* The ACPI tables of acpi_build() as position-independent blobs: rsdp
 * (36 bytes) and tables (everything else), every pointer between them held
 * as an offset into the tables blob, and the loader commands that allocate
 * both, add the tables' address to each pointer and fix every checksum.
 * Exposed for tests. Free with x86_acpi_blobs_free. 0 or -errno. */
struct x86_acpi_blobs {
	uint8_t *rsdp, *tables, *loader;
	size_t rsdp_len, tables_len, loader_len;
};
int x86_acpi_blobs(unsigned nr_cpus, struct x86_acpi_blobs *out);
void x86_acpi_blobs_free(struct x86_acpi_blobs *b);

/* The CMOS bytes a PC BIOS sizes memory and counts CPUs from, as QEMU
 * sets them: base memory (0x15-0x16, KiB), extended memory above 1 MiB
 * (0x17-0x18 and 0x30-0x31, KiB, at most 65535), memory above 16 MiB in
 * 64 KiB units (0x34-0x35), memory above 4 GiB in 64 KiB units
 * (0x5b-0x5d), CPUs - 1 (0x5f). Written into cmos[128]. */
void x86_cmos_memory(uint8_t cmos[128], uint64_t low_size, uint64_t high_size,
		     unsigned nr_cpus);

#endif
