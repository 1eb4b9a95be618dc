/* SPDX-License-Identifier: MIT
 * arch.h - what the generic VMM (vmm/kvm.c, vmm/vcpu.c, vmm/machine.c) asks
 * of the architecture.
 *
 * kvm.c knows /dev/kvm, memory slots, GSI routing, irqfd/ioeventfd and the
 * stop/pause machinery; vcpu.c the KVM_RUN loop and its exits; machine.c
 * the order in which a machine is built, the devices every machine has
 * (PCI, virtio, pvpanic) and the console. All of that is the same on every
 * KVM architecture. What the machine around the CPU looks like (where RAM
 * goes, the interrupt controllers and their wiring, the platform devices,
 * how a kernel is loaded and entered, the vCPU registers) is asked through
 * the functions below. There is one implementation per architecture, picked
 * at build time by meson (host_machine.cpu_family()): vmm/x86/ (vm_x86.c,
 * vcpu_x86.c, machine_x86.c) or vmm/arm64/ with the same functions.
 *
 * The order of the calls, one boot of the guest (vmm/machine.c run_once):
 *
 *   vm_init_memory   arch_vm_init, arch_memory_layout            (no KVM yet)
 *   arch_load_guest  kernel, initrd, firmware tables / device tree
 *   arch_check_image can this KVM run that kernel? (x86: PVM cannot)
 *   vm_create        arch_vm_caps[] checked, KVM_CREATE_VM, guest RAM
 *                    registered, arch_vm_setup, arch_default_routes
 *   devices          arch_add_platform_devices, then arch_pci_init and
 *                    the PCI devices, then arch_add_firmware_devices
 *                    (--firmware)
 *   vCPUs            vcpu_create -> arch_vcpu_init for each, then
 *                    arch_vm_finish, arch_boot_vcpu on vCPU 0, threads
 *   while running    arch_irq_line (every vm_irq_line),
 *                    arch_msi_devid (MSI routes), arch_power_button
 *                    (SIGTERM, the control socket), arch_vcpu_dump_regs
 *                    (a fatal exit), arch_vcpu_regs_json ("regs")
 *   vm_destroy       arch_vm_destroy
 */
#ifndef MINIVMM_ARCH_H
#define MINIVMM_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct vcpu;
struct uart;
struct pci_bus;
struct device_list;
struct machine_cfg;

/* ---- the VM (vmm/kvm.c) ---- */

/* A KVM capability the VMM relies on, with its name for the error message. */
struct vm_cap {
	int cap;          /* KVM_CAP_... */
	const char *name; /* "KVM_CAP_..." */
};
#define VM_CAP(c) { c, #c }

/* The architecture's required capabilities, ended by { 0, NULL }. Checked
 * after the generic ones; the first missing one is named in the error. */
extern const struct vm_cap arch_vm_caps[];

/* First, before anything else of the VM: allocate vm->arch, the
 * architecture's own state for this boot (struct arch_vm, defined by each
 * architecture: x86 keeps the supported CPUID table and the boot entry;
 * arm64 its GIC). 0 or -ENOMEM. */
int arch_vm_init(struct vm *vm);
/* Last, from vm_destroy: release vm->arch (may be NULL). */
void arch_vm_destroy(struct vm *vm);

/* One piece of guest RAM: guest-physical start and size in bytes. */
struct arch_ram {
	uint64_t gpa, size;
};
#define ARCH_MAX_RAM 2

/* Split vm->mem_size bytes of guest RAM into at most ARCH_MAX_RAM pieces
 * (fills ram[], returns how many): x86 around the 32-bit PCI hole. */
unsigned arch_memory_layout(struct vm *vm, struct arch_ram ram[ARCH_MAX_RAM]);

/* Right after KVM_CREATE_VM and guest RAM: what this architecture's VM
 * needs before routes (x86: TSS and identity-map addresses, the in-kernel
 * PIC/IOAPIC and PIT; arm64: the GIC). 0 or -errno with a one-line message
 * printed. */
int arch_vm_setup(struct vm *vm);

/* Fill the fresh routing table with the interrupt controller's pins, using
 * vm_route_irqchip(), and return the first GSI left free: MSI routes are
 * allocated from there. kvm.c commits the table. */
unsigned arch_default_routes(struct vm *vm);

/* For arch_default_routes: GSI gsi drives pin `pin` of in-kernel irqchip
 * `chip` (KVM_IRQ_ROUTING_IRQCHIP). A GSI may drive several pins. */
void vm_route_irqchip(struct vm *vm, unsigned gsi, unsigned chip,
		      unsigned pin);

/* The `irq` field of KVM_IRQ_LINE for vm_irq_line(gsi) (x86: the GSI
 * itself; arm64: the SPI with its type bits). */
uint32_t arch_irq_line(unsigned gsi);

/* True when MSI routes and KVM_SIGNAL_MSI must carry the device's PCI
 * requester ID (KVM_MSI_VALID_DEVID: arm64's ITS tells devices apart by
 * it); x86 leaves it out. */
extern const bool arch_msi_devid;

/* ---- the vCPUs (vmm/vcpu.c) ---- */

/* Right after KVM_CREATE_VCPU and the kvm_run mapping of c (c->id, c->fd,
 * c->vm set): x86 sets CPUID, MSRs, LAPIC LINT0/1 and FPU; arm64 does
 * KVM_ARM_VCPU_INIT. 0 or -errno with a one-line message printed. */
int arch_vcpu_init(struct vcpu *c);
/* Print c's registers to stderr (triple fault, failed entry, emulation
 * failure), a few lines each prefixed as the rest of minivmm's output. */
void arch_vcpu_dump_regs(struct vcpu *c);
/* c's main registers as one JSON object into buf (the control socket's
 * "regs"; c is out of KVM_RUN). Length written, or -1. */
int arch_vcpu_regs_json(struct vcpu *c, char *buf, size_t len);

/* ---- the machine (vmm/machine.c) ---- */

/* Load the kernel (or --firmware image), the initrd and what describes the
 * machine to the guest (x86: ACPI and MP tables, boot_params; arm64: the
 * device tree) into guest RAM, and keep the boot vCPU's entry state in
 * vm->arch. No KVM yet: every error in the user's files shows up here.
 * 0 or -errno with a one-line message printed. */
int arch_load_guest(struct vm *vm, const struct machine_cfg *cfg);

/* Before /dev/kvm is opened: refuse a kernel this KVM cannot run (x86: a
 * Linux kernel on PVM, whose instruction emulator stops at int3, xrstor,
 * clac...). 0 or -errno with a one-line message printed. */
int arch_check_image(const struct machine_cfg *cfg);

/* What the machine gives the platform devices and gets back from them. */
struct arch_platform {
	struct device_list *devices; /* in: each device goes there
				      * (device_list_add) */
	void (*console_tx)(void *opaque, uint8_t byte); /* in: the console */
	void *console_opaque;        /* UART's transmitted bytes */
	struct uart *console;        /* out: the console UART */
};
/* The devices of the platform, before PCI: x86 COM1, i8042, RTC, ACPI PM
 * and the absent legacy ports; arm64 the UART on MMIO. 0 or -errno with a
 * one-line message printed. */
int arch_add_platform_devices(struct vm *vm, struct arch_platform *p);

/* The PCI root bus: pci_bus_init with the architecture's BAR windows and
 * INTx wiring (struct pci_host, devices/pci.h), then its configuration
 * mechanism (x86: ports 0xCF8/0xCFC; arm64: ECAM). 0 or -errno with a
 * one-line message printed. */
int arch_pci_init(struct pci_bus *bus, struct vm *vm);

/* --firmware, after the PCI devices: what the firmware reads about the
 * machine (x86: the debug console, the CMOS memory sizes, fw_cfg with the
 * memory map, CPUs, ACPI tables and bootorder, the boot devices' firmware
 * paths one a line). p->devices as for arch_add_platform_devices. 0 or
 * -errno with a one-line message printed. */
int arch_add_firmware_devices(struct vm *vm, struct arch_platform *p,
			      const struct machine_cfg *cfg,
			      const char *bootorder);

/* The bootable devices' kinds, for arch_boot_path. */
enum arch_boot_dev { ARCH_BOOT_IDE, ARCH_BOOT_VIRTIO_BLK };
/* The firmware's name of a bootable device (x86: the OpenFirmware path
 * SeaBIOS matches its bootorder file against), into buf: unit `unit` of
 * channel `channel` of the IDE controller in PCI slot `slot`, or the
 * virtio-blk disk in slot `slot` (channel and unit 0). Empty where the
 * architecture boots no firmware. */
void arch_boot_path(enum arch_boot_dev kind, unsigned slot, unsigned channel,
		    unsigned unit, char *buf, size_t size);

/* Every vCPU exists (arch_vcpu_init done), none runs yet: finish the VM
 * (arm64: the GIC's KVM_DEV_ARM_VGIC_CTRL_INIT; x86: nothing). 0 or -errno
 * with a one-line message printed. */
int arch_vm_finish(struct vm *vm);

/* Put the boot vCPU (vCPU 0) in the kernel's entry state that
 * arch_load_guest kept (x86: long mode at the 64-bit entry, or PVH, or
 * real mode for --firmware; arm64: PC at the Image, X0 the device tree).
 * The other vCPUs wait for the guest to start them. 0 or -errno with a
 * one-line message printed. */
int arch_boot_vcpu(struct vcpu *c);

/* Press the power button (SIGTERM, the control socket's "shutdown"): x86
 * the ACPI fixed power button. False when the machine has none. Any
 * thread, while the devices exist. */
bool arch_power_button(struct vm *vm);

#endif
