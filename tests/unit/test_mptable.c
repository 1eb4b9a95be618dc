/* SPDX-License-Identifier: MIT
 * Unit tests: the MP tables (boot/x86/mptable.c) for 1, 2, 27, 28 and 64
 * vCPUs: floating pointer and table checksums, where the table goes, and
 * every entry (processors, buses, IOAPIC, interrupt assignments). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot/x86/mptable.h"
#include "vmm/guest_mem.h"
#include "vmm/x86/layout.h"

#define RAM (1u << 20)
static uint8_t ram[RAM];

static uint32_t rd16(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) | rd16(p + 2) << 16;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void check(unsigned cpus)
{
	struct guest_mem gm = { 0 };
	const uint8_t *fp = ram + X86_MPTABLE_START, *cfg, *e;
	unsigned n, cpu = 0, bus = 0, ioapic = 0, lints = 0;
	unsigned isa_seen = 0, pci_seen = 0;

	memset(ram, 0, sizeof(ram));
	assert_int_equal(gm_add_region(&gm, 0, RAM, ram), 0);
	assert_int_equal(mptable_build(&gm, cpus), 0);

	assert_memory_equal(fp, "_MP_", 4);
	assert_int_equal(fp[8], 1);
	assert_int_equal(fp[9], 4);
	assert_int_equal(sum(fp, 16), 0);
	assert_int_equal(fp[11], 0); /* a configuration table exists */

	cfg = ram + rd32(fp + 4);
	if (16 + rd16(cfg + 4) <= 1024)
		assert_int_equal(rd32(fp + 4), X86_MPTABLE_START + 16);
	else
		assert_int_equal(rd32(fp + 4), MPTABLE_CFG_HIGH);
	assert_memory_equal(cfg, "PCMP", 4);
	assert_int_equal(cfg[6], 4);
	assert_int_equal(sum(cfg, rd16(cfg + 4)), 0);
	assert_int_equal(rd32(cfg + 36), X86_LAPIC_ADDR);

	e = cfg + 44;
	n = rd16(cfg + 34);
	for (unsigned i = 0; i < n; i++) {
		assert_true(e < cfg + rd16(cfg + 4));
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], cpu);
			assert_int_equal(e[3], cpu == 0 ? 3 : 1);
			cpu++;
			e += 20;
			continue;
		case 1:
			assert_memory_equal(e + 2, bus == 0 ? "PCI   " : "ISA   ",
					    6);
			assert_int_equal(e[1], bus);
			bus++;
			break;
		case 2:
			assert_int_equal(e[1], cpus);
			assert_int_equal(e[3], 1);
			assert_int_equal(rd32(e + 4), X86_IOAPIC_ADDR);
			ioapic++;
			break;
		case 3:
			assert_int_equal(e[1], 0); /* INT */
			assert_int_equal(e[6], cpus);
			if (e[4] == 1) { /* ISA */
				assert_true(e[5] < 16 && e[5] != 2);
				assert_int_equal(e[7], e[5] == 0 ? 2 : e[5]);
				isa_seen |= 1u << e[5];
			} else {
				unsigned slot = e[5] >> 2;

				assert_int_equal(e[4], 0);
				assert_int_equal(e[5] & 3, 0); /* INTA# */
				assert_int_equal(rd16(e + 2), 0xf);
				assert_int_equal(e[7], 16 + slot % 8);
				pci_seen |= 1u << slot;
			}
			break;
		case 4:
			assert_int_equal(e[1], lints == 0 ? 3 : 1);
			assert_int_equal(e[6], 0xff);
			assert_int_equal(e[7], lints);
			lints++;
			break;
		default:
			fail_msg("bad entry type %u", e[0]);
		}
		e += 8;
	}
	assert_ptr_equal(e, cfg + rd16(cfg + 4));
	assert_int_equal(cpu, cpus);
	assert_int_equal(bus, 2);
	assert_int_equal(ioapic, 1);
	assert_int_equal(lints, 2);
	assert_int_equal(isa_seen, 0xfffb);
	assert_int_equal(pci_seen, 0xfffffffe);
}

static void test_sizes(void **state)
{
	(void)state;
	check(1);
	check(2);
	check(27); /* the largest that fits in the EBDA's first KiB */
	assert_int_equal(rd32(ram + X86_MPTABLE_START + 4),
			 X86_MPTABLE_START + 16);
	check(28);
	assert_int_equal(rd32(ram + X86_MPTABLE_START + 4), MPTABLE_CFG_HIGH);
	check(64);
}

static void test_errors(void **state)
{
	(void)state;
	struct guest_mem gm = { 0 };

	assert_int_equal(gm_add_region(&gm, 0, RAM, ram), 0);
	assert_int_equal(mptable_build(&gm, 0), -EINVAL);
	assert_int_equal(mptable_build(&gm, 65), -EINVAL);
	/* no RAM at the EBDA */
	struct guest_mem tiny = { 0 };
	assert_int_equal(gm_add_region(&tiny, 0, 0x9f000, ram), 0);
	assert_int_equal(mptable_build(&tiny, 1), -EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
