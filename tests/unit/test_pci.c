/* SPDX-License-Identifier: MIT
 * Unit tests: PCI host bridge, configuration mechanism #1 through the PIO
 * bus, type-0 header semantics, BAR sizing/assignment/mapping, capability
 * lists, INTx, Bus Master Enable and slot management (devices/pci.c). No /dev/kvm: the KVM
 * side is tests/unit/fake_vm.c. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/pci.h"
#include "fake_vm.h"
#include "vmm/log.h"
#include "vmm/vm.h"

/* ---- fixture: a VM with 2 GiB of (never touched) RAM at 0 ---- */

static struct vm vm;
static struct pci_bus pbus;
static uint8_t ram_stub; /* gm regions need a host pointer; never used */

struct hits {
	unsigned calls;
	uint64_t off;
	unsigned len;
	bool write;
};

static void bar_fn(void *opaque, uint64_t off, void *data, unsigned len,
		   bool is_write)
{
	struct hits *h = opaque;
	h->calls++;
	h->off = off;
	h->len = len;
	h->write = is_write;
	if (!is_write)
		memset(data, 0x5a, len);
}

struct moves {
	unsigned calls;
	int bar;
	uint64_t old_addr, new_addr;
	bool mapped;
};
static struct moves mv;

static void on_bar_moved(struct pci_dev *d, int bar, uint64_t old_addr,
			 uint64_t new_addr, bool mapped)
{
	(void)d;
	mv.calls++;
	mv.bar = bar;
	mv.old_addr = old_addr;
	mv.new_addr = new_addr;
	mv.mapped = mapped;
}

static int setup(void **state)
{
	(void)state;
	memset(&vm, 0, sizeof(vm));
	memset(&mv, 0, sizeof(mv));
	fake_vm_reset();
	assert_int_equal(bus_init(&vm.pio, "pio"), 0);
	assert_int_equal(bus_init(&vm.mmio, "mmio"), 0);
	assert_int_equal(gm_add_region(&vm.mem, 0, 0x80000000ULL, &ram_stub), 0);
	assert_int_equal(fake_pci_bus_init(&pbus, &vm), 0);
	assert_ptr_equal(vm.pci, &pbus);
	log_quiet = true;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pci_bus_destroy(&pbus);
	bus_destroy(&vm.pio);
	bus_destroy(&vm.mmio);
	log_quiet = false;
	return 0;
}

/* ---- the guest's view: ports 0xCF8 / 0xCFC ---- */

static void cf8_write(uint32_t v)
{
	assert_true(bus_access(&vm.pio, 0xcf8, &v, 4, true));
}

static uint32_t cf8_read(void)
{
	uint32_t v = 0;
	assert_true(bus_access(&vm.pio, 0xcf8, &v, 4, false));
	return v;
}

static uint32_t addr_of(unsigned bus, unsigned dev, unsigned fn,
			unsigned reg)
{
	return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

static uint32_t cfg_rd(unsigned dev, unsigned reg, unsigned len)
{
	uint32_t v = 0;
	cf8_write(addr_of(0, dev, 0, reg));
	bus_access(&vm.pio, 0xcfc + (reg & 3), &v, len, false);
	return v;
}

static void cfg_wr(unsigned dev, unsigned reg, unsigned len, uint32_t v)
{
	cf8_write(addr_of(0, dev, 0, reg));
	bus_access(&vm.pio, 0xcfc + (reg & 3), &v, len, true);
}

static uint32_t mmio_rd(uint64_t addr, struct hits *h, unsigned *calls)
{
	uint32_t v = 0;
	unsigned before = h->calls;
	bus_access(&vm.mmio, addr, &v, 4, false);
	*calls = h->calls - before;
	return v;
}

/* ---- tests ---- */

static void test_host_bridge_and_ports(void **state)
{
	(void)state;
	uint8_t b = 0x01;
	uint32_t v;

	/* Linux pci_check_type1: outb(0x01, 0xCFB); save; outl(0x80000000,
	 * 0xCF8); inl(0xCF8) must read 0x80000000; restore. */
	bus_access(&vm.pio, 0xcfb, &b, 1, true);
	v = cf8_read();
	cf8_write(0x80000000u);
	assert_int_equal(cf8_read(), 0x80000000u);
	cf8_write(v);
	/* reads back what was written, bits 1:0 read as zero */
	cf8_write(0x7f123457u);
	assert_int_equal(cf8_read(), 0x7f123454u);
	/* byte/word accesses to CONFIG_ADDRESS do not change it, nor do
	 * accesses at 0xCFA/0xCFB */
	b = 0xaa;
	bus_access(&vm.pio, 0xcf8, &b, 1, true);
	assert_int_equal(cf8_read(), 0x7f123454u);
	v = 0x80000000u;
	assert_true(bus_access(&vm.pio, 0xcfa, &v, 4, true));
	assert_true(bus_access(&vm.pio, 0xcfa, &v, 2, false));
	assert_int_equal(v & 0xffff, 0xffff);
	assert_int_equal(cf8_read(), 0x7f123454u);
	/* 0xCF9 (the ACPI reset register) is left to its owner */
	assert_false(bus_access(&vm.pio, 0xcf9, &b, 1, false));

	/* 00:00.0 is the host bridge; pci_sanity_check reads the class word */
	assert_int_equal(cfg_rd(0, 0x00, 4), 0x00081b36u);
	assert_int_equal(cfg_rd(0, 0x0a, 2), 0x0600);
	assert_int_equal(cfg_rd(0, 0x08, 4), 0x06000000u);
	assert_int_equal(cfg_rd(0, 0x0e, 1), 0x00);     /* header type 0 */
	assert_int_equal(cfg_rd(0, 0x3d, 1), 0x00);     /* no INTx pin */
	/* byte and word offsets inside CONFIG_DATA */
	assert_int_equal(cfg_rd(0, 0x00, 1), 0x36);
	assert_int_equal(cfg_rd(0, 0x01, 1), 0x1b);
	assert_int_equal(cfg_rd(0, 0x02, 2), 0x0008);
	assert_int_equal(cfg_rd(0, 0x03, 1), 0x00);
	assert_int_equal(cfg_rd(0, 0x0b, 1), 0x06);
	/* a word at 0xCFD is misaligned: all ones */
	cf8_write(addr_of(0, 0, 0, 0));
	v = 0;
	bus_access(&vm.pio, 0xcfd, &v, 2, false);
	assert_int_equal(v, 0xffff);

	/* enable bit clear: all ones, and writes are dropped */
	cf8_write(addr_of(0, 0, 0, 0) & ~0x80000000u);
	v = 0;
	bus_access(&vm.pio, 0xcfc, &v, 4, false);
	assert_int_equal(v, 0xffffffffu);
	/* other buses, functions and empty slots are absent */
	cf8_write(addr_of(1, 0, 0, 0));
	bus_access(&vm.pio, 0xcfc, &v, 4, false);
	assert_int_equal(v, 0xffffffffu);
	cf8_write(addr_of(0, 0, 1, 0));
	bus_access(&vm.pio, 0xcfc, &v, 4, false);
	assert_int_equal(v, 0xffffffffu);
	/* extended register bits 27:24 (AMD ECS): registers >= 256, absent */
	cf8_write(addr_of(0, 0, 0, 0) | 0x01000000u);
	bus_access(&vm.pio, 0xcfc, &v, 4, false);
	assert_int_equal(v, 0xffffffffu);
	for (unsigned s = 1; s < 32; s++)
		assert_int_equal(cfg_rd(s, 0, 4), 0xffffffffu);
	assert_int_equal(cfg_rd(5, 0x0a, 2), 0xffff);
	assert_int_equal(cfg_rd(5, 0x0b, 1), 0xff);
	/* writes to an absent function change nothing and do not crash */
	cfg_wr(7, 0x04, 2, 0xffff);
	assert_int_equal(cfg_rd(7, 0x04, 2), 0xffff);
}

static void test_header_semantics(void **state)
{
	(void)state;
	static struct pci_dev d;
	struct hits h = { 0 };
	unsigned s;

	pci_dev_init(&d, "test", 0x1af4, 0x1042, 0x010000, 0x01, 0x1af4,
		     0x0002);
	assert_int_equal(pci_dev_set_bar(&d, 0, PCI_BAR_MEM32, 0x1000, bar_fn,
					 &h), 0);
	assert_int_equal(pci_bus_add(&pbus, &d), 0);
	s = d.slot;
	assert_int_equal(s, 1);

	/* identification, class, revision, header type: read-only */
	cfg_wr(s, 0x00, 4, 0xffffffff);
	cfg_wr(s, 0x08, 4, 0xffffffff);
	cfg_wr(s, 0x0c, 4, 0xffffffff);
	cfg_wr(s, 0x2c, 4, 0);
	assert_int_equal(cfg_rd(s, 0x00, 4), 0x10421af4u);
	assert_int_equal(cfg_rd(s, 0x08, 4), 0x01000001u);
	assert_int_equal(cfg_rd(s, 0x2c, 4), 0x00021af4u);
	/* cache line and latency timer writable, header type/BIST not */
	assert_int_equal(cfg_rd(s, 0x0c, 4), 0x0000ffffu);
	/* capabilities pointer read-only (no capabilities: 0) */
	cfg_wr(s, 0x34, 1, 0x80);
	assert_int_equal(cfg_rd(s, 0x34, 1), 0);
	assert_int_equal(cfg_rd(s, 0x06, 2) & 0x10, 0);
	/* expansion ROM: none, reads 0 even after sizing */
	cfg_wr(s, 0x30, 4, 0xffffffff);
	assert_int_equal(cfg_rd(s, 0x30, 4), 0);

	/* command: only IO, MEM, master, parity, SERR, INTx disable */
	cfg_wr(s, 0x04, 2, 0xffff);
	assert_int_equal(cfg_rd(s, 0x04, 2), 0x0547);
	cfg_wr(s, 0x04, 2, 0x0000);
	assert_int_equal(cfg_rd(s, 0x04, 2), 0x0000);
	cfg_wr(s, 0x04, 1, 0x06);
	assert_int_equal(cfg_rd(s, 0x04, 2), 0x0006);

	/* status: error bits are write-1-to-clear, the rest read-only */
	d.cfg[0x07] |= 0xf9; /* the device reports errors */
	cfg_wr(s, 0x06, 2, 0x0000);
	assert_int_equal(cfg_rd(s, 0x06, 2), 0xf900);
	cfg_wr(s, 0x06, 2, 0x2000); /* clear received master abort only */
	assert_int_equal(cfg_rd(s, 0x06, 2), 0xd900);
	/* a dword write to command+status: command set, status cleared */
	cfg_wr(s, 0x04, 4, 0xffff0002);
	assert_int_equal(cfg_rd(s, 0x04, 4), 0x00000002u);
	cfg_wr(s, 0x06, 2, 0x0018); /* INTx status and cap bit: read-only */
	assert_int_equal(cfg_rd(s, 0x06, 2), 0x0000);

	/* interrupt line writable; pin read-only INTA# */
	assert_int_equal(cfg_rd(s, 0x3c, 1), 16 + s % 8);
	cfg_wr(s, 0x3c, 2, 0xff0b);
	assert_int_equal(cfg_rd(s, 0x3c, 2), 0x010b);
	/* max_lat / min_gnt are read-only zero */
	assert_int_equal(cfg_rd(s, 0x3e, 2), 0);

	/* misaligned, wrong-size and out-of-range accesses */
	assert_int_equal(pci_cfg_read(&d, 0x01, 2), 0xffff);
	assert_int_equal(pci_cfg_read(&d, 0x02, 4), 0xffffffffu);
	assert_int_equal(pci_cfg_read(&d, 0x00, 3), 0xffffffffu);
	assert_int_equal(pci_cfg_read(&d, 0x100, 1), 0xff);
	assert_int_equal(pci_cfg_read(&d, 0xfc, 4), 0);
	assert_int_equal(pci_cfg_read(&d, 0xffffffffu, 4), 0xffffffffu);
	pci_cfg_write(&d, 0x03, 2, 0xffff);
	pci_cfg_write(&d, 0x05, 2, 0xffff);
	pci_cfg_write(&d, 0x3c, 3, 0xffffff);
	pci_cfg_write(&d, 0x100, 4, 0xffffffff);
	pci_cfg_write(&d, 0xfffffffcu, 4, 0xffffffff);
	assert_int_equal(pci_cfg_read(&d, 0x04, 2), 0x0002);
	assert_int_equal(pci_cfg_read(&d, 0x3c, 1), 0x0b);
}

static void test_bar_sizing(void **state)
{
	(void)state;
	static struct pci_dev d, big;
	struct hits h = { 0 };
	uint32_t orig[6];
	unsigned s;

	pci_dev_init(&d, "bars", 0x1234, 0x5678, 0xff0000, 0, 0, 0);
	assert_int_equal(pci_dev_set_bar(&d, 0, PCI_BAR_IO, 32, bar_fn, &h), 0);
	assert_int_equal(pci_dev_set_bar(&d, 1, PCI_BAR_MEM32, 0x1000, bar_fn, &h), 0);
	assert_int_equal(pci_dev_set_bar(&d, 2, PCI_BAR_MEM64, 0x4000, bar_fn, &h), 0);
	d.bars[2].prefetch = true;
	assert_int_equal(pci_dev_set_bar(&d, 4, PCI_BAR_MEM32, 256, bar_fn, &h), 0);
	d.bars[4].prefetch = true;
	/* invalid declarations */
	assert_int_equal(pci_dev_set_bar(&d, 3, PCI_BAR_MEM32, 0x1000, bar_fn, &h), -EINVAL); /* upper half */
	assert_int_equal(pci_dev_set_bar(&d, 1, PCI_BAR_MEM32, 0x1000, bar_fn, &h), -EINVAL); /* taken */
	assert_int_equal(pci_dev_set_bar(&d, 5, PCI_BAR_MEM64, 0x1000, bar_fn, &h), -EINVAL); /* no n+1 */
	assert_int_equal(pci_dev_set_bar(&d, 5, PCI_BAR_MEM32, 0x1800, bar_fn, &h), -EINVAL); /* not 2^n */
	assert_int_equal(pci_dev_set_bar(&d, 5, PCI_BAR_IO, 512, bar_fn, &h), -EINVAL);
	assert_int_equal(pci_dev_set_bar(&d, 5, PCI_BAR_IO, 2, bar_fn, &h), -EINVAL);
	assert_int_equal(pci_dev_set_bar(&d, 5, PCI_BAR_MEM32, 8, bar_fn, &h), -EINVAL);
	assert_int_equal(pci_dev_set_bar(&d, 5, PCI_BAR_MEM32, 0x1000, NULL, &h), -EINVAL);
	assert_int_equal(pci_dev_set_bar(&d, 6, PCI_BAR_MEM32, 0x1000, bar_fn, &h), -EINVAL);
	assert_int_equal(pci_dev_set_bar(&d, -1, PCI_BAR_MEM32, 0x1000, bar_fn, &h), -EINVAL);
	assert_int_equal(pci_bus_add(&pbus, &d), 0);
	s = d.slot;

	/* firmware-style assignment: natural alignment inside the windows,
	 * decoding on */
	assert_int_equal(cfg_rd(s, 0x10, 4), 0xc001u);
	assert_int_equal(d.bars[0].addr, 0xc000);
	for (int n = 1; n <= 4; n += (n == 2 ? 2 : 1)) {
		uint64_t a = d.bars[n].addr;
		assert_true(d.bars[n].mapped);
		assert_true(a >= 0xc0000000ULL && a + d.bars[n].size <= 0xfc000000ULL);
		assert_int_equal(a % d.bars[n].size, 0);
	}
	assert_int_equal(cfg_rd(s, 0x14, 4), (uint32_t)d.bars[1].addr);
	assert_int_equal(cfg_rd(s, 0x18, 4), (uint32_t)d.bars[2].addr | 0xc);
	assert_int_equal(cfg_rd(s, 0x1c, 4), 0);
	assert_int_equal(cfg_rd(s, 0x20, 4), (uint32_t)d.bars[4].addr | 0x8);
	assert_int_equal(cfg_rd(s, 0x24, 4), 0); /* BAR5 unused */
	assert_int_equal(cfg_rd(s, 0x04, 2) & 3, 3);

	/* Linux's sizing: decode off, write ~0, read, restore, decode on */
	cfg_wr(s, 0x04, 2, 0);
	for (int n = 0; n < 6; n++) {
		orig[n] = cfg_rd(s, 0x10 + 4 * n, 4);
		cfg_wr(s, 0x10 + 4 * n, 4, 0xffffffff);
	}
	assert_int_equal(cfg_rd(s, 0x10, 4), 0xffffffe1u); /* IO, 32 bytes */
	assert_int_equal(cfg_rd(s, 0x14, 4), 0xfffff000u); /* MEM32 4 KiB */
	assert_int_equal(cfg_rd(s, 0x18, 4), 0xffffc00cu); /* MEM64 pf 16K */
	assert_int_equal(cfg_rd(s, 0x1c, 4), 0xffffffffu); /* upper half */
	assert_int_equal(cfg_rd(s, 0x20, 4), 0xffffff08u); /* MEM32 pf 256 */
	assert_int_equal(cfg_rd(s, 0x24, 4), 0);           /* unimplemented */
	/* nothing is mapped at the sizing pattern */
	for (int n = 0; n < 6; n++)
		assert_false(d.bars[n].mapped);
	for (int n = 0; n < 6; n++)
		cfg_wr(s, 0x10 + 4 * n, 4, orig[n]);
	cfg_wr(s, 0x04, 2, 3);
	assert_true(d.bars[0].mapped && d.bars[1].mapped && d.bars[2].mapped &&
		    d.bars[4].mapped);
	assert_int_equal(cfg_rd(s, 0x10, 4), 0xc001u);

	/* a 64-bit BAR larger than 4 GiB: the upper half sizes too; it does
	 * not fit the 32-bit window, so pci_bus_add refuses and commits
	 * nothing */
	pci_dev_init(&big, "big", 0x1234, 0x9999, 0xff0000, 0, 0, 0);
	assert_int_equal(pci_dev_set_bar(&big, 0, PCI_BAR_MEM64, 8ULL << 30, bar_fn, &h), 0);
	pci_cfg_write(&big, 0x10, 4, 0xffffffff);
	pci_cfg_write(&big, 0x14, 4, 0xffffffff);
	assert_int_equal(pci_cfg_read(&big, 0x10, 4), 0x00000004u);
	assert_int_equal(pci_cfg_read(&big, 0x14, 4), 0xfffffffeu);
	{
		uint64_t before = pbus.next_mmio;
		assert_int_equal(pci_bus_add(&pbus, &big), -ENOSPC);
		assert_int_equal(pbus.next_mmio, before);
		assert_null(big.bus);
		assert_int_equal(cfg_rd(s + 1, 0, 4), 0xffffffffu);
	}
}

static void test_bar_mapping(void **state)
{
	(void)state;
	static struct pci_dev a, b;
	struct hits ha = { 0 }, hb = { 0 }, hio = { 0 };
	unsigned calls, sa, sb;
	uint64_t a0, b0;
	uint8_t pv;

	pci_dev_init(&a, "a", 0x1234, 1, 0xff0000, 0, 0, 0);
	a.bar_moved = on_bar_moved;
	assert_int_equal(pci_dev_set_bar(&a, 0, PCI_BAR_MEM32, 0x1000, bar_fn, &ha), 0);
	assert_int_equal(pci_dev_set_bar(&a, 1, PCI_BAR_IO, 16, bar_fn, &hio), 0);
	assert_int_equal(pci_dev_set_bar(&a, 2, PCI_BAR_MEM64, 0x2000, bar_fn, &ha), 0);
	assert_int_equal(pci_bus_add(&pbus, &a), 0);
	/* bar_moved ran for the initial mapping of each BAR */
	assert_int_equal(mv.calls, 3);
	assert_true(mv.mapped);
	pci_dev_init(&b, "b", 0x1234, 2, 0xff0000, 0, 0, 0);
	assert_int_equal(pci_dev_set_bar(&b, 0, PCI_BAR_MEM32, 0x1000, bar_fn, &hb), 0);
	assert_int_equal(pci_bus_add(&pbus, &b), 0);
	sa = a.slot;
	sb = b.slot;
	a0 = a.bars[0].addr;
	b0 = b.bars[0].addr;
	assert_true(a0 != b0);

	/* the BAR is on the MMIO bus at its address, offsets relative */
	assert_int_equal(mmio_rd(a0 + 0x24, &ha, &calls), 0x5a5a5a5a);
	assert_int_equal(calls, 1);
	assert_int_equal(ha.off, 0x24);
	assert_true(bus_access(&vm.pio, a.bars[1].addr + 3, &pv, 1, false));
	assert_int_equal(hio.off, 3);

	/* memory decode off: unmapped (both memory BARs), hook told */
	mv.calls = 0;
	cfg_wr(sa, 0x04, 2, 0x0001);
	assert_false(a.bars[0].mapped);
	assert_false(a.bars[2].mapped);
	assert_true(a.bars[1].mapped);
	assert_int_equal(mv.calls, 2);
	assert_false(mv.mapped);
	assert_int_equal(mmio_rd(a0, &ha, &calls), 0xffffffffu);
	assert_int_equal(calls, 0);
	/* IO decode off too */
	cfg_wr(sa, 0x04, 2, 0x0000);
	assert_false(bus_access(&vm.pio, a.bars[1].addr, &pv, 1, false));
	/* back on: mapped again at the same place */
	mv.calls = 0;
	cfg_wr(sa, 0x04, 2, 0x0003);
	assert_int_equal(mv.calls, 3);
	assert_int_equal(mmio_rd(a0, &ha, &calls), 0x5a5a5a5a);
	assert_int_equal(calls, 1);

	/* the guest moves BAR0 while decoding: old range gone, new one
	 * there, bar_moved(old, new) */
	mv.calls = 0;
	cfg_wr(sa, 0x10, 4, 0xd0000000u);
	assert_int_equal(mv.calls, 1);
	assert_int_equal(mv.bar, 0);
	assert_int_equal(mv.old_addr, a0);
	assert_int_equal(mv.new_addr, 0xd0000000u);
	assert_true(mv.mapped);
	assert_int_equal(mmio_rd(a0, &ha, &calls), 0xffffffffu);
	assert_int_equal(calls, 0);
	mmio_rd(0xd0000ffc, &ha, &calls);
	assert_int_equal(calls, 1);
	assert_int_equal(ha.off, 0xffc);
	/* a sub-size write keeps the BAR aligned: low bits are read-only */
	cfg_wr(sa, 0x10, 4, 0xd0000abcu);
	assert_int_equal(cfg_rd(sa, 0x10, 4), 0xd0000000u);

	/* a 64-bit BAR moved above 4 GiB: low then high dword */
	cfg_wr(sa, 0x18, 4, 0x00004000u);
	cfg_wr(sa, 0x1c, 4, 0x00000010u);
	assert_true(a.bars[2].mapped);
	assert_int_equal(a.bars[2].addr, 0x1000004000ULL);
	mmio_rd(0x1000004010ULL, &ha, &calls);
	assert_int_equal(calls, 1);
	assert_int_equal(ha.off, 0x10);

	/* hostile: onto guest RAM -> unmapped, warned once, nothing crashes */
	cfg_wr(sa, 0x10, 4, 0x00100000u);
	assert_false(a.bars[0].mapped);
	assert_true(a.bars[0].warned);
	assert_int_equal(mmio_rd(0x00100000u, &ha, &calls), 0xffffffffu);
	assert_int_equal(calls, 0);
	/* hostile: onto device b's BAR -> unmapped, b keeps working */
	cfg_wr(sa, 0x10, 4, (uint32_t)b0);
	assert_false(a.bars[0].mapped);
	assert_int_equal(mmio_rd(b0, &hb, &calls), 0x5a5a5a5a);
	assert_int_equal(calls, 1);
	/* when b moves away, a gets the range it asked for */
	cfg_wr(sb, 0x10, 4, 0xe0000000u);
	assert_true(a.bars[0].mapped);
	assert_int_equal(a.bars[0].addr, b0);
	mmio_rd(b0, &ha, &calls);
	assert_int_equal(calls, 1);
	mmio_rd(0xe0000000u, &hb, &calls);
	assert_int_equal(calls, 1);
	/* IO BAR beyond 64 KiB or wrapping: unmapped */
	cfg_wr(sa, 0x14, 4, 0x00fffff0u);
	assert_false(a.bars[1].mapped);
	cfg_wr(sa, 0x14, 4, 0xfff0u);
	assert_true(a.bars[1].mapped);
	assert_true(bus_access(&vm.pio, 0xfff5, &pv, 1, false));
	/* address 0 means unassigned: unmapped without complaint */
	b.bars[0].warned = false;
	cfg_wr(sb, 0x10, 4, 0);
	assert_false(b.bars[0].mapped);
	assert_false(b.bars[0].warned);
	/* a 64-bit BAR high up (its low dword looks like a sizing
	 * pattern, the high dword does not): mapped */
	cfg_wr(sa, 0x18, 4, 0xffffe000u);
	cfg_wr(sa, 0x1c, 4, 0xfffffffeu);
	assert_true(a.bars[2].mapped);
	cfg_wr(sa, 0x1c, 4, 0xffffffffu); /* sizing pattern of the upper half */
	assert_false(a.bars[2].mapped);
}

static void test_capabilities(void **state)
{
	(void)state;
	static struct pci_dev d;
	uint8_t c1[5] = { 0x09, 0xee, 5, 1, 2 };
	uint8_t c2[16] = { 0x09, 0, 16, 0xaa };
	uint8_t c3[3] = { 0x05, 0, 0x77 };
	uint8_t seen[8];
	unsigned n = 0, p, s;

	pci_dev_init(&d, "caps", 0x1234, 3, 0xff0000, 0, 0, 0);
	assert_int_equal(pci_dev_add_cap(&d, c1, sizeof(c1)), 0x40);
	assert_int_equal(pci_dev_add_cap(&d, c2, sizeof(c2)), 0x48);
	assert_int_equal(pci_dev_add_cap(&d, c3, sizeof(c3)), 0x58);
	assert_int_equal(pci_dev_add_cap(&d, c3, 1), -EINVAL);
	assert_int_equal(pci_bus_add(&pbus, &d), 0);
	s = d.slot;

	/* status bit 4 and the chain, walked the way a guest does */
	assert_int_equal(cfg_rd(s, 0x06, 2) & 0x10, 0x10);
	for (p = cfg_rd(s, 0x34, 1); p && n < 8; p = cfg_rd(s, p + 1, 1)) {
		assert_int_equal(p % 4, 0);
		seen[n++] = (uint8_t)p;
	}
	assert_int_equal(n, 3);
	assert_int_equal(seen[0], 0x40);
	assert_int_equal(seen[1], 0x48);
	assert_int_equal(seen[2], 0x58);
	assert_int_equal(cfg_rd(s, 0x40, 4), 0x01054809u); /* next filled in */
	assert_int_equal(cfg_rd(s, 0x58, 4), 0x00770005u);
	/* capability bodies and links are read-only to the guest */
	cfg_wr(s, 0x40, 4, 0);
	cfg_wr(s, 0x49, 1, 0x80);
	assert_int_equal(cfg_rd(s, 0x40, 4), 0x01054809u);
	assert_int_equal(cfg_rd(s, 0x49, 1), 0x58);
	cfg_wr(s, 0x06, 2, 0xffff);
	assert_int_equal(cfg_rd(s, 0x06, 2) & 0x10, 0x10);

	/* space runs out: the last one that fits ends at 0x100 */
	{
		uint8_t body[0x40] = { 0x09 };
		static struct pci_dev f;
		pci_dev_init(&f, "full", 0x1234, 4, 0xff0000, 0, 0, 0);
		assert_int_equal(pci_dev_add_cap(&f, body, 0x40), 0x40);
		assert_int_equal(pci_dev_add_cap(&f, body, 0x40), 0x80);
		assert_int_equal(pci_dev_add_cap(&f, body, 0x3d), 0xc0);
		assert_int_equal(pci_dev_add_cap(&f, body, 2), -ENOSPC);
		assert_int_equal(pci_cfg_read(&f, 0xc1, 1), 0);
		assert_int_equal(pci_cfg_read(&f, 0x81, 1), 0xc0);
	}
}

static void test_intx(void **state)
{
	(void)state;
	static struct pci_dev d;
	unsigned g;

	pci_dev_init(&d, "intx", 0x1234, 5, 0xff0000, 0, 0, 0);
	d.slot = 9; /* asks for slot 9 */
	assert_int_equal(pci_bus_add(&pbus, &d), 0);
	assert_int_equal(d.slot, 9);
	g = d.intx_gsi;
	assert_int_equal(g, X86_PCI_SLOT_GSI(9));
	assert_int_equal(g, 17);
	assert_int_equal(cfg_rd(9, 0x3c, 2), 0x0100 | 17);

	pci_intx_set(&d, true);
	assert_int_equal(fake.irq_level[g], 1);
	assert_int_equal(cfg_rd(9, 0x06, 2) & 0x08, 0x08);
	/* INTx disable drops the line but status still shows the level */
	cfg_wr(9, 0x04, 2, 0x0400);
	assert_int_equal(fake.irq_level[g], 0);
	assert_int_equal(cfg_rd(9, 0x06, 2) & 0x08, 0x08);
	cfg_wr(9, 0x04, 2, 0x0000);
	assert_int_equal(fake.irq_level[g], 1);
	pci_intx_set(&d, false);
	assert_int_equal(fake.irq_level[g], 0);
	assert_int_equal(cfg_rd(9, 0x06, 2) & 0x08, 0);
	/* while disabled, raising does not reach the irqchip */
	cfg_wr(9, 0x04, 2, 0x0400);
	{
		unsigned calls = fake.irq_line_calls;
		pci_intx_set(&d, true);
		assert_int_equal(fake.irq_line_calls, calls);
		assert_int_equal(fake.irq_level[g], 0);
	}
}

/* Bus Master Enable (command bit 2) is off after reset and firmware-style
 * assignment, and pci_bus_master() follows every kind of command write. */
static void test_bus_master(void **state)
{
	(void)state;
	static struct pci_dev d;
	struct hits h = { 0 };
	unsigned s;

	pci_dev_init(&d, "bm", 0x1234, 6, 0xff0000, 0, 0, 0);
	assert_int_equal(pci_dev_set_bar(&d, 0, PCI_BAR_MEM32, 0x1000, bar_fn,
					 &h), 0);
	assert_false(pci_bus_master(&d));
	assert_int_equal(pci_bus_add(&pbus, &d), 0);
	s = d.slot;
	/* decoding on, bus mastering left to the driver */
	assert_int_equal(cfg_rd(s, 0x04, 2), 0x0002);
	assert_false(pci_bus_master(&d));
	cfg_wr(s, 0x04, 2, 0x0006);
	assert_true(pci_bus_master(&d));
	cfg_wr(s, 0x04, 2, 0x0002);
	assert_false(pci_bus_master(&d));
	/* a byte write, and a dword write of command + status */
	cfg_wr(s, 0x04, 1, 0x04);
	assert_true(pci_bus_master(&d));
	cfg_wr(s, 0x04, 4, 0xffff0002);
	assert_false(pci_bus_master(&d));
	cfg_wr(s, 0x04, 4, 0x00000006);
	assert_true(pci_bus_master(&d));
	/* writes elsewhere leave it alone; a misaligned one is ignored */
	cfg_wr(s, 0x3c, 1, 0x0b);
	pci_cfg_write(&d, 0x03, 2, 0);
	assert_true(pci_bus_master(&d));
	cfg_wr(s, 0x04, 2, 0x0000);
	assert_false(pci_bus_master(&d));
}

static void test_slots(void **state)
{
	(void)state;
	static struct pci_dev d[32];
	static struct pci_dev x;
	unsigned n = 0;

	pci_dev_init(&d[0], "s3", 0x1234, 6, 0xff0000, 0, 0, 0);
	d[0].slot = 3;
	assert_int_equal(pci_bus_add(&pbus, &d[0]), 0);
	assert_int_equal(pci_bus_add(&pbus, &d[0]), -EBUSY); /* twice */
	pci_dev_init(&x, "dup", 0x1234, 6, 0xff0000, 0, 0, 0);
	x.slot = 3;
	assert_int_equal(pci_bus_add(&pbus, &x), -EBUSY);
	x.slot = 32;
	assert_int_equal(pci_bus_add(&pbus, &x), -EINVAL);
	for (unsigned i = 1; i < 32; i++) {
		pci_dev_init(&d[i], "fill", 0x1234, (uint16_t)i, 0xff0000, 0, 0, 0);
		if (pci_bus_add(&pbus, &d[i]) == 0)
			n++;
		else
			break;
	}
	assert_int_equal(n, 30); /* slots 1..31 minus slot 3 */
	assert_int_equal(d[1].slot, 1);
	assert_int_equal(d[3].slot, 4); /* skipped the taken slot 3 */
	x.slot = 0;
	assert_int_equal(pci_bus_add(&pbus, &x), -ENOSPC);
	for (unsigned s = 1; s < 32; s++)
		assert_int_not_equal(cfg_rd(s, 0, 4), 0xffffffffu);
}

static void test_destroy_releases(void **state)
{
	(void)state;
	static struct pci_dev d;
	struct hits h = { 0 };
	unsigned pio_before;

	pci_dev_init(&d, "rel", 0x1234, 7, 0xff0000, 0, 0, 0);
	assert_int_equal(pci_dev_set_bar(&d, 0, PCI_BAR_MEM32, 0x2000, bar_fn, &h), 0);
	assert_int_equal(pci_dev_set_bar(&d, 1, PCI_BAR_IO, 4, bar_fn, &h), 0);
	assert_int_equal(pci_msix_init(&d, 2, 0, 0, 0x1000), 0);
	assert_int_equal(pci_bus_add(&pbus, &d), 0);
	assert_int_equal(vm.mmio.nr, 1);
	pio_before = vm.pio.nr;
	assert_int_equal(pio_before, 4); /* 0xcf8, 0xcfa, 0xcfc and BAR1 */
	int e0 = d.msix.v[0].efd, e1 = d.msix.v[1].efd;
	int g0 = d.msix.v[0].gsi;
	assert_true(e0 >= 0 && e1 >= 0);
	assert_int_equal(fake.irqfd[g0], e0);

	pci_bus_destroy(&pbus);
	assert_int_equal(vm.mmio.nr, 0);
	assert_int_equal(vm.pio.nr, 0);
	assert_int_equal(fake.irqfd[g0], -1); /* deassigned */
	assert_int_equal(fcntl(e0, F_GETFD), -1);
	assert_int_equal(fcntl(e1, F_GETFD), -1);
	assert_null(d.msix.v);
	assert_null(vm.pci);
	/* teardown destroys again: must be harmless; re-init for it */
	assert_int_equal(fake_pci_bus_init(&pbus, &vm), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_host_bridge_and_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_semantics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_mapping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capabilities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bus_master, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_releases, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
