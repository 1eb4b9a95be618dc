/* SPDX-License-Identifier: MIT
 * fuzz_pci.c - the machine and the program interpreter of the hostile
 * driver (see fuzz_pci.h).
 */
#include "fuzz_pci.h"

#include <stdlib.h>
#include <string.h>

#include "fake_vm.h"
#include "vmm/log.h"

struct vm fz_vm;
static struct pci_bus fz_pci;
static uint8_t *fz_ram;

void fz_machine_begin(void)
{
	if (!fz_ram) {
		log_quiet = true;
		fz_ram = aligned_alloc(4096, FZ_RAM_SIZE);
		if (!fz_ram || gm_add_region(&fz_vm.mem, 0, FZ_RAM_SIZE, fz_ram))
			abort();
		fz_vm.mem_size = FZ_RAM_SIZE;
	}
	memset(fz_ram, 0, FZ_RAM_SIZE);
	fake_vm_reset();
	if (bus_init(&fz_vm.pio, "pio") || bus_init(&fz_vm.mmio, "mmio") ||
	    fake_pci_bus_init(&fz_pci, &fz_vm))
		abort();
	fz_vm.pci = &fz_pci;
}

void fz_pci_bus_end(void)
{
	pci_bus_destroy(&fz_pci);
}

void fz_buses_end(void)
{
	fz_vm.pci = NULL;
	bus_destroy(&fz_vm.pio);
	bus_destroy(&fz_vm.mmio);
}

struct reader {
	const uint8_t *p;
	size_t left;
	bool short_read;
};

static uint64_t take(struct reader *r, unsigned n)
{
	uint64_t v = 0;

	if (r->left < n) {
		r->short_read = true;
		r->left = 0;
		return 0;
	}
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	r->left -= n;
	return v;
}

static unsigned take_len(struct reader *r)
{
	return 1u << (take(r, 1) % 4);
}

/* Configuration mechanism #1 (0xCF8 address, 0xCFC data), as a driver
 * does it; the data port access is at most 4 bytes. */
static void cfg_access(const struct fz_dev *dev, unsigned off, unsigned len,
		       uint32_t *val, bool is_write)
{
	uint32_t addr = 0x80000000u | dev->pci->slot << 11 | (off & 0xfc);

	if (len > 4)
		len = 4;
	bus_access(&fz_vm.pio, 0xcf8, &addr, 4, true);
	bus_access(&fz_vm.pio, 0xcfc + (off & 3), val, len, is_write);
}

static void bar_access(const struct fz_dev *dev, unsigned n, uint64_t off,
		       unsigned len, uint64_t *val, bool is_write)
{
	struct pci_bar *b = &dev->pci->bars[n % PCI_NUM_BARS];

	if (!b->size)
		return;
	/* where the guest put it; a miss if it is not decoded there */
	bus_access(b->type == PCI_BAR_IO ? &fz_vm.pio : &fz_vm.mmio,
		   b->addr + off % b->size, val, len, is_write);
}

void fz_run_program(const struct fz_dev *dev, const uint8_t *data,
		    size_t size)
{
	struct reader r = { data, size, false };

	while (r.left && !r.short_read) {
		unsigned op = (unsigned)take(&r, 1) % FZ_OP_NR;
		uint64_t v = 0;
		unsigned a, len;
		uint64_t off;

		switch (op) {
		case FZ_CFG_READ:
		case FZ_CFG_WRITE:
			a = (unsigned)take(&r, 2);
			len = take_len(&r);
			v = op == FZ_CFG_WRITE ? take(&r, 4) : 0;
			if (!r.short_read)
				cfg_access(dev, a, len, (uint32_t *)&v,
					   op == FZ_CFG_WRITE);
			break;
		case FZ_BAR_READ:
		case FZ_BAR_WRITE:
			a = (unsigned)take(&r, 1);
			off = take(&r, 4);
			len = take_len(&r);
			v = op == FZ_BAR_WRITE ? take(&r, 8) : 0;
			if (!r.short_read)
				bar_access(dev, a, off, len, &v,
					   op == FZ_BAR_WRITE);
			break;
		case FZ_PIO_READ:
		case FZ_PIO_WRITE:
			a = (unsigned)take(&r, 2);
			len = take_len(&r);
			v = op == FZ_PIO_WRITE ? take(&r, 4) : 0;
			if (!r.short_read)
				bus_access(&fz_vm.pio, a, &v, len > 4 ? 4 : len,
					   op == FZ_PIO_WRITE);
			break;
		case FZ_MEM_WRITE: {
			uint64_t gpa = take(&r, 4) % FZ_RAM_SIZE;
			size_t n = (size_t)take(&r, 1);

			if (n > r.left)
				n = r.left;
			if (n > FZ_RAM_SIZE - gpa)
				n = FZ_RAM_SIZE - gpa;
			gm_write(&fz_vm.mem, gpa, r.p, n);
			r.p += n;
			r.left -= n;
			break;
		}
		case FZ_RUN:
			if (dev->run)
				dev->run(dev->opaque);
			break;
		case FZ_FRAME: {
			size_t n = (size_t)take(&r, 2);

			if (n > r.left)
				n = r.left;
			if (dev->frame)
				dev->frame(dev->opaque, r.p, n);
			r.p += n;
			r.left -= n;
			break;
		}
		}
	}
}
