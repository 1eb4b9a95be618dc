/* SPDX-License-Identifier: MIT
 * vm.h - one KVM virtual machine: the /dev/kvm and VM file descriptors,
 * guest RAM, the PIO and MMIO buses, interrupt routing, the vCPUs and the
 * I/O thread. Devices see the VM only through the functions declared here.
 */
#ifndef MINIVMM_VM_H
#define MINIVMM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "guest_mem.h"
#include "stats.h"

struct evloop;
struct pci_bus;
struct vcpu;
struct kvm_irq_routing;
struct arch_vm;

/* Exit statuses of `minivmm run` (documented in --help and the README). */
enum vm_exit_status {
	VM_EXIT_OK = 0,            /* guest powered off or rebooted */
	VM_EXIT_ERROR = 1,         /* run-time error in the VMM or its input */
	VM_EXIT_USAGE = 2,         /* bad command line */
	VM_EXIT_TRIPLE_FAULT = 3,  /* guest triple fault (KVM_EXIT_SHUTDOWN) */
	VM_EXIT_GUEST_PANIC = 4,   /* guest kernel panic (pvpanic) */
	VM_EXIT_KVM_FAILURE = 5,   /* KVM could not run the guest */
	VM_EXIT_SIGNAL = 6,        /* stopped by a signal without clean shutdown */
};

/* What a guest reboot does. */
enum vm_reboot_policy { VM_REBOOT_EXIT, VM_REBOOT_RESTART };

#define VM_MAX_CPUS 64

struct vm {
	int kvm_fd, vm_fd;
	int vcpu_mmap_size;
	unsigned nr_cpus;
	struct vcpu *vcpus; /* nr_cpus of them */

	struct guest_mem mem;
	uint64_t mem_size;  /* total guest RAM */
	/* KVM memory slots in use: 0 .. nr_memslots-1 (guest RAM's first,
	 * then vm_memslot_alloc's) */
	unsigned nr_memslots;
	/* the architecture's own state (vmm/arch.h arch_vm_init): defined in
	 * vmm/x86/x86.h, vmm/arm64/arm64.h */
	struct arch_vm *arch;

	struct bus pio, mmio;
	struct evloop *io; /* the VM's main I/O thread */
	struct pci_bus *pci;

	/* GSI routing: the irqchip pins (arch_default_routes) plus one MSI
	 * entry per vector, GSIs first_msi_gsi .. next_gsi-1 */
	pthread_mutex_t irq_lock;
	struct kvm_irq_routing *routes;
	unsigned first_msi_gsi, next_gsi;

	/* lifecycle: set once by vm_request_stop, read by everyone */
	int stop_requested;
	int exit_status;
	int reboot_requested;
	enum vm_reboot_policy on_reboot;
	int stop_efd; /* written when a stop is requested: wakes the main loop */
	/* kicks in progress, and the gate vm_close_kicks shuts (atomics) */
	int kicks_active, kicks_closed;

	/* pause/resume: vCPUs park on pause_cond while paused is set */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	int paused;
	unsigned parked;

	struct vm_stats stats;
	/* --trace: every exit goes through the traced dispatch (vmm/vcpu.c,
	 * vmm/trace.h). Off: one untaken branch per exit. Set before the
	 * vCPUs start. */
	bool watch_exits;
	/* --ioeventfd=off: virtio doorbells are MMIO exits the VMM handles;
	 * --irqfd=off: MSI-X messages are injected with KVM_SIGNAL_MSI by the
	 * device's thread. Zeroed (the default): both on. Set before the
	 * devices are created. */
	bool no_ioeventfd, no_irqfd;
};

/* ---- interrupts ---- */
/* Drive an irqchip input (x86: ISA IRQ 0-15 / IOAPIC pin 0-23; arm64: SPI
 * n), through KVM_IRQ_LINE with the number arch_irq_line gives. */
int vm_irq_line(struct vm *vm, unsigned gsi, int level);
/* Allocate a GSI for an MSI route. Returns the GSI or -ENOSPC. */
int vm_msi_alloc(struct vm *vm);
/* Point gsi at an MSI (address, data) sent by the PCI function whose
 * requester ID (bus << 8 | devfn) is devid, and commit the routing table.
 * devid reaches KVM only where the architecture needs it (arch_msi_devid:
 * arm64's ITS). 0 or -errno. */
int vm_msi_route(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data,
		 uint32_t devid);
/* Inject one MSI directly (KVM_SIGNAL_MSI), devid as for vm_msi_route.
 * 0 or -errno. */
int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data, uint32_t devid);
/* Assign (or deassign) an eventfd that raises gsi when written. resamplefd
 * is -1 for edge (MSI) interrupts. */
int vm_irqfd(struct vm *vm, int efd, unsigned gsi, int resamplefd,
	     bool assign);

/* ---- notifications ---- */
/* An eventfd that KVM signals when the guest writes (any value) to
 * [addr, addr+len) on the PIO or MMIO bus, without a VM exit to user space.
 * 0 or -errno. */
int vm_ioeventfd(struct vm *vm, int efd, uint64_t addr, unsigned len,
		 bool pio, bool assign);

/* ---- memory slots ---- */
/* A KVM memory slot number of its own for a device that maps memory into
 * the guest itself (a ROM, a chipset's shadow RAM window), or -ENOSPC. */
int vm_memslot_alloc(struct vm *vm);
/* Point slot at [gpa, gpa+size) of the guest, backed by host memory at
 * host (page-aligned, size a multiple of the page size); readonly: guest
 * writes there become MMIO exits (KVM_MEM_READONLY) that the MMIO bus
 * handles. size 0 empties the slot. A slot that holds a mapping must be
 * emptied before it gets another (KVM changes no address or flag of a live
 * slot). Not while vCPUs may be running on it, except from a vCPU thread
 * (KVM waits for the others). 0 or -errno. */
int vm_set_memslot(struct vm *vm, unsigned slot, uint64_t gpa, uint64_t size,
		   void *host, bool readonly);
/* Take [gpa, gpa+size) (page-aligned, inside one region of guest RAM) out
 * of guest RAM's memory slots, so that the caller maps that window its own
 * way (vm_set_memslot): the region's slot is split around it. The RAM
 * stays guest memory for gm_ptr() and device DMA. Before the vCPUs run.
 * 0 or -errno. */
int vm_ram_hole(struct vm *vm, uint64_t gpa, uint64_t size);

/* ---- lifecycle ---- */
/* Ask the VM to stop with this exit status (first caller wins): every vCPU
 * is kicked out of KVM_RUN and the main thread tears the VM down. Safe from
 * any thread and from a signal handler. */
void vm_request_stop(struct vm *vm, int status);
/* A guest reset: stop with 0, or restart under --on-reboot=restart. Like
 * any stop it loses to an earlier one (a signal, a crash): no restart then. */
void vm_request_reboot(struct vm *vm);
bool vm_stopping(const struct vm *vm);
/* Stop every vCPU outside KVM_RUN (devices keep running) and return once
 * all are parked (true; false if one did not within 1 s); vm_resume lets
 * them go on. Not from a vCPU thread. */
bool vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);
/* Teardown, once the stop is requested: wait for kicks in progress and
 * refuse new ones, so the vCPUs can be joined and their kvm_run unmapped
 * while another thread still calls vm_request_stop or vm_pause. */
void vm_close_kicks(struct vm *vm);

/* ---- creation (vmm/kvm.c, with the vmm/arch.h hooks) ---- */
/* Zero vm, set up the buses and allocate guest RAM (laid out by
 * arch_memory_layout; on x86 a 32-bit PCI hole for guests over 3 GiB;
 * each piece from gm_map_ram: transparent huge pages, or hugetlbfs pages
 * when hugetlb). No KVM yet: the kernel, initrd and firmware tables can be loaded
 * and checked before /dev/kvm is opened. 0 or -errno with a one-line
 * message printed. */
int vm_init_memory(struct vm *vm, uint64_t mem_size, bool hugetlb,
		   unsigned nr_cpus);
/* Open /dev/kvm, check the API version and every capability minivmm relies
 * on, create the VM, register guest RAM, add what arch_vm_setup adds (x86:
 * in-kernel irqchip and PIT) and set up GSI routing. 0 or -errno with a
 * one-line message printed. */
int vm_create(struct vm *vm);
/* Release what vm_create made (vCPUs and devices are torn down first). */
void vm_destroy(struct vm *vm);
/* True when this /dev/kvm is PVM (software KVM that cannot run Linux). */
bool kvm_is_pvm(void);

#endif
