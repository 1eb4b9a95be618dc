/* SPDX-License-Identifier: MIT
 * Unit tests: the i440FX host bridge (devices/x86/i440fx.c): its IDs at
 * 00:00.0, the PAM registers' decoding (every nibble value, reserved bits,
 * SeaBIOS's dword writes), the memory slots each setting asks KVM for, and
 * the window's MMIO exits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/rom.h"
#include "devices/x86/i440fx.h"
#include "fake_vm.h"
#include "vmm/log.h"

#define RAM_SIZE (2u << 20)

static struct vm vm;
static struct pci_bus bus;
static uint8_t *ram;
static char rom_path[] = "/tmp/minivmm-i440fx-XXXXXX";

static int setup(void **state)
{
	(void)state;
	assert_int_equal(fake_vm_init(&vm), 0);
	log_quiet = true;
	vm.nr_memslots = 1; /* guest RAM's */
	ram = calloc(1, RAM_SIZE);
	assert_non_null(ram);
	assert_int_equal(gm_add_region(&vm.mem, 0, RAM_SIZE, ram), 0);
	assert_int_equal(fake_pci_bus_init(&bus, &vm), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pci_bus_destroy(&bus);
	fake_vm_destroy(&vm);
	free(ram);
	return 0;
}

/* A flash image of size bytes: byte i is (i * 7) ^ 0x5a. */
static struct rom *new_rom(size_t size)
{
	uint8_t *img = malloc(size);
	struct rom *r;
	FILE *f;
	int fd = mkstemp(rom_path);

	assert_true(fd >= 0);
	close(fd);
	for (size_t i = 0; i < size; i++)
		img[i] = (uint8_t)((i * 7) ^ 0x5a);
	f = fopen(rom_path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, size, f), size);
	fclose(f);
	free(img);
	assert_int_equal(rom_create(&vm, rom_path, 0x100000000ULL, &r), 0);
	unlink(rom_path);
	strcpy(rom_path, "/tmp/minivmm-i440fx-XXXXXX");
	return r;
}

static struct i440fx *new_pmc(const struct rom *rom)
{
	struct i440fx *p;

	assert_int_equal(i440fx_create(&vm, rom, &p), 0);
	assert_int_equal(p->dev.ops->attach(&p->dev), 0);
	return p;
}

static void free_all(struct i440fx *p, struct rom *r)
{
	p->dev.ops->free(&p->dev);
	if (r)
		r->dev.ops->free(&r->dev);
}

/* Configuration mechanism #1, as firmware uses it. */
static void cfg_out(unsigned reg, unsigned len, uint32_t v)
{
	uint32_t a = 0x80000000u | (reg & 0xfc);

	assert_true(bus_access(&vm.pio, 0xcf8, &a, 4, true));
	assert_true(bus_access(&vm.pio, 0xcfc + (reg & 3), &v, len, true));
}

static uint32_t cfg_in(unsigned reg, unsigned len)
{
	uint32_t a = 0x80000000u | (reg & 0xfc), v = 0;

	assert_true(bus_access(&vm.pio, 0xcf8, &a, 4, true));
	assert_true(bus_access(&vm.pio, 0xcfc + (reg & 3), &v, len, false));
	return v;
}

static uint8_t win_read(uint64_t gpa)
{
	uint8_t b = 0;

	assert_true(bus_access(&vm.mmio, gpa, &b, 1, false));
	return b;
}

static void win_write(uint64_t gpa, uint8_t b)
{
	assert_true(bus_access(&vm.mmio, gpa, &b, 1, true));
}

static uint8_t flash_byte(const struct rom *r, uint64_t gpa_low)
{
	/* the flash's last bytes end at 1 MiB below, at 4 GiB above */
	return r->data[r->size - (0x100000 - gpa_low)];
}

static void test_ids(void **state)
{
	struct rom *r = new_rom(256 * 1024);
	struct i440fx *p;

	(void)state;
	p = new_pmc(r);
	assert_int_equal(cfg_in(0x00, 4), 0x12378086);
	assert_int_equal(cfg_in(0x08, 4), 0x06000002); /* class 060000, rev 2 */
	assert_int_equal(cfg_in(0x0e, 1), 0);          /* type 0, one function */
	assert_int_equal(cfg_in(0x3d, 1), 0);          /* no interrupt pin */
	cfg_out(0x3c, 1, 0x0b);
	assert_int_equal(cfg_in(0x3c, 1), 0);
	/* no BARs: sizing reads zero */
	cfg_out(0x10, 4, 0xffffffff);
	assert_int_equal(cfg_in(0x10, 4), 0);
	cfg_out(0x30, 4, 0xffffffff);
	assert_int_equal(cfg_in(0x30, 4), 0);
	/* PAM registers at reset */
	for (unsigned reg = I440FX_PAM0; reg < I440FX_PAM0 + I440FX_NR_PAM; reg++)
		assert_int_equal(cfg_in(reg, 1), 0);
	free_all(p, r);
}

/* At reset: the window comes out of RAM's slots, the flash's last 128 KiB
 * are mapped read-only at 0xE0000-0xFFFFF, nothing at 0xC0000-0xDFFFF. */
static void test_reset_slots(void **state)
{
	struct rom *r = new_rom(256 * 1024);
	struct i440fx *p;
	unsigned n = 0;

	(void)state;
	p = new_pmc(r);
	/* rom_create made no call (not attached); the hole first */
	assert_true(fake.nr_memslot_calls >= 1);
	assert_int_equal(fake.memslot[0].slot, ~0u);
	assert_int_equal(fake.memslot[0].gpa, 0xc0000);
	assert_int_equal(fake.memslot[0].size, 0x40000);
	for (unsigned i = 1; i < fake.nr_memslot_calls; i++) {
		const struct fake_memslot_call *c = &fake.memslot[i];

		assert_true(c->gpa >= 0xe0000 && c->gpa + c->size <= 0x100000);
		assert_true(c->readonly);
		assert_ptr_equal(c->host, r->data + r->size - (0x100000 - c->gpa));
		n++;
	}
	assert_int_equal(n, 5); /* four 16 KiB E segments and the F segment */
	for (unsigned s = 0; s < 8; s++)
		assert_int_equal(p->map[s].size, 0);
	/* what the CPU fetches at the reset vector: the image's end */
	assert_int_equal(win_read(0xffff0), flash_byte(r, 0xffff0));
	assert_int_equal(win_read(0xc0000), 0xff);
	free_all(p, r);
}

/* Every value of every PAM register: reserved bits read 0, each nibble
 * picks the segment's mapping. */
static void test_every_value(void **state)
{
	struct rom *r = new_rom(256 * 1024);
	struct i440fx *p;

	(void)state;
	p = new_pmc(r);
	for (unsigned reg = I440FX_PAM0; reg < I440FX_PAM0 + I440FX_NR_PAM; reg++) {
		for (unsigned v = 0; v < 256; v++) {
			uint8_t want = (uint8_t)(v & (reg == I440FX_PAM0 ? 0x30 : 0x33));

			cfg_out(reg, 1, v);
			assert_int_equal(cfg_in(reg, 1), want);
			for (unsigned s = 0; s < I440FX_NR_SEGS; s++) {
				uint64_t gpa, size;
				unsigned sreg, shift, mode;
				struct i440fx_map m;

				i440fx_seg(s, &gpa, &size, &sreg, &shift);
				if (sreg != reg)
					continue;
				mode = (want >> shift) & 3;
				assert_int_equal(p->mode[s], mode);
				m = p->map[s];
				if (mode & PAM_RE) {
					assert_int_equal(m.gpa, gpa);
					assert_int_equal(m.size, size);
					assert_ptr_equal(m.host, ram + gpa);
					assert_int_equal(m.readonly, !(mode & PAM_WE));
				} else if (gpa >= 0xe0000) {
					assert_int_equal(m.size, size);
					assert_ptr_equal(m.host, r->data + r->size -
								      (0x100000 - gpa));
					assert_true(m.readonly);
				} else {
					assert_int_equal(m.size, 0);
				}
			}
		}
		cfg_out(reg, 1, 0);
	}
	/* the register beside PAM0 (DRAM timing) is read-only 0 */
	cfg_out(0x58, 1, 0xff);
	assert_int_equal(cfg_in(0x58, 1), 0);
	free_all(p, r);
}

/* SeaBIOS's unlock and lock: dword writes at 0x58 and 0x5C. A change
 * empties the slot before it maps it again; an unchanged nibble makes no
 * call. */
static void test_firmware_sequence(void **state)
{
	struct rom *r = new_rom(256 * 1024);
	struct i440fx *p;
	unsigned before;

	(void)state;
	p = new_pmc(r);
	cfg_out(0x58, 4, 0x33333000u | 0xffu);     /* PAM0-2 = 0x30 0x33 0x33 */
	cfg_out(0x5c, 4, 0x33333333u);             /* PAM3-6 = 0x33 */
	assert_int_equal(cfg_in(0x58, 4), 0x33333000u);
	for (unsigned s = 0; s < I440FX_NR_SEGS; s++) {
		assert_int_equal(p->mode[s], 3);
		assert_false(p->map[s].readonly);
	}
	/* the F segment to read-only: its slot emptied, then mapped again */
	before = fake.nr_memslot_calls;
	cfg_out(0x58, 4, 0x33331000u);             /* PAM0 = 0x10 */
	assert_int_equal(fake.nr_memslot_calls, before + 2);
	assert_int_equal(fake.memslot[before].size, 0);
	assert_int_equal(fake.memslot[before + 1].gpa, 0xf0000);
	assert_int_equal(fake.memslot[before + 1].size, 0x10000);
	assert_true(fake.memslot[before + 1].readonly);
	assert_int_equal(fake.memslot[before].slot, fake.memslot[before + 1].slot);
	/* the same value again: nothing to do */
	before = fake.nr_memslot_calls;
	cfg_out(0x58, 4, 0x33331000u);
	assert_int_equal(fake.nr_memslot_calls, before);
	/* all ones (the reserved bits too) is all read/write */
	cfg_out(0x58, 4, 0xffffffffu);
	cfg_out(0x5c, 4, 0xffffffffu);
	assert_int_equal(cfg_in(0x58, 4), 0x33333000u);
	assert_int_equal(cfg_in(0x5c, 4), 0x33333333u);
	free_all(p, r);
}

/* What exits: reads and writes by mode, an access straddling two
 * segments, and the window's end. */
static void test_window_io(void **state)
{
	struct rom *r = new_rom(256 * 1024);
	struct i440fx *p;
	uint32_t w;

	(void)state;
	p = new_pmc(r);
	ram[0xf0000] = 0x11;
	ram[0xc0000] = 0x22;
	/* mode 0: reads from the flash (or 0xff), writes go nowhere */
	win_write(0xf0000, 0x99);
	win_write(0xc0000, 0x99);
	assert_int_equal(ram[0xf0000], 0x11);
	assert_int_equal(ram[0xc0000], 0x22);
	assert_int_equal(win_read(0xf0000), flash_byte(r, 0xf0000));
	assert_int_equal(win_read(0xc0000), 0xff);
	/* mode 2, write-only: reads from the flash, writes to the RAM */
	cfg_out(I440FX_PAM0, 1, 0x20);
	win_write(0xf0000, 0x33);
	assert_int_equal(ram[0xf0000], 0x33);
	assert_int_equal(win_read(0xf0000), flash_byte(r, 0xf0000));
	/* mode 1, read-only: RAM, writes dropped */
	cfg_out(I440FX_PAM0, 1, 0x10);
	win_write(0xf0000, 0x44);
	assert_int_equal(ram[0xf0000], 0x33);
	assert_int_equal(win_read(0xf0000), 0x33);
	/* mode 3 */
	cfg_out(I440FX_PAM0, 1, 0x30);
	win_write(0xf0000, 0x55);
	assert_int_equal(win_read(0xf0000), 0x55);
	/* 0xC0000-0xC3FFF read/write, 0xC4000- off: a dword across */
	cfg_out(I440FX_PAM0 + 1, 1, 0x03);
	w = 0xa1b2c3d4;
	assert_true(bus_access(&vm.mmio, 0xc3ffe, &w, 4, true));
	assert_int_equal(ram[0xc3ffe], 0xd4);
	assert_int_equal(ram[0xc3fff], 0xc3);
	assert_int_equal(ram[0xc4000], 0);
	w = 0;
	assert_true(bus_access(&vm.mmio, 0xc3ffe, &w, 4, false));
	assert_int_equal(w, 0xffffc3d4u);
	/* the window's last byte, and a wide access at it */
	cfg_out(I440FX_PAM0, 1, 0x00);
	w = 0;
	assert_true(bus_access(&vm.mmio, 0xfffff, &w, 1, false));
	assert_int_equal(w, flash_byte(r, 0xfffff));
	free_all(p, r);
}

/* A flash smaller than 128 KiB shows only itself below 1 MiB: the F
 * segment's slot covers its pages, the rest reads 0xff; without a flash
 * nothing is mapped at all. */
static void test_small_and_no_flash(void **state)
{
	struct rom *r = new_rom(100); /* one page: 0xff then 100 bytes */
	struct i440fx *p;

	(void)state;
	p = new_pmc(r);
	assert_int_equal(p->map[I440FX_NR_SEGS - 1].gpa, 0xff000);
	assert_int_equal(p->map[I440FX_NR_SEGS - 1].size, 0x1000);
	assert_int_equal(p->map[8].size, 0);
	assert_int_equal(win_read(0xf0000), 0xff);
	assert_int_equal(win_read(0xfff00), 0xff); /* before the image */
	assert_int_equal(win_read(0xfffff), r->data[r->size - 1]);
	free_all(p, r);
	pci_bus_destroy(&bus);
	assert_int_equal(fake_pci_bus_init(&bus, &vm), 0);
	p = new_pmc(NULL);
	for (unsigned s = 0; s < I440FX_NR_SEGS; s++)
		assert_int_equal(p->map[s].size, 0);
	assert_int_equal(win_read(0xffff0), 0xff);
	free_all(p, NULL);
}

/* KVM refusing a slot: the segment stays unmapped, the exits serve it. */
static void test_slot_refused(void **state)
{
	struct rom *r = new_rom(256 * 1024);
	struct i440fx *p;

	(void)state;
	p = new_pmc(r);
	fake.memslot_error = -ENOMEM;
	cfg_out(I440FX_PAM0, 1, 0x30);
	assert_int_equal(p->map[I440FX_NR_SEGS - 1].size, 0);
	win_write(0xf1234, 0x77);
	assert_int_equal(win_read(0xf1234), 0x77);
	assert_int_equal(ram[0xf1234], 0x77);
	fake.memslot_error = 0;
	cfg_out(I440FX_PAM0, 1, 0x10);
	assert_int_equal(p->map[I440FX_NR_SEGS - 1].size, 0x10000);
	free_all(p, r);
}

/* Guest RAM that does not cover the window: refused. */
static void test_no_ram(void **state)
{
	struct i440fx *p;
	struct vm small = { 0 };

	(void)state;
	assert_int_equal(gm_add_region(&small.mem, 0, 0x80000, ram), 0);
	assert_int_equal(i440fx_create(&small, NULL, &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_firmware_sequence, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_window_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_and_no_flash, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_slot_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_ram, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
