/* SPDX-License-Identifier: MIT
 * mptable.c - Intel MultiProcessor Specification 1.4 tables: 4.1 MP
 * Floating Pointer Structure, 4.2 MP Configuration Table Header, 4.3 Base
 * MP Configuration Table Entries (processor, bus, I/O APIC, I/O interrupt
 * assignment, local interrupt assignment).
 *
 * Interrupt wiring described (the same as the MADT and _PRT in acpi.c):
 *   ISA IRQ n -> IOAPIC pin n, except IRQ 0 (PIT) -> pin 2 and IRQ 2
 *   (the 8259 cascade, no device) which is left out;
 *   PCI slot s INTA# -> pin 16 + s % 8, level, active low;
 *   LINT0 of every CPU is ExtINT (the 8259), LINT1 is NMI.
 */
#include "mptable.h"

#include <errno.h>
#include <string.h>

#include "acpi.h"
#include "vmm/vm.h"
#include "vmm/x86/layout.h"

#define FP_LEN 16
#define HDR_LEN 44
#define CPU_LEN 20
#define ENT_LEN 8 /* every other entry type */

#define BUS_PCI 0
#define BUS_ISA 1

enum { ENT_CPU = 0, ENT_BUS = 1, ENT_IOAPIC = 2, ENT_IOINT = 3,
       ENT_LINT = 4 };
enum { INT_INT = 0, INT_NMI = 1, INT_EXTINT = 3 };
/* I/O interrupt flags: polarity bits 1-0, trigger bits 3-2 */
#define FLAGS_CONFORM 0x0
#define FLAGS_LEVEL_LOW 0xf

#define LAPIC_VERSION 0x14
#define IOAPIC_VERSION 0x11
#define CPU_SIGNATURE 0x600  /* family 6 */
#define CPU_FEATURES 0x201   /* FPU, APIC (CPUID.1:EDX) */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)(0 - sum);
}

static uint8_t *ioint(uint8_t *e, uint8_t type, uint16_t flags, uint8_t bus,
		      uint8_t irq, uint8_t apic, uint8_t pin)
{
	e[0] = ENT_IOINT;
	e[1] = type;
	put16(e + 2, flags);
	e[4] = bus;
	e[5] = irq;
	e[6] = apic;
	e[7] = pin;
	return e + ENT_LEN;
}

static uint8_t *lint(uint8_t *e, uint8_t type, uint8_t pin)
{
	e[0] = ENT_LINT;
	e[1] = type;
	put16(e + 2, FLAGS_CONFORM);
	e[4] = BUS_ISA;
	e[5] = 0;
	e[6] = 0xff; /* every local APIC */
	e[7] = pin;
	return e + ENT_LEN;
}

int mptable_build(struct guest_mem *gm, unsigned nr_cpus)
{
	uint8_t cfg[MPTABLE_CFG_HIGH_END - MPTABLE_CFG_HIGH], fp[FP_LEN];
	uint8_t *e = cfg + HDR_LEN;
	uint8_t ioapic_id = (uint8_t)nr_cpus;
	uint64_t cfg_at;
	unsigned count = 0;
	size_t len;

	if (nr_cpus == 0 || nr_cpus > VM_MAX_CPUS)
		return -EINVAL;
	memset(cfg, 0, sizeof(cfg));

	for (unsigned i = 0; i < nr_cpus; i++, count++) {
		e[0] = ENT_CPU;
		e[1] = (uint8_t)i; /* local APIC ID */
		e[2] = LAPIC_VERSION;
		e[3] = 0x01 | (i == 0 ? 0x02 : 0); /* EN, BP */
		put32(e + 4, CPU_SIGNATURE);
		put32(e + 8, CPU_FEATURES);
		e += CPU_LEN;
	}
	/* Buses, in increasing bus ID order (4.3.2) */
	e[0] = ENT_BUS;
	e[1] = BUS_PCI;
	memcpy(e + 2, "PCI   ", 6);
	e += ENT_LEN;
	e[0] = ENT_BUS;
	e[1] = BUS_ISA;
	memcpy(e + 2, "ISA   ", 6);
	e += ENT_LEN;
	count += 2;

	e[0] = ENT_IOAPIC;
	e[1] = ioapic_id;
	e[2] = IOAPIC_VERSION;
	e[3] = 0x01; /* EN */
	put32(e + 4, (uint32_t)X86_IOAPIC_ADDR);
	e += ENT_LEN;
	count++;

	for (unsigned irq = 0; irq < 16; irq++) {
		if (irq == 2)
			continue;
		e = ioint(e, INT_INT, FLAGS_CONFORM, BUS_ISA, (uint8_t)irq,
			  ioapic_id, (uint8_t)(irq == 0 ? 2 : irq));
		count++;
	}
	/* PCI source IRQ: bits 6-2 device number, bits 1-0 pin (0 = INTA#) */
	for (unsigned slot = 1; slot < 32; slot++) {
		e = ioint(e, INT_INT, FLAGS_LEVEL_LOW, BUS_PCI,
			  (uint8_t)(slot << 2), ioapic_id,
			  (uint8_t)acpi_pci_gsi(slot, 0));
		count++;
	}
	e = lint(e, INT_EXTINT, 0);
	e = lint(e, INT_NMI, 1);
	count += 2;
	len = (size_t)(e - cfg);

	memcpy(cfg, "PCMP", 4);
	put16(cfg + 4, (uint16_t)len);
	cfg[6] = 4; /* specification revision 1.4 */
	memcpy(cfg + 8, "MINIVMM ", 8);         /* OEM ID */
	memcpy(cfg + 16, "MINIVMM-PC  ", 12);  /* product ID */
	put16(cfg + 34, (uint16_t)count);
	put32(cfg + 36, (uint32_t)X86_LAPIC_ADDR);
	cfg[7] = checksum(cfg, len);

	/* The floating pointer must be in the EBDA's first KiB (4 "MP
	 * Floating Pointer Structure"); the table may be anywhere. */
	if (FP_LEN + len <= 1024)
		cfg_at = X86_MPTABLE_START + FP_LEN;
	else
		cfg_at = MPTABLE_CFG_HIGH;

	memset(fp, 0, sizeof(fp));
	memcpy(fp, "_MP_", 4);
	put32(fp + 4, (uint32_t)cfg_at);
	fp[8] = 1; /* length in 16-byte units */
	fp[9] = 4; /* revision 1.4 */
	/* feature bytes 1-5 zero: a configuration table is present; IMCR
	 * absent, virtual wire mode */
	fp[10] = checksum(fp, FP_LEN);

	if (gm_write(gm, X86_MPTABLE_START, fp, FP_LEN) ||
	    gm_write(gm, cfg_at, cfg, len))
		return -EFAULT;
	return 0;
}
