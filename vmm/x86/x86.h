/* SPDX-License-Identifier: MIT
 * x86.h - the x86 machine's own state (struct arch_vm of vmm/arch.h), shared
 * by vm_x86.c, vcpu_x86.c and machine_x86.c, and the RAM split around the
 * 32-bit PCI hole that the VM and the boot code both need.
 */
#ifndef MINIVMM_X86_X86_H
#define MINIVMM_X86_X86_H

#include <stdint.h>

#include "boot/x86/boot.h"
#include "layout.h"

struct acpi_pm;
struct kvm_cpuid2;
struct rtc;

struct arch_vm {
	/* KVM_GET_SUPPORTED_CPUID, asked once per VM by arch_vm_setup (it
	 * costs 0.4 ms each time on a PVM /dev/kvm); each vCPU sets a copy
	 * adjusted for its APIC ID */
	struct kvm_cpuid2 *supported;
	struct x86_boot_entry entry; /* the boot vCPU's, from arch_load_guest */
	struct acpi_pm *pm;          /* the power button, once created */
	struct rtc *rtc;             /* its CMOS holds the memory sizes for a
				      * firmware (arch_add_firmware_devices) */
};

/* Guest RAM: up to 3 GiB from 0 (low), the rest from 4 GiB up (high),
 * leaving the 32-bit PCI hole [3 GiB, 4 GiB) for MMIO. */
static inline void x86_ram_split(uint64_t mem_size, uint64_t *low,
				 uint64_t *high)
{
	*low = mem_size < X86_PCI_HOLE_START ? mem_size : X86_PCI_HOLE_START;
	*high = mem_size - *low;
}

#endif
