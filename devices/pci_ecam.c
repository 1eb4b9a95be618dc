/* SPDX-License-Identifier: MIT
 * pci_ecam.c - the PCI Express Enhanced Configuration Access Mechanism
 * (PCI Express Base Specification 4.0, 7.2.2): the address of a
 * configuration register in the window is
 *     bus << 20 | device << 15 | function << 12 | register
 * with 4096 bytes of register space per function. The registers
 * themselves are those of devices/pci.c (the type-0 header and the
 * capability list of each device, the same as through 0xCF8/0xCFC);
 * this file only decodes the address.
 *
 * Like a root complex that receives an Unsupported Request for a
 * configuration read, every access that reaches no function reads as all
 * ones (7.2.2.2 leaves the size of an access that crosses a DWORD to the
 * implementation: here it reaches nothing), and writes to it are dropped.
 */
#include "devices/pci_ecam.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/vm.h"

#define ECAM_FN_SIZE 0x1000u

/* The function at off, or NULL; *reg is the register offset in it
 * (bus lock held). */
static struct pci_dev *ecam_dev(struct pci_ecam *e, uint64_t off,
				unsigned *reg)
{
	unsigned bus_nr = (unsigned)(off >> 20);
	unsigned dev = (unsigned)(off >> 15) & 0x1f;
	unsigned fn = (unsigned)(off >> 12) & 7;

	*reg = (unsigned)(off & (ECAM_FN_SIZE - 1));
	if (bus_nr != 0 || fn != 0)
		return NULL;
	return e->bus->slots[dev];
}

/* An access the configuration space can take: 1, 2 or 4 bytes, naturally
 * aligned, inside the window. */
static bool ecam_access_ok(const struct pci_ecam *e, uint64_t off,
			   unsigned len)
{
	return (len == 1 || len == 2 || len == 4) && !(off & (len - 1)) &&
	       off < (uint64_t)e->buses * PCI_ECAM_BUS_SIZE;
}

void pci_ecam_access(struct pci_ecam *e, uint64_t off, void *data,
		     unsigned len, bool is_write)
{
	struct pci_dev *d = NULL;
	uint32_t v = 0;
	unsigned reg = 0;

	if (!ecam_access_ok(e, off, len) ||
	    (off & (ECAM_FN_SIZE - 1)) >= PCI_CFG_SIZE) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&e->bus->lock);
	d = ecam_dev(e, off, &reg);
	if (is_write) {
		memcpy(&v, data, len); /* little-endian, like the guest */
		if (d)
			pci_cfg_write(d, reg, len, v);
	} else {
		v = d ? pci_cfg_read(d, reg, len) : 0xffffffffu;
		memcpy(data, &v, len);
	}
	pthread_mutex_unlock(&e->bus->lock);
}

static void ecam_io(void *opaque, uint64_t off, void *data, unsigned len,
		    bool is_write)
{
	pci_ecam_access(opaque, off, data, len, is_write);
}

/* "00:03.0 cfg BAR4", "01:00.0 cfg (no device)". */
static unsigned ecam_name(void *opaque, uint64_t off, unsigned len,
			  bool is_write, char *buf, size_t size)
{
	struct pci_ecam *e = opaque;
	struct pci_dev *d;
	unsigned reg;
	char name[64] = "";

	(void)is_write;
	pthread_mutex_lock(&e->bus->lock);
	d = ecam_dev(e, off, &reg);
	if (d && ecam_access_ok(e, off, len) && reg < PCI_CFG_SIZE)
		pci_cfg_reg_name(d, reg, len, name, sizeof(name));
	pthread_mutex_unlock(&e->bus->lock);
	snprintf(buf, size, "%02x:%02x.%u cfg %s",
		 (unsigned)(off >> 20) & 0xff, (unsigned)(off >> 15) & 0x1f,
		 (unsigned)(off >> 12) & 7,
		 name[0] ? name : d ? "(bad access)" : "(no device)");
	return 0;
}

int pci_ecam_init(struct pci_ecam *e, struct pci_bus *bus, uint64_t base,
		  unsigned buses)
{
	if (!bus || !bus->vm || !buses || buses > 256 ||
	    (base & (PCI_ECAM_BUS_SIZE - 1)))
		return -EINVAL;
	e->bus = bus;
	e->base = base;
	e->buses = buses;
	return bus_add(&bus->vm->mmio, base, buses * PCI_ECAM_BUS_SIZE,
		       ecam_io, ecam_name, e, "pci-ecam");
}

void pci_ecam_destroy(struct pci_ecam *e)
{
	if (e->bus && e->bus->vm)
		bus_remove(&e->bus->vm->mmio, e->base);
	e->bus = NULL;
}
