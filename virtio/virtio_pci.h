/* SPDX-License-Identifier: MIT
 * virtio_pci.h - a generic modern (VIRTIO 1.x) virtio-pci device
 * (VIRTIO 1.x section 4.1 "Virtio Over PCI Bus"; non-transitional only).
 *
 * A device model (blk, net, rng) embeds or points to a struct virtio_dev,
 * fills a struct virtio_dev_desc and implements struct virtio_dev_ops; this
 * file provides everything else: PCI IDs, the capabilities, one 64-bit
 * memory BAR with the common/ISR/device/notify regions and the MSI-X table,
 * feature negotiation, the device status state machine, queue
 * configuration, ioeventfd-driven notifications on per-queue I/O threads,
 * and interrupts (MSI-X, or INTx + ISR).
 *
 * BAR 0 layout (VIRTIO_PCI_BAR_SIZE bytes, 64-bit, non-prefetchable):
 *	0x0000	common configuration (struct virtio_pci_common_cfg)
 *	0x1000	ISR status (1 byte; reading clears it and lowers INTx)
 *	0x2000	device-specific configuration (desc->cfg_size bytes)
 *	0x3000	notifications: queue q at 0x3000 + 4 * q
 *		(queue_notify_off = q, notify_off_multiplier = 4)
 *	0x4000	MSI-X table (nr_queues + 1 vectors)
 *	0x6000	MSI-X PBA
 *
 * The device uses its rings only while the driver has set DRIVER_OK and
 * the PCI command register's Bus Master Enable (virtio_pci_running).
 *
 * Threads: BAR and config-space accesses run on vCPU threads; each queue's
 * notifications run ops->queue_notify on that queue's I/O thread. Queue
 * configuration changes and resets are handed to the I/O threads with
 * evloop_call(), so the queue_notify callback never races with them.
 */
#ifndef MINIVMM_VIRTIO_PCI_H
#define MINIVMM_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/pci.h"
#include "virtio/virtqueue.h"
#include "vmm/device.h"
#include "vmm/stats.h"

struct vm;
struct evloop;
struct virtio_dev;

#define VIRTIO_PCI_VENDOR_ID 0x1af4
#define VIRTIO_PCI_DEVICE_ID_BASE 0x1040 /* + virtio device id */
#define VIRTIO_PCI_MAX_QUEUES 64
#define VIRTIO_PCI_NO_VECTOR 0xffff

#define VIRTIO_PCI_BAR_SIZE 0x8000
#define VIRTIO_PCI_COMMON_OFF 0x0000
#define VIRTIO_PCI_COMMON_LEN 0x0038 /* sizeof(virtio_pci_common_cfg) */
#define VIRTIO_PCI_ISR_OFF 0x1000
#define VIRTIO_PCI_ISR_LEN 0x0004
#define VIRTIO_PCI_DEVICE_OFF 0x2000
#define VIRTIO_PCI_DEVICE_MAX 0x1000
#define VIRTIO_PCI_NOTIFY_OFF 0x3000
#define VIRTIO_PCI_NOTIFY_MULT 4
#define VIRTIO_PCI_MSIX_TABLE_OFF 0x4000
#define VIRTIO_PCI_MSIX_PBA_OFF 0x6000

/* Feature bits every device gets from the transport. */
#define VIRTIO_PCI_BASE_FEATURES                                            \
	((1ULL << 32 /* VIRTIO_F_VERSION_1 */) |                            \
	 (1ULL << 28 /* VIRTIO_F_RING_INDIRECT_DESC */) |                   \
	 (1ULL << 29 /* VIRTIO_F_RING_EVENT_IDX */))

struct virtio_dev_ops {
	/* Device-specific configuration space access; off + len <=
	 * desc->cfg_size is guaranteed, len is 1, 2, 4 or 8. vCPU thread.
	 * Reads fill data (little-endian, as the guest sees it). */
	void (*cfg_read)(struct virtio_dev *d, unsigned off, void *data,
			 unsigned len);
	/* Optional; writes to read-only fields should simply be ignored. */
	void (*cfg_write)(struct virtio_dev *d, unsigned off, const void *data,
			  unsigned len);
	/* The driver kicked queue qidx (or the device asked for a re-run
	 * with virtio_pci_kick_queue). Runs on that queue's I/O thread;
	 * process d->vqs[qidx] until empty. */
	void (*queue_notify)(struct virtio_dev *d, unsigned qidx);
	/* Optional: finish every request of queue qidx still in flight
	 * (wait for the backend, push them) before the queue is reset or its
	 * thread stops, so that nothing completes into a ring that was
	 * reset. Runs on that queue's I/O thread. */
	void (*queue_flush)(struct virtio_dev *d, unsigned qidx);
	/* Optional: the driver set FEATURES_OK with d->driver_features.
	 * Return 0 to accept, -EINVAL to refuse (FEATURES_OK stays clear).
	 * The transport already refused unoffered bits and a missing
	 * VERSION_1. vCPU thread. */
	int (*features_ok)(struct virtio_dev *d, uint64_t features);
	/* Optional: the driver set DRIVER_OK (queues are ready). vCPU. */
	void (*driver_ok)(struct virtio_dev *d);
	/* Optional: device reset (status 0 written). Every queue has been
	 * reset on its I/O thread already; forget per-driver state. vCPU. */
	void (*reset)(struct virtio_dev *d);
	/* Release the model's state (d included when the model allocated
	 * it). The transport is released already: no callback runs any
	 * more. Called by the device's free step (device.h). */
	void (*free)(struct virtio_dev *d);
};

struct virtio_dev_desc {
	const char *name;          /* "virtio-blk", for logs and the bus */
	uint16_t device_id;        /* VIRTIO_ID_BLOCK, ... */
	uint32_t class_code;       /* base << 16 | sub << 8 | prog-if */
	uint64_t features;         /* device-specific bits; the base
				    * transport bits are added */
	unsigned nr_queues;        /* 1 .. VIRTIO_PCI_MAX_QUEUES */
	uint16_t queue_size;       /* max size, power of 2 <= VIRTQ_MAX_SIZE */
	unsigned queues_per_thread;/* 0/1: one I/O thread per queue; 2: queues
				    * 2k and 2k+1 share a thread (net pairs) */
	unsigned cfg_size;         /* device config bytes (<= 0x1000) */
	const struct virtio_dev_ops *ops;
};

/* Per-queue transport state. */
struct virtio_pci_queue {
	struct virtio_dev *dev;
	unsigned idx;
	uint16_t msix_vector;
	int efd;                 /* the queue's kick eventfd: also the
				  * ioeventfd on the notify address unless
				  * --ioeventfd=off */
	bool efd_registered;     /* currently assigned with KVM */
	uint64_t vmm_kicks;      /* kicks the VMM wrote to efd itself (an
				  * MMIO exit on the notify address, a
				  * replay), not yet matched by on_kick */
	uint64_t efd_addr;       /* guest address it is assigned to */
	struct evloop *loop;     /* shared by queues_per_thread queues */
	uint64_t kicks, irqs;    /* notifications taken, interrupts sent
				  * (--stats, minivmm stat) */
};

struct virtio_dev {
	struct device dev;         /* the machine's handle (device.h) */
	struct pci_dev pci;
	struct vm *vm;
	struct virtio_dev_desc desc;
	void *opaque;              /* the device model's state */

	/* Locks. cfg_lock serialises guest accesses to the common
	 * configuration (vCPU threads only; held across evloop_call to the
	 * I/O threads). lock guards status and ISR, is held only briefly and
	 * never around a call out. intx_lock makes "read ISR, set INTx level"
	 * atomic; it is the only one held while calling into pci.c (whose
	 * bus lock is held around config-space hooks, so the PCI-config
	 * access window never takes cfg_lock or intx_lock).
	 * Order: cfg_lock -> intx_lock -> (pci bus lock); lock is a leaf. */
	pthread_mutex_t cfg_lock;
	pthread_mutex_t intx_lock;
	pthread_mutex_t lock;      /* status, ISR */
	uint64_t device_features;  /* offered = desc.features | base */
	uint64_t driver_features;  /* accepted by the driver */
	uint32_t device_feature_sel, driver_feature_sel;
	uint8_t status;
	uint8_t config_generation;
	uint8_t isr;               /* bit 0 queue, bit 1 config change */
	uint16_t queue_sel;
	uint16_t config_msix_vector;

	unsigned nr_loops;
	struct evloop *loops[VIRTIO_PCI_MAX_QUEUES];
	struct virtq vqs[VIRTIO_PCI_MAX_QUEUES];
	struct virtio_pci_queue q[VIRTIO_PCI_MAX_QUEUES];
	uint8_t pci_cfg_cap;       /* offset of VIRTIO_PCI_CAP_PCI_CFG */
	bool bus_master;           /* Bus Master Enable at the last config
				    * write (config hook, bus lock held) */
	bool status_warned;        /* a status write tried to clear bits */
	bool started;
	/* the queues' kicks and interrupts under the device's name
	 * ("virtio-blk0"), a stats source from start to destroy */
	struct stats_source stats_src;
	char stats_name[32];
};

/* Every virtio model is a device (device.h) through this transport:
 * virtio_pci_init sets d->dev up with one set of ops for all of them:
 *   attach  virtio_pci_start(d)
 *   stop    virtio_pci_destroy(d)
 *   free    virtio_pci_destroy(d) again (what the bus left), then the
 *           model's ops->free(d)
 * A model's <model>_create() returns d; the caller adds &d->dev to the
 * machine's list, or (tests, the bench) calls these directly. */
static inline struct virtio_dev *virtio_dev_of(struct device *dev)
{
	return container_of(dev, struct virtio_dev, dev);
}

/* Set up d (caller-allocated, zeroed or not): PCI header and IDs
 * (vendor 0x1af4, device 0x1040 + id, revision 1, subsystem 0x1af4/id),
 * capabilities, BAR 0, MSI-X with nr_queues + 1 vectors, queues at their
 * reset state, one eventfd per queue and the I/O threads (created, not
 * started). Does not touch the bus. 0 or -errno. */
int virtio_pci_init(struct virtio_dev *d, struct vm *vm,
		    const struct virtio_dev_desc *desc, void *opaque);

/* Add d to vm->pci (pci_bus_add, which maps the BAR), register the
 * ioeventfds and start the I/O threads. 0 or -errno. */
int virtio_pci_start(struct virtio_dev *d);

/* Stop the threads, deassign and close the eventfds; release the MSI-X
 * table if d is on no bus (pci_bus_destroy does it otherwise). Idempotent.
 * Does not free d. */
void virtio_pci_destroy(struct virtio_dev *d);

/* The I/O thread running queue qidx (e.g. to add a tap fd to the same
 * thread as the receive queue). */
struct evloop *virtio_pci_queue_loop(struct virtio_dev *d, unsigned qidx);

/* ---- called by device models ---- */
/* Interrupt the driver for queue qidx: MSI-X on the queue's vector when
 * MSI-X is enabled, even if function- or vector-masked (then it is held
 * pending and sent on unmask); nothing if that vector is NO_VECTOR or Bus
 * Master Enable is off. Without MSI-X: ISR bit 0 + INTx. Unconditional:
 * check virtq_need_notify() first. Any thread. */
void virtio_pci_notify_queue(struct virtio_dev *d, unsigned qidx);

/* BAR 0's register names for --trace (a bus_reg_fn; opaque is the
 * struct virtio_dev): "common.queue_select", "isr", "config+0x14",
 * "notify q0", "msix.table[1].data". */
unsigned virtio_pci_reg_name(void *opaque, uint64_t off, unsigned len,
			     bool is_write, char *buf, size_t size);
/* The device configuration changed: bump config_generation, ISR bit 1 /
 * config vector. Any thread. */
void virtio_pci_config_changed(struct virtio_dev *d);
/* Something the driver did makes the device unusable (malformed ring): set
 * DEVICE_NEEDS_RESET (0x40) and send a config-change interrupt. The device
 * ignores its queues until the driver resets it. Any thread. */
void virtio_pci_set_needs_reset(struct virtio_dev *d);
/* Make ops->queue_notify(d, qidx) run on the queue's thread as if the
 * driver had kicked it (e.g. after a backend became writable). Any
 * thread. */
void virtio_pci_kick_queue(struct virtio_dev *d, unsigned qidx);
/* Serve queue qidx with virtq_drain() (see there): each available chain
 * is popped into req and given to handle(opaque, ...); the driver gets
 * its queue interrupt when it asked for one. On a malformed ring (logged
 * here) or a callback error (the callback logs its own), the device goes
 * to DEVICE_NEEDS_RESET and the chains completed before are still
 * announced. Returns virtq_drain()'s result. On the queue's I/O thread. */
int virtio_pci_drain(struct virtio_dev *d, unsigned qidx,
		     struct virtq_req *req, unsigned budget,
		     virtq_handle_fn *handle, void *opaque);
/* May the device use its queues? True once DRIVER_OK is set, while
 * DEVICE_NEEDS_RESET is not and the PCI command register's Bus Master
 * Enable is (no DMA without it). Kicks that arrive while it is false are
 * replayed when DRIVER_OK or Bus Master Enable gets set. */
bool virtio_pci_running(struct virtio_dev *d);

/* Queue qidx's kick eventfd: what the ioeventfd on its notify address
 * (or, with --ioeventfd=off, the MMIO exit) writes. -1 for a bad index. */
int virtio_pci_queue_kick_fd(struct virtio_dev *d, unsigned qidx);
/* Stop (on false) or go back to (on true) reading queue qidx's kick
 * eventfd: while a backend outside the VMM (vhost) serves the queue, it
 * reads the eventfd itself. On the queue's I/O thread. 0 or -errno. */
int virtio_pci_queue_watch(struct virtio_dev *d, unsigned qidx, bool on);

/* ---- for unit tests and the bench (the bus calls this for BAR 0) ---- */
void virtio_pci_bar_access(void *opaque, uint64_t off, void *data,
			   unsigned len, bool is_write);

#endif
