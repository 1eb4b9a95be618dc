/* SPDX-License-Identifier: MIT
 * acpi.h - the ACPI tables of the x86 machine (ACPI 6.5): RSDP, XSDT, FADT,
 * FACS, MADT and a DSDT generated as AML (aml.h), written into the BIOS
 * area [X86_ACPI_START, ACPI_TABLES_END).
 *
 * The machine is a "full" (not hardware-reduced) ACPI PC: PM1a event and
 * control blocks at X86_ACPI_PM_BASE (devices/x86/acpi_pm.c), SCI on IRQ 9,
 * reset register at port 0xcf9, fixed-feature power button, S5 soft-off.
 */
#ifndef MINIVMM_X86_ACPI_H
#define MINIVMM_X86_ACPI_H

#include <stdint.h>

#include "devices/pci.h"
#include "vmm/guest_mem.h"
#include "vmm/x86/layout.h"

/* The ACPI tables use [X86_ACPI_START, ACPI_TABLES_END); the rest of the
 * BIOS area, from ACPI_TABLES_END to 1 MiB, is left to the MP configuration
 * table when it does not fit in the EBDA (mptable.h). */
#define ACPI_TABLES_END 0xf0000ULL

/* SLP_TYP written to PM1_CNT for S5 (the DSDT's \_S5 package holds it). */
#define ACPI_SLP_TYP_S5 5

struct acpi_cfg {
	unsigned nr_cpus; /* 1..VM_MAX_CPUS; APIC ID and ACPI UID = index */
};

/* Build every table into guest RAM and return the RSDP's address (for
 * boot_params.acpi_rsdp_addr). The range must be guest RAM (reserved in
 * the e820 map). 0, -EINVAL (bad cfg), -ENOSPC (tables too large), -ENOMEM or
 * -EFAULT (range not in guest RAM). */
int acpi_build(struct guest_mem *gm, const struct acpi_cfg *cfg,
	       uint64_t *rsdp_out);

/* Exposed for tests: the DSDT's AML body (without the 36-byte header) for
 * nr_cpus CPUs into buf. Returns its length or -errno. */
int acpi_dsdt_body(void *buf, size_t cap, unsigned nr_cpus);

/* The GSI of PCI interrupt pin (0 = INTA#) of device slot on bus 0: the
 * wiring the PCI host bridge uses for INTA# (X86_PCI_SLOT_GSI in
 * vmm/x86/layout.h, the bus's X86_PCI_HOST: 16 + slot % 8), rotated per pin as on PC boards (our
 * devices only use INTA#). */
static inline unsigned acpi_pci_gsi(unsigned slot, unsigned pin)
{
	return X86_PCI_SLOT_GSI(slot + pin);
}

#endif
