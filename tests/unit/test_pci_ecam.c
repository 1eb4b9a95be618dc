/* SPDX-License-Identifier: MIT
 * Unit tests: the ECAM window (devices/pci_ecam.c) on the MMIO bus, onto
 * the configuration space of devices/pci.c: present and absent devices,
 * every access size, and hostile accesses (other buses and functions,
 * unaligned, odd sizes, extended space, beyond the window) that read all
 * ones and change nothing. No /dev/kvm: the KVM side is fake_vm.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "devices/pci.h"
#include "devices/pci_ecam.h"
#include "fake_vm.h"
#include "vmm/arm64/arm64.h"
#include "vmm/arm64/layout.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define ECAM ARM64_PCI_ECAM
#define BUSES ARM64_PCI_ECAM_BUSES

/* the arm64 machine's PCI host: ECAM is its only configuration mechanism,
 * and PCI I/O space is MMIO in its I/O window */
static const struct pci_host host = ARM64_PCI_HOST;
static struct vm vm;
static struct pci_bus pbus;
static struct pci_ecam ecam;
static struct pci_dev dev; /* slot 3 */
static uint8_t ram_stub;

static void bar_fn(void *opaque, uint64_t off, void *data, unsigned len,
		   bool is_write)
{
	(void)opaque;
	(void)off;
	if (!is_write)
		memset(data, 0, len);
}

static int setup(void **state)
{
	(void)state;
	log_quiet = true;
	assert_int_equal(fake_vm_init(&vm), 0);
	assert_int_equal(gm_add_region(&vm.mem, ARM64_RAM_BASE, 1ULL << 30,
				       &ram_stub),
			 0);
	assert_int_equal(pci_bus_init(&pbus, &vm, &host), 0);
	assert_int_equal(pci_ecam_init(&ecam, &pbus, ECAM, BUSES), 0);
	pci_dev_init(&dev, "ecam-test", 0x1af4, 0x1044, 0x00ff00, 0x01,
		     0x1af4, 0x0004);
	assert_int_equal(pci_dev_set_bar(&dev, 0, PCI_BAR_MEM32, 0x1000,
					 bar_fn, NULL),
			 0);
	dev.slot = 3;
	assert_int_equal(pci_bus_add(&pbus, &dev), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pci_ecam_destroy(&ecam);
	pci_bus_destroy(&pbus);
	fake_vm_destroy(&vm);
	log_quiet = false;
	return 0;
}

/* A read through the MMIO bus, as a vCPU's exit would make it. */
static uint64_t rd(uint64_t off, unsigned len)
{
	uint64_t v = 0;

	assert_true(bus_access(&vm.mmio, ECAM + off, &v, len, false));
	return v;
}

static void wr(uint64_t off, unsigned len, uint64_t v)
{
	assert_true(bus_access(&vm.mmio, ECAM + off, &v, len, true));
}

#define OFF(b, d, f, r) PCI_ECAM_OFFSET(b, d, f, r)

static void test_present(void **state)
{
	(void)state;
	/* the host bridge at 00:00.0 */
	assert_int_equal(rd(OFF(0, 0, 0, 0), 4), 0x00081b36u);
	assert_int_equal(rd(OFF(0, 0, 0, 0x0a), 2), 0x0600);
	/* the device at 00:03.0, every size and the header's contents */
	assert_int_equal(rd(OFF(0, 3, 0, 0), 4), 0x10441af4u);
	assert_int_equal(rd(OFF(0, 3, 0, 0), 2), 0x1af4);
	assert_int_equal(rd(OFF(0, 3, 0, 2), 2), 0x1044);
	assert_int_equal(rd(OFF(0, 3, 0, 1), 1), 0x1a);
	assert_int_equal(rd(OFF(0, 3, 0, 0x0b), 1), 0x00);
	assert_int_equal(rd(OFF(0, 3, 0, 0x2e), 2), 0x0004);
	/* the same bytes as the configuration space itself */
	for (unsigned reg = 0; reg < PCI_CFG_SIZE; reg += 4)
		assert_int_equal(rd(OFF(0, 3, 0, reg), 4),
				 pci_cfg_read(&dev, reg, 4));
	/* the last dword of the header */
	assert_int_equal(rd(OFF(0, 3, 0, 0xfc), 4), pci_cfg_read(&dev, 0xfc, 4));
}

/* Writes reach the device: BAR sizing, the command register. */
static void test_writes(void **state)
{
	uint32_t bar;

	(void)state;
	bar = (uint32_t)rd(OFF(0, 3, 0, 0x10), 4);
	wr(OFF(0, 3, 0, 0x10), 4, 0xffffffffu);
	assert_int_equal(rd(OFF(0, 3, 0, 0x10), 4), 0xfffff000u);
	wr(OFF(0, 3, 0, 0x10), 4, bar);
	assert_int_equal(rd(OFF(0, 3, 0, 0x10), 4), bar);

	wr(OFF(0, 3, 0, 0x04), 2, 0x0006); /* memory + bus master */
	assert_true(pci_bus_master(&dev));
	assert_int_equal(rd(OFF(0, 3, 0, 0x04), 2) & 0x7, 0x6);
	wr(OFF(0, 3, 0, 0x04), 1, 0x02);
	assert_false(pci_bus_master(&dev));
	/* interrupt line is writable, a byte inside a dword */
	wr(OFF(0, 3, 0, 0x3c), 1, 0x42);
	assert_int_equal(rd(OFF(0, 3, 0, 0x3c), 1), 0x42);
}

/* Nothing there: empty slots, functions 1-7, buses 1-15, extended
 * configuration space (a conventional PCI function has none). */
static void test_absent(void **state)
{
	(void)state;
	assert_int_equal(rd(OFF(0, 5, 0, 0), 4), 0xffffffffu);
	assert_int_equal(rd(OFF(0, 31, 0, 0), 2), 0xffff);
	assert_int_equal(rd(OFF(0, 3, 1, 0), 4), 0xffffffffu);
	assert_int_equal(rd(OFF(0, 3, 7, 0), 1), 0xff);
	assert_int_equal(rd(OFF(1, 3, 0, 0), 4), 0xffffffffu);
	assert_int_equal(rd(OFF(1, 0, 0, 0), 4), 0xffffffffu);
	assert_int_equal(rd(OFF(BUSES - 1, 31, 7, 0xffc), 4), 0xffffffffu);
	assert_int_equal(rd(OFF(0, 3, 0, 0x100), 4), 0xffffffffu);
	assert_int_equal(rd(OFF(0, 3, 0, 0xffc), 4), 0xffffffffu);
}

/* Hostile accesses read all ones and leave every device as it was. */
static void test_hostile(void **state)
{
	static const struct { uint64_t off; unsigned len; } bad[] = {
		{ OFF(0, 3, 0, 0x02), 4 }, /* unaligned dword */
		{ OFF(0, 3, 0, 0x11), 2 }, /* unaligned word */
		{ OFF(0, 3, 0, 0x13), 4 },
		{ OFF(0, 3, 0, 0x10), 8 }, /* wider than a dword */
		{ OFF(0, 3, 0, 0x10), 3 }, /* odd size */
		{ OFF(0, 3, 0, 0xfe), 4 }, /* across the header's end */
		{ OFF(0, 3, 0, 0x100), 4 }, /* extended space */
		{ OFF(0, 3, 1, 0x10), 4 }, /* function 1 */
		{ OFF(1, 3, 0, 0x10), 4 }, /* bus 1 */
		{ OFF(0, 0, 0, 0x06), 4 }, /* host bridge, unaligned */
	};
	uint8_t before[PCI_CFG_SIZE], bridge[PCI_CFG_SIZE];

	(void)state;
	memcpy(before, dev.cfg, sizeof(before));
	memcpy(bridge, pbus.host_bridge.cfg, sizeof(bridge));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 0;

		assert_true(bus_access(&vm.mmio, ECAM + bad[i].off, &v,
				       bad[i].len, false));
		assert_int_equal(v, bad[i].len == 8 ? ~0ULL
						    : (1ULL << (8 * bad[i].len)) - 1);
		v = 0;
		assert_true(bus_access(&vm.mmio, ECAM + bad[i].off, &v,
				       bad[i].len, true));
		v = ~0ULL;
		assert_true(bus_access(&vm.mmio, ECAM + bad[i].off, &v,
				       bad[i].len, true));
	}
	assert_memory_equal(dev.cfg, before, sizeof(before));
	assert_memory_equal(pbus.host_bridge.cfg, bridge, sizeof(bridge));

	/* the accessor itself, past the window (the bus never sends that) */
	uint32_t v = 0;
	pci_ecam_access(&ecam, (uint64_t)BUSES << 20, &v, 4, false);
	assert_int_equal(v, 0xffffffffu);
	pci_ecam_access(&ecam, ~0ULL - 3, &v, 4, true);
	pci_ecam_access(&ecam, ~0ULL - 3, &v, 4, false);
	assert_int_equal(v, 0xffffffffu);
	/* the window ends at bus 15: bus 16 is not ours */
	v = 0;
	assert_false(bus_access(&vm.mmio, ECAM + ((uint64_t)BUSES << 20), &v,
				4, false));
}

static void test_init_errors(void **state)
{
	struct pci_ecam e2;

	(void)state;
	assert_int_equal(pci_ecam_init(&e2, &pbus, 0x50000000, 0), -EINVAL);
	assert_int_equal(pci_ecam_init(&e2, &pbus, 0x50000000, 257), -EINVAL);
	assert_int_equal(pci_ecam_init(&e2, &pbus, 0x50001000, 1), -EINVAL);
	/* overlapping the window */
	assert_int_equal(pci_ecam_init(&e2, &pbus, ECAM + (1 << 20), 1),
			 -EEXIST);
	/* 256 buses: the whole of ECAM */
	assert_int_equal(pci_ecam_init(&e2, &pbus, 0x100000000ULL, 256), 0);
	assert_int_equal(rd(0, 4), 0x00081b36u);
	pci_ecam_destroy(&e2);
}

/* --trace names the function and the register. */
/* An I/O BAR on a host whose I/O space is an MMIO window: mapped on the
 * MMIO bus at window + port, never on the port bus, and moved there when
 * the guest moves it through ECAM. */
static void test_io_window(void **state)
{
	static struct pci_dev io; /* on the bus until teardown */
	uint64_t v = 0;

	(void)state;
	pci_dev_init(&io, "io-test", 0x1af4, 0x1045, 0x00ff00, 0x01, 0x1af4,
		     0x0005);
	assert_int_equal(pci_dev_set_bar(&io, 1, PCI_BAR_IO, 32, bar_fn, NULL),
			 0);
	io.slot = 4;
	assert_int_equal(pci_bus_add(&pbus, &io), 0);
	assert_int_equal(io.bars[1].addr, 0x1000);
	assert_true(bus_access(&vm.mmio, ARM64_PCI_IO + 0x1000 + 3, &v, 1, false));
	assert_false(bus_access(&vm.pio, 0x1000, &v, 1, false));
	/* the guest moves it to port 0x2000 */
	wr(OFF(0, 4, 0, 0x14), 4, 0x2001);
	assert_int_equal(rd(OFF(0, 4, 0, 0x14), 4), 0x2001);
	assert_false(bus_access(&vm.mmio, ARM64_PCI_IO + 0x1000, &v, 1, false));
	assert_true(bus_access(&vm.mmio, ARM64_PCI_IO + 0x2000 + 31, &v, 1, false));
	/* I/O decode off: unmapped */
	wr(OFF(0, 4, 0, 0x04), 2, 0);
	assert_false(bus_access(&vm.mmio, ARM64_PCI_IO + 0x2000, &v, 1, false));
}

static void test_names(void **state)
{
	struct bus_hit hit;
	char name[96];
	uint32_t v;

	(void)state;
	assert_true(bus_access_hit(&vm.mmio, ECAM + OFF(0, 3, 0, 0x10), &v, 4,
				   false, &hit));
	bus_hit_reg(&hit, 4, false, name, sizeof(name));
	assert_string_equal(name, "00:03.0 cfg BAR0");
	assert_true(bus_access_hit(&vm.mmio, ECAM + OFF(2, 1, 4, 0), &v, 4,
				   false, &hit));
	bus_hit_reg(&hit, 4, false, name, sizeof(name));
	assert_string_equal(name, "02:01.4 cfg (no device)");
	assert_true(bus_access_hit(&vm.mmio, ECAM + OFF(0, 3, 0, 0x11), &v, 4,
				   false, &hit));
	bus_hit_reg(&hit, 4, false, name, sizeof(name));
	assert_string_equal(name, "00:03.0 cfg (bad access)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_present, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
