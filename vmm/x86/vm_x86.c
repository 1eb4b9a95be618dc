/* SPDX-License-Identifier: MIT
 * vm_x86.c - the x86 part of creating a VM (the hooks of vmm/arch.h):
 * guest RAM around the 32-bit PCI hole, the TSS and identity-map pages KVM
 * needs on Intel, the in-kernel 8259 PICs, IOAPIC and 8254 PIT, and the PC's
 * interrupt wiring.
 *
 * The KVM API: Documentation/virt/kvm/api.rst in the Linux tree.
 */
#include "vmm/arch.h"
#include "vmm/log.h"
#include "vmm/vm.h"
#include "cpuid.h"
#include "x86.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/* Where KVM keeps the TSS and identity map it needs for real mode on VMX:
 * three pages and one page just below the BIOS at the top of 4 GiB, inside
 * the PCI hole where no RAM or device lives. */
#define KVM_TSS_ADDR 0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL

const struct vm_cap arch_vm_caps[] = {
	VM_CAP(KVM_CAP_IRQCHIP),
	VM_CAP(KVM_CAP_PIT2),
	VM_CAP(KVM_CAP_SET_TSS_ADDR),
	VM_CAP(KVM_CAP_SET_IDENTITY_MAP_ADDR),
	VM_CAP(KVM_CAP_EXT_CPUID),
	{ 0, NULL },
};

/* x86 delivers MSIs by address and data alone. */
const bool arch_msi_devid = false;

int arch_vm_init(struct vm *vm)
{
	vm->arch = calloc(1, sizeof(*vm->arch));
	return vm->arch ? 0 : -ENOMEM;
}

void arch_vm_destroy(struct vm *vm)
{
	if (vm->arch)
		free(vm->arch->supported);
	free(vm->arch);
}

/* Guest RAM: up to 3 GiB from 0; the rest above 4 GiB, leaving the 32-bit
 * PCI hole [3 GiB, 4 GiB) for MMIO (x86_ram_split). */
unsigned arch_memory_layout(struct vm *vm, struct arch_ram ram[ARCH_MAX_RAM])
{
	uint64_t low, high;

	x86_ram_split(vm->mem_size, &low, &high);
	ram[0] = (struct arch_ram){ 0, low };
	ram[1] = (struct arch_ram){ X86_HIGH_RAM_START, high };
	return high ? 2 : 1;
}

int arch_vm_setup(struct vm *vm)
{
	/* PIT channel 2's speaker port (0x61) handled in the kernel too. */
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR,
		  &(uint64_t){ KVM_IDENTITY_MAP_ADDR }) < 0) {
		pr_err("KVM_SET_TSS_ADDR: %s", strerror(errno));
		return -errno;
	}
	/* Two 8259 PICs and an IOAPIC, plus a LAPIC per vCPU. */
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		pr_err("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		pr_err("KVM_CREATE_PIT2: %s", strerror(errno));
		return -errno;
	}
	/* what every vCPU's CPUID starts from (arch_vcpu_init) */
	vm->arch->supported = x86_supported_cpuid(vm->kvm_fd);
	return vm->arch->supported ? 0 : -EIO;
}

/* The PC wiring: ISA IRQs 0-15 reach both PICs and the IOAPIC, IRQ 0 (the
 * PIT) on IOAPIC pin 2 as the MADT's interrupt source override and the MP
 * table say; GSI 2 (the cascade) has no route. IOAPIC pins 16-23 are PCI
 * INTx. MSI GSIs follow. */
unsigned arch_default_routes(struct vm *vm)
{
	for (unsigned gsi = 0; gsi < 16; gsi++) {
		if (gsi == 2)
			continue;
		vm_route_irqchip(vm, gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
						  : KVM_IRQCHIP_PIC_SLAVE,
				 gsi % 8);
		vm_route_irqchip(vm, gsi, KVM_IRQCHIP_IOAPIC, gsi ? gsi : 2);
	}
	for (unsigned gsi = 16; gsi < X86_IOAPIC_PINS; gsi++)
		vm_route_irqchip(vm, gsi, KVM_IRQCHIP_IOAPIC, gsi);
	return X86_IOAPIC_PINS;
}

/* KVM_IRQ_LINE on x86 takes the GSI as it is. */
uint32_t arch_irq_line(unsigned gsi)
{
	return gsi;
}
