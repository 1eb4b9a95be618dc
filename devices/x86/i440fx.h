/* SPDX-License-Identifier: MIT
 * i440fx.h - the PCI and Memory Controller of the Intel 440FX chipset
 * (82441FX PMC, 8086:1237) as the PC's host bridge under --firmware, with
 * its Programmable Attribute Map: the shadow RAM of the BIOS area
 * 0xC0000-0xFFFFF (82441FX datasheet, 3.2 "PAM[6:0]"). See i440fx.c.
 */
#ifndef MINIVMM_I440FX_H
#define MINIVMM_I440FX_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/pci.h"
#include "vmm/device.h"

struct rom;
struct vm;

#define I440FX_VENDOR 0x8086
#define I440FX_DEVICE 0x1237
#define I440FX_REVISION 0x02

/* PAM0 (high nibble: 0xF0000-0xFFFFF; low nibble reserved), PAM1-PAM6
 * (each nibble one 16 KiB segment of 0xC0000-0xEFFFF, low nibble first) */
#define I440FX_PAM0 0x59
#define I440FX_NR_PAM 7
/* a nibble: bit 0 RE (reads from RAM), bit 1 WE (writes to RAM) */
#define PAM_RE 0x1
#define PAM_WE 0x2

#define I440FX_WINDOW 0xc0000ULL      /* the PAM window: 256 KiB */
#define I440FX_WINDOW_END 0x100000ULL
#define I440FX_NR_SEGS 13             /* 12 x 16 KiB, then 64 KiB at 0xF0000 */
/* how much of the flash's end the chipset shows below 1 MiB (the "ISA
 * BIOS" range 0xE0000-0xFFFFF) */
#define I440FX_ISA_BIOS_SIZE 0x20000ULL

/* What one segment's memory slot maps: size 0 = nothing (every access is
 * an MMIO exit to i440fx_window_io). */
struct i440fx_map {
	uint64_t gpa, size;
	const uint8_t *host;
	bool readonly;
};

struct i440fx {
	struct device dev;
	struct pci_dev pci;
	uint8_t *ram;           /* host address of guest RAM at 0xC0000 */
	const uint8_t *rom;     /* the flash's bytes for [rom_gpa, 1 MiB) */
	uint64_t rom_gpa;       /* 1 MiB when there is no flash below it */
	uint8_t mode[I440FX_NR_SEGS];      /* PAM nibbles now (atomic) */
	struct i440fx_map map[I440FX_NR_SEGS]; /* what each slot holds */
	int slot[I440FX_NR_SEGS];          /* KVM memory slots, -1: none */
	bool on_bus, hole;
};

/* Segment s: its guest-physical start and size, and the PAM register and
 * nibble (0 low, 4 high) that control it. */
void i440fx_seg(unsigned s, uint64_t *gpa, uint64_t *size, unsigned *reg,
		unsigned *shift);

/* What segment s's slot should map in mode (a PAM nibble): RAM (read-only
 * unless WE) when RE is set, else the part of the segment the flash covers
 * (read-only), else nothing. */
struct i440fx_map i440fx_seg_map(const struct i440fx *p, unsigned s,
				 unsigned mode);

/* The PMC with the PAM registers at their reset value (0: the whole window
 * reads from the flash or PCI), showing rom's last I440FX_ISA_BIOS_SIZE
 * bytes (or all of it when smaller) below 1 MiB; rom may be NULL (no
 * flash: 0xFF). Guest RAM must cover the window. Attaching takes the window
 * out of RAM's memory slots, maps the segments and makes the device vm's
 * PCI host bridge (vm->pci must exist). 0 or -errno. */
int i440fx_create(struct vm *vm, const struct rom *rom, struct i440fx **out);

/* MMIO handler of the window (opaque = struct i440fx, off from 0xC0000):
 * what a memory slot does not serve. Reads: RAM where RE, else the flash,
 * else 0xFF; writes: RAM where WE, else dropped. */
void i440fx_window_io(void *opaque, uint64_t off, void *data, unsigned len,
		      bool is_write);

#endif
