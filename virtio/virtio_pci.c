/* SPDX-License-Identifier: MIT
 * virtio_pci.c - the modern virtio-pci transport (VIRTIO 1.x section 4.1):
 * vendor capabilities pointing into BAR 0, the common configuration
 * structure (4.1.4.3), ISR (4.1.4.5), device configuration (4.1.4.6),
 * notifications (4.1.4.4) and the PCI configuration access window
 * (4.1.4.9); the device status state machine of section 3.1. The rings
 * are used, and MSI-X messages sent, only while the PCI command register's
 * Bus Master Enable is set (PCI 3.0, 6.2.2).
 *
 * See virtio_pci.h for the BAR layout and the threading rules.
 */
#include "virtio/virtio_pci.h"

#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#include "vmm/evloop.h"
#include "vmm/log.h"
#include "vmm/vm.h"

/* ISR status bits (4.1.4.5) */
#define ISR_QUEUE 0x1
#define ISR_CONFIG 0x2

/* ---- small helpers ---- */

static uint8_t status_get(struct virtio_dev *d)
{
	/* acquire: pairs with the release stores of the status; a thread
	 * that sees DRIVER_OK also sees the features and queue setup that
	 * the driver completed before setting it */
	return __atomic_load_n(&d->status, __ATOMIC_ACQUIRE);
}

bool virtio_pci_running(struct virtio_dev *d)
{
	uint8_t s = status_get(d);

	/* 3.1.1: DRIVER_OK; PCI: no DMA without Bus Master Enable */
	return (s & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(s & VIRTIO_CONFIG_S_NEEDS_RESET) && pci_bus_master(&d->pci);
}

static unsigned nvec(struct virtio_dev *d)
{
	return d->desc.nr_queues + 1;
}

struct evloop *virtio_pci_queue_loop(struct virtio_dev *d, unsigned qidx)
{
	return qidx < d->desc.nr_queues ? d->q[qidx].loop : NULL;
}

/* ---- interrupts ---- */

/* Drive INTx from the ISR: level = ISR != 0. Reading the ISR and setting
 * the pin happen under intx_lock, so the last caller always applies the
 * latest ISR value (no lost or stuck interrupts between raise and clear). */
static void update_intx(struct virtio_dev *d)
{
	bool level;

	pthread_mutex_lock(&d->intx_lock);
	pthread_mutex_lock(&d->lock);
	level = d->isr != 0;
	pthread_mutex_unlock(&d->lock);
	pci_intx_set(&d->pci, level);
	pthread_mutex_unlock(&d->intx_lock);
}

static void raise_isr(struct virtio_dev *d, uint8_t bit)
{
	pthread_mutex_lock(&d->lock);
	d->isr |= bit;
	pthread_mutex_unlock(&d->lock);
	update_intx(d);
}

/* Send MSI-X vector *v (the queue's or the config vector) or, without
 * MSI-X, set isr_bit and raise INTx (4.1.5.3, 4.1.5.4). Once MSI-X Enable
 * is set the vector is the only way, even while the function or the vector
 * is masked: INTx is muted then (pci.c) and msix.c keeps the message in
 * the PBA until the mask clears. */
static void interrupt(struct virtio_dev *d, const uint16_t *v, uint8_t isr_bit)
{
	uint16_t vec;

	if (!pci_msix_enabled(&d->pci)) {
		raise_isr(d, isr_bit);
		return;
	}
	vec = __atomic_load_n(v, __ATOMIC_RELAXED);
	/* an MSI-X message is a memory write: none without bus mastering */
	if (vec != VIRTIO_PCI_NO_VECTOR && pci_bus_master(&d->pci))
		pci_msix_notify(&d->pci, vec);
}

void virtio_pci_notify_queue(struct virtio_dev *d, unsigned qidx)
{
	if (qidx >= d->desc.nr_queues)
		return;
	stat_inc(&d->vm->stats, STAT_IRQS);
	__atomic_fetch_add(&d->q[qidx].irqs, 1, __ATOMIC_RELAXED);
	interrupt(d, &d->q[qidx].msix_vector, ISR_QUEUE);
}

void virtio_pci_config_changed(struct virtio_dev *d)
{
	__atomic_fetch_add(&d->config_generation, 1, __ATOMIC_RELAXED);
	interrupt(d, &d->config_msix_vector, ISR_CONFIG);
}

void virtio_pci_set_needs_reset(struct virtio_dev *d)
{
	uint8_t old;

	pthread_mutex_lock(&d->lock);
	old = d->status;
	__atomic_store_n(&d->status, old | VIRTIO_CONFIG_S_NEEDS_RESET,
			 __ATOMIC_RELEASE);
	pthread_mutex_unlock(&d->lock);
	if (!(old & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		stat_inc(&d->vm->stats, STAT_VQ_ERRORS);
		pr_warn_limited(&d->dev.warn, d->dev.name,
				"%s: device needs reset (driver error)",
				d->dev.name);
		/* 2.1.2: tell the driver through a config change interrupt */
		virtio_pci_config_changed(d);
	}
}

/* ---- notifications (I/O thread side) ---- */

/* The queue virtio_pci_drain() serves, for its notify callback. */
struct pci_drain {
	struct virtio_dev *d;
	unsigned qidx;
};

static void pci_drain_notify(void *arg)
{
	struct pci_drain *x = arg;

	virtio_pci_notify_queue(x->d, x->qidx);
}

int virtio_pci_drain(struct virtio_dev *d, unsigned qidx,
		     struct virtq_req *req, unsigned budget,
		     virtq_handle_fn *handle, void *opaque)
{
	struct virtq *q = &d->vqs[qidx];
	struct pci_drain x = { d, qidx };
	int ret = virtq_drain(q, req, budget, handle, opaque,
			      pci_drain_notify, &x);

	if (ret >= 0)
		return ret;
	if (q->broken)
		pr_warn_limited(&d->dev.warn, d->dev.name, "%s: queue %u: %s",
				d->dev.name, qidx, virtq_strerror(q->error));
	virtio_pci_set_needs_reset(d);
	if (virtq_need_notify(q))
		virtio_pci_notify_queue(d, qidx);
	return ret;
}

void virtio_pci_kick_queue(struct virtio_dev *d, unsigned qidx)
{
	uint64_t one = 1;
	ssize_t r;

	if (qidx >= d->desc.nr_queues)
		return;
	/* counted before the write, so that on_kick never sees the write
	 * without the count */
	__atomic_fetch_add(&d->q[qidx].vmm_kicks, 1, __ATOMIC_RELAXED);
	r = write(d->q[qidx].efd, &one, sizeof(one));
	(void)r; /* EAGAIN: counter saturated, a wakeup is pending anyway */
}

static void on_kick(void *opaque, uint32_t events)
{
	struct virtio_pci_queue *pq = opaque;
	struct virtio_dev *d = pq->dev;
	uint64_t cnt = 0, mine;
	ssize_t r;

	(void)events;
	r = read(pq->efd, &cnt, sizeof(cnt));
	if (r != sizeof(cnt))
		cnt = 0; /* EAGAIN: already drained by an earlier wakeup */
	stat_inc(&d->vm->stats, STAT_VQ_NOTIFY);
	__atomic_fetch_add(&pq->kicks, 1, __ATOMIC_RELAXED);
	/* The counter adds up every write since the last read: KVM's (the
	 * ioeventfd: a kick that cost no exit) and the VMM's. A VMM kick
	 * counted but not yet written stays for the next read. */
	mine = __atomic_exchange_n(&pq->vmm_kicks, 0, __ATOMIC_RELAXED);
	if (cnt >= mine)
		stat_add(&d->vm->stats, STAT_VQ_NOTIFY_IOEVENTFD, cnt - mine);
	else
		__atomic_fetch_add(&pq->vmm_kicks, mine - cnt, __ATOMIC_RELAXED);
	/* 3.1.1: no buffers are used before DRIVER_OK, nor while bus
	 * mastering is off; kicks that arrive then are replayed when DRIVER_OK
	 * or Bus Master Enable is set (replay_kicks). */
	if (!virtio_pci_running(d) || !d->vqs[pq->idx].ready)
		return;
	d->desc.ops->queue_notify(d, pq->idx);
}

int virtio_pci_queue_kick_fd(struct virtio_dev *d, unsigned qidx)
{
	return qidx < d->desc.nr_queues ? d->q[qidx].efd : -1;
}

int virtio_pci_queue_watch(struct virtio_dev *d, unsigned qidx, bool on)
{
	struct virtio_pci_queue *pq;

	if (qidx >= d->desc.nr_queues)
		return -EINVAL;
	pq = &d->q[qidx];
	if (!on)
		return evloop_del(pq->loop, pq->efd);
	/* the kicks written while someone else read the eventfd are theirs */
	__atomic_store_n(&pq->vmm_kicks, 0, __ATOMIC_RELAXED);
	return evloop_add(pq->loop, pq->efd, EPOLLIN, on_kick, pq);
}

/* Look at every queue as if the driver had kicked it (on_kick skips the
 * ones that are not ready: ready belongs to the I/O thread). */
static void replay_kicks(struct virtio_dev *d)
{
	unsigned i;

	for (i = 0; i < d->desc.nr_queues; i++)
		virtio_pci_kick_queue(d, i);
}

/* Make the ioeventfd registrations match BAR 0's current placement. With
 * --ioeventfd=off there are none: a kick is then an MMIO exit that
 * bar_access turns into a write to the queue's eventfd. */
static void sync_ioeventfds(struct virtio_dev *d)
{
	struct pci_bar *b = &d->pci.bars[0];
	unsigned i;

	if (!d->started || d->vm->no_ioeventfd)
		return;
	for (i = 0; i < d->desc.nr_queues; i++) {
		struct virtio_pci_queue *pq = &d->q[i];
		uint64_t addr = b->addr + VIRTIO_PCI_NOTIFY_OFF +
				(uint64_t)i * VIRTIO_PCI_NOTIFY_MULT;

		if (pq->efd_registered && (!b->mapped || pq->efd_addr != addr)) {
			vm_ioeventfd(d->vm, pq->efd, pq->efd_addr, 2, false,
				     false);
			pq->efd_registered = false;
		}
		if (!pq->efd_registered && b->mapped && b->addr) {
			/* 16-bit writes, as Linux's vp_notify does; other
			 * widths still arrive as MMIO exits and work. */
			int ret = vm_ioeventfd(d->vm, pq->efd, addr, 2, false,
					       true);
			if (ret) {
				/* the guest may move BAR 0 again and again */
				pr_warn_limited(&d->dev.warn, d->dev.name,
						"%s: ioeventfd for queue %u: %d (falling back to MMIO exits)",
						d->dev.name, i, ret);
				continue;
			}
			pq->efd_registered = true;
			pq->efd_addr = addr;
		}
	}
}

static void bar_moved(struct pci_dev *p, int bar, uint64_t old_addr,
		      uint64_t new_addr, bool mapped)
{
	(void)old_addr;
	(void)new_addr;
	(void)mapped;
	if (bar == 0)
		sync_ioeventfds(p->opaque);
}

/* ---- queue operations run on the queue's I/O thread ---- */

struct qop {
	struct virtio_dev *d;
	unsigned idx;
	int ret;
};

/* Requests still in flight on the queue finish before it is reset (or
 * its thread stops): none may complete into a ring that was reset. */
static void qop_flush(void *opaque)
{
	struct qop *op = opaque;

	if (op->d->desc.ops->queue_flush)
		op->d->desc.ops->queue_flush(op->d, op->idx);
}

static void qop_reset(void *opaque)
{
	struct qop *op = opaque;

	qop_flush(op);
	virtq_reset(&op->d->vqs[op->idx]);
}

/* The ring features are latched here; queue_enable() only gets here with
 * FEATURES_OK set, i.e. with the negotiated features, which cannot change
 * until a reset (write_status) resets the queue too. */
static void qop_enable(void *opaque)
{
	struct qop *op = opaque;
	struct virtq *q = &op->d->vqs[op->idx];

	q->event_idx = op->d->driver_features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	q->indirect = op->d->driver_features &
		      (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	op->ret = virtq_enable(q);
}

static void queue_call(struct virtio_dev *d, unsigned i, void (*fn)(void *),
		       struct qop *op)
{
	op->d = d;
	op->idx = i;
	op->ret = 0;
	evloop_call(d->q[i].loop, fn, op);
}

/* Status 0: 4.1.4.3.2, every queue and register back to its initial
 * value. Called with cfg_lock held, lock not held.
 *
 * The queues are reset first, each on its I/O thread, which waits for a
 * queue_notify in progress there; only then is the status cleared. In the
 * other order a thread still walking the old ring could set NEEDS_RESET
 * (virtio_pci_set_needs_reset) into the fresh status, and a driver that
 * writes 0 and waits to read 0 back (4.1.4.3.2) would wait for ever. Once
 * its queue is reset a thread finds no ring to use (virtq_pop returns 0
 * on a queue that is not ready), so nothing sets the bit afterwards. */
static void device_reset(struct virtio_dev *d)
{
	struct qop op;
	unsigned i;

	for (i = 0; i < d->desc.nr_queues; i++) {
		queue_call(d, i, qop_reset, &op);
		__atomic_store_n(&d->q[i].msix_vector, VIRTIO_PCI_NO_VECTOR,
				 __ATOMIC_RELAXED);
	}

	pthread_mutex_lock(&d->lock);
	__atomic_store_n(&d->status, 0, __ATOMIC_RELEASE);
	d->isr = 0;
	pthread_mutex_unlock(&d->lock);
	update_intx(d);
	d->driver_features = 0;
	d->device_feature_sel = 0;
	d->driver_feature_sel = 0;
	d->queue_sel = 0;
	__atomic_store_n(&d->config_msix_vector, VIRTIO_PCI_NO_VECTOR,
			 __ATOMIC_RELAXED);
	if (d->desc.ops->reset)
		d->desc.ops->reset(d);
}

/* ---- common configuration ---- */

static struct virtq *sel_queue(struct virtio_dev *d)
{
	return d->queue_sel < d->desc.nr_queues ? &d->vqs[d->queue_sel] : NULL;
}

/* The structure as the guest would read it now. */
static void common_snapshot(struct virtio_dev *d,
			    struct virtio_pci_common_cfg *c)
{
	struct virtq *q = sel_queue(d);
	uint64_t f = 0;

	memset(c, 0, sizeof(*c));
	c->device_feature_select = d->device_feature_sel;
	if (d->device_feature_sel < 2)
		f = d->device_features >> (32 * d->device_feature_sel);
	c->device_feature = (uint32_t)f;
	c->guest_feature_select = d->driver_feature_sel;
	if (d->driver_feature_sel < 2)
		c->guest_feature = (uint32_t)(d->driver_features >>
					      (32 * d->driver_feature_sel));
	c->msix_config = __atomic_load_n(&d->config_msix_vector,
					 __ATOMIC_RELAXED);
	c->num_queues = d->desc.nr_queues;
	c->device_status = status_get(d);
	c->config_generation = __atomic_load_n(&d->config_generation,
					       __ATOMIC_RELAXED);
	c->queue_select = d->queue_sel;
	if (q) {
		c->queue_size = q->size;
		c->queue_msix_vector = d->q[d->queue_sel].msix_vector;
		c->queue_enable = q->ready;
		c->queue_notify_off = d->queue_sel;
		c->queue_desc_lo = (uint32_t)q->desc_gpa;
		c->queue_desc_hi = (uint32_t)(q->desc_gpa >> 32);
		c->queue_avail_lo = (uint32_t)q->avail_gpa;
		c->queue_avail_hi = (uint32_t)(q->avail_gpa >> 32);
		c->queue_used_lo = (uint32_t)q->used_gpa;
		c->queue_used_hi = (uint32_t)(q->used_gpa >> 32);
	} else {
		c->queue_msix_vector = VIRTIO_PCI_NO_VECTOR;
	}
}

static uint16_t check_vector(struct virtio_dev *d, uint16_t v)
{
	/* 4.1.5.1.2: a vector the device cannot use reads back NO_VECTOR */
	return v < nvec(d) ? v : VIRTIO_PCI_NO_VECTOR;
}

static void write_status(struct virtio_dev *d, uint8_t val)
{
	uint8_t old = status_get(d), new;
	const uint64_t mandatory = 1ULL << VIRTIO_F_VERSION_1;

	if (val == 0) {
		device_reset(d);
		return;
	}
	/* The driver MUST NOT clear a status bit (2.1.1): only a reset (0)
	 * takes the status back, "the only way to renegotiate" (2.2). So a
	 * write that would clear bits keeps them and only adds new ones;
	 * honouring it would reopen the feature words under queues running
	 * with the features latched at enable. Ignored rather than answered
	 * with NEEDS_RESET: that bit reports the device's own error state
	 * (2.1.2), and the device stays consistent. NEEDS_RESET is the
	 * device's to set, never the driver's. */
	if ((old & ~val & ~VIRTIO_CONFIG_S_NEEDS_RESET) && !d->status_warned) {
		d->status_warned = true; /* once per device */
		pr_warn("%s: driver wrote status %#x over %#x: bits can only be cleared by a reset; kept",
			d->dev.name, val, old);
	}
	new = old | (val & ~VIRTIO_CONFIG_S_NEEDS_RESET);
	if ((new & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(old & VIRTIO_CONFIG_S_FEATURES_OK)) {
		uint64_t f = d->driver_features;
		bool ok = !(f & ~d->device_features) && (f & mandatory);

		if (ok && d->desc.ops->features_ok &&
		    d->desc.ops->features_ok(d, f))
			ok = false;
		if (!ok) {
			pr_warn_limited(&d->dev.warn, d->dev.name,
					"%s: driver features %#llx refused",
					d->dev.name, (unsigned long long)f);
			new &= ~VIRTIO_CONFIG_S_FEATURES_OK;
		}
	}
	/* DRIVER_OK without FEATURES_OK is a driver bug: ignore the bit */
	if ((new & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(new & VIRTIO_CONFIG_S_FEATURES_OK))
		new &= ~VIRTIO_CONFIG_S_DRIVER_OK;

	pthread_mutex_lock(&d->lock);
	/* keep a NEEDS_RESET that an I/O thread set meanwhile */
	new |= d->status & VIRTIO_CONFIG_S_NEEDS_RESET;
	__atomic_store_n(&d->status, new, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&d->lock);

	if ((new & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
		if (d->desc.ops->driver_ok)
			d->desc.ops->driver_ok(d);
		replay_kicks(d); /* those that arrived before DRIVER_OK */
	}
}

static void queue_enable(struct virtio_dev *d, unsigned i)
{
	struct qop op;

	/* 3.1.1: queues are set up after FEATURES_OK (step 7), and the ring
	 * features are latched at enable: before it, ignore the write (the
	 * driver reads queue_enable back as 0). */
	if (d->vqs[i].ready ||
	    !(status_get(d) & VIRTIO_CONFIG_S_FEATURES_OK))
		return;
	queue_call(d, i, qop_enable, &op);
	if (op.ret) {
		pr_warn_limited(&d->dev.warn, d->dev.name,
			"%s: queue %u: bad ring configuration (size %u, desc %#llx avail %#llx used %#llx)",
			d->dev.name, i, d->vqs[i].size,
			(unsigned long long)d->vqs[i].desc_gpa,
			(unsigned long long)d->vqs[i].avail_gpa,
			(unsigned long long)d->vqs[i].used_gpa);
		virtio_pci_set_needs_reset(d);
	}
}

static void set_lo(uint64_t *v, uint32_t lo)
{
	*v = (*v & 0xffffffff00000000ULL) | lo;
}
static void set_hi(uint64_t *v, uint32_t hi)
{
	*v = (*v & 0xffffffffULL) | ((uint64_t)hi << 32);
}

/* Apply a write of field at offset foff (its full new value in v). */
static void common_field_write(struct virtio_dev *d, unsigned foff,
			       uint32_t v)
{
	struct virtq *q = sel_queue(d);
	bool cfg_ok = q && !q->ready; /* queue fields writable */
	uint8_t st = status_get(d);
	unsigned sh;

	switch (foff) {
	case offsetof(struct virtio_pci_common_cfg, device_feature_select):
		d->device_feature_sel = v;
		break;
	case offsetof(struct virtio_pci_common_cfg, guest_feature_select):
		d->driver_feature_sel = v;
		break;
	case offsetof(struct virtio_pci_common_cfg, guest_feature):
		/* frozen once FEATURES_OK is set (3.1.1 step 5) */
		if (d->driver_feature_sel >= 2 ||
		    (st & VIRTIO_CONFIG_S_FEATURES_OK))
			break;
		sh = 32 * d->driver_feature_sel;
		d->driver_features &= ~(0xffffffffULL << sh);
		d->driver_features |= (uint64_t)v << sh;
		break;
	case offsetof(struct virtio_pci_common_cfg, msix_config):
		__atomic_store_n(&d->config_msix_vector,
				 check_vector(d, (uint16_t)v),
				 __ATOMIC_RELAXED);
		break;
	case offsetof(struct virtio_pci_common_cfg, device_status):
		write_status(d, (uint8_t)v);
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_select):
		d->queue_sel = (uint16_t)v;
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_size):
		/* a power of two no larger than the maximum; else ignored */
		if (cfg_ok && v && !(v & (v - 1)) && v <= q->max_size)
			q->size = (uint16_t)v;
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_msix_vector):
		if (q) {
			uint16_t vec = check_vector(d, (uint16_t)v);
			uint16_t was = __atomic_exchange_n(
				&d->q[d->queue_sel].msix_vector, vec,
				__ATOMIC_RELAXED);

			/* a backend that signals the queue's irqfd itself
			 * (vhost) must follow a vector changed at any time,
			 * DRIVER_OK or not */
			if (was != vec && d->pci.msix_changed)
				d->pci.msix_changed(&d->pci);
		}
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_enable):
		/* writing 0 is not allowed without VIRTIO_F_RING_RESET */
		if (q && (v & 0xffff) == 1)
			queue_enable(d, d->queue_sel);
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_desc_lo):
		if (cfg_ok)
			set_lo(&q->desc_gpa, v);
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_desc_hi):
		if (cfg_ok)
			set_hi(&q->desc_gpa, v);
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_avail_lo):
		if (cfg_ok)
			set_lo(&q->avail_gpa, v);
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_avail_hi):
		if (cfg_ok)
			set_hi(&q->avail_gpa, v);
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_used_lo):
		if (cfg_ok)
			set_lo(&q->used_gpa, v);
		break;
	case offsetof(struct virtio_pci_common_cfg, queue_used_hi):
		if (cfg_ok)
			set_hi(&q->used_gpa, v);
		break;
	default: /* read-only fields */
		break;
	}
}

/* Field boundaries of struct virtio_pci_common_cfg (64-bit addresses are
 * two 32-bit fields, which is how drivers write them). */
/* common_access() copies up to VIRTIO_PCI_COMMON_LEN bytes at a guest
 * offset into this structure: it must be at least that long. */
_Static_assert(sizeof(struct virtio_pci_common_cfg) >= VIRTIO_PCI_COMMON_LEN,
	       "common configuration structure shorter than its BAR window");

static const uint8_t field_off[] = { 0x00, 0x04, 0x08, 0x0c, 0x10, 0x12,
				     0x14, 0x15, 0x16, 0x18, 0x1a, 0x1c,
				     0x1e, 0x20, 0x24, 0x28, 0x2c, 0x30,
				     0x34, 0x38 };

static void common_access(struct virtio_dev *d, unsigned off, void *data,
			  unsigned len, bool is_write)
{
	struct virtio_pci_common_cfg c;
	uint8_t *bytes = (uint8_t *)&c;
	unsigned i;

	pthread_mutex_lock(&d->cfg_lock);
	common_snapshot(d, &c);
	if (!is_write) {
		memcpy(data, bytes + off, len);
		goto out;
	}
	/* Merge the written bytes into the current value of each field
	 * they touch, then apply each touched field once. */
	memcpy(bytes + off, data, len);
	for (i = 0; i + 1 < sizeof(field_off); i++) {
		unsigned fo = field_off[i], fl = field_off[i + 1] - fo;
		uint32_t v = 0;

		if (fo + fl <= off || fo >= off + len)
			continue;
		memcpy(&v, bytes + fo, fl);
		common_field_write(d, fo, v);
	}
out:
	pthread_mutex_unlock(&d->cfg_lock);
}

/* ---- BAR 0 ---- */

static unsigned isr_read(struct virtio_dev *d, bool clear)
{
	unsigned v;

	pthread_mutex_lock(&d->lock);
	v = d->isr;
	if (clear)
		d->isr = 0; /* 4.1.4.5.1: reading ISR resets it... */
	pthread_mutex_unlock(&d->lock);
	if (clear && v)
		update_intx(d); /* ...and deasserts INTx */
	return v;
}

/* window: the access comes through the VIRTIO_PCI_CAP_PCI_CFG window,
 * i.e. from a config-space hook with the PCI bus lock held. Then only the
 * ISR (read without clearing), the device configuration and the notify
 * addresses are reachable; the common configuration reads as zero and
 * ignores writes (it may wait for I/O threads, which may wait for the bus
 * lock). Linux never uses the window. */
static void bar_access(struct virtio_dev *d, uint64_t off, void *data,
		       unsigned len, bool is_write, bool window)
{
	if (!is_write)
		memset(data, 0, len);
	if (len == 0 || len > 8 || off >= VIRTIO_PCI_BAR_SIZE ||
	    off + len > VIRTIO_PCI_BAR_SIZE)
		return;
	if (pci_msix_access(&d->pci, off, data, len, is_write))
		return;

	if (off < VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_LEN) {
		if (off + len <= VIRTIO_PCI_COMMON_LEN && !window)
			common_access(d, off, data, len, is_write);
	} else if (off >= VIRTIO_PCI_ISR_OFF &&
		   off < VIRTIO_PCI_ISR_OFF + VIRTIO_PCI_ISR_LEN) {
		if (!is_write)
			*(uint8_t *)data = isr_read(d, !window &&
						       off == VIRTIO_PCI_ISR_OFF);
		if (!is_write && off != VIRTIO_PCI_ISR_OFF)
			*(uint8_t *)data = 0;
	} else if (off >= VIRTIO_PCI_DEVICE_OFF &&
		   off < VIRTIO_PCI_DEVICE_OFF + d->desc.cfg_size) {
		unsigned o = off - VIRTIO_PCI_DEVICE_OFF;

		if (o + len > d->desc.cfg_size)
			return;
		if (!is_write)
			d->desc.ops->cfg_read(d, o, data, len);
		else if (d->desc.ops->cfg_write)
			d->desc.ops->cfg_write(d, o, data, len);
	} else if (off >= VIRTIO_PCI_NOTIFY_OFF &&
		   off < VIRTIO_PCI_NOTIFY_OFF +
				 (uint64_t)d->desc.nr_queues *
					 VIRTIO_PCI_NOTIFY_MULT) {
		/* A kick that was not caught by an ioeventfd (none with
		 * --ioeventfd=off, or not a 16-bit write). */
		if (is_write)
			virtio_pci_kick_queue(d, (off - VIRTIO_PCI_NOTIFY_OFF) /
							 VIRTIO_PCI_NOTIFY_MULT);
	}
}

void virtio_pci_bar_access(void *opaque, uint64_t off, void *data,
			   unsigned len, bool is_write)
{
	bar_access(opaque, off, data, len, is_write, false);
}

/* struct virtio_pci_common_cfg (4.1.4.3), one row per field */
static const struct { uint8_t off, len; const char *name; } common_fields[] = {
	{ 0x00, 4, "device_feature_select" }, { 0x04, 4, "device_feature" },
	{ 0x08, 4, "driver_feature_select" }, { 0x0c, 4, "driver_feature" },
	{ 0x10, 2, "config_msix_vector" },    { 0x12, 2, "num_queues" },
	{ 0x14, 1, "device_status" },         { 0x15, 1, "config_generation" },
	{ 0x16, 2, "queue_select" },          { 0x18, 2, "queue_size" },
	{ 0x1a, 2, "queue_msix_vector" },     { 0x1c, 2, "queue_enable" },
	{ 0x1e, 2, "queue_notify_off" },      { 0x20, 8, "queue_desc" },
	{ 0x28, 8, "queue_driver" },          { 0x30, 8, "queue_device" },
};

unsigned virtio_pci_reg_name(void *opaque, uint64_t off, unsigned len,
			     bool is_write, char *buf, size_t size)
{
	struct virtio_dev *d = opaque;

	(void)is_write;
	if (pci_msix_reg_name(&d->pci, off, buf, size))
		return 0;
	if (off < VIRTIO_PCI_COMMON_LEN) {
		for (unsigned i = 0;
		     i < sizeof(common_fields) / sizeof(common_fields[0]); i++) {
			unsigned r = common_fields[i].off;

			if (off < r || off >= r + common_fields[i].len)
				continue;
			/* the 64-bit addresses come in halves */
			if (common_fields[i].len == 8 && len < 8)
				snprintf(buf, size, "common.%s_%s",
					 common_fields[i].name,
					 off - r < 4 ? "lo" : "hi");
			else if (off != r)
				snprintf(buf, size, "common.%s+%u",
					 common_fields[i].name,
					 (unsigned)(off - r));
			else
				snprintf(buf, size, "common.%s",
					 common_fields[i].name);
			return 0;
		}
	} else if (off >= VIRTIO_PCI_ISR_OFF &&
		   off < VIRTIO_PCI_ISR_OFF + VIRTIO_PCI_ISR_LEN) {
		snprintf(buf, size, off == VIRTIO_PCI_ISR_OFF ? "isr" : "isr+%u",
			 (unsigned)(off - VIRTIO_PCI_ISR_OFF));
	} else if (off >= VIRTIO_PCI_DEVICE_OFF &&
		   off < VIRTIO_PCI_DEVICE_OFF + d->desc.cfg_size) {
		snprintf(buf, size, "config+0x%x",
			 (unsigned)(off - VIRTIO_PCI_DEVICE_OFF));
	} else if (off >= VIRTIO_PCI_NOTIFY_OFF &&
		   off < VIRTIO_PCI_NOTIFY_OFF + (uint64_t)d->desc.nr_queues *
							 VIRTIO_PCI_NOTIFY_MULT) {
		unsigned o = (unsigned)(off - VIRTIO_PCI_NOTIFY_OFF);

		if (o % VIRTIO_PCI_NOTIFY_MULT)
			snprintf(buf, size, "notify q%u+%u",
				 o / VIRTIO_PCI_NOTIFY_MULT,
				 o % VIRTIO_PCI_NOTIFY_MULT);
		else
			snprintf(buf, size, "notify q%u",
				 o / VIRTIO_PCI_NOTIFY_MULT);
	}
	return 0;
}

/* ---- VIRTIO_PCI_CAP_PCI_CFG window (4.1.4.9) ---- */

static void pci_cfg_window(struct virtio_dev *d, unsigned off, unsigned len)
{
	struct pci_dev *p = &d->pci;
	unsigned cap = d->pci_cfg_cap;
	unsigned data_off = cap + offsetof(struct virtio_pci_cfg_cap,
					   pci_cfg_data);
	uint8_t bar = p->cfg[cap + offsetof(struct virtio_pci_cap, bar)];
	uint32_t boff, blen;
	bool data_write;

	if (!cap || off + len <= cap || off >= data_off + 4)
		return;
	memcpy(&boff, &p->cfg[cap + offsetof(struct virtio_pci_cap, offset)], 4);
	memcpy(&blen, &p->cfg[cap + offsetof(struct virtio_pci_cap, length)], 4);
	data_write = off + len > data_off;
	/* Only naturally aligned 1/2/4-byte accesses to BAR 0 do anything;
	 * anything else is safely ignored. */
	if (bar != 0 || !(blen == 1 || blen == 2 || blen == 4) ||
	    (boff & (blen - 1)) || boff >= VIRTIO_PCI_BAR_SIZE)
		return;
	if (data_write) {
		bar_access(d, boff, &p->cfg[data_off], blen, true, true);
	} else {
		/* The driver set up a read: fetch now so pci_cfg_data holds
		 * it (pci.c has no read hook to do it at the read). */
		uint8_t buf[4] = { 0 };

		bar_access(d, boff, buf, blen, false, true);
		memcpy(&p->cfg[data_off], buf, 4);
	}
}

/* After every config-space write (bus lock held, vCPU thread). */
static void cfg_written(struct pci_dev *p, unsigned off, unsigned len)
{
	struct virtio_dev *d = p->opaque;
	bool bm = pci_bus_master(p);

	/* kicks were not acted on while bus mastering was off */
	if (bm && !d->bus_master && virtio_pci_running(d))
		replay_kicks(d);
	/* no MSI-X message without bus mastering: a backend that signals
	 * irqfds itself (vhost) must stop, and may start again */
	if (bm != d->bus_master && d->pci.msix_changed)
		d->pci.msix_changed(&d->pci);
	d->bus_master = bm;
	pci_cfg_window(d, off, len);
}

/* ---- construction ---- */

static int add_vcap(struct virtio_dev *d, uint8_t type, uint32_t off,
		    uint32_t len, unsigned extra, const void *extra_data)
{
	uint8_t buf[sizeof(struct virtio_pci_cap) + 4];
	struct virtio_pci_cap c = {
		.cap_vndr = PCI_CAP_ID_VNDR,
		.cap_len = sizeof(c) + extra,
		.cfg_type = type,
		.bar = 0,
		.offset = off,
		.length = len,
	};

	memcpy(buf, &c, sizeof(c));
	if (extra)
		memcpy(buf + sizeof(c), extra_data, extra);
	return pci_dev_add_cap(&d->pci, buf, sizeof(c) + extra);
}

static bool desc_ok(const struct virtio_dev_desc *desc)
{
	return desc->ops && desc->ops->cfg_read && desc->ops->queue_notify &&
	       desc->nr_queues && desc->nr_queues <= VIRTIO_PCI_MAX_QUEUES &&
	       desc->queue_size && desc->queue_size <= VIRTQ_MAX_SIZE &&
	       !(desc->queue_size & (desc->queue_size - 1)) &&
	       desc->cfg_size <= VIRTIO_PCI_DEVICE_MAX;
}

/* The PCI function: IDs, BAR 0 (every virtio region) and its MSI-X. */
static int init_pci_function(struct virtio_dev *d)
{
	const struct virtio_dev_desc *desc = &d->desc;
	int ret;

	/* the instance's name ("virtio-blk0" once the device list numbers
	 * it): its BAR's bus range and the PCI messages */
	pci_dev_init(&d->pci, d->dev.name, VIRTIO_PCI_VENDOR_ID,
		     VIRTIO_PCI_DEVICE_ID_BASE + desc->device_id,
		     desc->class_code, 1, VIRTIO_PCI_VENDOR_ID,
		     desc->device_id);
	d->pci.opaque = d;
	d->pci.bar_moved = bar_moved;
	d->pci.cfg_written = cfg_written;
	ret = pci_dev_set_bar(&d->pci, 0, PCI_BAR_MEM64, VIRTIO_PCI_BAR_SIZE,
			      virtio_pci_bar_access, d);
	if (ret)
		return ret;
	d->pci.bars[0].reg = virtio_pci_reg_name;
	return pci_msix_init(&d->pci, nvec(d), 0, VIRTIO_PCI_MSIX_TABLE_OFF,
			     VIRTIO_PCI_MSIX_PBA_OFF);
}

/* The virtio capabilities (4.1.4): where in BAR 0 the common, ISR, device
 * and notify regions are, and the config-space access window, whose bar,
 * offset, length and data fields the driver may write. */
static int add_virtio_caps(struct virtio_dev *d)
{
	const struct virtio_dev_desc *desc = &d->desc;
	uint32_t mult = VIRTIO_PCI_NOTIFY_MULT, zero = 0;
	int ret;

	if ((ret = add_vcap(d, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF,
			    VIRTIO_PCI_COMMON_LEN, 0, NULL)) < 0 ||
	    (ret = add_vcap(d, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF,
			    VIRTIO_PCI_ISR_LEN, 0, NULL)) < 0 ||
	    (desc->cfg_size &&
	     (ret = add_vcap(d, VIRTIO_PCI_CAP_DEVICE_CFG,
			     VIRTIO_PCI_DEVICE_OFF, desc->cfg_size, 0,
			     NULL)) < 0) ||
	    (ret = add_vcap(d, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
			    desc->nr_queues * VIRTIO_PCI_NOTIFY_MULT, 4,
			    &mult)) < 0 ||
	    (ret = add_vcap(d, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 4, &zero)) < 0)
		return ret;
	d->pci_cfg_cap = ret;
	d->pci.wmask[ret + offsetof(struct virtio_pci_cap, bar)] = 0xff;
	memset(&d->pci.wmask[ret + offsetof(struct virtio_pci_cap, offset)],
	       0xff, 8);
	memset(&d->pci.wmask[ret + offsetof(struct virtio_pci_cfg_cap,
					    pci_cfg_data)], 0xff, 4);
	return 0;
}

/* One I/O thread per queues_per_thread queues, and each queue's kick
 * eventfd watched by its thread. */
static int init_queues(struct virtio_dev *d)
{
	const struct virtio_dev_desc *desc = &d->desc;
	unsigned i, qpt = desc->queues_per_thread;
	int ret;

	d->nr_loops = (desc->nr_queues + qpt - 1) / qpt;
	for (i = 0; i < d->nr_loops; i++) {
		d->loops[i] = evloop_new(desc->name);
		if (!d->loops[i])
			return -ENOMEM;
	}
	for (i = 0; i < desc->nr_queues; i++) {
		struct virtio_pci_queue *pq = &d->q[i];

		virtq_init(&d->vqs[i], &d->vm->mem, desc->queue_size);
		pq->dev = d;
		pq->idx = i;
		pq->msix_vector = VIRTIO_PCI_NO_VECTOR;
		pq->loop = d->loops[i / qpt];
		pq->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (pq->efd < 0)
			return -errno;
		ret = evloop_add(pq->loop, pq->efd, EPOLLIN, on_kick, pq);
		if (ret)
			return ret;
	}
	return 0;
}

static const struct device_ops virtio_pci_device_ops;

/* ---- per-queue counters, a stats source ---- */

static const struct virtio_dev *of_src(const struct stats_source *src)
{
	return container_of(src, struct virtio_dev, stats_src);
}

static void stats_print_queues(const struct stats_source *src, FILE *f)
{
	const struct virtio_dev *d = of_src(src);

	for (unsigned i = 0; i < d->desc.nr_queues; i++) {
		uint64_t k = __atomic_load_n(&d->q[i].kicks, __ATOMIC_RELAXED);
		uint64_t n = __atomic_load_n(&d->q[i].irqs, __ATOMIC_RELAXED);

		if (k || n)
			fprintf(f, "  %s queue %u: %llu notifications, %llu interrupts\n",
				d->stats_name, i, (unsigned long long)k,
				(unsigned long long)n);
	}
}

/* "virtio-blk0":{"q0":{"kicks":N,"irqs":N},...}: the queues used */
static int stats_json_queues(const struct stats_source *src, char *buf,
			     size_t len)
{
	const struct virtio_dev *d = of_src(src);
	size_t at = 0;
	bool first = true;
	int r;

	r = snprintf(buf, len, "\"%s\":{", d->stats_name);
	if (r < 0)
		return r;
	at = (size_t)r;
	for (unsigned i = 0; i < d->desc.nr_queues; i++) {
		uint64_t k = __atomic_load_n(&d->q[i].kicks, __ATOMIC_RELAXED);
		uint64_t n = __atomic_load_n(&d->q[i].irqs, __ATOMIC_RELAXED);

		if (!k && !n)
			continue;
		r = snprintf(at < len ? buf + at : NULL, at < len ? len - at : 0,
			     "%s\"q%u\":{\"kicks\":%llu,\"irqs\":%llu}",
			     first ? "" : ",", i, (unsigned long long)k,
			     (unsigned long long)n);
		if (r < 0)
			return r;
		at += (size_t)r;
		first = false;
	}
	r = snprintf(at < len ? buf + at : NULL, at < len ? len - at : 0, "}");
	return r < 0 ? r : (int)(at + (size_t)r);
}

int virtio_pci_init(struct virtio_dev *d, struct vm *vm,
		    const struct virtio_dev_desc *desc, void *opaque)
{
	int ret;

	if (!desc_ok(desc))
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	device_init(&d->dev, &virtio_pci_device_ops, desc->name, vm, NULL);
	d->vm = vm;
	d->desc = *desc;
	if (!d->desc.queues_per_thread)
		d->desc.queues_per_thread = 1;
	d->opaque = opaque;
	d->device_features = desc->features | VIRTIO_PCI_BASE_FEATURES;
	d->config_msix_vector = VIRTIO_PCI_NO_VECTOR;
	pthread_mutex_init(&d->cfg_lock, NULL);
	pthread_mutex_init(&d->intx_lock, NULL);
	pthread_mutex_init(&d->lock, NULL);
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		d->q[i].efd = -1;
	ret = init_pci_function(d);
	if (!ret)
		ret = add_virtio_caps(d);
	if (ret)
		return ret;
	ret = init_queues(d);
	if (ret)
		virtio_pci_destroy(d);
	return ret;
}

int virtio_pci_start(struct virtio_dev *d)
{
	unsigned i;
	int ret;

	if (!d->vm->pci)
		return -ENODEV;
	ret = pci_bus_add(d->vm->pci, &d->pci);
	if (ret)
		return ret;
	/* the VM is still being built: nothing walks vm->stats yet */
	snprintf(d->stats_name, sizeof(d->stats_name), "%s", d->dev.name);
	d->stats_src.print = stats_print_queues;
	d->stats_src.json = stats_json_queues;
	stats_add_source(&d->vm->stats, &d->stats_src);
	d->started = true;
	sync_ioeventfds(d);
	for (i = 0; i < d->nr_loops; i++) {
		ret = evloop_start(d->loops[i]);
		if (ret)
			return ret;
	}
	return 0;
}

void virtio_pci_destroy(struct virtio_dev *d)
{
	unsigned i;

	if (d->nr_loops) /* not yet destroyed: let the queues finish */
		for (i = 0; i < d->desc.nr_queues; i++) {
			struct qop op;

			queue_call(d, i, qop_flush, &op);
		}

	for (i = 0; i < d->nr_loops; i++) {
		if (d->loops[i])
			evloop_free(d->loops[i]);
		d->loops[i] = NULL;
	}
	d->nr_loops = 0; /* calling this twice is harmless */
	/* after the vCPUs and the control socket stopped (teardown) */
	stats_del_source(&d->vm->stats, &d->stats_src);
	for (i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++) {
		struct virtio_pci_queue *pq = &d->q[i];

		if (pq->efd_registered)
			vm_ioeventfd(d->vm, pq->efd, pq->efd_addr, 2, false,
				     false);
		pq->efd_registered = false;
		if (pq->efd >= 0)
			close(pq->efd);
		pq->efd = -1;
	}
	/* A device on a bus is released by pci_bus_destroy. */
	if (!d->pci.bus)
		pci_dev_release(&d->pci);
	d->started = false;
}

/* ---- the device.h steps, shared by every virtio model ---- */

static int vdev_attach(struct device *dev)
{
	return virtio_pci_start(virtio_dev_of(dev));
}

static void vdev_stop(struct device *dev)
{
	virtio_pci_destroy(virtio_dev_of(dev));
}

static void vdev_free(struct device *dev)
{
	struct virtio_dev *d = virtio_dev_of(dev);

	virtio_pci_destroy(d); /* off the bus now: releases the MSI-X table */
	if (d->desc.ops->free)
		d->desc.ops->free(d);
}

static const struct device_ops virtio_pci_device_ops = {
	.attach = vdev_attach,
	.stop = vdev_stop,
	.free = vdev_free,
};
