/* SPDX-License-Identifier: MIT
 * pci.h - PCI host bridge (on x86 configuration mechanism #1 at
 * 0xCF8/0xCFC; other architectures reach pci_cfg_read/pci_cfg_write their
 * own way, ECAM on arm64), the root bus, type-0 configuration space with read-only / write-1-to-clear
 * semantics, BAR sizing and assignment, capability lists, legacy INTx and
 * MSI-X (PCI Local Bus 3.0, ch. 6; PCI 3.0 6.8.2 for MSI-X).
 *
 * Devices fill a struct pci_dev (IDs, BARs, capabilities) and call
 * pci_bus_add(). The bus assigns BAR addresses in the host's windows (the
 * firmware's job on real hardware: Linux keeps what it finds) and maps
 * each BAR's handler on the PIO or MMIO bus while decoding is enabled in
 * the command register; when the guest moves a BAR, the device's bar_moved
 * hook runs so it can move ioeventfds with it.
 */
#ifndef MINIVMM_PCI_H
#define MINIVMM_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/log.h"

struct vm;
struct pci_dev;

#define PCI_CFG_SIZE 256
#define PCI_MAX_SLOTS 32
#define PCI_NUM_BARS 6

/* What the architecture's PCI host bridge looks like to the bus (vmm/arch.h
 * arch_pci_init; x86: X86_PCI_HOST in vmm/x86/layout.h). */
struct pci_host {
	uint64_t mmio_start, mmio_end; /* 32-bit memory BARs: [start, end) */
	uint64_t io_start, io_end;     /* I/O BARs: [start, end) */
	/* 0: I/O BARs are ports on vm->pio (x86). Else the CPU reaches PCI
	 * I/O port p as MMIO at io_mmio_base + p (arm64's I/O window): an
	 * I/O BAR is mapped there on vm->mmio. */
	uint64_t io_mmio_base;
	/* INTx wiring (the one place that defines it; the firmware tables or
	 * device tree must describe exactly this): INTA# of the device in
	 * slot s, bus 0, is GSI intx_first + s % intx_count (x86: IOAPIC pins
	 * 16..23), level-triggered. Describe them active-low, the PCI
	 * convention (KVM's in-kernel IOAPIC ignores the programmed polarity;
	 * vm_irq_line(gsi, 1) means asserted). Only INTA# is used (interrupt
	 * pin register = 1); the interrupt line register holds the same
	 * number. */
	unsigned intx_first, intx_count;
	/* the ISA IRQs of an IDE controller's channels in compatibility mode
	 * (x86: 14, 15); 0: the platform has none (no PIIX IDE) */
	unsigned legacy_ide_irq[2];
};

/* The GSI of INTA# of slot s, bus 0 (see struct pci_host). */
static inline unsigned pci_slot_intx_gsi(const struct pci_host *h, unsigned s)
{
	return h->intx_first + s % h->intx_count;
}

enum pci_bar_type {
	PCI_BAR_NONE = 0,
	PCI_BAR_IO,    /* I/O space, size >= 4 */
	PCI_BAR_MEM32, /* 32-bit memory, size >= 16 (4096 recommended) */
	PCI_BAR_MEM64, /* 64-bit memory; uses two BAR slots */
};

struct pci_bar {
	enum pci_bar_type type;
	bool prefetch;
	uint64_t size; /* power of two */
	uint64_t addr; /* current guest address */
	bool mapped;   /* registered on the bus right now */
	bus_io_fn fn;
	bus_reg_fn reg;  /* register names for --trace: see pci_dev_set_bar */
	void *opaque;
	bool warned;   /* an unusable guest address was reported once */
};

struct msix_vector {
	uint64_t addr;
	uint32_t data;
	uint32_t ctrl; /* bit 0: masked */
	int gsi;       /* KVM GSI routed to this vector, -1 if none */
	int efd;       /* irqfd eventfd for gsi, -1 if none */
	bool routed;   /* gsi currently routed to routed_addr/routed_data */
	uint64_t routed_addr;
	uint32_t routed_data;
};

struct pci_msix {
	unsigned nvec;
	int bar;              /* BAR holding table and PBA */
	uint32_t table_off;   /* offset of the table in that BAR */
	uint32_t pba_off;     /* offset of the PBA in that BAR */
	uint8_t cap;          /* capability offset in config space */
	bool enabled, masked; /* Message Control: MSI-X Enable, Function Mask */
	struct msix_vector *v;
	uint64_t *pba;        /* pending bits, nvec bits */
	pthread_mutex_t lock;
};

struct pci_dev {
	const char *name;
	uint8_t cfg[PCI_CFG_SIZE];     /* current contents */
	uint8_t wmask[PCI_CFG_SIZE];   /* bits the guest may write */
	uint8_t w1cmask[PCI_CFG_SIZE]; /* write-1-to-clear bits */
	struct pci_bar bars[PCI_NUM_BARS];
	uint8_t next_cap_off;          /* where the next capability goes */
	unsigned slot;                 /* device number on bus 0 */
	unsigned intx_gsi;             /* GSI of INTA# (x86: IOAPIC pin) */
	bool intx_level;
	bool intx_driven;              /* level last sent to the irqchip */
	bool intx_disabled;            /* copy of command bit 10 */
	bool bus_master;               /* copy of command bit 2 (atomic):
					* see pci_bus_master() */
	pthread_mutex_t intx_lock;     /* INTx state; not the bus lock, so
					* pci_intx_set never waits for a
					* config cycle (or its hooks) */
	struct pci_msix msix;          /* nvec 0 if the device has none */
	struct pci_bus *bus;
	void *opaque;                  /* the device model's state */
	struct log_budget warn;        /* guest-caused warnings (MSI-X) */

	/* Optional hooks, called on the vCPU thread (bar_moved also from
	 * pci_bus_add) with the bus lock held; the lock is recursive, so a
	 * hook may call pci_cfg_read/pci_cfg_write on its own device. */
	/* After a config write has been applied (offset, length, value). */
	void (*cfg_written)(struct pci_dev *d, unsigned off, unsigned len);
	/* After BAR n moved or was (un)mapped: new address and state. */
	void (*bar_moved)(struct pci_dev *d, int bar, uint64_t old_addr,
			  uint64_t new_addr, bool mapped);
	/* Optional: after the driver wrote MSI-X Enable or Function Mask
	 * (bus lock held) or an MSI-X table entry (not held), i.e. whenever
	 * pci_msix_vector_irqfd() may have changed. msix.lock is not held.
	 * virtio_pci.c calls it too when a queue's vector or Bus Master
	 * Enable changes (bus lock held). */
	void (*msix_changed)(struct pci_dev *d);
};

struct pci_bus {
	struct vm *vm;
	struct pci_host host; /* windows and wiring, from pci_bus_init */
	struct pci_dev *slots[PCI_MAX_SLOTS];
	struct pci_dev host_bridge;
	uint32_t cf8; /* CONFIG_ADDRESS latch */
	bool cf8_attached; /* pci_cf8_attach claimed the ports */
	uint64_t next_mmio, next_io; /* BAR assignment cursors */
	pthread_mutex_t lock; /* config space accesses */
};

/* ---- building a device ---- */
/* Zero d and fill the header: vendor, device, class (base<<16|sub<<8|prog),
 * revision, subsystem IDs; sets the write masks of a type-0 header. */
void pci_dev_init(struct pci_dev *d, const char *name, uint16_t vendor,
		  uint16_t device, uint32_t class_code, uint8_t revision,
		  uint16_t subsys_vendor, uint16_t subsys_id);
/* Declare BAR n. For PCI_BAR_MEM64, n and n+1 are used. 0 or -EINVAL. */
int pci_dev_set_bar(struct pci_dev *d, int n, enum pci_bar_type type,
		    uint64_t size, bus_io_fn fn, void *opaque);
/* (A prefetchable memory BAR: set d->bars[n].prefetch = true after
 * pci_dev_set_bar and before pci_bus_add, which renders the type bits.
 * The BAR's register names for --trace (bus.h's bus_reg_fn, called with
 * the BAR's opaque): set d->bars[n].reg the same way.
 * Sizes: IO 4..256 bytes, memory >= 16 bytes, all powers of two.) */
/* Append a capability (body[0] = cap ID; body[1], the next pointer, is
 * filled in). Returns its config-space offset or -ENOSPC. The bytes are
 * read-only to the guest unless the caller opens wmask afterwards. */
int pci_dev_add_cap(struct pci_dev *d, const void *body, unsigned len);
/* Add an MSI-X capability with nvec vectors, its table at table_off and
 * PBA at pba_off inside BAR bar (which the device declared and whose
 * handler must forward those ranges to pci_msix_access). 0 or -errno. */
int pci_msix_init(struct pci_dev *d, unsigned nvec, int bar,
		  uint32_t table_off, uint32_t pba_off);

/* The name of config register off of d for --trace ("BAR4", "command",
 * "cap 0x40 MSI-X+2"...), covering len bytes, into buf. */
void pci_cfg_reg_name(const struct pci_dev *d, unsigned off, unsigned len,
		      char *buf, size_t size);

/* ---- the bus ---- */
/* Create the root bus with its host bridge at 00:00.0, BAR windows and
 * INTx wiring from host (copied), and set vm->pci. No configuration
 * mechanism yet: see pci_cf8_attach. 0 or -errno. */
int pci_bus_init(struct pci_bus *bus, struct vm *vm,
		 const struct pci_host *host);
/* Put d at 00:00.0 in place of the bus's generic host bridge (1b36:0008):
 * an architecture's own host bridge with registers of its own (x86 under
 * --firmware: the i440FX PMC, devices/x86/i440fx.c). d was built with
 * pci_dev_init; it gets no interrupt pin and no BARs are assigned. The
 * caller keeps d alive until pci_bus_destroy, which leaves it alone. */
void pci_bus_set_host_bridge(struct pci_bus *bus, struct pci_dev *d);
/* Configuration mechanism #1, the PC's: CONFIG_ADDRESS at port 0xCF8 and
 * CONFIG_DATA at 0xCFC-0xCFF on vm->pio (pci_bus_destroy releases them).
 * 0 or -errno with a one-line message printed. */
int pci_cf8_attach(struct pci_bus *bus);
/* Put d in the next free slot (or slot if nonzero), assign its BARs,
 * enable decoding, choose its INTx pin. 0 or -errno. */
int pci_bus_add(struct pci_bus *bus, struct pci_dev *d);
void pci_bus_destroy(struct pci_bus *bus);
/* Release what pci_msix_init / pci_bus_add allocated for d (MSI-X table,
 * irqfds, eventfds). pci_bus_destroy does this for every device on the
 * bus; call it yourself only for a device that never got onto a bus. */
void pci_dev_release(struct pci_dev *d);

/* Config space as the guest sees it (used by the 0xCFC handler, ECAM and
 * tests).
 * Off-range or unaligned accesses read as all ones / are ignored. */
uint32_t pci_cfg_read(struct pci_dev *d, unsigned off, unsigned len);
void pci_cfg_write(struct pci_dev *d, unsigned off, unsigned len,
		   uint32_t val);

/* ---- interrupts ---- */
/* d's PCI requester ID: bus << 8 | device << 3 | function (bus 0,
 * function 0 here), the devid of its MSIs (vm_msi_route). */
static inline uint32_t pci_requester_id(const struct pci_dev *d)
{
	return d->slot << 3;
}
/* MSI-X table/PBA access from the device's BAR handler: returns true if
 * bar_off fell in the table or PBA and was handled. */
/* For --trace: when bar_off lies in d's MSI-X table or PBA, its name
 * ("msix.table[3].data", "msix.pba[0]") into buf and true. */
bool pci_msix_reg_name(const struct pci_dev *d, uint64_t bar_off, char *buf,
		       size_t size);
bool pci_msix_access(struct pci_dev *d, uint64_t bar_off, void *data,
		     unsigned len, bool is_write);
/* True while Message Control's MSI-X Enable bit is set, whatever the
 * Function Mask: the function then signals through its vectors only,
 * never INTx (6.8.2), and a masked vector or function holds the message
 * pending in the PBA until it is unmasked (6.8.2.9). Any thread. */
bool pci_msix_enabled(struct pci_dev *d);
/* Signal vector v: through its irqfd when unmasked, else set its pending
 * bit (delivered on unmask). Any thread. 0, or -EINVAL for a bad vector. */
int pci_msix_notify(struct pci_dev *d, unsigned v);
/* Vector v's irqfd eventfd while the vector is deliverable (MSI-X
 * enabled, function and vector unmasked) and its GSI routed to its
 * message, else -1 (masked, --irqfd=off, no such vector). For a backend
 * outside the VMM that signals the guest itself (vhost); msix_changed says
 * when to ask again. Any thread. */
int pci_msix_vector_irqfd(struct pci_dev *d, unsigned v);
/* True while the command register's Bus Master Enable bit is set. Without
 * it the function must not access memory (6.2.2): a device model neither
 * reads nor writes guest RAM (rings, buffers) nor sends MSI/MSI-X
 * messages, which are memory writes. INTx is not affected. Reset value
 * off; a driver sets it (Linux: pci_set_master). Any thread. */
bool pci_bus_master(struct pci_dev *d);
/* Level of INTA# (legacy INTx). Any thread. */
void pci_intx_set(struct pci_dev *d, bool level);

#endif
