/* SPDX-License-Identifier: MIT
 * fake_vm.h - what the fake KVM side recorded (see fake_vm.c). */
#ifndef MINIVMM_FAKE_VM_H
#define MINIVMM_FAKE_VM_H

#include "devices/pci.h"
#include "vmm/vm.h"
#include "vmm/x86/layout.h"

#define FAKE_MAX_GSI 256
#define FAKE_MAX_IOEVENTFD 64
#define FAKE_MAX_MEMSLOT_CALLS 256

/* One vm_set_memslot or vm_ram_hole call (hole: slot is ~0u). */
struct fake_memslot_call {
	unsigned slot;
	uint64_t gpa, size;
	void *host;
	bool readonly;
};

struct fake_vm_log {
	int irq_level[FAKE_MAX_GSI];
	unsigned irq_line_calls;
	unsigned next_gsi;
	uint64_t route_addr[FAKE_MAX_GSI];
	uint32_t route_data[FAKE_MAX_GSI];
	unsigned route_calls;
	uint64_t last_msi_addr;
	uint32_t last_msi_data;
	unsigned signal_msi_calls;
	uint32_t last_devid; /* requester ID of the last route or MSI */
	int irqfd[FAKE_MAX_GSI];
	unsigned irqfd_calls;
	uint64_t ioeventfd_addr[FAKE_MAX_IOEVENTFD];
	int ioeventfd_fd[FAKE_MAX_IOEVENTFD];
	unsigned nr_ioeventfd, ioeventfd_deassigned;
	unsigned stop_calls, reboot_calls;
	int stop_status;
	struct fake_memslot_call memslot[FAKE_MAX_MEMSLOT_CALLS];
	unsigned nr_memslot_calls;
	int memslot_error; /* vm_set_memslot's answer while nonzero */
};

extern struct fake_vm_log fake;
void fake_vm_reset(void);
/* A machine for device tests: vm zeroed, the log reset, empty port and
 * MMIO buses. 0 or -errno. fake_vm_destroy frees the buses. */
int fake_vm_init(struct vm *vm);
void fake_vm_destroy(struct vm *vm);

/* The PC's PCI root bus with configuration mechanism #1 at 0xCF8/0xCFC, as
 * vmm/x86/machine_x86.c builds it (arch_pci_init). */
static inline int fake_pci_bus_init(struct pci_bus *bus, struct vm *vm)
{
	static const struct pci_host host = X86_PCI_HOST;
	int ret = pci_bus_init(bus, vm, &host);

	return ret ? ret : pci_cf8_attach(bus);
}

#endif
