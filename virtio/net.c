/* SPDX-License-Identifier: MIT
 * net.c - virtio-net device over a tap (VIRTIO 1.x section 5.1; see net.h).
 *
 * Receive path (host -> guest), on the RX/TX I/O thread:
 *   tap readable -> read one frame (vnet header + Ethernet frame) into a
 *   bounce buffer -> MAC filter -> pop receive chains and copy the frame in;
 *   with MRG_RXBUF the frame flows over as many chains as it needs and the
 *   first chain's header gets num_buffers -> publish all chains at once.
 *   When the guest has no receive buffer left we keep the frame, stop
 *   watching the tap for EPOLLIN (the kernel queues, then drops, further
 *   frames) and ask for a kick; the driver's next RX kick resumes us.
 *
 * Transmit path (guest -> host): on a TX kick pop chains, copy and validate
 * the 12-byte header (a private copy, so the guest cannot change it after
 * the check), then writev(header copy + the frame's guest buffers) to the
 * tap. EAGAIN puts the chain back and waits for EPOLLOUT.
 *
 * Control queue (5.1.6.5): RX modes, MAC filter table, MAC address, and
 * the guest's receive offloads (which the tap's TUNSETOFFLOAD follows).
 *
 * Every malformed thing the guest hands us is dropped and counted (a bad
 * header) or puts the device in DEVICE_NEEDS_RESET (a malformed ring, from
 * the virtqueue layer); nothing here trusts a guest length.
 */
#include "net.h"

#include "vmm/evloop.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <linux/virtio_ids.h>

#define F(bit) (1ULL << (bit))

static inline void cnt(uint64_t *c, uint64_t v)
{
	__atomic_fetch_add(c, v, __ATOMIC_RELAXED);
}

static void rx_drop(struct net_dev *n, enum net_rx_drop why)
{
	cnt(&n->st.rx_drop[why], 1);
	cnt(&n->st.rx_dropped, 1);
}

static void tx_bad(struct net_dev *n, enum net_hdr_err why)
{
	cnt(&n->st.tx_bad[why], 1);
	cnt(&n->st.tx_bad_hdr, 1);
}

/* a GSO super-frame (TSO/UFO), whatever the ECN bit says */
static bool hdr_gso(const struct virtio_net_hdr_v1 *h)
{
	return (h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) !=
	       VIRTIO_NET_HDR_GSO_NONE;
}

static void count_offloads(uint64_t *gso, uint64_t *csum,
			   const struct virtio_net_hdr_v1 *h)
{
	if (hdr_gso(h))
		cnt(gso, 1);
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		cnt(csum, 1);
}

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

static uint64_t feats(struct net_dev *n)
{
	return __atomic_load_n(&n->features, __ATOMIC_ACQUIRE);
}

/* ---- iovec copies (the iovecs come from the virtqueue layer: each one
 * is a checked host range inside guest RAM) ---- */

/* Copy up to len bytes between buf and iov[0..n) starting at byte off of
 * the iovecs: out of the iovecs into buf when into_buf, else the other
 * way. Returns the bytes copied (fewer when the iovecs end first). */
static size_t iov_copy(const struct iovec *iov, unsigned n, size_t off,
		       uint8_t *buf, size_t len, bool into_buf)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t c = iov[i].iov_len - off;
		if (c > len - done)
			c = len - done;
		uint8_t *v = (uint8_t *)iov[i].iov_base + off;
		if (into_buf)
			memcpy(buf + done, v, c);
		else
			memcpy(v, buf + done, c);
		done += c;
		off = 0;
	}
	return done;
}

static size_t iov_copy_from(const struct iovec *iov, unsigned n, size_t off,
			    void *buf, size_t len)
{
	return iov_copy(iov, n, off, buf, len, true);
}

static size_t iov_copy_to(const struct iovec *iov, unsigned n, size_t off,
			  const void *buf, size_t len)
{
	/* buf is only read on this path */
	return iov_copy(iov, n, off, (uint8_t *)(uintptr_t)buf, len, false);
}

/* ---- tap fd interest ---- */

static void update_tap_events(struct net_dev *n)
{
	uint32_t ev = (n->rx_blocked ? 0 : EPOLLIN) |
		      (n->tx_blocked ? EPOLLOUT : 0);

	if (ev == n->tap_events)
		return;
	n->tap_events = ev;
	if (n->loop && !n->tap_dead && evloop_mod(n->loop, n->fd, ev))
		pr_warn("net%u: cannot change tap events", n->index);
}

static void notify_if_needed(struct net_dev *n, unsigned q)
{
	if (virtq_need_notify(n->vq[q]))
		n->notify(n, q);
}

/* ---- receive filter ---- */

static bool mac_in(const uint8_t (*t)[6], unsigned nr, const uint8_t *m)
{
	for (unsigned i = 0; i < nr; i++)
		if (!memcmp(t[i], m, 6))
			return true;
	return false;
}

bool net_rx_accept(struct net_dev *n, const uint8_t dst[6])
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	bool ok;

	pthread_mutex_lock(&n->lock);
	if (n->promisc)
		ok = true;
	else if (!memcmp(dst, bcast, 6))
		ok = !n->nobcast;
	else if (dst[0] & 1)
		ok = !n->nomulti && (n->allmulti || n->multi_overflow ||
				     mac_in(n->multi, n->n_multi, dst));
	else
		ok = !n->nouni && (n->alluni || n->uni_overflow ||
				   !memcmp(dst, n->mac, 6) ||
				   mac_in(n->uni, n->n_uni, dst));
	pthread_mutex_unlock(&n->lock);
	return ok;
}

/* ---- receive ---- */

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

static void rx_forget(struct net_dev *n)
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
			rx_forget(n);
			return 1;
		}
		if (n->nheld == 0) {
			/* remember where the header went, for num_buffers */
			uint32_t need = NET_HDR_LEN;
			n->hdr_niov = 0;
			for (unsigned i = 0; i < r->in_num && need; i++) {
				struct iovec v = in[i];
				if (v.iov_len > need)
					v.iov_len = need;
				n->hdr_iov[n->hdr_niov++] = v;
				need -= (uint32_t)v.iov_len;
			}
		}
		c = (uint32_t)iov_copy_to(in, r->in_num, 0,
					  n->rx_buf + n->rx_done,
					  rem < r->in_len ? rem : r->in_len);
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
			rx_forget(n);
			return 1;
		}
	}
	if (n->nheld > 1) {
		uint8_t nb[2] = { (uint8_t)n->nheld, (uint8_t)(n->nheld >> 8) };
		iov_copy_to(n->hdr_iov, n->hdr_niov,
			    offsetof(struct virtio_net_hdr_v1, num_buffers), nb,
			    2);
	}
	cnt(&n->st.rx_packets, 1);
	cnt(&n->st.rx_bytes, n->rx_len - NET_HDR_LEN);
	count_offloads(&n->st.rx_gso, &n->st.rx_csum, (const void *)n->rx_buf);
	rx_push_held(n);
	rx_forget(n);
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
			pr_warn("net%u: tap read: %s", n->index,
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
		cnt(&n->st.rx_filtered, 1);
		return 1;
	}
	/* 5.1.6.4.1: without GUEST_CSUM flags must be 0 (the tap may set
	 * DATA_VALID); num_buffers is 1 unless rx_deliver() merges. */
	if (!(__atomic_load_n(&n->guest_offloads, __ATOMIC_ACQUIRE) &
	      F(VIRTIO_NET_F_GUEST_CSUM)))
		h->flags = 0;
	h->num_buffers = 1; /* little-endian host (x86) */
	n->rx_len = (uint32_t)len;
	n->rx_done = 0;
	n->nheld = 0;
	return 1;
}

static void rx_block(struct net_dev *n, bool blocked)
{
	n->rx_blocked = blocked;
	update_tap_events(n);
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
			pr_warn("net%u: receive queue broken: %s", n->index,
				virtq_strerror(q->error));
			rx_forget(n);
			rx_block(n, true);
			n->needs_reset(n);
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
		notify_if_needed(n, NET_RXQ);
}

void net_rx_kick(struct net_dev *n)
{
	/* Buffers arrived: no more kicks needed until we run dry again. */
	virtq_disable_notify(n->vq[NET_RXQ]);
	if (n->rx_blocked)
		rx_block(n, false);
	net_rx_process(n);
}

/* ---- transmit ---- */

enum net_hdr_err net_tx_hdr_check(struct virtio_net_hdr_v1 *h,
				  uint32_t frame_len, uint64_t f)
{
	uint8_t gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	uint16_t cs = h->csum_start, co = h->csum_offset;

	if (frame_len < 14)
		return NET_HDR_SHORT;
	if (frame_len > NET_MAX_FRAME)
		return NET_HDR_TOO_BIG;
	/* 5.1.6.2.1: the driver MUST NOT set DATA_VALID or RSC_INFO; the
	 * former is harmless, clear it; anything unknown is refused. */
	h->flags &= ~VIRTIO_NET_HDR_F_DATA_VALID;
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return NET_HDR_FLAGS;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!(f & F(VIRTIO_NET_F_CSUM)))
			return NET_HDR_CSUM;
		/* the 16-bit checksum field lies inside the frame */
		if ((uint32_t)cs + co + 2 > frame_len)
			return NET_HDR_CSUM;
	}
	h->num_buffers = 0; /* unused on transmit */
	if (gso == VIRTIO_NET_HDR_GSO_NONE) {
		if (h->gso_type & VIRTIO_NET_HDR_GSO_ECN)
			return NET_HDR_GSO_TYPE;
		return NET_HDR_OK;
	}
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (!(f & F(VIRTIO_NET_F_HOST_TSO4)))
			return NET_HDR_GSO_TYPE;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!(f & F(VIRTIO_NET_F_HOST_TSO6)))
			return NET_HDR_GSO_TYPE;
		break;
	case VIRTIO_NET_HDR_GSO_UDP:
		if (!(f & F(VIRTIO_NET_F_HOST_UFO)))
			return NET_HDR_GSO_TYPE;
		break;
	default:
		return NET_HDR_GSO_TYPE;
	}
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) &&
	    !(f & F(VIRTIO_NET_F_HOST_ECN)))
		return NET_HDR_GSO_TYPE;
	/* 5.1.6.2.1: a GSO frame needs its checksum offloaded too */
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return NET_HDR_CSUM;
	/* a segment size of 0 or larger than the whole frame, or headers
	 * past its end, cannot describe this frame */
	if (h->gso_size == 0 || h->gso_size > frame_len ||
	    h->hdr_len > frame_len || (uint32_t)cs >= frame_len)
		return NET_HDR_GSO_SIZE;
	return NET_HDR_OK;
}

/* Send one popped chain. 0 done (sent or dropped), -EAGAIN tap full. */
static int tx_one(struct net_dev *n, struct virtq_req *r)
{
	struct virtio_net_hdr_v1 h;
	struct iovec *v = n->txiov;
	unsigned nv = 1;
	size_t skip = NET_HDR_LEN;
	enum net_hdr_err e;
	ssize_t w;

	if (r->out_len < NET_HDR_LEN) {
		tx_bad(n, NET_HDR_SHORT);
		return 0;
	}
	/* private copy: the guest can rewrite its buffer after the check */
	iov_copy_from(r->iov, r->out_num, 0, &h, NET_HDR_LEN);
	e = net_tx_hdr_check(&h, r->out_len - NET_HDR_LEN, feats(n));
	if (e != NET_HDR_OK) {
		pr_trace("net%u: dropped tx frame: bad header (%d)", n->index,
			 e);
		tx_bad(n, e);
		return 0;
	}
	v[0] = (struct iovec){ &h, NET_HDR_LEN };
	for (unsigned i = 0; i < r->out_num; i++) {
		struct iovec s = r->iov[i];
		if (skip >= s.iov_len) {
			skip -= s.iov_len;
			continue;
		}
		s.iov_base = (uint8_t *)s.iov_base + skip;
		s.iov_len -= skip;
		skip = 0;
		v[nv++] = s;
	}
	/* more than UIO_MAXIOV pieces: EINVAL below, dropped and counted */
	w = writev(n->fd, v, (int)nv);
	if (w < 0) {
		if (errno == EAGAIN || errno == ENOBUFS)
			return -EAGAIN;
		/* the kernel refused the frame (EINVAL for a header it
		 * rejects, EIO when the link is down...): drop it */
		cnt(&n->st.tx_errors, 1);
		return 0;
	}
	cnt(&n->st.tx_packets, 1);
	cnt(&n->st.tx_bytes, r->out_len - NET_HDR_LEN);
	count_offloads(&n->st.tx_gso, &n->st.tx_csum, &h);
	return 0;
}

void net_tx_process(struct net_dev *n)
{
	struct virtq *q = n->vq[NET_TXQ];
	unsigned budget = NET_TX_BUDGET;
	int r;

	if (n->tx_blocked)
		return; /* EPOLLOUT will resume us */
	if (n->running && !n->running(n))
		return;
	for (;;) {
		virtq_disable_notify(q);
		while ((r = virtq_pop(q, n->txreq)) == 1) {
			if (tx_one(n, n->txreq) == -EAGAIN) {
				/* keep the chain for later; notifications
				 * stay off until EPOLLOUT */
				virtq_unpop(q);
				n->tx_blocked = true;
				update_tap_events(n);
				notify_if_needed(n, NET_TXQ);
				return;
			}
			virtq_push(q, n->txreq->head, 0);
			if (--budget == 0) {
				/* let RX and other queues run; come back
				 * through the event loop */
				notify_if_needed(n, NET_TXQ);
				n->kick(n, NET_TXQ);
				return;
			}
		}
		if (r < 0) {
			pr_warn("net%u: transmit queue broken: %s", n->index,
				virtq_strerror(q->error));
			n->needs_reset(n);
			return;
		}
		notify_if_needed(n, NET_TXQ);
		if (!virtq_enable_notify(q))
			return;
	}
}

void net_tap_event(void *opaque, uint32_t events)
{
	struct net_dev *n = opaque;

	if (events & EPOLLOUT && n->tx_blocked) {
		n->tx_blocked = false;
		update_tap_events(n);
		net_tx_process(n);
	}
	if (events & (EPOLLERR | EPOLLHUP)) {
		/* the interface was deleted under us: epoll would report
		 * this for ever, so stop watching; frames are dropped */
		pr_warn("net%u: tap '%s' failed (deleted?); network is down",
			n->index, n->tap.ifname);
		if (n->loop && !n->tap_dead)
			evloop_del(n->loop, n->fd);
		n->tap_dead = true;
		n->rx_blocked = true;
		return;
	}
	if (events & EPOLLIN && !n->rx_blocked)
		net_rx_process(n);
}

/* ---- control queue ---- */

#define CTRL_MAX_CMD (2 + 4 + 6 * 1024 + 4 + 6 * 1024)

static uint8_t ctrl_rx(struct net_dev *n, uint8_t cmd, const uint8_t *d,
		       uint32_t len)
{
	uint64_t f = feats(n);
	bool *flag;

	if (len != 1 || d[0] > 1)
		return VIRTIO_NET_ERR;
	switch (cmd) {
	case VIRTIO_NET_CTRL_RX_PROMISC:  flag = &n->promisc; break;
	case VIRTIO_NET_CTRL_RX_ALLMULTI: flag = &n->allmulti; break;
	case VIRTIO_NET_CTRL_RX_ALLUNI:   flag = &n->alluni; break;
	case VIRTIO_NET_CTRL_RX_NOMULTI:  flag = &n->nomulti; break;
	case VIRTIO_NET_CTRL_RX_NOUNI:    flag = &n->nouni; break;
	case VIRTIO_NET_CTRL_RX_NOBCAST:  flag = &n->nobcast; break;
	default:
		return VIRTIO_NET_ERR;
	}
	if (cmd > VIRTIO_NET_CTRL_RX_ALLMULTI &&
	    !(f & F(VIRTIO_NET_F_CTRL_RX_EXTRA)))
		return VIRTIO_NET_ERR;
	pthread_mutex_lock(&n->lock);
	*flag = d[0];
	pthread_mutex_unlock(&n->lock);
	return VIRTIO_NET_OK;
}

/* VIRTIO_NET_CTRL_MAC_TABLE_SET: le32 n, n MACs, le32 m, m MACs; exactly. */
static uint8_t ctrl_mac_table(struct net_dev *n, const uint8_t *d,
			      uint32_t len)
{
	uint32_t nu, nm;
	uint64_t off;

	if (len < 8)
		return VIRTIO_NET_ERR;
	memcpy(&nu, d, 4);
	off = 4 + (uint64_t)nu * 6;
	if (off + 4 > len)
		return VIRTIO_NET_ERR;
	memcpy(&nm, d + off, 4);
	if (off + 4 + (uint64_t)nm * 6 != len)
		return VIRTIO_NET_ERR;
	pthread_mutex_lock(&n->lock);
	n->uni_overflow = nu > NET_MAC_TABLE;
	n->n_uni = n->uni_overflow ? 0 : nu;
	memcpy(n->uni, d + 4, (size_t)n->n_uni * 6);
	n->multi_overflow = nm > NET_MAC_TABLE;
	n->n_multi = n->multi_overflow ? 0 : nm;
	memcpy(n->multi, d + off + 4, (size_t)n->n_multi * 6);
	pthread_mutex_unlock(&n->lock);
	return VIRTIO_NET_OK;
}

/* VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET (5.1.6.5.6.1): le64 of GUEST_* bits,
 * each of which must have been negotiated; the tap follows. */
static uint8_t ctrl_guest_offloads(struct net_dev *n, const uint8_t *d,
				   uint32_t len)
{
	uint64_t v;

	if (len != 8)
		return VIRTIO_NET_ERR;
	memcpy(&v, d, 8);
	if (v & ~(feats(n) & NET_GUEST_OFFLOADS))
		return VIRTIO_NET_ERR;
	if (n->tap.ifname[0] &&
	    tap_set_offloads(&n->tap, net_tap_offloads(v)))
		return VIRTIO_NET_ERR;
	__atomic_store_n(&n->guest_offloads, v, __ATOMIC_RELEASE);
	cnt(&n->st.ctrl_offloads, 1);
	return VIRTIO_NET_OK;
}

static uint8_t ctrl_cmd(struct net_dev *n, const uint8_t *c, uint32_t len)
{
	uint64_t f = feats(n);

	if (len < 2)
		return VIRTIO_NET_ERR;
	switch (c[0]) {
	case VIRTIO_NET_CTRL_RX:
		if (!(f & F(VIRTIO_NET_F_CTRL_RX)))
			return VIRTIO_NET_ERR;
		return ctrl_rx(n, c[1], c + 2, len - 2);
	case VIRTIO_NET_CTRL_MAC:
		if (c[1] == VIRTIO_NET_CTRL_MAC_TABLE_SET &&
		    (f & F(VIRTIO_NET_F_CTRL_RX)))
			return ctrl_mac_table(n, c + 2, len - 2);
		if (c[1] == VIRTIO_NET_CTRL_MAC_ADDR_SET &&
		    (f & F(VIRTIO_NET_F_CTRL_MAC_ADDR)) && len == 2 + 6) {
			pthread_mutex_lock(&n->lock);
			memcpy(n->mac, c + 2, 6);
			pthread_mutex_unlock(&n->lock);
			return VIRTIO_NET_OK;
		}
		return VIRTIO_NET_ERR;
	case VIRTIO_NET_CTRL_GUEST_OFFLOADS:
		if (c[1] != VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET ||
		    !(f & F(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS)))
			return VIRTIO_NET_ERR;
		return ctrl_guest_offloads(n, c + 2, len - 2);
	default:
		return VIRTIO_NET_ERR;
	}
}

void net_ctrl_process(struct net_dev *n)
{
	struct virtq *q = n->vq[NET_CTRLQ];
	struct virtq_req *r = n->ctrlreq;
	int ret;

	for (;;) {
		virtq_disable_notify(q);
		while ((ret = virtq_pop(q, r)) == 1) {
			uint8_t buf[256], *c = buf, ack = VIRTIO_NET_ERR;
			uint32_t len = r->out_len;

			if (r->in_len >= 1 && len <= CTRL_MAX_CMD) {
				if (len > sizeof(buf))
					c = malloc(len);
				if (c) {
					iov_copy_from(r->iov, r->out_num, 0, c,
						      len);
					ack = ctrl_cmd(n, c, len);
				}
				if (c != buf)
					free(c);
			}
			cnt(ack == VIRTIO_NET_OK ? &n->st.ctrl_ok
						 : &n->st.ctrl_err, 1);
			if (r->in_len >= 1) {
				iov_copy_to(r->iov + r->out_num, r->in_num, 0,
					    &ack, 1);
				virtq_push(q, r->head, 1);
			} else {
				virtq_push(q, r->head, 0);
			}
		}
		if (ret < 0) {
			pr_warn("net%u: control queue broken: %s", n->index,
				virtq_strerror(q->error));
			n->needs_reset(n);
			return;
		}
		notify_if_needed(n, NET_CTRLQ);
		if (!virtq_enable_notify(q))
			return;
	}
}

/* ---- counters (--stats, the control socket) ---- */

static const char *const rx_drop_name[NET_RX_DROP_NR][2] = {
	[NET_RX_RUNT] = { "runt", "runt frame from the tap" },
	[NET_RX_OVERSIZE] = { "oversize", "oversize read" },
	[NET_RX_BUF_SMALL] = { "buf_small", "guest buffer too small" },
	[NET_RX_RING_SMALL] = { "ring_small", "frame bigger than ring" },
};

static const char *const tx_bad_name[NET_HDR_ERR_NR][2] = {
	[NET_HDR_OK] = { NULL, NULL },
	[NET_HDR_SHORT] = { "short", "chain or frame too short" },
	[NET_HDR_TOO_BIG] = { "too_big", "frame too big" },
	[NET_HDR_FLAGS] = { "flags", "unknown flags" },
	[NET_HDR_CSUM] = { "csum", "bad checksum request" },
	[NET_HDR_GSO_TYPE] = { "gso_type", "gso type not negotiated" },
	[NET_HDR_GSO_SIZE] = { "gso_size", "gso fields past frame" },
};

void net_stats_read(const struct net_dev *n, struct net_stats *o)
{
	const uint64_t *src = (const uint64_t *)&n->st;
	uint64_t *dst = (uint64_t *)o;

	/* struct net_stats is nothing but uint64_t counters */
	for (size_t i = 0; i < sizeof(*o) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

const char *net_offloads_str(uint64_t v, char *buf, size_t len)
{
	static const struct { unsigned bit; const char *name; } o[] = {
		{ VIRTIO_NET_F_GUEST_CSUM, "csum" },
		{ VIRTIO_NET_F_GUEST_TSO4, "tso4" },
		{ VIRTIO_NET_F_GUEST_TSO6, "tso6" },
		{ VIRTIO_NET_F_GUEST_ECN, "ecn" },
		{ VIRTIO_NET_F_GUEST_UFO, "ufo" },
	};
	size_t at = 0;

	if (!len)
		return buf;
	buf[0] = 0;
	for (unsigned i = 0; i < sizeof(o) / sizeof(o[0]); i++) {
		if (!(v & F(o[i].bit)))
			continue;
		int r = snprintf(buf + at, len - at, "%s%s", at ? "," : "",
				 o[i].name);
		if (r < 0 || (size_t)r >= len - at) {
			buf[at] = 0; /* whole names only */
			break;
		}
		at += (size_t)r;
	}
	if (!at)
		snprintf(buf, len, "none");
	return buf;
}

static unsigned tap_offloads_now(const struct net_dev *n)
{
	return __atomic_load_n(&n->tap.offloads, __ATOMIC_RELAXED);
}

void net_stats_print(const struct net_dev *n, FILE *f)
{
	uint64_t go = __atomic_load_n(&n->guest_offloads, __ATOMIC_ACQUIRE);
	struct net_stats s;
	char ob[64];

	net_stats_read(n, &s);
	fprintf(f, "minivmm: net%u counters (tap %s%s%s)\n", n->index,
		n->tap.ifname[0] ? n->tap.ifname : "-",
		n->tap.bridge[0] ? " on bridge " : "", n->tap.bridge);
	fprintf(f, "  %-26s %s (0x%llx)\n", "guest receive offloads",
		net_offloads_str(go, ob, sizeof(ob)), (unsigned long long)go);
	if (n->tap.ifname[0])
		fprintf(f, "  %-26s 0x%x\n", "tap offloads (TUN_F_*)",
			tap_offloads_now(n));
#define L(name, v) fprintf(f, "  %-26s %12llu\n", name, (unsigned long long)(v))
	L("rx packets", s.rx_packets);
	L("rx bytes", s.rx_bytes);
	L("rx gso frames", s.rx_gso);
	L("rx needs-csum frames", s.rx_csum);
	L("rx filtered (MAC/mode)", s.rx_filtered);
	L("rx dropped", s.rx_dropped);
	for (unsigned i = 0; i < NET_RX_DROP_NR; i++)
		fprintf(f, "    %-24s %12llu\n", rx_drop_name[i][1],
			(unsigned long long)s.rx_drop[i]);
	L("tx packets", s.tx_packets);
	L("tx bytes", s.tx_bytes);
	L("tx gso frames", s.tx_gso);
	L("tx needs-csum frames", s.tx_csum);
	L("tx bad header (dropped)", s.tx_bad_hdr);
	for (unsigned i = 1; i < NET_HDR_ERR_NR; i++)
		fprintf(f, "    %-24s %12llu\n", tx_bad_name[i][1],
			(unsigned long long)s.tx_bad[i]);
	L("tx refused by the tap", s.tx_errors);
	L("ctrl commands ok", s.ctrl_ok);
	L("ctrl commands failed", s.ctrl_err);
	L("ctrl offload changes", s.ctrl_offloads);
#undef L
}

/* snprintf at buf[*at], the way stats_sources_json() chains them: *at
 * counts what would have been written, buf gets what fits */
static void jput(char *buf, size_t len, size_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void jput(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(*at < len ? buf + *at : NULL, *at < len ? len - *at : 0,
		      fmt, ap);
	va_end(ap);
	if (r > 0)
		*at += (size_t)r;
}

int net_stats_json(const struct net_dev *n, char *buf, size_t len)
{
	uint64_t go = __atomic_load_n(&n->guest_offloads, __ATOMIC_ACQUIRE);
	struct net_stats s;
	size_t at = 0;

	if (len)
		buf[0] = 0;
	net_stats_read(n, &s);
	/* interface names are [A-Za-z0-9_.-]: nothing to escape (tap.c) */
	jput(buf, len, &at, "\"net%u\":{\"tap\":\"%s\",\"guest_offloads\":%llu,"
	     "\"tap_offloads\":%u,", n->index, n->tap.ifname,
	     (unsigned long long)go, tap_offloads_now(n));
#define J(name, v) jput(buf, len, &at, "\"%s\":%llu,", name, (unsigned long long)(v))
	J("rx_packets", s.rx_packets);
	J("rx_bytes", s.rx_bytes);
	J("rx_gso", s.rx_gso);
	J("rx_csum", s.rx_csum);
	J("rx_filtered", s.rx_filtered);
	J("rx_dropped", s.rx_dropped);
	jput(buf, len, &at, "\"rx_drop\":{");
	for (unsigned i = 0; i < NET_RX_DROP_NR; i++)
		jput(buf, len, &at, "%s\"%s\":%llu", i ? "," : "",
		     rx_drop_name[i][0], (unsigned long long)s.rx_drop[i]);
	jput(buf, len, &at, "},");
	J("tx_packets", s.tx_packets);
	J("tx_bytes", s.tx_bytes);
	J("tx_gso", s.tx_gso);
	J("tx_csum", s.tx_csum);
	J("tx_bad_hdr", s.tx_bad_hdr);
	jput(buf, len, &at, "\"tx_bad\":{");
	for (unsigned i = 1; i < NET_HDR_ERR_NR; i++)
		jput(buf, len, &at, "%s\"%s\":%llu", i > 1 ? "," : "",
		     tx_bad_name[i][0], (unsigned long long)s.tx_bad[i]);
	jput(buf, len, &at, "},");
	J("tx_errors", s.tx_errors);
	J("ctrl_ok", s.ctrl_ok);
	J("ctrl_err", s.ctrl_err);
#undef J
	jput(buf, len, &at, "\"ctrl_offloads\":%llu}",
	     (unsigned long long)s.ctrl_offloads);
	return (int)at;
}

static const struct net_dev *of_src(const struct stats_source *src)
{
	return (const struct net_dev *)((const char *)src -
					offsetof(struct net_dev, stats_src));
}

static void src_print(const struct stats_source *src, FILE *f)
{
	net_stats_print(of_src(src), f);
}

static int src_json(const struct stats_source *src, char *buf, size_t len)
{
	return net_stats_json(of_src(src), buf, len);
}

void net_stats_attach(struct net_dev *n, struct vm_stats *vs)
{
	n->stats_src.print = src_print;
	n->stats_src.json = src_json;
	stats_add_source(vs, &n->stats_src);
}

/* ---- core setup ---- */

static void filter_reset(struct net_dev *n)
{
	pthread_mutex_lock(&n->lock);
	memcpy(n->mac, n->cfg_mac, 6);
	/* Receive everything until the driver sets a mode (a driver without
	 * CTRL_RX never will); the MAC table starts empty (5.1.6.5.2). */
	n->promisc = true;
	n->allmulti = n->alluni = n->nomulti = n->nouni = n->nobcast = false;
	n->n_uni = n->n_multi = 0;
	n->uni_overflow = n->multi_overflow = false;
	pthread_mutex_unlock(&n->lock);
}

void net_core_reset(struct net_dev *n)
{
	rx_forget(n);
	n->tx_blocked = false;
	/* stop reading the tap until the driver posts receive buffers */
	n->rx_blocked = true;
	update_tap_events(n);
	net_set_features(n, 0);
	filter_reset(n);
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

static struct net_dev *devices;
static pthread_mutex_t devices_lock = PTHREAD_MUTEX_INITIALIZER;

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
		pr_warn("net%u: driver features 0x%llx break the feature "
			"dependencies of 5.1.3.1; FEATURES_OK refused",
			n->index, (unsigned long long)f);
		return -EINVAL;
	}
	net_set_features(n, f);
	r = tap_set_offloads(&n->tap, net_tap_offloads(f));
	if (r)
		pr_warn("net%u: tap '%s' refused offloads 0x%x: %s", n->index,
			n->tap.ifname, net_tap_offloads(f), strerror(-r));
	return 0;
}

static void reset_on_loop(void *opaque)
{
	net_core_reset(opaque);
}

static void net_reset(struct virtio_dev *d)
{
	struct net_dev *n = of(d);

	/* RX/TX state belongs to the I/O thread: reset it there */
	evloop_call(n->loop, reset_on_loop, n);
	if (tap_set_offloads(&n->tap, 0))
		pr_warn("net%u: cannot clear tap offloads", n->index);
}

static const struct virtio_dev_ops net_ops = {
	.cfg_read = net_cfg_read,
	.queue_notify = net_queue_notify,
	.features_ok = net_features_ok,
	.reset = net_reset,
};

int virtio_net_create(struct vm *vm, const struct net_cfg *cfg)
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
	n->vm = vm;
	/* The index is the device's place on the command line: devices are
	 * created in that order and a failure ends the VM, so it is the
	 * number this VM has so far. It restarts from 0 with the VM (not a
	 * process-wide counter), keeping the default MAC stable across
	 * --on-reboot=restart. */
	pthread_mutex_lock(&devices_lock);
	for (struct net_dev *o = devices; o; o = o->next)
		n->index += o->vm == vm;
	pthread_mutex_unlock(&devices_lock);
	if (cfg->mac_set)
		memcpy(mac, cfg->mac, 6);
	else
		net_default_mac(cfg->tap, n->index, mac);

	r = tap_open(&n->tap, cfg->tap, cfg->bridge[0] ? cfg->bridge : NULL,
		     cfg->bridge_create);
	if (r)
		goto fail;
	r = net_core_init(n, n->tap.fd, mac);
	if (r)
		goto fail;
	desc.features = net_device_features(n->tap.offload_ok);
	r = virtio_pci_init(&n->vdev, vm, &desc, n);
	if (r) {
		pr_err("virtio-net: cannot create the PCI device: %s",
		       strerror(-r));
		goto fail_core;
	}
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
	r = virtio_pci_start(&n->vdev);
	if (r) {
		pr_err("virtio-net: cannot start the PCI device: %s",
		       strerror(-r));
		goto fail_pci;
	}
	pthread_mutex_lock(&devices_lock);
	n->next = devices;
	devices = n;
	pthread_mutex_unlock(&devices_lock);
	/* the VM is still being built: nothing walks vm->stats yet */
	net_stats_attach(n, &vm->stats);
	pr_info("net%u: tap %s%s%s, MAC %02x:%02x:%02x:%02x:%02x:%02x",
		n->index, n->tap.ifname, n->tap.bridge[0] ? " on bridge " : "",
		n->tap.bridge, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return 0;

fail_pci:
	virtio_pci_destroy(&n->vdev);
fail_core:
	net_core_free(n);
fail:
	tap_close(&n->tap);
	free(n);
	return r;
}

void virtio_net_destroy_all(struct vm *vm)
{
	pthread_mutex_lock(&devices_lock);
	for (struct net_dev *n = devices; n; n = n->next) {
		if (n->vm != vm || n->stopped)
			continue;
		virtio_pci_destroy(&n->vdev); /* stops the I/O threads */
		tap_close(&n->tap);
		net_core_free(n);
		/* n->vdev.pci stays referenced by the PCI bus until the bus
		 * is destroyed: virtio_net_free_all frees n after that. */
		n->stopped = true;
	}
	pthread_mutex_unlock(&devices_lock);
}

void virtio_net_free_all(struct vm *vm)
{
	struct net_dev **pn, *n;

	pthread_mutex_lock(&devices_lock);
	for (pn = &devices; (n = *pn);) {
		if (n->vm != vm || !n->stopped) {
			pn = &n->next;
			continue;
		}
		*pn = n->next;
		virtio_pci_destroy(&n->vdev); /* releases what the bus left */
		stats_del_source(&vm->stats, &n->stats_src);
		free(n);
	}
	pthread_mutex_unlock(&devices_lock);
}
