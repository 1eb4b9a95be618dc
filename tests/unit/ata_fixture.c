/* SPDX-License-Identifier: MIT
 * ata_fixture.c - the ATA tests' shared fixture (ata_fixture.h).
 */
#include "ata_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_vm.h"
#include "vmm/device.h"

struct ata_channel ch;
unsigned irq_raises;
bool irq_now;
struct guest_mem gm;
uint8_t *ram;
struct iovec scratch[BM_IOV_BATCH];
struct vm vm;

void ata_fixture_irq(void *opaque, bool level)
{
	(void)opaque;
	if (level && !irq_now)
		irq_raises++;
	irq_now = level;
}

void ata_fixture_setup(void)
{
	irq_raises = 0;
	irq_now = false;
	ata_channel_init(&ch, ata_fixture_irq, NULL);
	ram = calloc(1, RAM_SIZE);
	assert_non_null(ram);
	memset(&gm, 0, sizeof(gm));
	assert_int_equal(gm_add_region(&gm, 0, RAM_SIZE, ram), 0);
}

void ata_fixture_teardown(void)
{
	free(ram);
	ram = NULL;
}

uint8_t inb(unsigned reg)
{
	uint8_t v = 0;

	ata_cmd_io(&ch, reg, &v, 1, false);
	return v;
}

void outb(unsigned reg, uint8_t v)
{
	ata_cmd_io(&ch, reg, &v, 1, true);
}

uint8_t altstatus(void)
{
	uint8_t v = 0;

	ata_ctl_io(&ch, &v, 1, false);
	return v;
}

void devctl(uint8_t v)
{
	ata_ctl_io(&ch, &v, 1, true);
}

void prd(unsigned i, uint32_t addr, uint32_t count, bool eot)
{
	uint32_t e[2] = { addr, (count & 0xffff) | (eot ? 0x80000000u : 0) };

	memcpy(ram + PRD_TABLE + 8 * i, e, sizeof(e));
}

struct pci_dev *piix_fixture(const struct piix_ide_cfg *cfg,
			     struct pci_bus *bus, struct piix_ide **ide)
{
	struct pci_dev *d = NULL;
	struct device *dev;

	assert_int_equal(fake_vm_init(&vm), 0);
	vm.mem = gm;
	assert_int_equal(fake_pci_bus_init(bus, &vm), 0);
	vm.pci = bus;
	assert_int_equal(piix_ide_create(&vm, cfg, ide), 0);
	dev = &(*ide)->dev;
	assert_int_equal(dev->ops->attach(dev), 0);
	assert_ptr_equal(dev->vm, &vm);
	for (unsigned s = 1; s < PCI_MAX_SLOTS; s++)
		if (bus->slots[s])
			d = bus->slots[s];
	assert_non_null(d);
	return d;
}

uint32_t pin(uint64_t port, unsigned len)
{
	uint32_t v = 0;

	assert_true(bus_access(&vm.pio, port, &v, len, false));
	return v;
}

void pout(uint64_t port, unsigned len, uint32_t v)
{
	assert_true(bus_access(&vm.pio, port, &v, len, true));
}
