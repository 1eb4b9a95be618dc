/* SPDX-License-Identifier: MIT
 * net_tx.c - virtio-net transmit path, guest -> tap (VIRTIO 1.x section
 * 5.1.6.2 "Packet Transmission"; the header is struct virtio_net_hdr of
 * 5.1.6, the offloads it asks for are the HOST_* features of 5.1.3).
 *
 * On a TX kick, on the RX/TX I/O thread: pop chains, copy and validate the
 * 12-byte header (a private copy, so the guest cannot change it after the
 * check), then writev(header copy + the frame's guest buffers) to the tap.
 * Checksum and segmentation requests pass to the tap as they are: its
 * vnet header is the same struct. EAGAIN puts the chain back and waits for
 * EPOLLOUT (net_tap_event() in net.c). A malformed header drops the frame
 * and is counted by reason; nothing here trusts a guest length.
 */
#include "net_int.h"

#include "vmm/log.h"

#include <errno.h>
#include <sys/uio.h>

static void tx_bad(struct net_dev *n, enum net_hdr_err why)
{
	net_cnt(&n->st.tx_bad[why], 1);
	net_cnt(&n->st.tx_bad_hdr, 1);
}

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
	enum net_hdr_err e;
	ssize_t w;
	int nv;

	if (r->out_len < NET_HDR_LEN) {
		tx_bad(n, NET_HDR_SHORT);
		return 0;
	}
	/* private copy: the guest can rewrite its buffer after the check */
	iov_to_buf(r->iov, r->out_num, 0, &h, NET_HDR_LEN);
	e = net_tx_hdr_check(&h, r->out_len - NET_HDR_LEN, net_feats(n));
	if (e != NET_HDR_OK) {
		pr_trace("%s: dropped tx frame: bad header (%d)", n->vdev.dev.name,
			 e);
		tx_bad(n, e);
		return 0;
	}
	/* the header copy, then the frame: the guest's buffers past its
	 * header (txiov has room for every iovec of a chain, plus one) */
	v[0] = (struct iovec){ &h, NET_HDR_LEN };
	nv = iov_slice(r->iov, r->out_num, NET_HDR_LEN,
		       r->out_len - NET_HDR_LEN, v + 1, VIRTQ_MAX_SIZE);
	if (nv < 0) { /* cannot happen: out_len is the sum of these iovecs */
		net_cnt(&n->st.tx_errors, 1);
		return 0;
	}
	/* more than UIO_MAXIOV pieces: EINVAL below, dropped and counted */
	w = writev(n->fd, v, nv + 1);
	if (w < 0) {
		if (errno == EAGAIN || errno == ENOBUFS)
			return -EAGAIN;
		/* the kernel refused the frame (EINVAL for a header it
		 * rejects, EIO when the link is down...): drop it */
		net_cnt(&n->st.tx_errors, 1);
		return 0;
	}
	net_cnt(&n->st.tx_packets, 1);
	net_cnt(&n->st.tx_bytes, r->out_len - NET_HDR_LEN);
	net_count_offloads(&n->st.tx_gso, &n->st.tx_csum, &h);
	return 0;
}

/* virtq_drain() callback: send one chain (transmit buffers are only
 * read, so nothing is written into it). */
static int tx_drain_req(void *opaque, struct virtq_req *r, uint32_t *written)
{
	struct net_dev *n = opaque;

	(void)written;
	if (tx_one(n, r) == -EAGAIN) {
		/* the chain goes back for later; notifications stay off
		 * until EPOLLOUT */
		n->tx_blocked = true;
		net_update_tap_events(n);
		return VIRTQ_REQ_RETRY;
	}
	return VIRTQ_REQ_DONE;
}

void net_tx_process(struct net_dev *n)
{
	if (n->tx_blocked)
		return; /* EPOLLOUT will resume us */
	if (n->running && !n->running(n))
		return;
	/* VIRTQ_DRAIN_STOPPED: the tap is full, EPOLLOUT resumes us */
	if (net_drain(n, NET_TXQ, n->txreq, NET_TX_BUDGET, tx_drain_req,
		      "transmit") == VIRTQ_DRAIN_BUDGET)
		/* let RX and other queues run; come back through the event
		 * loop */
		n->kick(n, NET_TXQ);
}
