/* SPDX-License-Identifier: MIT
 * mptable.h - the Intel MultiProcessor Specification 1.4 tables (chapter 4
 * "MP Configuration Table"): the floating pointer structure in the first
 * kilobyte of the EBDA, and the configuration table with one processor
 * entry per vCPU, the ISA and PCI buses, the IOAPIC, the interrupt
 * assignments and the local interrupts (LINT0 ExtINT, LINT1 NMI).
 *
 * Linux uses these only without ACPI (acpi=off, or a kernel built without
 * ACPI); with ACPI the MADT (acpi.c) says the same thing.
 */
#ifndef MINIVMM_X86_MPTABLE_H
#define MINIVMM_X86_MPTABLE_H

#include "vmm/guest_mem.h"

/* The configuration table follows the floating pointer in the EBDA when
 * it fits in the EBDA's first kilobyte (up to 27 vCPUs); otherwise it
 * goes here, in the BIOS area above the ACPI tables (acpi.h). */
#define MPTABLE_CFG_HIGH 0xf0000ULL
#define MPTABLE_CFG_HIGH_END 0xf1000ULL

/* Write the tables for nr_cpus vCPUs (APIC ID = index, BSP = 0).
 * 0, -EINVAL (nr_cpus 0 or > VM_MAX_CPUS) or -EFAULT (not guest RAM). */
int mptable_build(struct guest_mem *gm, unsigned nr_cpus);

#endif
