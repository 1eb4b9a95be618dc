/* SPDX-License-Identifier: MIT
 * net.c - virtio-net device over a tap (VIRTIO 1.x section 5.1 "Network
 * Device"; see net.h): the device itself, without its data paths.
 *
 * Here: the feature bits we offer and their dependencies (5.1.3 "Feature
 * bits", 5.1.3.1 "Feature bit requirements"), the configuration space
 * (5.1.4 "Device configuration layout": MAC, status, one queue pair),
 * device creation and reset (5.1.5 "Device Initialization"), the
 * virtio-pci glue and the tap fd, which carries both directions. The
 * queues (5.1.2 "Virtqueues": receiveq, transmitq, controlq) are served
 * by net_rx.c, net_tx.c and net_ctrl.c; the counters are read out by
 * net_stats.c (net_int.h lists who does what).
 *
 * With vhost=on the receive and transmit queues go to the kernel's
 * vhost-net at DRIVER_OK and come back at reset (net_vhost.h); the tap
 * fd and the queues' kick eventfds are then not read here.
 *
 * Every malformed thing the guest hands us is dropped and counted (a bad
 * header) or puts the device in DEVICE_NEEDS_RESET (a malformed ring, from
 * the virtqueue layer); nothing here trusts a guest length.
 */
#include "net_int.h"

#include "vmm/evloop.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_ids.h>

/* ---- features ---- */

uint64_t net_device_features(unsigned ok)
{
	uint64_t f = F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) |
		     F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_CTRL_VQ) |
		     F(VIRTIO_NET_F_CTRL_RX) | F(VIRTIO_NET_F_CTRL_RX_EXTRA) |
		     F(VIRTIO_NET_F_CTRL_MAC_ADDR) |
		     F(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);

	/* Host side (guest transmits): the tap takes partial checksums and
	 * GSO frames whenever it has a vnet header. UFO only if the kernel
	 * still knows it (same probe as the receive side). */
	f |= F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) |
	     F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_HOST_ECN);
	if (ok & TAP_F_UFO)
		f |= F(VIRTIO_NET_F_HOST_UFO);
	/* Guest side (guest receives): only what TUNSETOFFLOAD accepted. */
	if (ok & TAP_F_CSUM)
		f |= F(VIRTIO_NET_F_GUEST_CSUM);
	if (ok & TAP_F_TSO4)
		f |= F(VIRTIO_NET_F_GUEST_TSO4);
	if (ok & TAP_F_TSO6)
		f |= F(VIRTIO_NET_F_GUEST_TSO6);
	if (ok & TAP_F_TSO_ECN)
		f |= F(VIRTIO_NET_F_GUEST_ECN);
	if (ok & TAP_F_UFO)
		f |= F(VIRTIO_NET_F_GUEST_UFO);
	return f;
}

int net_check_features(uint64_t f)
{
	/* 5.1.3.1: feature bit requirements (bit, needs any of mask) */
	static const struct { unsigned bit; uint64_t needs; } dep[] = {
		{ VIRTIO_NET_F_GUEST_TSO4, F(VIRTIO_NET_F_GUEST_CSUM) },
		{ VIRTIO_NET_F_GUEST_TSO6, F(VIRTIO_NET_F_GUEST_CSUM) },
		{ VIRTIO_NET_F_GUEST_ECN, F(VIRTIO_NET_F_GUEST_TSO4) |
					  F(VIRTIO_NET_F_GUEST_TSO6) },
		{ VIRTIO_NET_F_GUEST_UFO, F(VIRTIO_NET_F_GUEST_CSUM) },
		{ VIRTIO_NET_F_HOST_TSO4, F(VIRTIO_NET_F_CSUM) },
		{ VIRTIO_NET_F_HOST_TSO6, F(VIRTIO_NET_F_CSUM) },
		{ VIRTIO_NET_F_HOST_ECN, F(VIRTIO_NET_F_HOST_TSO4) |
					 F(VIRTIO_NET_F_HOST_TSO6) },
		{ VIRTIO_NET_F_HOST_UFO, F(VIRTIO_NET_F_CSUM) },
		{ VIRTIO_NET_F_CTRL_RX, F(VIRTIO_NET_F_CTRL_VQ) },
		{ VIRTIO_NET_F_CTRL_RX_EXTRA, F(VIRTIO_NET_F_CTRL_RX) },
		{ VIRTIO_NET_F_CTRL_MAC_ADDR, F(VIRTIO_NET_F_CTRL_VQ) },
		{ VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, F(VIRTIO_NET_F_CTRL_VQ) },
	};

	for (unsigned i = 0; i < sizeof(dep) / sizeof(dep[0]); i++)
		if ((f & F(dep[i].bit)) && !(f & dep[i].needs))
			return -EINVAL;
	return 0;
}

unsigned net_tap_offloads(uint64_t f)
{
	unsigned o = 0;

	if (!(f & F(VIRTIO_NET_F_GUEST_CSUM)))
		return 0; /* every segmentation offload needs csum */
	o |= TAP_F_CSUM;
	if (f & F(VIRTIO_NET_F_GUEST_TSO4))
		o |= TAP_F_TSO4;
	if (f & F(VIRTIO_NET_F_GUEST_TSO6))
		o |= TAP_F_TSO6;
	if ((f & F(VIRTIO_NET_F_GUEST_ECN)) && (o & (TAP_F_TSO4 | TAP_F_TSO6)))
		o |= TAP_F_TSO_ECN;
	if (f & F(VIRTIO_NET_F_GUEST_UFO))
		o |= TAP_F_UFO;
	return o;
}

/* The negotiated features are written on the vCPU thread (FEATURES_OK) and
 * read on the I/O thread. release/acquire: each value is one whole store
 * (no tearing); they are all written before DRIVER_OK, whose release store
 * of the status (virtio_pci.c) pairs with the acquire load the I/O thread
 * does before it touches a queue, so no queue work sees older ones. */
void net_set_features(struct net_dev *n, uint64_t features)
{
	__atomic_store_n(&n->features, features, __ATOMIC_RELEASE);
	__atomic_store_n(&n->guest_offloads, features & NET_GUEST_OFFLOADS,
			 __ATOMIC_RELEASE);
	__atomic_store_n(&n->mrg_rxbuf,
			 !!(features & F(VIRTIO_NET_F_MRG_RXBUF)),
			 __ATOMIC_RELEASE);
}

/* ---- the end of a queue's work (for net_rx.c, net_tx.c, net_ctrl.c) ---- */

void net_queue_broken(struct net_dev *n, unsigned q, const char *name)
{
	net_warn(n, "%s: %s queue broken: %s", n->vdev.dev.name, name,
		 virtq_strerror(n->vq[q]->error));
	n->needs_reset(n);
}

/* The queue net_drain() serves, for its notify callback. */
struct net_drain {
	struct net_dev *n;
	unsigned q;
};

static void net_drain_notify(void *arg)
{
	struct net_drain *x = arg;

	x->n->notify(x->n, x->q);
}

int net_drain(struct net_dev *n, unsigned q, struct virtq_req *req,
	      unsigned budget, virtq_handle_fn *handle, const char *name)
{
	struct net_drain x = { n, q };
	int ret = virtq_drain(n->vq[q], req, budget, handle, n,
			      net_drain_notify, &x);

	if (ret < 0)
		net_queue_broken(n, q, name);
	return ret;
}

/* ---- the tap fd: one epoll registration for both directions ---- */

void net_update_tap_events(struct net_dev *n)
{
	uint32_t ev = (n->rx_blocked ? 0 : EPOLLIN) |
		      (n->tx_blocked ? EPOLLOUT : 0);

	if (n->vhost_on)
		ev = 0; /* vhost reads and writes the tap */

	if (ev == n->tap_events)
		return;
	n->tap_events = ev;
	if (n->loop && !n->tap_dead && evloop_mod(n->loop, n->fd, ev))
		net_warn(n, "%s: cannot change tap events", n->vdev.dev.name);
}

void net_tap_event(void *opaque, uint32_t events)
{
	struct net_dev *n = opaque;

	if (events & EPOLLOUT && n->tx_blocked && !n->vhost_on) {
		n->tx_blocked = false;
		net_update_tap_events(n);
		net_tx_process(n);
	}
	if (events & (EPOLLERR | EPOLLHUP)) {
		/* the interface was deleted under us: epoll would report
		 * this for ever, so stop watching; frames are dropped */
		pr_warn("%s: tap '%s' failed (deleted?); network is down",
			n->vdev.dev.name, n->tap.ifname);
		if (n->loop && !n->tap_dead)
			evloop_del(n->loop, n->fd);
		n->tap_dead = true;
		n->rx_blocked = true;
		return;
	}
	if (events & EPOLLIN && !n->rx_blocked && !n->vhost_on)
		net_rx_process(n);
}

/* ---- vhost-net: the receive and transmit queues in the kernel ---- */

/* vhost wants the driver interrupted for queue c->q: the transport sends
 * it as for our own used buffers (MSI-X through its irqfd, pending while
 * masked, or INTx), so the vector may change or be masked at any time. */
static void vhost_call_event(void *opaque, uint32_t events)
{
	struct net_vhost_call *c = opaque;
	uint64_t cnt;

	(void)events;
	if (read(c->n->vhost_call[c->q], &cnt, sizeof(cnt)) != sizeof(cnt))
		return; /* EAGAIN: an earlier wakeup took it */
	c->n->notify(c->n, c->q);
}

/* Where vhost signals queue q: straight into KVM through the irqfd of the
 * queue's MSI-X vector while that vector is deliverable, so an interrupt
 * costs minivmm nothing; otherwise (vector or function masked, MSI-X off
 * so INTx, --irqfd=off, no vector) our call eventfd, which
 * vhost_call_event() hands to the transport: it keeps a masked vector's
 * message pending, raises INTx, or injects with KVM_SIGNAL_MSI. Run at
 * start and whenever the driver touches MSI-X (net_msix_changed). A
 * message vhost sends through the irqfd just after the driver masked the
 * vector, before this ran, arrives as one in flight at the mask would on
 * hardware: early, never lost. */
static void vhost_update_calls(struct net_dev *n)
{
	for (unsigned i = 0; i < NET_VHOST_NR_QUEUES; i++) {
		uint16_t vec = __atomic_load_n(&n->vdev.q[i].msix_vector,
					       __ATOMIC_RELAXED);
		int fd = -1;

		if (vec != VIRTIO_PCI_NO_VECTOR && pci_bus_master(&n->vdev.pci))
			fd = pci_msix_vector_irqfd(&n->vdev.pci, vec);
		if (fd < 0)
			fd = n->vhost_call[i];
		if (fd == n->vhost_target[i])
			continue;
		if (net_vhost_set_call(&n->vhost, i, fd))
			net_warn(n, "net%u: vhost: cannot change queue %u's interrupt",
				 n->index, i);
		else
			n->vhost_target[i] = fd;
	}
}

static void vhost_recheck_event(void *opaque, uint32_t events)
{
	struct net_dev *n = opaque;
	uint64_t cnt;

	(void)events;
	if (read(n->vhost_recheck, &cnt, sizeof(cnt)) != sizeof(cnt))
		return;
	if (n->vhost_on)
		vhost_update_calls(n);
}

/* vhost met a descriptor or ring it cannot use (VHOST_SET_VRING_ERR):
 * the driver's error, which stops vhost's work on that queue. As for a
 * malformed ring of our own: DEVICE_NEEDS_RESET, the driver resets. */
static void vhost_err_event(void *opaque, uint32_t events)
{
	struct net_dev *n = opaque;
	uint64_t cnt;

	(void)events;
	if (read(n->vhost_err, &cnt, sizeof(cnt)) != sizeof(cnt))
		return;
	if (!__atomic_load_n(&n->vhost_on, __ATOMIC_ACQUIRE))
		return;
	net_warn(n, "net%u: vhost-net cannot use a queue's ring (driver error)",
		 n->index);
	virtio_pci_set_needs_reset(&n->vdev);
}

/* The driver changed MSI-X (vCPU thread, maybe under the PCI bus lock):
 * have the RX/TX thread look again where vhost should signal. */
static void net_msix_changed(struct pci_dev *p)
{
	struct net_dev *n = ((struct virtio_dev *)p->opaque)->opaque;
	const uint64_t one = 1;

	if (net_vhost_enabled(n) &&
	    write(n->vhost_recheck, &one, sizeof(one)) < 0)
		return; /* EAGAIN: a recheck is pending anyway */
}

/* DRIVER_OK: hand the receive and transmit queues to vhost. On the RX/TX
 * thread, so no frame of ours is half done. If vhost refuses (features it
 * lacks, a ring it cannot map) the data path stays here. */
static void vhost_start_on_loop(void *opaque)
{
	struct net_dev *n = opaque;
	struct net_vhost_queue q[NET_VHOST_NR_QUEUES];
	const uint64_t one = 1;
	int r;

	if (!net_vhost_enabled(n) || n->vhost_on || n->tap_dead)
		return;
	for (unsigned i = 0; i < NET_VHOST_NR_QUEUES; i++) {
		const struct virtq *vq = n->vq[i];

		if (!vq->ready) {
			net_warn(n, "net%u: vhost: queue %u not enabled; the data path stays in minivmm",
				 n->index, i);
			return;
		}
		q[i] = (struct net_vhost_queue){
			.size = vq->size,
			.base = vq->last_avail_idx,
			.desc_gpa = vq->desc_gpa,
			.avail_gpa = vq->avail_gpa,
			.used_gpa = vq->used_gpa,
			.kick_fd = virtio_pci_queue_kick_fd(&n->vdev, i),
			.call_fd = n->vhost_call[i],
			.err_fd = n->vhost_err,
		};
	}
	r = net_vhost_start(&n->vhost, &n->vm->mem, net_feats(n), q, n->fd);
	if (r && n->vhost.moved)
		/* the data path stays here: where vhost left the rings */
		for (unsigned i = 0; i < NET_VHOST_NR_QUEUES; i++) {
			struct virtq *vq = n->vq[i];

			vq->last_avail_idx = n->vhost.stop_base[i];
			vq->used_idx = __atomic_load_n(&vq->used->idx,
						       __ATOMIC_ACQUIRE);
		}
	if (r) {
		net_warn(n, "net%u: vhost-net refused the queues (%s); the data path stays in minivmm",
			 n->index, strerror(-r));
		return;
	}
	__atomic_store_n(&n->vhost_on, true, __ATOMIC_RELEASE);
	__atomic_fetch_add(&n->vhost_starts, 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < NET_VHOST_NR_QUEUES; i++)
		n->vhost_target[i] = n->vhost_call[i];
	vhost_update_calls(n);
	net_update_tap_events(n);
	for (unsigned i = 0; i < NET_VHOST_NR_QUEUES; i++) {
		if (virtio_pci_queue_watch(&n->vdev, i, false) ||
		    evloop_add(n->loop, n->vhost_call[i], EPOLLIN,
			       vhost_call_event, &n->vcall[i]))
			net_warn(n, "net%u: vhost: cannot watch queue %u's eventfds",
				 n->index, i);
		/* buffers made available before: vhost looks at the ring
		 * when its kick eventfd is written */
		if (write(q[i].kick_fd, &one, sizeof(one)) < 0)
			continue; /* EAGAIN: a kick is pending anyway */
	}
}

/* Reset: take the queues back from vhost (it stops using the rings
 * before this returns). RX/TX thread. */
static void vhost_stop_on_loop(struct net_dev *n)
{
	uint64_t cnt;

	if (!n->vhost_on)
		return;
	net_vhost_stop(&n->vhost);
	for (unsigned i = 0; i < NET_VHOST_NR_QUEUES; i++) {
		evloop_del(n->loop, n->vhost_call[i]);
		if (read(n->vhost_call[i], &cnt, sizeof(cnt)) < 0)
			cnt = 0; /* nothing was pending */
		if (virtio_pci_queue_watch(&n->vdev, i, true))
			net_warn(n, "net%u: cannot watch queue %u's kicks again",
				 n->index, i);
	}
	__atomic_store_n(&n->vhost_on, false, __ATOMIC_RELEASE);
}

/* Open /dev/vhost-net and the call eventfds (vhost=on). 0 or -errno. */
static int vhost_init(struct net_dev *n)
{
	int r = net_vhost_open(&n->vhost, NULL, NET_VHOST_DEV);

	if (r)
		return r;
	n->vhost_recheck = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (n->vhost_recheck < 0)
		return -errno;
	n->vhost_err = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (n->vhost_err < 0)
		return -errno;
	for (unsigned i = 0; i < NET_VHOST_NR_QUEUES; i++) {
		n->vcall[i] = (struct net_vhost_call){ n, i };
		n->vhost_call[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (n->vhost_call[i] < 0)
			return -errno;
	}
	return 0;
}

static void vhost_free(struct net_dev *n)
{
	net_vhost_close(&n->vhost);
	if (n->vhost_recheck >= 0)
		close(n->vhost_recheck);
	n->vhost_recheck = -1;
	if (n->vhost_err >= 0)
		close(n->vhost_err);
	n->vhost_err = -1;
	for (unsigned i = 0; i < NET_VHOST_NR_QUEUES; i++) {
		if (n->vhost_call[i] >= 0)
			close(n->vhost_call[i]);
		n->vhost_call[i] = -1;
	}
}

/* ---- core setup ---- */

void net_core_reset(struct net_dev *n)
{
	net_rx_forget(n);
	n->tx_blocked = false;
	/* stop reading the tap until the driver posts receive buffers */
	n->rx_blocked = true;
	net_update_tap_events(n);
	net_set_features(n, 0);
	net_filter_reset(n);
}

int net_core_init(struct net_dev *n, int fd, const uint8_t mac[6])
{
	n->fd = fd;
	n->rx_buf = malloc(NET_RX_BUF);
	n->held = calloc(VIRTQ_MAX_SIZE, sizeof(*n->held));
	n->rxreq = malloc(sizeof(*n->rxreq));
	n->txreq = malloc(sizeof(*n->txreq));
	n->ctrlreq = malloc(sizeof(*n->ctrlreq));
	n->txiov = calloc(VIRTQ_MAX_SIZE + 1, sizeof(*n->txiov));
	if (!n->rx_buf || !n->held || !n->rxreq || !n->txreq ||
	    !n->ctrlreq || !n->txiov) {
		net_core_free(n);
		return -ENOMEM;
	}
	pthread_mutex_init(&n->lock, NULL);
	memcpy(n->cfg_mac, mac, 6);
	n->tap_events = EPOLLIN; /* what the caller registers */
	net_core_reset(n);
	return 0;
}

void net_core_free(struct net_dev *n)
{
	free(n->rx_buf);
	free(n->held);
	free(n->rxreq);
	free(n->txreq);
	free(n->ctrlreq);
	free(n->txiov);
	n->rx_buf = NULL;
	n->held = NULL;
	n->rxreq = n->txreq = n->ctrlreq = NULL;
	n->txiov = NULL;
}

/* ---- virtio-pci glue ---- */

static struct net_dev *of(struct virtio_dev *d)
{
	return d->opaque;
}

static void pci_notify(struct net_dev *n, unsigned q)
{
	virtio_pci_notify_queue(&n->vdev, q);
}

static void pci_needs_reset(struct net_dev *n)
{
	virtio_pci_set_needs_reset(&n->vdev);
}

static void pci_kick(struct net_dev *n, unsigned q)
{
	virtio_pci_kick_queue(&n->vdev, q);
}

static bool pci_running(struct net_dev *n)
{
	return virtio_pci_running(&n->vdev);
}

/* struct virtio_net_config: mac[6], le16 status, le16 max_virtqueue_pairs */
#define NET_CFG_SIZE 10

static void net_cfg_read(struct virtio_dev *d, unsigned off, void *data,
			 unsigned len)
{
	struct net_dev *n = of(d);
	uint8_t cfg[NET_CFG_SIZE] = { 0 };

	pthread_mutex_lock(&n->lock);
	memcpy(cfg, n->mac, 6);
	pthread_mutex_unlock(&n->lock);
	cfg[6] = VIRTIO_NET_S_LINK_UP; /* status, le16 */
	cfg[8] = 1;                    /* max_virtqueue_pairs, le16 */
	if (off > NET_CFG_SIZE || len > NET_CFG_SIZE - off) {
		memset(data, 0, len);
		return;
	}
	memcpy(data, cfg + off, len);
}

static void net_queue_notify(struct virtio_dev *d, unsigned qidx)
{
	struct net_dev *n = of(d);

	/* vhost reads these queues' kicks itself; a stray call is ignored */
	if (__atomic_load_n(&n->vhost_on, __ATOMIC_ACQUIRE) && qidx != NET_CTRLQ)
		return;
	switch (qidx) {
	case NET_RXQ:
		net_rx_kick(n);
		break;
	case NET_TXQ:
		net_tx_process(n);
		break;
	case NET_CTRLQ:
		net_ctrl_process(n);
		break;
	}
}

static int net_features_ok(struct virtio_dev *d, uint64_t f)
{
	struct net_dev *n = of(d);
	int r;

	if (net_check_features(f)) {
		net_warn(n, "%s: driver features 0x%llx break the feature "
			 "dependencies of 5.1.3.1; FEATURES_OK refused",
			 n->vdev.dev.name, (unsigned long long)f);
		return -EINVAL;
	}
	net_set_features(n, f);
	r = tap_set_offloads(&n->tap, net_tap_offloads(f));
	if (r)
		net_warn(n, "%s: tap '%s' refused offloads 0x%x: %s",
			 n->vdev.dev.name, n->tap.ifname, net_tap_offloads(f),
			 strerror(-r));
	return 0;
}

static void net_driver_ok(struct virtio_dev *d)
{
	struct net_dev *n = of(d);

	if (net_vhost_enabled(n))
		evloop_call(n->loop, vhost_start_on_loop, n);
}

static void reset_on_loop(void *opaque)
{
	vhost_stop_on_loop(opaque);
	net_core_reset(opaque);
}

static void net_reset(struct virtio_dev *d)
{
	struct net_dev *n = of(d);

	/* RX/TX state belongs to the I/O thread: reset it there */
	evloop_call(n->loop, reset_on_loop, n);
	if (tap_set_offloads(&n->tap, 0))
		net_warn(n, "%s: cannot clear tap offloads", n->vdev.dev.name);
}

/* The device's free step (virtio_pci.h): close the tap (a tap we created
 * is removed, a pre-existing one is restored), leave vm->stats, free. */
static void net_free(struct virtio_dev *d)
{
	struct net_dev *n = of(d);

	vhost_free(n); /* the kernel lets go of the tap and guest memory */
	tap_close(&n->tap);
	net_core_free(n);
	stats_del_source(&n->vm->stats, &n->stats_src);
	free(n);
}

static const struct virtio_dev_ops net_ops = {
	.cfg_read = net_cfg_read,
	.queue_notify = net_queue_notify,
	.features_ok = net_features_ok,
	.driver_ok = net_driver_ok,
	.reset = net_reset,
	.free = net_free,
};

int virtio_net_create(struct vm *vm, const struct net_cfg *cfg,
		      unsigned index, struct virtio_dev **out, char *err,
		      size_t errlen)
{
	struct net_dev *n = calloc(1, sizeof(*n));
	struct virtio_dev_desc desc = {
		.name = "virtio-net",
		.device_id = VIRTIO_ID_NET,
		.class_code = 0x020000, /* network controller, Ethernet */
		.nr_queues = NET_NR_QUEUES,
		.queue_size = 256,
		.queues_per_thread = 2, /* RX + TX on one thread with the tap */
		.cfg_size = NET_CFG_SIZE,
		.ops = &net_ops,
	};
	uint8_t mac[6];
	int r;

	if (!n)
		return -ENOMEM;
	n->fd = -1;
	n->tap.fd = -1;
	n->vhost.fd = -1;
	n->vhost_call[0] = n->vhost_call[1] = -1;
	n->vhost_recheck = -1;
	n->vhost_err = -1;
	n->vm = vm;
	n->index = index;
	if (cfg->mac_set)
		memcpy(mac, cfg->mac, 6);
	else
		net_default_mac(cfg->tap, n->index, mac);

	/* first, so a missing /dev/vhost-net leaves no tap behind */
	if (cfg->vhost && (r = vhost_init(n))) {
		snprintf(err, errlen, "vhost=on: %s: %s", NET_VHOST_DEV,
			 strerror(-r));
		goto fail;
	}
	r = tap_open(&n->tap, cfg->tap, cfg->bridge[0] ? cfg->bridge : NULL,
		     cfg->bridge_create);
	if (r) {
		snprintf(err, errlen, "%s", n->tap.err);
		goto fail;
	}
	r = net_core_init(n, n->tap.fd, mac);
	if (r)
		goto fail;
	desc.features = net_device_features(n->tap.offload_ok);
	r = virtio_pci_init(&n->vdev, vm, &desc, n);
	if (r)
		goto fail_core;
	for (unsigned i = 0; i < NET_NR_QUEUES; i++)
		n->vq[i] = &n->vdev.vqs[i];
	n->notify = pci_notify;
	n->needs_reset = pci_needs_reset;
	n->kick = pci_kick;
	n->running = pci_running;
	n->loop = virtio_pci_queue_loop(&n->vdev, NET_RXQ);
	/* registered with the current mask (nothing until RX buffers) */
	r = evloop_add(n->loop, n->fd, n->tap_events, net_tap_event, n);
	if (r)
		goto fail_pci;
	if (net_vhost_enabled(n)) {
		r = evloop_add(n->loop, n->vhost_recheck, EPOLLIN,
			       vhost_recheck_event, n);
		if (!r)
			r = evloop_add(n->loop, n->vhost_err, EPOLLIN,
				       vhost_err_event, n);
		if (r)
			goto fail_pci;
		n->vdev.pci.msix_changed = net_msix_changed;
	}
	/* the VM is still being built: nothing walks vm->stats yet */
	net_stats_attach(n, &vm->stats);
	*out = &n->vdev;
	return 0;

fail_pci:
	virtio_pci_destroy(&n->vdev);
fail_core:
	net_core_free(n);
fail:
	vhost_free(n);
	tap_close(&n->tap);
	free(n);
	return r;
}

void virtio_net_describe(struct virtio_dev *d, char *buf, size_t len)
{
	const struct net_dev *n = d->opaque;

	snprintf(buf, len, "tap %s%s%s, MAC %02x:%02x:%02x:%02x:%02x:%02x%s",
		 n->tap.ifname, n->tap.bridge[0] ? " on bridge " : "",
		 n->tap.bridge, n->cfg_mac[0], n->cfg_mac[1], n->cfg_mac[2],
		 n->cfg_mac[3], n->cfg_mac[4], n->cfg_mac[5],
		 net_vhost_enabled(n) ? ", vhost-net" : "");
}
