/* SPDX-License-Identifier: MIT
 * arch.h - what the generic VM (vmm/kvm.c) asks of the architecture.
 *
 * kvm.c knows /dev/kvm, memory slots, GSI routing, irqfd/ioeventfd and the
 * stop/pause machinery, all of which every KVM architecture has. What the
 * machine around the CPU looks like (where RAM goes, which interrupt
 * controllers exist and how their pins are wired, extra ioctls a new VM
 * needs) is asked through the handful of functions below. There is one
 * implementation per architecture, picked at build time by vmm/meson.build:
 * vmm/x86/vm_x86.c and vmm/arm64/vm_arm64.c.
 *
 * kvm.c calls them in this order:
 *   vm_init_memory: arch_memory_layout          (no KVM yet)
 *   vm_create:      arch_vm_caps[] checked, KVM_CREATE_VM, guest RAM
 *                   registered, arch_vm_setup, arch_default_routes
 */
#ifndef MINIVMM_ARCH_H
#define MINIVMM_ARCH_H

#include <stdint.h>

struct vm;

/* A KVM capability the VMM relies on, with its name for the error message. */
struct vm_cap {
	int cap;          /* KVM_CAP_... */
	const char *name; /* "KVM_CAP_..." */
};
#define VM_CAP(c) { c, #c }

/* The architecture's required capabilities, ended by { 0, NULL }. Checked
 * after the generic ones; the first missing one is named in the error. */
extern const struct vm_cap arch_vm_caps[];

/* One piece of guest RAM: guest-physical start and size in bytes. */
struct arch_ram {
	uint64_t gpa, size;
};
#define ARCH_MAX_RAM 2

/* Split vm->mem_size bytes of guest RAM into at most ARCH_MAX_RAM pieces
 * (fills ram[], returns how many) and record the split in vm for the boot
 * code (x86: low_size and high_size around the 32-bit PCI hole). */
unsigned arch_memory_layout(struct vm *vm, struct arch_ram ram[ARCH_MAX_RAM]);

/* Right after KVM_CREATE_VM: what this architecture's VM needs before
 * routes and memory (x86: TSS and identity-map addresses, the in-kernel
 * PIC/IOAPIC and PIT). 0 or -errno with a one-line message printed. */
int arch_vm_setup(struct vm *vm);

/* Fill the fresh routing table with the interrupt controller's pins, using
 * vm_route_irqchip(), and return the first GSI left free: MSI routes are
 * allocated from there. kvm.c commits the table. */
unsigned arch_default_routes(struct vm *vm);

/* For arch_default_routes: GSI gsi drives pin `pin` of in-kernel irqchip
 * `chip` (KVM_IRQ_ROUTING_IRQCHIP). A GSI may drive several pins. */
void vm_route_irqchip(struct vm *vm, unsigned gsi, unsigned chip,
		      unsigned pin);

/* The irq field of KVM_IRQ_LINE for a GSI (vm_irq_line): x86 takes the GSI
 * itself, arm64 a type and INTID (an SPI). */
uint32_t arch_irq_line(unsigned gsi);

#endif
