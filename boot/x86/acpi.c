/* SPDX-License-Identifier: MIT
 * acpi.c - the ACPI tables (ACPI 6.5: 5.2.5 RSDP, 5.2.8 XSDT, 5.2.9 FADT,
 * 5.2.10 FACS, 5.2.11 DSDT, 5.2.12 MADT; 5.2.3.2 Generic Address
 * Structure).
 *
 * Every table is assembled in a host buffer with explicit little-endian
 * stores at the offsets the specification gives (no packed structs), its
 * checksum is fixed up, and the result is copied into guest RAM with
 * gm_write(). Layout inside [X86_ACPI_START, ACPI_TABLES_END):
 *
 *   RSDP (36 bytes, at X86_ACPI_START, 16-byte aligned) -> XSDT
 *   XSDT -> FADT, MADT
 *   FACS (64-byte aligned), FADT -> FACS, DSDT
 *   MADT, DSDT
 *
 * The DSDT describes: \_SB.PCI0 (host bridge, its windows and the _PRT
 * routing every slot's INTA#-INTD# to IOAPIC pins 16-23), one processor
 * device (ACPI0007) per vCPU, COM1, the PS/2 controller, the CMOS RTC, and
 * \_S5 (soft-off) whose SLP_TYP devices/x86/acpi_pm.c acts on.
 */
#include "acpi.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"
#include "vmm/vm.h"
#include "vmm/x86/layout.h"

#define OEM_ID "MINIVM"          /* 6 bytes */
#define OEM_TABLE_ID "MINIVMM " /* 8 bytes */
#define CREATOR_ID "MVMM"        /* 4 bytes */

#define HDR_LEN 36
#define RSDP_LEN 36
#define FACS_LEN 64
#define FADT_LEN 276 /* revision 6 */

/* ---- little-endian stores ---- */
static void put8(uint8_t *p, unsigned off, uint8_t v)
{
	p[off] = v;
}

static void put16(uint8_t *p, unsigned off, uint16_t v)
{
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, unsigned off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, unsigned off, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)(0 - sum);
}

/* The 36-byte System Description Table Header (5.2.6). */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t, 4, len);
	put8(t, 8, rev);
	put8(t, 9, 0); /* checksum, set by finish() */
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	put32(t, 24, 1); /* OEM revision */
	memcpy(t + 28, CREATOR_ID, 4);
	put32(t, 32, 1); /* creator revision */
}

static void finish(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = checksum(t, len);
}

/* Generic Address Structure (5.2.3.2), 12 bytes. */
enum { GAS_MEM = 0, GAS_IO = 1 };
enum { ACC_UNDEF = 0, ACC_BYTE = 1, ACC_WORD = 2, ACC_DWORD = 3 };

static void gas(uint8_t *p, unsigned off, uint8_t space, uint8_t bits,
		uint8_t access, uint64_t addr)
{
	put8(p, off, space);
	put8(p, off + 1, bits);
	put8(p, off + 2, 0); /* bit offset */
	put8(p, off + 3, access);
	put64(p, off + 4, addr);
}

/* ---- the tables ---- */

/* Writer of tables into the guest area, each at the next aligned spot. */
struct placer {
	struct guest_mem *gm;
	uint64_t next, end;
	int err;
};

static uint64_t place(struct placer *pl, const uint8_t *t, size_t len,
		      uint64_t align)
{
	uint64_t at = (pl->next + align - 1) & ~(align - 1);
	int r;

	if (pl->err)
		return 0;
	if (at > pl->end || len > pl->end - at) {
		pl->err = -ENOSPC;
		return 0;
	}
	r = gm_write(pl->gm, at, t, len);
	if (r) {
		pl->err = r;
		return 0;
	}
	pl->next = at + len;
	return at;
}

/* FADT flags (5.2.9, Table 5.10) */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_PWR_BUTTON (1u << 4) /* set: no fixed power button */
#define FADT_SLP_BUTTON (1u << 5) /* set: no fixed sleep button */
#define FADT_FIX_RTC (1u << 6)    /* set: RTC wake not in PM1 */
#define FADT_RESET_REG_SUP (1u << 10)
/* IA-PC boot architecture flags (Table 5.11) */
#define IAPC_LEGACY_DEVICES (1u << 0)
#define IAPC_8042 (1u << 1)
#define IAPC_VGA_NOT_PRESENT (1u << 2)

static void build_fadt(uint8_t *t, uint64_t facs, uint64_t dsdt)
{
	memset(t, 0, FADT_LEN);
	header(t, "FACP", FADT_LEN, 6);
	put32(t, 36, (uint32_t)facs);       /* FIRMWARE_CTRL */
	put32(t, 40, (uint32_t)dsdt);       /* DSDT */
	put8(t, 45, 0);                     /* Preferred_PM_Profile: unspecified */
	put16(t, 46, X86_IRQ_ACPI_SCI);     /* SCI_INT */
	put32(t, 48, 0); /* SMI_CMD 0: no SMM, the machine is always in ACPI mode */
	put32(t, 56, X86_ACPI_PM_BASE);     /* PM1a_EVT_BLK */
	put32(t, 64, X86_ACPI_PM_BASE + 4); /* PM1a_CNT_BLK */
	put8(t, 88, 4);                     /* PM1_EVT_LEN: status + enable */
	put8(t, 89, 2);                     /* PM1_CNT_LEN */
	/* no PM2, PM timer or GPE blocks: lengths 0 */
	put16(t, 96, 101);  /* P_LVL2_LAT > 100: C2 not supported */
	put16(t, 98, 1001); /* P_LVL3_LAT > 1000: C3 not supported */
	put16(t, 109, IAPC_LEGACY_DEVICES | IAPC_8042 | IAPC_VGA_NOT_PRESENT);
	put32(t, 112, FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON |
			      FADT_FIX_RTC | FADT_RESET_REG_SUP);
	gas(t, 116, GAS_IO, 8, ACC_BYTE, X86_ACPI_RESET_PORT); /* RESET_REG */
	put8(t, 128, 0x06); /* RESET_VALUE: hard reset, RST_CPU */
	put8(t, 131, 5);    /* FADT minor version: ACPI 6.5 */
	/* X_FIRMWARE_CTRL (132) stays 0: FIRMWARE_CTRL is used (5.2.9) */
	put64(t, 140, dsdt); /* X_DSDT */
	gas(t, 148, GAS_IO, 32, ACC_WORD, X86_ACPI_PM_BASE);     /* X_PM1a_EVT */
	gas(t, 172, GAS_IO, 16, ACC_WORD, X86_ACPI_PM_BASE + 4); /* X_PM1a_CNT */
	memcpy(t + 268, "MINIVMM\0", 8); /* hypervisor vendor identity */
	finish(t, FADT_LEN);
}

static void build_facs(uint8_t *t)
{
	memset(t, 0, FACS_LEN);
	memcpy(t, "FACS", 4);
	put32(t, 4, FACS_LEN);
	put8(t, 32, 2); /* version */
}

/* MADT entry types (5.2.12) */
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_LAPIC_NMI 4
#define MADT_PCAT_COMPAT 1u

static size_t build_madt(uint8_t *t, unsigned nr_cpus)
{
	size_t off = 44;

	header(t, "APIC", 0, 5);
	put32(t, 36, (uint32_t)X86_LAPIC_ADDR);
	put32(t, 40, MADT_PCAT_COMPAT); /* dual 8259s present */
	for (unsigned i = 0; i < nr_cpus; i++) {
		put8(t, off, MADT_LAPIC);
		put8(t, off + 1, 8);
		put8(t, off + 2, (uint8_t)i); /* ACPI processor UID */
		put8(t, off + 3, (uint8_t)i); /* APIC ID */
		put32(t, off + 4, 1);         /* Enabled */
		off += 8;
	}
	put8(t, off, MADT_IOAPIC);
	put8(t, off + 1, 12);
	put8(t, off + 2, (uint8_t)nr_cpus); /* IOAPIC ID, after the CPUs */
	put8(t, off + 3, 0);
	put32(t, off + 4, (uint32_t)X86_IOAPIC_ADDR);
	put32(t, off + 8, 0); /* GSI base */
	off += 12;
	/* ISA IRQ 0 (PIT) is wired to IOAPIC pin 2; flags 0: bus default */
	put8(t, off, MADT_ISO);
	put8(t, off + 1, 10);
	put8(t, off + 2, 0); /* bus: ISA */
	put8(t, off + 3, 0);
	put32(t, off + 4, 2);
	put16(t, off + 8, 0);
	off += 10;
	/* The SCI is level-triggered, active high (5.2.12.5; as on PIIX4) */
	put8(t, off, MADT_ISO);
	put8(t, off + 1, 10);
	put8(t, off + 2, 0);
	put8(t, off + 3, X86_IRQ_ACPI_SCI);
	put32(t, off + 4, X86_IRQ_ACPI_SCI);
	put16(t, off + 8, 0x0d); /* polarity 01 high, trigger 11 level */
	off += 10;
	/* LINT1 of every processor is NMI */
	put8(t, off, MADT_LAPIC_NMI);
	put8(t, off + 1, 6);
	put8(t, off + 2, 0xff); /* all processors */
	put16(t, off + 3, 0);   /* bus-conforming flags */
	put8(t, off + 5, 1);    /* LINT1 */
	off += 6;
	put32(t, 4, (uint32_t)off);
	finish(t, (uint32_t)off);
	return off;
}

/* ---- DSDT ---- */

static void dsdt_pci0(struct aml *a)
{
	aml_device(a, "PCI0");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A03");
	aml_name(a, "_ADR");
	aml_integer(a, 0);
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_BBN");
	aml_integer(a, 0);

	aml_name(a, "_CRS");
	aml_restemplate(a);
	aml_word_bus_number(a, 0, 0xff);
	aml_io(a, 0xcf8, 0xcf8, 1, 8); /* configuration mechanism #1 */
	aml_word_io(a, 0x0000, 0x0cf7);
	aml_word_io(a, 0x0d00, 0xffff);
	aml_dword_memory(a, (uint32_t)X86_PCI_MMIO_START,
			 (uint32_t)(X86_PCI_MMIO_END - 1), false);
	aml_close(a);

	/* _PRT (6.2.13): { address 0xSSSSFFFF, pin, source 0, GSI } */
	aml_name(a, "_PRT");
	aml_package(a, 32 * 4);
	for (unsigned slot = 0; slot < 32; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			aml_package(a, 4);
			aml_integer(a, ((uint64_t)slot << 16) | 0xffff);
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, acpi_pci_gsi(slot, pin));
			aml_close(a);
		}
	}
	aml_close(a);
	aml_close(a); /* PCI0 */
}

static void dsdt_legacy(struct aml *a)
{
	aml_device(a, "COM1");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");
	aml_name(a, "_UID");
	aml_integer(a, 1);
	aml_name(a, "_CRS");
	aml_restemplate(a);
	aml_io(a, 0x3f8, 0x3f8, 0x08, 8);
	aml_irq_noflags(a, X86_IRQ_COM1);
	aml_close(a);
	aml_close(a);

	/* The i8042 probes its ports through this PNP device. */
	aml_device(a, "KBD");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0303");
	aml_name(a, "_CRS");
	aml_restemplate(a);
	aml_io(a, 0x60, 0x60, 0x01, 1);
	aml_io(a, 0x64, 0x64, 0x01, 1);
	aml_irq_noflags(a, 1);
	aml_close(a);
	aml_close(a);

	aml_device(a, "RTC");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0B00");
	aml_name(a, "_CRS");
	aml_restemplate(a);
	aml_io(a, 0x70, 0x70, 0x01, 2);
	aml_irq_noflags(a, X86_IRQ_RTC);
	aml_close(a);
	aml_close(a);
}

int acpi_dsdt_body(void *buf, size_t cap, unsigned nr_cpus)
{
	struct aml a;
	int r;

	if (nr_cpus == 0 || nr_cpus > VM_MAX_CPUS)
		return -EINVAL;
	aml_init(&a, buf, cap);
	aml_scope(&a, "_SB"); /* at the root: same as \\_SB */
	dsdt_pci0(&a);
	/* Processor devices (8.4 "Declaring Processors"): _UID matches the
	 * MADT's ACPI processor UID. */
	for (unsigned i = 0; i < nr_cpus; i++) {
		static const char hex[] = "0123456789ABCDEF";
		char name[5] = { 'C', '0', hex[(i >> 4) & 15], hex[i & 15], 0 };

		aml_device(&a, name);
		aml_name(&a, "_HID");
		aml_string(&a, "ACPI0007");
		aml_name(&a, "_UID");
		aml_integer(&a, i);
		aml_close(&a);
	}
	dsdt_legacy(&a);
	aml_close(&a); /* \_SB */

	/* \_S5: { SLP_TYPa, SLP_TYPb, reserved, reserved } (7.4.2) */
	aml_name(&a, "_S5");
	aml_package(&a, 4);
	aml_integer(&a, ACPI_SLP_TYP_S5);
	aml_integer(&a, ACPI_SLP_TYP_S5);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_close(&a);

	r = aml_finish(&a);
	return r ? r : (int)a.len;
}

#define DSDT_MAX 16384
#define MADT_MAX (44 + 8 * VM_MAX_CPUS + 12 + 10 + 10 + 6)

int acpi_build(struct guest_mem *gm, const struct acpi_cfg *cfg,
	       uint64_t *rsdp_out)
{
	uint8_t *dsdt;
	uint8_t rsdp[RSDP_LEN], xsdt[HDR_LEN + 2 * 8], facs[FACS_LEN];
	uint8_t fadt[FADT_LEN], madt[MADT_MAX];
	struct placer pl = { gm, X86_ACPI_START + 64, ACPI_TABLES_END, 0 };
	uint64_t facs_at, dsdt_at, fadt_at, madt_at, xsdt_at;
	size_t madt_len;
	int body;

	if (!cfg || cfg->nr_cpus == 0 || cfg->nr_cpus > VM_MAX_CPUS)
		return -EINVAL;

	/* DSDT */
	dsdt = malloc(DSDT_MAX);
	if (!dsdt)
		return -ENOMEM;
	body = acpi_dsdt_body(dsdt + HDR_LEN, DSDT_MAX - HDR_LEN, cfg->nr_cpus);
	if (body < 0) {
		free(dsdt);
		return body;
	}
	/* revision 2: integers are 64 bits wide */
	header(dsdt, "DSDT", (uint32_t)(HDR_LEN + body), 2);
	finish(dsdt, (uint32_t)(HDR_LEN + body));
	dsdt_at = place(&pl, dsdt, HDR_LEN + (size_t)body, 16);
	free(dsdt);

	build_facs(facs);
	facs_at = place(&pl, facs, FACS_LEN, 64);

	build_fadt(fadt, facs_at, dsdt_at);
	fadt_at = place(&pl, fadt, FADT_LEN, 16);

	madt_len = build_madt(madt, cfg->nr_cpus);
	madt_at = place(&pl, madt, madt_len, 16);

	memset(xsdt, 0, sizeof(xsdt));
	header(xsdt, "XSDT", sizeof(xsdt), 1);
	put64(xsdt, HDR_LEN, fadt_at);
	put64(xsdt, HDR_LEN + 8, madt_at);
	finish(xsdt, sizeof(xsdt));
	xsdt_at = place(&pl, xsdt, sizeof(xsdt), 16);
	if (pl.err)
		return pl.err;

	/* RSDP, revision 2 (5.2.5.3) */
	memset(rsdp, 0, sizeof(rsdp));
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, OEM_ID, 6);
	put8(rsdp, 15, 2);
	put32(rsdp, 16, 0); /* no RSDT: the XSDT is used (ACPI 2.0+) */
	put32(rsdp, 20, RSDP_LEN);
	put64(rsdp, 24, xsdt_at);
	rsdp[8] = checksum(rsdp, 20);
	rsdp[32] = checksum(rsdp, RSDP_LEN);
	if (gm_write(gm, X86_ACPI_START, rsdp, RSDP_LEN))
		return -EFAULT;
	if (rsdp_out)
		*rsdp_out = X86_ACPI_START;
	return 0;
}
