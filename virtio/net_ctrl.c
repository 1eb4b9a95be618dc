/* SPDX-License-Identifier: MIT
 * net_ctrl.c - virtio-net control queue and receive filter (VIRTIO 1.x
 * section 5.1.6.5 "Control Virtqueue": 5.1.6.5.1 "Packet Receive
 * Filtering" (RX modes), 5.1.6.5.2 "Setting MAC Address Filtering" (MAC
 * table, MAC address), 5.1.6.5.6 "Offloads State Configuration" (the
 * guest's receive offloads, which the tap's TUNSETOFFLOAD follows)).
 *
 * Commands run on the control queue's own thread. The filter they set is
 * read by the receive path (net_rx_accept(), on the RX/TX thread) and the
 * MAC by the configuration space (net.c), all under n->lock. A malformed
 * or unknown command is answered VIRTIO_NET_ERR and counted.
 */
#include "net_int.h"

#include <stdlib.h>
#include <string.h>

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

void net_filter_reset(struct net_dev *n)
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

/* ---- control queue ---- */

#define CTRL_MAX_CMD (2 + 4 + 6 * 1024 + 4 + 6 * 1024)
/* Commands per run of the control queue, then on at a kick of our own. */
#define CTRL_BUDGET 32

static uint8_t ctrl_rx(struct net_dev *n, uint8_t cmd, const uint8_t *d,
		       uint32_t len)
{
	uint64_t f = net_feats(n);
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
	if (v & ~(net_feats(n) & NET_GUEST_OFFLOADS))
		return VIRTIO_NET_ERR;
	if (n->tap.ifname[0] &&
	    tap_set_offloads(&n->tap, net_tap_offloads(v)))
		return VIRTIO_NET_ERR;
	__atomic_store_n(&n->guest_offloads, v, __ATOMIC_RELEASE);
	net_cnt(&n->st.ctrl_offloads, 1);
	return VIRTIO_NET_OK;
}

static uint8_t ctrl_cmd(struct net_dev *n, const uint8_t *c, uint32_t len)
{
	uint64_t f = net_feats(n);

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

/* virtq_drain() callback: run one command and write its ack (5.1.6.5):
 * the command in the readable part, the ack byte first in the writable
 * part; a chain without room for the ack is returned unanswered. */
static int ctrl_drain_req(void *opaque, struct virtq_req *r,
			  uint32_t *written)
{
	struct net_dev *n = opaque;
	uint8_t buf[256], *c = buf, ack = VIRTIO_NET_ERR;
	uint32_t len = r->out_len;

	if (r->in_len >= 1 && len <= CTRL_MAX_CMD) {
		if (len > sizeof(buf))
			c = malloc(len);
		if (c) {
			iov_to_buf(r->iov, r->out_num, 0, c, len);
			ack = ctrl_cmd(n, c, len);
		}
		if (c != buf)
			free(c);
	}
	net_cnt(ack == VIRTIO_NET_OK ? &n->st.ctrl_ok : &n->st.ctrl_err, 1);
	if (r->in_len >= 1)
		*written = (uint32_t)iov_from_buf(r->iov + r->out_num,
						  r->in_num, 0, &ack, 1);
	return VIRTQ_REQ_DONE;
}

void net_ctrl_process(struct net_dev *n)
{
	if (net_drain(n, NET_CTRLQ, n->ctrlreq, CTRL_BUDGET, ctrl_drain_req,
		      "control") == VIRTQ_DRAIN_BUDGET)
		n->kick(n, NET_CTRLQ);
}
