/* SPDX-License-Identifier: MIT
 * i440fx.c - the Intel 82441FX PCI and Memory Controller (PMC) of the 440FX
 * chipset as the PC's host bridge at 00:00.0 under --firmware: vendor
 * 0x8086, device 0x1237, revision 0x02, class 0x060000 (82441FX datasheet,
 * 3.2 "PCI configuration registers"). SeaBIOS finds its shadow RAM
 * controls by these IDs (without them: "Unable to unlock ram - bridge not
 * found"), and sets the PIIX interrupt lines (10, 11) in every function.
 *
 * Registers: the type-0 header of devices/pci.c (no BARs, no interrupt
 * pin) and the Programmable Attribute Map, PAM0-PAM6 at 0x59-0x5F (3.2.18).
 * Each nibble controls one segment of the BIOS area: bit 0 RE (reads go to
 * DRAM), bit 1 WE (writes go to DRAM); clear, the access goes to PCI,
 * where the flash answers for its "ISA BIOS" alias. PAM0's high nibble is
 * 0xF0000-0xFFFFF (its low nibble is reserved), PAM1-PAM6 cover
 * 0xC0000-0xEFFFF in 16 KiB segments, low nibble first. Bits 2-3 and 6-7
 * are reserved: they read as 0 and ignore writes. Reset value 0: the BIOS
 * runs from the flash. The other 82441FX registers (DRAM control and row
 * boundaries, SMRAM...) are not modelled: they read as 0 and ignore
 * writes (SeaBIOS touches SMRAM only beside a PIIX4 power-management
 * function, which minivmm has not).
 *
 * The model, with KVM memory slots, one per segment:
 *   RE+WE (3)   guest RAM, read/write;
 *   RE    (1)   guest RAM, read-only slot: a write is an MMIO exit, dropped;
 *   WE    (2)   reads from the flash: its bytes in a read-only slot where
 *   none  (0)   the flash reaches (its last 128 KiB at 0xE0000-0xFFFFF, the
 *               same pages the top of 4 GiB maps, devices/rom.c), else no
 *               slot (reads exit and find 0xFF: nothing on PCI there);
 *               writes exit and go to the RAM behind (2) or nowhere (0).
 * The window's MMIO handler applies the same rules to whatever exits, so
 * a slot KVM refused costs speed, not correctness. Guest RAM below the
 * window and above it keeps its own slots (vm_ram_hole). The RAM behind
 * the window starts with the image's copy boot/x86/boot.c puts there
 * (SeaBIOS copies itself from the flash anyway). The VMM itself
 * and device DMA (gm_ptr) always reach the RAM behind, whatever the PAM
 * says. A register write that changes a nibble remaps that segment on the
 * spot (the bus lock serialises them), as the chipset does.
 */
#include "i440fx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/rom.h"
#include "vmm/bus.h"
#include "vmm/guest_mem.h"
#include "vmm/log.h"
#include "vmm/vm.h"

void i440fx_seg(unsigned s, uint64_t *gpa, uint64_t *size, unsigned *reg,
		unsigned *shift)
{
	if (s >= I440FX_NR_SEGS - 1) { /* PAM0's: the 64 KiB F segment */
		*gpa = 0xf0000;
		*size = 0x10000;
		*reg = I440FX_PAM0;
		*shift = 4;
		return;
	}
	*gpa = I440FX_WINDOW + 0x4000ULL * s;
	*size = 0x4000;
	*reg = I440FX_PAM0 + 1 + s / 2;
	*shift = (s & 1) * 4;
}

struct i440fx_map i440fx_seg_map(const struct i440fx *p, unsigned s,
				 unsigned mode)
{
	struct i440fx_map m = { 0 };
	uint64_t gpa, size, start;
	unsigned reg, shift;

	i440fx_seg(s, &gpa, &size, &reg, &shift);
	if (mode & PAM_RE) {
		m = (struct i440fx_map){ gpa, size, p->ram + (gpa - I440FX_WINDOW),
					 !(mode & PAM_WE) };
	} else if (p->rom && p->rom_gpa < gpa + size) {
		start = p->rom_gpa > gpa ? p->rom_gpa : gpa;
		m = (struct i440fx_map){ start, gpa + size - start,
					 p->rom + (start - p->rom_gpa), true };
	}
	return m;
}

static unsigned seg_of(uint64_t gpa)
{
	return gpa >= 0xf0000 ? I440FX_NR_SEGS - 1 :
				(unsigned)((gpa - I440FX_WINDOW) / 0x4000);
}

void i440fx_window_io(void *opaque, uint64_t off, void *data, unsigned len,
		      bool is_write)
{
	struct i440fx *p = opaque;
	uint8_t *d = data;

	/* byte by byte: an unaligned access may straddle two segments */
	for (unsigned i = 0; i < len; i++) {
		uint64_t gpa = I440FX_WINDOW + off + i;
		unsigned mode;

		if (gpa >= I440FX_WINDOW_END) {
			if (!is_write)
				d[i] = 0xff;
			continue;
		}
		mode = __atomic_load_n(&p->mode[seg_of(gpa)], __ATOMIC_RELAXED);
		if (is_write) {
			if (mode & PAM_WE)
				p->ram[gpa - I440FX_WINDOW] = d[i];
		} else if (mode & PAM_RE) {
			d[i] = p->ram[gpa - I440FX_WINDOW];
		} else {
			d[i] = p->rom && gpa >= p->rom_gpa ? p->rom[gpa - p->rom_gpa] :
							     0xff;
		}
	}
}

static bool same_map(const struct i440fx_map *a, const struct i440fx_map *b)
{
	return a->size == b->size &&
	       (!a->size || (a->gpa == b->gpa && a->host == b->host &&
			     a->readonly == b->readonly));
}

/* Segment s's slot to what its mode asks, if that changed. A failure
 * leaves the slot empty: the window's handler serves the segment. */
static void remap(struct i440fx *p, unsigned s)
{
	struct vm *vm = p->dev.vm;
	struct i440fx_map want = i440fx_seg_map(p, s, p->mode[s]);
	int ret;

	if (p->slot[s] < 0 || same_map(&want, &p->map[s]))
		return;
	if (p->map[s].size) {
		vm_set_memslot(vm, (unsigned)p->slot[s], 0, 0, NULL, false);
		p->map[s].size = 0;
	}
	if (!want.size)
		return;
	/* KVM only reads through a read-only slot: the flash stays const */
	ret = vm_set_memslot(vm, (unsigned)p->slot[s], want.gpa, want.size,
			     (void *)(uintptr_t)want.host, want.readonly);
	if (ret)
		pr_warn_limited(&p->dev.warn, p->dev.name,
				"%s: cannot map 0x%llx (0x%llx bytes): %s; served "
				"by exits", p->dev.name,
				(unsigned long long)want.gpa,
				(unsigned long long)want.size, strerror(-ret));
	else
		p->map[s] = want;
}

/* The nibbles the PAM registers hold now into mode[], then the slots. */
static void pam_update(struct i440fx *p)
{
	for (unsigned s = 0; s < I440FX_NR_SEGS; s++) {
		uint64_t gpa, size;
		unsigned reg, shift;

		i440fx_seg(s, &gpa, &size, &reg, &shift);
		__atomic_store_n(&p->mode[s], (p->pci.cfg[reg] >> shift) & 3,
				 __ATOMIC_RELAXED);
		remap(p, s);
	}
}

/* Bus lock held (devices/pci.h): after any write, PAM bytes or not. */
static void pmc_cfg_written(struct pci_dev *d, unsigned off, unsigned len)
{
	if (off < I440FX_PAM0 + I440FX_NR_PAM && I440FX_PAM0 < off + len)
		pam_update(d->opaque);
}

static unsigned window_reg_name(void *opaque, uint64_t off, unsigned len,
				bool is_write, char *buf, size_t size)
{
	(void)opaque;
	(void)len;
	(void)is_write;
	snprintf(buf, size, "0x%05llx", (unsigned long long)(I440FX_WINDOW + off));
	return 0;
}

static int pmc_attach(struct device *dev)
{
	struct i440fx *p = container_of(dev, struct i440fx, dev);
	struct vm *vm = dev->vm;
	int ret;

	if (!vm->pci)
		return -ENODEV;
	if ((ret = bus_add(&vm->mmio, I440FX_WINDOW,
			   I440FX_WINDOW_END - I440FX_WINDOW, i440fx_window_io,
			   window_reg_name, p, dev->name)))
		return ret;
	p->on_bus = true;
	for (unsigned s = 0; s < I440FX_NR_SEGS; s++) {
		if ((ret = vm_memslot_alloc(vm)) < 0)
			return ret;
		p->slot[s] = ret;
	}
	if ((ret = vm_ram_hole(vm, I440FX_WINDOW,
			       I440FX_WINDOW_END - I440FX_WINDOW)))
		return ret;
	p->hole = true;
	pam_update(p);
	pci_bus_set_host_bridge(vm->pci, &p->pci);
	return 0;
}

static void pmc_free(struct device *dev)
{
	struct i440fx *p = container_of(dev, struct i440fx, dev);

	for (unsigned s = 0; s < I440FX_NR_SEGS; s++)
		if (p->slot[s] >= 0 && p->map[s].size)
			vm_set_memslot(dev->vm, (unsigned)p->slot[s], 0, 0, NULL,
				       false);
	if (p->on_bus)
		bus_remove(&dev->vm->mmio, I440FX_WINDOW);
	free(p);
}

static const struct device_ops pmc_ops = {
	.attach = pmc_attach,
	.free = pmc_free,
};

int i440fx_create(struct vm *vm, const struct rom *rom, struct i440fx **out)
{
	uint8_t *ram = gm_ptr(&vm->mem, I440FX_WINDOW,
			      I440FX_WINDOW_END - I440FX_WINDOW);
	struct i440fx *p;

	if (!ram)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ram = ram;
	p->rom_gpa = I440FX_WINDOW_END;
	if (rom && rom->size) {
		uint64_t alias = rom->size < I440FX_ISA_BIOS_SIZE ?
					 rom->size : I440FX_ISA_BIOS_SIZE;

		p->rom = rom->data + (rom->size - alias);
		p->rom_gpa = I440FX_WINDOW_END - alias;
	}
	for (unsigned s = 0; s < I440FX_NR_SEGS; s++)
		p->slot[s] = -1;
	pci_dev_init(&p->pci, "i440fx", I440FX_VENDOR, I440FX_DEVICE,
		     0x060000, I440FX_REVISION, 0, 0);
	p->pci.wmask[I440FX_PAM0] = 0x30;
	for (unsigned r = 1; r < I440FX_NR_PAM; r++)
		p->pci.wmask[I440FX_PAM0 + r] = 0x33;
	p->pci.opaque = p;
	p->pci.cfg_written = pmc_cfg_written;
	device_init(&p->dev, &pmc_ops, "i440fx", vm, "i440fx");
	*out = p;
	return 0;
}
