/* SPDX-License-Identifier: MIT
 * Unit tests: the ACPI tables (boot/x86/acpi.c) for 1, 2 and 64 vCPUs:
 * RSDP and table checksums and lengths, the XSDT's pointers, the FADT's
 * fixed-hardware fields, every MADT entry, the DSDT's contents; and the
 * tables decompiled by iasl (acpica-tools) without errors, when iasl is
 * installed. */
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

#include "boot/x86/acpi.h"
#include "boot/x86/aml.h"
#include "vmm/guest_mem.h"
#include "vmm/log.h"
#include "vmm/x86/layout.h"

#define RAM (1u << 20)
static uint8_t ram[RAM];
static struct guest_mem gm;

static uint32_t rd16(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) | rd16(p + 2) << 16;
}
static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void build(unsigned cpus, uint64_t *rsdp)
{
	struct acpi_cfg cfg = { .nr_cpus = cpus };

	memset(ram, 0, sizeof(ram));
	memset(&gm, 0, sizeof(gm));
	assert_int_equal(gm_add_region(&gm, 0, RAM, ram), 0);
	assert_int_equal(acpi_build(&gm, &cfg, rsdp), 0);
}

/* A table at gpa: checks that it lies in the ACPI area, its signature,
 * length and checksum; returns its host pointer. */
static const uint8_t *table(uint64_t gpa, const char *sig)
{
	const uint8_t *t = ram + gpa;

	assert_true(gpa >= X86_ACPI_START && gpa + 36 <= ACPI_TABLES_END);
	assert_memory_equal(t, sig, 4);
	assert_true(gpa + rd32(t + 4) <= ACPI_TABLES_END);
	assert_int_equal(sum(t, rd32(t + 4)), 0);
	return t;
}

struct tabs {
	const uint8_t *xsdt, *fadt, *madt, *dsdt, *facs;
};

static struct tabs walk(uint64_t rsdp_gpa)
{
	const uint8_t *rsdp = ram + rsdp_gpa;
	struct tabs t;

	assert_int_equal(rsdp_gpa, X86_ACPI_START);
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(sum(rsdp, 20), 0);
	assert_int_equal(rsdp[15], 2);
	assert_int_equal(rd32(rsdp + 20), 36);
	assert_int_equal(sum(rsdp, 36), 0);
	t.xsdt = table(rd64(rsdp + 24), "XSDT");
	assert_int_equal(rd32(t.xsdt + 4), 36 + 16);
	t.fadt = table(rd64(t.xsdt + 36), "FACP");
	t.madt = table(rd64(t.xsdt + 44), "APIC");
	t.dsdt = table(rd64(t.fadt + 140), "DSDT");
	assert_int_equal(rd32(t.fadt + 40), rd64(t.fadt + 140));
	assert_int_equal(rd32(t.fadt + 36) % 64, 0);
	t.facs = ram + rd32(t.fadt + 36);
	assert_memory_equal(t.facs, "FACS", 4);
	assert_int_equal(rd32(t.facs + 4), 64);
	return t;
}

static void test_fadt(void **state)
{
	(void)state;
	uint64_t rsdp;
	struct tabs t;

	build(1, &rsdp);
	t = walk(rsdp);
	assert_int_equal(rd32(t.fadt + 4), 276);
	assert_int_equal(t.fadt[8], 6);
	assert_int_equal(rd16(t.fadt + 46), 9);          /* SCI_INT */
	assert_int_equal(rd32(t.fadt + 48), 0);          /* SMI_CMD */
	assert_int_equal(rd32(t.fadt + 56), X86_ACPI_PM_BASE);
	assert_int_equal(rd32(t.fadt + 64), X86_ACPI_PM_BASE + 4);
	assert_int_equal(t.fadt[88], 4);
	assert_int_equal(t.fadt[89], 2);
	/* flags: WBINVD, SLP_BUTTON, RESET_REG_SUP set; PWR_BUTTON clear
	 * (fixed-feature power button present); not hardware-reduced */
	uint32_t flags = rd32(t.fadt + 112);
	assert_true(flags & 1);
	assert_true(flags & (1u << 5));
	assert_true(flags & (1u << 10));
	assert_false(flags & (1u << 4));
	assert_false(flags & (1u << 20));
	/* IA-PC boot flags: 8042 present, CMOS RTC present */
	assert_true(rd16(t.fadt + 109) & 2);
	assert_false(rd16(t.fadt + 109) & (1u << 5));
	/* RESET_REG: system I/O, 8 bits, port 0xcf9, value 6 */
	assert_int_equal(t.fadt[116], 1);
	assert_int_equal(t.fadt[117], 8);
	assert_int_equal(rd64(t.fadt + 120), 0xcf9);
	assert_int_equal(t.fadt[128], 6);
	/* X_PM1a_EVT_BLK, X_PM1a_CNT_BLK as GAS */
	assert_int_equal(t.fadt[148], 1);
	assert_int_equal(t.fadt[149], 32);
	assert_int_equal(rd64(t.fadt + 152), X86_ACPI_PM_BASE);
	assert_int_equal(t.fadt[172], 1);
	assert_int_equal(t.fadt[173], 16);
	assert_int_equal(rd64(t.fadt + 176), X86_ACPI_PM_BASE + 4);
}

static void check_madt(unsigned cpus)
{
	uint64_t rsdp;
	struct tabs t;
	const uint8_t *e, *end;
	unsigned lapics = 0, ioapics = 0, isos = 0, nmis = 0;

	build(cpus, &rsdp);
	t = walk(rsdp);
	assert_int_equal(rd32(t.madt + 36), X86_LAPIC_ADDR);
	assert_int_equal(rd32(t.madt + 40), 1); /* PCAT_COMPAT */
	e = t.madt + 44;
	end = t.madt + rd32(t.madt + 4);
	while (e < end) {
		assert_true(e[1] >= 2 && e + e[1] <= end);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], lapics); /* UID */
			assert_int_equal(e[3], lapics); /* APIC ID */
			assert_int_equal(rd32(e + 4), 1);
			lapics++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], cpus);
			assert_int_equal(rd32(e + 4), X86_IOAPIC_ADDR);
			assert_int_equal(rd32(e + 8), 0);
			ioapics++;
			break;
		case 2:
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0);
			if (e[3] == 0) {
				assert_int_equal(rd32(e + 4), 2);
			} else {
				assert_int_equal(e[3], 9);
				assert_int_equal(rd32(e + 4), 9);
				assert_int_equal(rd16(e + 8), 0x0d);
			}
			isos++;
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[5], 1);
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
		e += e[1];
	}
	assert_int_equal(lapics, cpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 2);
	assert_int_equal(nmis, 1);
}

static void test_madt(void **state)
{
	(void)state;
	check_madt(1);
	check_madt(2);
	check_madt(64);
}

static bool contains(const uint8_t *p, size_t n, const void *needle,
		     size_t len)
{
	return memmem(p, n, needle, len) != NULL;
}

static void test_dsdt(void **state)
{
	(void)state;
	uint64_t rsdp;
	struct tabs t;
	size_t n;
	const uint8_t hid_pci[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41,
				    0xd0, 0x0a, 0x03 };
	const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
			       0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };
	/* _PRT entry for slot 3 INTB: {0x0003FFFF, 1, 0, 16 + 4} */
	const uint8_t prt[] = { 0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x03,
				0x00, 0x01, 0x00, 0x0a, 20 };

	build(64, &rsdp);
	t = walk(rsdp);
	n = rd32(t.dsdt + 4);
	assert_int_equal(t.dsdt[8], 2);
	assert_true(contains(t.dsdt, n, hid_pci, sizeof(hid_pci)));
	assert_true(contains(t.dsdt, n, s5, sizeof(s5)));
	assert_true(contains(t.dsdt, n, prt, sizeof(prt)));
	assert_true(contains(t.dsdt, n, "C03F", 4));
	assert_false(contains(t.dsdt, n, "C040", 4));
	assert_true(contains(t.dsdt, n, "COM1", 4));
	assert_true(contains(t.dsdt, n, "KBD_", 4));
	/* bad configurations */
	struct acpi_cfg cfg = { .nr_cpus = 0 };
	uint64_t r;
	assert_int_equal(acpi_build(&gm, &cfg, &r), -EINVAL);
	cfg.nr_cpus = 65;
	assert_int_equal(acpi_build(&gm, &cfg, &r), -EINVAL);
	/* guest RAM too small for the BIOS area */
	struct guest_mem small = { 0 };
	cfg.nr_cpus = 1;
	assert_int_equal(gm_add_region(&small, 0, 0xe0100, ram), 0);
	assert_true(acpi_build(&small, &cfg, &r) < 0);
}

/* ---- iasl ---- */

static bool have_iasl(void)
{
	return system("iasl -v >/dev/null 2>&1") == 0;
}

static void dump(const char *dir, const char *name, const uint8_t *p,
		 size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* Run iasl -d on dir/name.dat; fail on a non-zero status or any "Error"
 * or "Warning" in its output. Returns the .dsl text (malloc'd). */
static char *iasl_d(const char *dir, const char *name)
{
	char cmd[1024], path[512], *out, *dsl;
	FILE *f;
	long len;
	int st;

	snprintf(cmd, sizeof(cmd),
		 "cd %s && iasl -d %s.dat > %s.log 2>&1", dir, name, name);
	st = system(cmd);
	snprintf(path, sizeof(path), "%s/%s.log", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	out = calloc(1, 65536);
	fread(out, 1, 65535, f);
	fclose(f);
	if (st != 0 || strstr(out, "Error") || strstr(out, "Warning") ||
	    strstr(out, "Invalid"))
		fail_msg("iasl -d %s: status %d:\n%s", name, st, out);
	free(out);
	snprintf(path, sizeof(path), "%s/%s.dsl", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	dsl = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(dsl, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	/* iasl reports table problems inside the listing too */
	if (strstr(dsl, "**** ") || strstr(dsl, "Invalid"))
		fail_msg("iasl -d %s flagged a problem:\n%s", name, dsl);
	return dsl;
}

static void test_iasl(void **state)
{
	(void)state;
	char dir[] = "/tmp/minivmm-acpi-XXXXXX", *dsl, cmd[600];
	uint64_t rsdp;
	struct tabs t;

	if (!have_iasl()) {
		print_message("iasl not installed: decompile check skipped\n");
		skip();
	}
	build(4, &rsdp);
	t = walk(rsdp);
	assert_non_null(mkdtemp(dir));
	/* (iasl 20200925 does not take a bare RSDP: checked above) */
	dump(dir, "xsdt", t.xsdt, rd32(t.xsdt + 4));
	dump(dir, "facp", t.fadt, rd32(t.fadt + 4));
	dump(dir, "apic", t.madt, rd32(t.madt + 4));
	dump(dir, "facs", t.facs, 64);
	dump(dir, "dsdt", t.dsdt, rd32(t.dsdt + 4));

	free(iasl_d(dir, "xsdt"));
	dsl = iasl_d(dir, "facp");
	assert_non_null(strstr(dsl, "Reset Register"));
	free(dsl);
	dsl = iasl_d(dir, "apic");
	assert_non_null(strstr(dsl, "Local Apic ID : 03"));
	assert_null(strstr(dsl, "Local Apic ID : 04"));
	free(dsl);
	free(iasl_d(dir, "facs"));
	dsl = iasl_d(dir, "dsdt");
	static const char *want[] = {
		"Device (PCI0)", "EisaId (\"PNP0A03\")", "Name (_PRT, Package (0x80)",
		"WordBusNumber (ResourceProducer", "DWordMemory (ResourceProducer",
		"0xFBFFFFFF", "Device (C003)", "\"ACPI0007\"", "Device (COM1)",
		"EisaId (\"PNP0501\")", "IRQNoFlags ()", "Device (KBD)",
		"EisaId (\"PNP0303\")", "Device (RTC)", "Name (_S5, Package (0x04)",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(dsl, want[i]))
			fail_msg("DSDT listing lacks \"%s\":\n%s", want[i], dsl);
	free(dsl);

	/* acpiexec: ACPICA (the interpreter in Linux) loads the FADT, MADT
	 * and DSDT and evaluates objects the OS uses */
	static const struct {
		const char *obj, *want;
	} ev[] = {
		{ "\\_S5", "[Integer] = 0000000000000005" },
		{ "\\_SB.PCI0._PRT", "[Package] Contains 128 Elements" },
		{ "\\_SB.PCI0._CRS", "[Buffer] Length" },
		{ "\\_SB.C003._UID", "[Integer] = 0000000000000003" },
		{ "\\_SB.COM1._CRS", "[Buffer] Length" },
	};
	if (system("acpiexec -v >/dev/null 2>&1") != 0) {
		print_message("acpiexec not installed: evaluation skipped\n");
	} else {
		for (size_t i = 0; i < sizeof(ev) / sizeof(ev[0]); i++) {
			char line[512], out[16384] = "";
			FILE *p;
			size_t n = 0;

			snprintf(cmd, sizeof(cmd),
				 "cd %s && acpiexec -b \"evaluate %s\" "
				 "facp.dat apic.dat dsdt.dat 2>&1", dir, ev[i].obj);
			p = popen(cmd, "r");
			assert_non_null(p);
			while (fgets(line, sizeof(line), p))
				if (n + strlen(line) < sizeof(out) - 1) {
					strcat(out, line);
					n += strlen(line);
				}
			pclose(p);
			if (!strstr(out, ev[i].want) || strstr(out, "ACPI Error"))
				fail_msg("acpiexec %s: want \"%s\":\n%s", ev[i].obj,
					 ev[i].want, out);
		}
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fadt),
		cmocka_unit_test(test_madt),
		cmocka_unit_test(test_dsdt),
		cmocka_unit_test(test_iasl),
	};
	log_quiet = true;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
