/* SPDX-License-Identifier: MIT
 * net_rx.c - virtio-net receive path, tap -> guest (VIRTIO 1.x sections
 * 5.1.6.3 "Setting Up Receive Buffers" and 5.1.6.4 "Processing of Incoming
 * Packets"; the filter of 5.1.6.5.1 is in net_ctrl.c).
 *
 * On the RX/TX I/O thread: tap readable -> read one frame (vnet header +
 * Ethernet frame) into a bounce buffer -> MAC filter -> pop receive chains
 * and copy the frame in; with MRG_RXBUF the frame flows over as many chains
 * as it needs and the first chain's header gets num_buffers -> publish all
 * chains at once.
 *
 * Backpressure: when the guest has no receive buffer left we keep the
 * frame, stop watching the tap for EPOLLIN (the kernel queues, then drops,
 * further frames) and ask for a kick; the driver's next RX kick resumes us.
 */
#include "net_int.h"

#include "vmm/log.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

static void rx_drop(struct net_dev *n, enum net_rx_drop why)
{
	net_cnt(&n->st.rx_drop[why], 1);
	net_cnt(&n->st.rx_dropped, 1);
}

/* Publish n->held[0..nheld) as used in one go: the spec (5.1.6.4.2) wants
 * all buffers of a frame visible together, and virtq_push() publishes one
 * element at a time. Mirrors virtq_push() on the public ring fields. */
static void rx_push_held(struct net_dev *n)
{
	struct virtq *q = n->vq[NET_RXQ];

	if (!q->ready || !n->nheld)
		return;
	for (unsigned i = 0; i < n->nheld; i++) {
		struct vring_used_elem *e =
			&q->used->ring[(uint16_t)(q->used_idx + i) &
				       (q->size - 1)];
		__atomic_store_n(&e->id, (uint32_t)n->held[i].head,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&e->len, n->held[i].len, __ATOMIC_RELAXED);
	}
	q->used_idx = (uint16_t)(q->used_idx + n->nheld);
	/* release: the elements and the frame bytes must be visible to the
	 * driver before the index that hands them all over at once */
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
	n->nheld = 0;
}

void net_rx_forget(struct net_dev *n)
{
	n->rx_len = n->rx_done = 0;
	n->nheld = 0;
	n->hdr_niov = 0;
}

/* Put the pending frame into receive chains. 1 delivered (or dropped),
 * 0 out of buffers (state kept, resume later), -EINVAL ring broken. */
static int rx_deliver(struct net_dev *n)
{
	struct virtq *q = n->vq[NET_RXQ];
	struct virtq_req *r = n->rxreq;
	bool mrg = __atomic_load_n(&n->mrg_rxbuf, __ATOMIC_ACQUIRE);

	while (n->rx_done < n->rx_len) {
		int ret = virtq_pop(q, r);
		if (ret <= 0)
			return ret;
		const struct iovec *in = r->iov + r->out_num;
		uint32_t rem = n->rx_len - n->rx_done;
		uint32_t c;

		if (n->nheld == 0 &&
		    (r->in_len < NET_HDR_LEN || (!mrg && r->in_len < rem))) {
			/* A first buffer that cannot hold the header (a MUST
			 * of 5.1.6.3.1) or, without MRG_RXBUF, the whole
			 * frame (a SHOULD): drop the frame. Keep the buffer
			 * for a smaller frame unless it cannot even hold a
			 * header; that one goes back empty. */
			if (r->in_len < NET_HDR_LEN)
				virtq_push(q, r->head, 0);
			else
				virtq_unpop(q);
			rx_drop(n, NET_RX_BUF_SMALL);
			net_rx_forget(n);
			return 1;
		}
		if (n->nheld == 0) {
			/* remember where the header went, for num_buffers:
			 * in_len >= NET_HDR_LEN and no iovec is empty, so
			 * the header bytes fit hdr_iov[] */
			int k = iov_slice(in, r->in_num, 0, NET_HDR_LEN,
					  n->hdr_iov, NET_HDR_LEN);
			n->hdr_niov = k < 0 ? 0 : (unsigned)k;
		}
		if (rem > r->in_len)
			rem = r->in_len; /* what this chain takes */
		c = (uint32_t)iov_from_buf(in, r->in_num, 0,
					   n->rx_buf + n->rx_done, rem);
		n->held[n->nheld].head = r->head;
		n->held[n->nheld].len = c;
		n->nheld++;
		n->rx_done += c;
		if (n->rx_done < n->rx_len && n->nheld >= q->size) {
			/* Every descriptor of the ring is holding part of
			 * this frame and it still does not fit: the driver
			 * can never give us more. Return the buffers empty
			 * (the driver drops them as short frames). */
			for (unsigned i = 0; i < n->nheld; i++)
				n->held[i].len = 0;
			rx_push_held(n);
			rx_drop(n, NET_RX_RING_SMALL);
			net_rx_forget(n);
			return 1;
		}
	}
	if (n->nheld > 1) {
		uint8_t nb[2] = { (uint8_t)n->nheld, (uint8_t)(n->nheld >> 8) };
		iov_from_buf(n->hdr_iov, n->hdr_niov,
			     offsetof(struct virtio_net_hdr_v1, num_buffers),
			     nb, 2);
	}
	net_cnt(&n->st.rx_packets, 1);
	net_cnt(&n->st.rx_bytes, n->rx_len - NET_HDR_LEN);
	net_count_offloads(&n->st.rx_gso, &n->st.rx_csum,
			   (const void *)n->rx_buf);
	rx_push_held(n);
	net_rx_forget(n);
	return 1;
}

/* Read one frame from the tap into the bounce buffer. 1 got one (possibly
 * dropped already: rx_len stays 0), 0 nothing to read. */
static int rx_read(struct net_dev *n)
{
	struct virtio_net_hdr_v1 *h = (void *)n->rx_buf;
	ssize_t len = read(n->fd, n->rx_buf, NET_RX_BUF);

	if (len < 0) {
		if (errno != EAGAIN && errno != EINTR)
			net_warn(n, "%s: tap read: %s", n->vdev.dev.name,
				 strerror(errno));
		return 0;
	}
	if (len < NET_HDR_LEN + 14) {
		rx_drop(n, NET_RX_RUNT);
		return 1;
	}
	if (len >= NET_RX_BUF) {
		rx_drop(n, NET_RX_OVERSIZE); /* possibly truncated */
		return 1;
	}
	if (!net_rx_accept(n, n->rx_buf + NET_HDR_LEN)) {
		net_cnt(&n->st.rx_filtered, 1);
		return 1;
	}
	/* 5.1.6.4.1: without GUEST_CSUM flags must be 0 (the tap may set
	 * DATA_VALID); num_buffers is 1 unless rx_deliver() merges. */
	if (!(__atomic_load_n(&n->guest_offloads, __ATOMIC_ACQUIRE) &
	      F(VIRTIO_NET_F_GUEST_CSUM)))
		h->flags = 0;
	h->num_buffers = 1; /* little-endian host (x86) */
	n->rx_len = (uint32_t)len; /* rx_done, nheld: 0 since net_rx_forget() */
	return 1;
}

static void rx_block(struct net_dev *n, bool blocked)
{
	n->rx_blocked = blocked;
	net_update_tap_events(n);
}

void net_rx_process(struct net_dev *n)
{
	struct virtq *q = n->vq[NET_RXQ];
	bool pushed = false;

	if (n->running && !n->running(n)) {
		/* no buffers may be used before DRIVER_OK (3.1.1) or while
		 * the device needs a reset: wait for a kick */
		rx_block(n, true);
		return;
	}
	for (unsigned budget = NET_RX_BUDGET; budget; budget--) {
		if (!n->rx_len) {
			if (!rx_read(n))
				break;  /* tap empty: stay on EPOLLIN */
			if (!n->rx_len)
				continue; /* dropped */
		}
		int r = rx_deliver(n);
		if (r == 1) {
			pushed = true;
			continue;
		}
		if (r < 0) {
			net_queue_broken(n, NET_RXQ, "receive");
			net_rx_forget(n);
			rx_block(n, true);
			break;
		}
		/* Out of buffers: ask for a kick, re-check (the driver may
		 * have added buffers before it saw the request), else stop
		 * reading the tap until net_rx_kick(). */
		if (virtq_enable_notify(q))
			continue;
		rx_block(n, true);
		break;
	}
	if (pushed)
		net_notify_if_needed(n, NET_RXQ);
}

void net_rx_kick(struct net_dev *n)
{
	/* Buffers arrived: no more kicks needed until we run dry again. */
	virtq_disable_notify(n->vq[NET_RXQ]);
	if (n->rx_blocked)
		rx_block(n, false);
	net_rx_process(n);
}
