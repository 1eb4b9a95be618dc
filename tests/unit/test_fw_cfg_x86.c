/* SPDX-License-Identifier: MIT
 * Unit tests: the x86 machine's fw_cfg contents (boot/x86/fw_cfg_x86.c):
 * the ACPI tables as blobs run through a loader that does what the
 * firmware does with etc/table-loader (allocate, add pointers, fix
 * checksums), then checked as tables; the memory map, the boot order and
 * the CMOS memory sizes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/x86/fw_cfg_x86.h"
#include "vmm/x86/layout.h"

static uint32_t rd32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rdn(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* A "guest" memory of 1 MiB; the RSDP blob goes to 0xf0000 (the F
 * segment), the tables to 0x80000. */
#define RSDP_AT 0xf0000u
#define TABLES_AT 0x80000u
static uint8_t mem[1 << 20];

static uint8_t *file_ptr(const char *name, uint32_t *base)
{
	if (!strcmp(name, "etc/acpi/rsdp")) {
		*base = RSDP_AT;
		return mem + RSDP_AT;
	}
	assert_string_equal(name, "etc/acpi/tables");
	*base = TABLES_AT;
	return mem + TABLES_AT;
}

static void run_loader(const struct x86_acpi_blobs *b)
{
	unsigned allocs = 0, ptrs = 0, sums = 0;

	assert_int_equal(b->loader_len % FW_LOADER_ENTRY, 0);
	for (size_t off = 0; off < b->loader_len; off += FW_LOADER_ENTRY) {
		const uint8_t *e = b->loader + off;
		uint32_t base, sbase;
		uint8_t *f, *src;

		switch (rd32(e)) {
		case FW_LOADER_ALLOCATE:
			f = file_ptr((const char *)e + 4, &base);
			if (base == RSDP_AT) {
				assert_int_equal(e[64], FW_LOADER_ZONE_FSEG);
				memcpy(f, b->rsdp, b->rsdp_len);
			} else {
				assert_int_equal(e[64], FW_LOADER_ZONE_HIGH);
				assert_int_equal(rd32(e + 60), 64);
				memcpy(f, b->tables, b->tables_len);
			}
			allocs++;
			break;
		case FW_LOADER_ADD_POINTER: {
			unsigned n = e[120];
			uint32_t at = rd32(e + 116);
			uint64_t v;

			f = file_ptr((const char *)e + 4, &base);
			src = file_ptr((const char *)e + 60, &sbase);
			(void)src;
			assert_true(n == 4 || n == 8);
			v = rdn(f + at, n) + sbase;
			for (unsigned i = 0; i < n; i++)
				f[at + i] = (uint8_t)(v >> (8 * i));
			ptrs++;
			break;
		}
		case FW_LOADER_ADD_CHECKSUM:
			f = file_ptr((const char *)e + 4, &base);
			f[rd32(e + 60)] = (uint8_t)(f[rd32(e + 60)] -
						    sum(f + rd32(e + 64), rd32(e + 68)));
			sums++;
			break;
		default:
			fail_msg("unknown loader command %u", rd32(e));
		}
	}
	assert_int_equal(allocs, 2);
	/* RSDP->XSDT, XSDT->FADT and MADT, FADT->FACS, DSDT twice */
	assert_int_equal(ptrs, 6);
	/* XSDT, FADT, MADT, DSDT, and the RSDP's two */
	assert_int_equal(sums, 6);
}

static const uint8_t *table(uint64_t at, const char *sig)
{
	const uint8_t *t = mem + at;

	assert_true(at >= TABLES_AT && at < sizeof(mem));
	assert_memory_equal(t, sig, 4);
	assert_int_equal(sum(t, rd32(t + 4)), 0);
	return t;
}

static void check_tables(unsigned cpus)
{
	struct x86_acpi_blobs b;
	const uint8_t *rsdp = mem + RSDP_AT, *xsdt, *fadt = NULL, *madt = NULL;

	memset(mem, 0, sizeof(mem));
	assert_int_equal(x86_acpi_blobs(cpus, &b), 0);
	run_loader(&b);
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(sum(rsdp, 20), 0);
	assert_int_equal(sum(rsdp, 36), 0);
	xsdt = table(rdn(rsdp + 24, 8), "XSDT");
	for (unsigned i = 0; i < (rd32(xsdt + 4) - 36) / 8; i++) {
		uint64_t t = rdn(xsdt + 36 + 8 * i, 8);

		if (!memcmp(mem + t, "FACP", 4))
			fadt = table(t, "FACP");
		else
			madt = table(t, "APIC");
	}
	assert_non_null(fadt);
	assert_non_null(madt);
	/* the MADT still lists every CPU: 8-byte local APIC entries */
	assert_int_equal(madt[44], 0);
	assert_int_equal(madt[44 + 8 * (cpus - 1)], 0);
	table(rd32(fadt + 40), "DSDT");
	assert_int_equal(rd32(fadt + 40), rdn(fadt + 140, 8));
	assert_memory_equal(mem + rd32(fadt + 36), "FACS", 4);
	assert_int_equal(rd32(fadt + 36) % 64, 0);
	x86_acpi_blobs_free(&b);
}

static void test_acpi_blobs(void **state)
{
	(void)state;
	check_tables(1);
	check_tables(4);
	check_tables(64);
	struct x86_acpi_blobs b;
	assert_int_equal(x86_acpi_blobs(0, &b), -EINVAL);
}

static void test_fill(void **state)
{
	struct guest_mem gm = { 0 };
	struct fw_cfg f;
	struct x86_fw_cfg_cfg c = { .low_size = 3ULL << 30, .high_size = 1ULL << 30,
				    .nr_cpus = 2, .sercon_port = 0x3f8,
				    .bootorder = "/pci@i0cf8/scsi@2/disk@0,0\n/pci@i0cf8/ide@1/drive@0/disk@0" };
	const uint8_t *p;
	uint32_t len;

	(void)state;
	assert_int_equal(fw_cfg_init(&f, &gm), 0);
	assert_int_equal(x86_fw_cfg_fill(&f, &c), 0);
	p = fw_cfg_file(&f, "etc/e820", &len);
	assert_non_null(p);
	assert_int_equal(len, 40);
	assert_int_equal(rdn(p, 8), 0);
	assert_int_equal(rdn(p + 8, 8), 3ULL << 30);
	assert_int_equal(rd32(p + 16), 1);
	assert_int_equal(rdn(p + 20, 8), X86_HIGH_RAM_START);
	assert_int_equal(rdn(p + 28, 8), 1ULL << 30);
	p = fw_cfg_file(&f, "etc/sercon-port", &len);
	assert_int_equal(len, 2);
	assert_int_equal(rdn(p, 2), 0x3f8);
	p = fw_cfg_file(&f, "bootorder", &len);
	assert_string_equal((const char *)p, c.bootorder);
	assert_non_null(fw_cfg_file(&f, "etc/table-loader", NULL));
	assert_non_null(fw_cfg_file(&f, "etc/acpi/rsdp", NULL));
	assert_non_null(fw_cfg_file(&f, "etc/acpi/tables", NULL));
	p = fw_cfg_file(&f, "etc/show-boot-menu", &len);
	assert_int_equal(rdn(p, len), 0);
	fw_cfg_fini(&f);
}

static void test_cmos(void **state)
{
	uint8_t cmos[128] = { 0 };

	(void)state;
	x86_cmos_memory(cmos, 3ULL << 30, 5ULL << 30, 4);
	assert_int_equal(cmos[0x15] | cmos[0x16] << 8, 640);
	assert_int_equal(cmos[0x17] | cmos[0x18] << 8, 0xffff);
	assert_int_equal(cmos[0x30] | cmos[0x31] << 8, 0xffff);
	assert_int_equal(cmos[0x34] | cmos[0x35] << 8, ((3u << 30) - (16u << 20)) >> 16);
	assert_int_equal(cmos[0x5b] | cmos[0x5c] << 8 | cmos[0x5d] << 16, (5ULL << 30) >> 16);
	assert_int_equal(cmos[0x5f], 3);
	memset(cmos, 0, sizeof(cmos));
	x86_cmos_memory(cmos, 8ULL << 20, 0, 1);
	assert_int_equal(cmos[0x17] | cmos[0x18] << 8, 7 * 1024);
	assert_int_equal(cmos[0x34] | cmos[0x35] << 8, 0);
	assert_int_equal(cmos[0x5f], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acpi_blobs),
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_cmos),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
