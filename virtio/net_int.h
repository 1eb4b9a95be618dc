/* SPDX-License-Identifier: MIT
 * net_int.h - what the virtio-net files share and nobody else needs (the
 * device's API, for the VMM, the tests and the bench, is net.h).
 *
 * The device (VIRTIO 1.x section 5.1 "Network Device") is split along its
 * data paths:
 *   net.c        device creation, virtio-pci glue, configuration space
 *                (5.1.4), feature bits (5.1.3), reset, the tap fd's events
 *   net_rx.c     tap -> guest: receive buffers, MRG_RXBUF, backpressure
 *                (5.1.6.3, 5.1.6.4)
 *   net_tx.c     guest -> tap: header checks, offloads (5.1.6.2)
 *   net_ctrl.c   control queue and the receive filter it sets (5.1.6.5)
 *   net_stats.c  the counters: --stats and the control socket's "info"
 *   net_cfg.c    the --net option (MAC addresses, "tap=...,mac=...")
 *
 * Section numbers are those of VIRTIO 1.2, as everywhere in this code.
 * VIRTIO 1.4 numbers "Device Operation" 5.1.9 instead of 5.1.6: look the
 * sections up by their titles.
 */
#ifndef MINIVMM_VIRTIO_NET_INT_H
#define MINIVMM_VIRTIO_NET_INT_H

#include "virtio/net.h"
#include "vmm/iov.h" /* copies in and out of the chains' iovecs */
#include "vmm/log.h"

#define F(bit) (1ULL << (bit))

/* Add v to a counter of struct net_stats (see there: relaxed atomics). */
static inline void net_cnt(uint64_t *c, uint64_t v)
{
	__atomic_fetch_add(c, v, __ATOMIC_RELAXED);
}

/* The negotiated features, on the I/O or control thread (the acquire
 * pairs with net_set_features(): see there). */
static inline uint64_t net_feats(struct net_dev *n)
{
	return __atomic_load_n(&n->features, __ATOMIC_ACQUIRE);
}

/* vhost=on (vhost.ops is only set by net_vhost_open, so a device a test
 * built from zeroed memory is not). */
static inline bool net_vhost_enabled(const struct net_dev *n)
{
	return n->vhost.ops && n->vhost.fd >= 0;
}

/* Interrupt the driver for queue q if it asked to be (event suppression). */
static inline void net_notify_if_needed(struct net_dev *n, unsigned q)
{
	if (virtq_need_notify(n->vq[q]))
		n->notify(n, q);
}

/* ---- net.c ---- */

/* A warning the guest can cause, against the device's budget (log.h),
 * which the transport's warnings share. */
#define net_warn(n, ...)                                                    \
	pr_warn_limited(&(n)->vdev.dev.warn, (n)->vdev.desc.name, __VA_ARGS__)

/* Watch the tap for what rx_blocked and tx_blocked say (RX/TX thread). */
void net_update_tap_events(struct net_dev *n);
/* Queue q ("receive", "transmit", "control") has a malformed ring (the
 * virtqueue layer says how): DEVICE_NEEDS_RESET until the driver resets. */
void net_queue_broken(struct net_dev *n, unsigned q, const char *name);
/* Serve queue q ("transmit", "control": name) with virtq_drain(): each
 * chain is popped into req and given to handle(n, ...); at most budget of
 * them (0: no limit); the driver is interrupted when it asked to be. A
 * malformed ring is net_queue_broken(). Returns virtq_drain()'s result. */
int net_drain(struct net_dev *n, unsigned q, struct virtq_req *req,
	      unsigned budget, virtq_handle_fn *handle, const char *name);

/* ---- net_rx.c ---- */

/* Forget the pending receive frame and the chains holding it. */
void net_rx_forget(struct net_dev *n);

/* ---- net_ctrl.c ---- */

/* The receive filter and MAC of a reset device: the MAC from the command
 * line, promiscuous, empty MAC table. */
void net_filter_reset(struct net_dev *n);

/* ---- net_stats.c ---- */

/* Count a frame's GSO (*gso) and NEEDS_CSUM (*csum) by its header. */
void net_count_offloads(uint64_t *gso, uint64_t *csum,
			const struct virtio_net_hdr_v1 *h);

#endif
