/* SPDX-License-Identifier: MIT
 * test_virtio_net.c - virtio-net device core (virtio/net.c): MAC parsing and
 * default MACs, --net option parsing, transmit header validation, the
 * transmit and receive paths (plain and mergeable buffers, backpressure,
 * EAGAIN), the receive filter, the control queue, and the counters (drops
 * by reason, offloaded frames, the --stats section and its JSON).
 *
 * The device core is driven directly: three driver-side rings in a fake
 * guest memory (net_vqdrv.h) and a SOCK_SEQPACKET socketpair standing in
 * for the tap (it keeps frame boundaries like a tap fd does).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log_capture.h"
#include "net_vqdrv.h"
#include "virtio/net.h"
#include "vmm/log.h"

#define F(b) (1ULL << (b))
#define MEM_SIZE (4u << 20)
#define BUF_BASE 0x100000u /* data buffers from here */

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct fx {
	uint8_t *mem;
	struct guest_mem gm;
	struct drv_vq dq[NET_NR_QUEUES];
	struct net_dev n;
	int peer;                /* the "host kernel" end of the fake tap */
	unsigned notified[NET_NR_QUEUES], resets, kicks[NET_NR_QUEUES];
	uint64_t next_buf;
};

static void t_notify(struct net_dev *n, unsigned q)
{
	((struct fx *)n->test_opaque)->notified[q]++;
}

static void t_reset(struct net_dev *n)
{
	((struct fx *)n->test_opaque)->resets++;
}

static void t_kick(struct net_dev *n, unsigned q)
{
	((struct fx *)n->test_opaque)->kicks[q]++;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];
	uint64_t at = 0;

	log_quiet = true;
	f->mem = aligned_alloc(4096, MEM_SIZE);
	memset(f->mem, 0, MEM_SIZE);
	assert_int_equal(gm_add_region(&f->gm, 0, MEM_SIZE, f->mem), 0);
	for (int i = 0; i < NET_NR_QUEUES; i++) {
		/* a big TX ring, to get past the TX budget in one run */
		at = drv_vq_setup(&f->dq[i], &f->gm, f->mem, at,
				  i == NET_TXQ ? 512 : 64);
		assert_true(at != 0);
		f->n.vq[i] = &f->dq[i].q;
	}
	assert_true(at <= BUF_BASE);
	f->next_buf = BUF_BASE;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK,
				    0, sv), 0);
	f->peer = sv[1];
	assert_int_equal(net_core_init(&f->n, sv[0], MAC), 0);
	f->n.notify = t_notify;
	f->n.needs_reset = t_reset;
	f->n.kick = t_kick;
	f->n.test_opaque = f;
	net_set_features(&f->n, F(VIRTIO_NET_F_MRG_RXBUF) |
			 F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) |
			 F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_CTRL_VQ) |
			 F(VIRTIO_NET_F_CTRL_RX) | F(VIRTIO_NET_F_CTRL_MAC_ADDR));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	close(f->n.fd);
	close(f->peer);
	net_core_free(&f->n);
	free(f->mem);
	free(f);
	return 0;
}

static uint64_t alloc_buf(struct fx *f, uint32_t len)
{
	uint64_t g = f->next_buf;

	f->next_buf = (f->next_buf + len + 15) & ~15ULL;
	assert_true(f->next_buf < MEM_SIZE);
	return g;
}

/* An Ethernet frame of len bytes to dst, bytes after the header = pattern */
static void make_frame(uint8_t *p, uint32_t len, const uint8_t dst[6],
		       uint8_t seed)
{
	memcpy(p, dst, 6);
	memcpy(p + 6, "\x02\x00\x00\x00\x00\x01", 6);
	p[12] = 0x08;
	p[13] = 0x00;
	for (uint32_t i = 14; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* ---- MAC and option parsing ---- */

static void test_parse_mac(void **state)
{
	uint8_t m[6];

	(void)state;
	assert_int_equal(net_parse_mac("52:54:00:12:34:56", m), 0);
	assert_memory_equal(m, MAC, 6);
	assert_int_equal(net_parse_mac("52-54-00-AB-cd-Ef", m), 0);
	assert_int_equal(m[3], 0xab);
	assert_int_equal(m[5], 0xef);
	assert_int_equal(net_parse_mac("52:54:00:12:34", m), -EINVAL);
	assert_int_equal(net_parse_mac("52:54:00:12:34:56:78", m), -EINVAL);
	assert_int_equal(net_parse_mac("52:54:00:12:34:5g", m), -EINVAL);
	assert_int_equal(net_parse_mac("5:54:00:12:34:56", m), -EINVAL);
	assert_int_equal(net_parse_mac("525400123456", m), -EINVAL);
	assert_int_equal(net_parse_mac("", m), -EINVAL);
	assert_int_equal(net_parse_mac("01:00:5e:00:00:01", m), -EINVAL);
	assert_int_equal(net_parse_mac("00:00:00:00:00:00", m), -EINVAL);
	/* failure leaves the output alone */
	assert_int_equal(m[3], 0xab);
}

static void test_default_mac(void **state)
{
	uint8_t a[6], b[6], c[6], d[6];

	(void)state;
	net_default_mac("tap0", 0, a);
	net_default_mac("tap0", 0, b);
	net_default_mac("tap0", 1, c);
	net_default_mac("tap1", 0, d);
	assert_memory_equal(a, b, 6);          /* stable */
	assert_memory_not_equal(a, c, 6);      /* index matters */
	assert_memory_not_equal(a, d, 6);      /* name matters */
	for (int i = 0; i < 3; i++) {
		uint8_t *m = i == 0 ? a : i == 1 ? c : d;
		assert_int_equal(m[0] & 3, 2); /* local, unicast */
	}
}

static void test_cfg_parse(void **state)
{
	struct net_cfg c;

	(void)state;
	assert_int_equal(net_cfg_parse("tap=tap0", &c), 0);
	assert_string_equal(c.tap, "tap0");
	assert_false(c.mac_set);
	assert_int_equal(c.bridge[0], 0);
	assert_int_equal(net_cfg_parse("tap=t1,bridge=br0,bridge-create=on,"
				       "mac=52:54:00:12:34:56", &c), 0);
	assert_string_equal(c.bridge, "br0");
	assert_true(c.bridge_create);
	assert_true(c.mac_set);
	assert_memory_equal(c.mac, MAC, 6);
	assert_int_equal(net_cfg_parse("bridge=br0", &c), -EINVAL);
	assert_int_equal(net_cfg_parse("tap=t,bridge-create=on", &c), -EINVAL);
	assert_int_equal(net_cfg_parse("tap=t,mac=xx", &c), -EINVAL);
	assert_int_equal(net_cfg_parse("tap=t,foo=1", &c), -EINVAL);
	assert_int_equal(net_cfg_parse("tap", &c), -EINVAL);
	assert_int_equal(net_cfg_parse("tap=aaaaaaaaaaaaaaaaaaaa", &c),
			 -EINVAL);
}

static void test_features(void **state)
{
	uint64_t all, noufo;

	(void)state;
	all = net_device_features(0x1f);
	noufo = net_device_features(0x0f);
	assert_true(all & F(VIRTIO_NET_F_GUEST_UFO));
	assert_true(all & F(VIRTIO_NET_F_HOST_UFO));
	assert_false(noufo & F(VIRTIO_NET_F_GUEST_UFO));
	assert_false(noufo & F(VIRTIO_NET_F_HOST_UFO));
	assert_true(noufo & F(VIRTIO_NET_F_GUEST_TSO4));
	assert_false(net_device_features(0) & F(VIRTIO_NET_F_GUEST_CSUM));
	assert_true(all & F(VIRTIO_NET_F_MRG_RXBUF));
	/* 5.1.3.1 dependencies */
	assert_int_equal(net_check_features(all), 0);
	assert_int_equal(net_check_features(0), 0);
	assert_int_equal(net_check_features(F(VIRTIO_NET_F_GUEST_TSO4)),
			 -EINVAL);
	assert_int_equal(net_check_features(F(VIRTIO_NET_F_HOST_TSO6)),
			 -EINVAL);
	assert_int_equal(net_check_features(F(VIRTIO_NET_F_CSUM) |
					    F(VIRTIO_NET_F_HOST_ECN)),
			 -EINVAL);
	assert_int_equal(net_check_features(F(VIRTIO_NET_F_CTRL_RX)), -EINVAL);
	assert_int_equal(net_check_features(F(VIRTIO_NET_F_CTRL_VQ) |
					    F(VIRTIO_NET_F_CTRL_RX_EXTRA)),
			 -EINVAL);
	assert_int_equal(net_check_features(F(VIRTIO_NET_F_GUEST_CSUM) |
					    F(VIRTIO_NET_F_GUEST_TSO6) |
					    F(VIRTIO_NET_F_GUEST_ECN)), 0);
	/* guest features -> TUNSETOFFLOAD */
	assert_int_equal(net_tap_offloads(F(VIRTIO_NET_F_GUEST_TSO4)), 0);
	assert_int_equal(net_tap_offloads(F(VIRTIO_NET_F_GUEST_CSUM) |
					  F(VIRTIO_NET_F_GUEST_TSO4) |
					  F(VIRTIO_NET_F_GUEST_ECN)),
			 TAP_F_CSUM | TAP_F_TSO4 | TAP_F_TSO_ECN);
	assert_int_equal(net_tap_offloads(F(VIRTIO_NET_F_GUEST_CSUM) |
					  F(VIRTIO_NET_F_GUEST_ECN)),
			 TAP_F_CSUM);
}

/* ---- transmit header validation ---- */

static void test_hdr_check(void **state)
{
	uint64_t f = F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4);
	struct virtio_net_hdr_v1 h;

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_int_equal(net_tx_hdr_check(&h, 60, f), NET_HDR_OK);
	assert_int_equal(net_tx_hdr_check(&h, 13, f), NET_HDR_SHORT);
	assert_int_equal(net_tx_hdr_check(&h, NET_MAX_FRAME + 1, f),
			 NET_HDR_TOO_BIG);
	h.flags = 0x80;
	assert_int_equal(net_tx_hdr_check(&h, 60, f), NET_HDR_FLAGS);
	h.flags = VIRTIO_NET_HDR_F_DATA_VALID; /* cleared, accepted */
	assert_int_equal(net_tx_hdr_check(&h, 60, f), NET_HDR_OK);
	assert_int_equal(h.flags, 0);
	/* partial checksum */
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = 34;
	h.csum_offset = 16;
	assert_int_equal(net_tx_hdr_check(&h, 60, f), NET_HDR_OK);
	assert_int_equal(net_tx_hdr_check(&h, 51, f), NET_HDR_CSUM);
	assert_int_equal(net_tx_hdr_check(&h, 60, 0), NET_HDR_CSUM);
	h.csum_start = 0xffff;
	h.csum_offset = 0xffff; /* no 16-bit overflow in the bound */
	assert_int_equal(net_tx_hdr_check(&h, 60, f), NET_HDR_CSUM);
	/* TSO */
	h.csum_start = 34;
	h.csum_offset = 16;
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = 1448;
	h.hdr_len = 66;
	assert_int_equal(net_tx_hdr_check(&h, 9000, f), NET_HDR_OK);
	assert_int_equal(net_tx_hdr_check(&h, 1000, f), NET_HDR_GSO_SIZE);
	h.gso_size = 0;
	assert_int_equal(net_tx_hdr_check(&h, 9000, f), NET_HDR_GSO_SIZE);
	h.gso_size = 1448;
	h.hdr_len = 9001;
	assert_int_equal(net_tx_hdr_check(&h, 9000, f), NET_HDR_GSO_SIZE);
	h.hdr_len = 66;
	assert_int_equal(net_tx_hdr_check(&h, 9000, F(VIRTIO_NET_F_CSUM)),
			 NET_HDR_GSO_TYPE); /* HOST_TSO4 not negotiated */
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	assert_int_equal(net_tx_hdr_check(&h, 9000, f), NET_HDR_GSO_TYPE);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	assert_int_equal(net_tx_hdr_check(&h, 9000, f), NET_HDR_GSO_TYPE);
	assert_int_equal(net_tx_hdr_check(&h, 9000,
					  f | F(VIRTIO_NET_F_HOST_ECN)),
			 NET_HDR_OK);
	h.gso_type = 5; /* unknown (USO) */
	assert_int_equal(net_tx_hdr_check(&h, 9000, ~0ULL), NET_HDR_GSO_TYPE);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.flags = 0; /* GSO without NEEDS_CSUM */
	assert_int_equal(net_tx_hdr_check(&h, 9000, f), NET_HDR_CSUM);
	h.gso_type = VIRTIO_NET_HDR_GSO_ECN; /* ECN bit on a non-GSO frame */
	assert_int_equal(net_tx_hdr_check(&h, 60, f), NET_HDR_GSO_TYPE);
}

/* ---- transmit path ---- */

/* Post a TX chain: 12-byte header + frame, cut into pieces of `piece`. */
static uint16_t post_tx(struct fx *f, const struct virtio_net_hdr_v1 *h,
			const uint8_t *frame, uint32_t len, uint32_t piece)
{
	uint8_t tmp[2048];
	struct drv_buf b[64];
	uint32_t total = NET_HDR_LEN + len, off = 0;
	unsigned nb = 0;
	uint64_t g = alloc_buf(f, total);

	assert_true(total <= sizeof(tmp));
	memcpy(tmp, h, NET_HDR_LEN);
	memcpy(tmp + NET_HDR_LEN, frame, len);
	memcpy(f->mem + g, tmp, total);
	while (off < total) {
		uint32_t c = total - off < piece ? total - off : piece;
		b[nb++] = (struct drv_buf){ g + off, c, false };
		off += c;
	}
	return drv_add(&f->dq[NET_TXQ], b, nb);
}

static void test_tx(void **state)
{
	struct fx *f = *state;
	struct virtio_net_hdr_v1 h = { 0 };
	uint8_t frame[200], got[2048];
	uint32_t id, len;
	uint16_t h1, h2, h3;

	make_frame(frame, sizeof(frame), MAC, 1);
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = 34;
	h.csum_offset = 6;
	h.num_buffers = 0x1234; /* the device zeroes it */
	h1 = post_tx(f, &h, frame, sizeof(frame), 5); /* header split too */
	h.gso_type = 9; /* malformed: dropped */
	h2 = post_tx(f, &h, frame, sizeof(frame), 4096);
	h.gso_type = 0;
	h3 = post_tx(f, &h, frame, 100, 4096);
	net_tx_process(&f->n);

	assert_int_equal(recv(f->peer, got, sizeof(got), 0),
			 NET_HDR_LEN + sizeof(frame));
	assert_int_equal(got[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(got[10] | got[11], 0);
	assert_memory_equal(got + NET_HDR_LEN, frame, sizeof(frame));
	assert_int_equal(recv(f->peer, got, sizeof(got), 0), NET_HDR_LEN + 100);
	assert_memory_equal(got + NET_HDR_LEN, frame, 100);
	assert_int_equal(recv(f->peer, got, sizeof(got), 0), -1);

	/* all three chains come back, in order, with 0 bytes written */
	assert_true(drv_get_used(&f->dq[NET_TXQ], &id, &len));
	assert_int_equal(id, h1);
	assert_int_equal(len, 0);
	assert_true(drv_get_used(&f->dq[NET_TXQ], &id, &len));
	assert_int_equal(id, h2);
	assert_true(drv_get_used(&f->dq[NET_TXQ], &id, &len));
	assert_int_equal(id, h3);
	assert_int_equal(f->n.st.tx_packets, 2);
	assert_int_equal(f->n.st.tx_bad_hdr, 1);
	assert_true(f->notified[NET_TXQ] >= 1);
	assert_int_equal(f->resets, 0);
}

static void test_tx_short_chain(void **state)
{
	struct fx *f = *state;
	struct drv_buf b = { alloc_buf(f, 8), 8, false };
	uint32_t id, len;

	drv_add(&f->dq[NET_TXQ], &b, 1); /* shorter than the header */
	net_tx_process(&f->n);
	assert_true(drv_get_used(&f->dq[NET_TXQ], &id, &len));
	assert_int_equal(f->n.st.tx_bad_hdr, 1);
	assert_int_equal(f->n.st.tx_packets, 0);
}

static void test_tx_eagain(void **state)
{
	struct fx *f = *state;
	struct virtio_net_hdr_v1 h = { 0 };
	uint8_t frame[1000], got[2048];
	uint32_t id, len;
	int sent = 0, buf = 4096;

	/* fill the "tap" until it refuses */
	setsockopt(f->n.fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	make_frame(frame, sizeof(frame), MAC, 3);
	memcpy(got, &h, NET_HDR_LEN);
	while (send(f->n.fd, frame, sizeof(frame), 0) > 0)
		sent++;
	assert_int_equal(errno, EAGAIN);

	post_tx(f, &h, frame, sizeof(frame), 4096);
	net_tx_process(&f->n);
	assert_true(f->n.tx_blocked);
	assert_true(f->n.tap_events & EPOLLOUT);
	assert_false(drv_get_used(&f->dq[NET_TXQ], &id, &len));
	/* a kick while blocked does nothing */
	net_tx_process(&f->n);
	assert_false(drv_get_used(&f->dq[NET_TXQ], &id, &len));

	while (recv(f->peer, got, sizeof(got), 0) > 0)
		sent--;
	assert_int_equal(sent, 0);
	net_tap_event(&f->n, EPOLLOUT);
	assert_false(f->n.tx_blocked);
	assert_false(f->n.tap_events & EPOLLOUT);
	assert_true(drv_get_used(&f->dq[NET_TXQ], &id, &len));
	assert_int_equal(recv(f->peer, got, sizeof(got), 0),
			 NET_HDR_LEN + sizeof(frame));
	assert_memory_equal(got + NET_HDR_LEN, frame, sizeof(frame));
}

static void test_tx_budget(void **state)
{
	struct fx *f = *state;
	struct virtio_net_hdr_v1 h = { 0 };
	uint8_t frame[60], got[256];
	uint32_t id, len;
	int n = 0, used = 0;

	make_frame(frame, sizeof(frame), MAC, 4);
	for (int i = 0; i < 300; i++) {
		f->next_buf = BUF_BASE; /* all chains share one buffer */
		post_tx(f, &h, frame, sizeof(frame), 4096);
	}
	net_tx_process(&f->n);
	while (recv(f->peer, got, sizeof(got), 0) > 0)
		n++;
	/* one run sends NET_TX_BUDGET frames, then asks to be re-run
	 * through the event loop instead of starving the receive side */
	assert_int_equal(n, NET_TX_BUDGET);
	assert_int_equal(f->kicks[NET_TXQ], 1);
	net_tx_process(&f->n); /* the re-kick */
	while (recv(f->peer, got, sizeof(got), 0) > 0)
		n++;
	assert_int_equal(n, 300);
	assert_int_equal(f->kicks[NET_TXQ], 1);
	while (drv_get_used(&f->dq[NET_TXQ], &id, &len))
		used++;
	assert_int_equal(used, 300);
}

/* ---- receive path ---- */

static void host_send(struct fx *f, const uint8_t dst[6], uint32_t len,
		      uint8_t flags, uint8_t seed, uint8_t *copy)
{
	uint8_t p[NET_HDR_LEN + 9000];

	memset(p, 0, NET_HDR_LEN);
	p[0] = flags;
	p[10] = 0xaa; /* garbage where num_buffers goes: device overwrites */
	p[11] = 0xbb;
	make_frame(p + NET_HDR_LEN, len, dst, seed);
	if (copy)
		memcpy(copy, p, NET_HDR_LEN + len);
	assert_int_equal(send(f->peer, p, NET_HDR_LEN + len, 0),
			 NET_HDR_LEN + len);
}

static uint16_t post_rx(struct fx *f, uint32_t len, uint64_t *gpa)
{
	struct drv_buf b = { alloc_buf(f, len), len, true };

	if (gpa)
		*gpa = b.gpa;
	memset(f->mem + b.gpa, 0xee, len);
	return drv_add(&f->dq[NET_RXQ], &b, 1);
}

static void test_rx_single(void **state)
{
	struct fx *f = *state;
	uint8_t sent[NET_HDR_LEN + 100];
	uint64_t g;
	uint32_t id, len;
	uint16_t head;

	net_set_features(&f->n, 0); /* no MRG_RXBUF, no GUEST_CSUM */
	head = post_rx(f, 1526, &g);
	host_send(f, MAC, 100, VIRTIO_NET_HDR_F_DATA_VALID, 7, sent);
	net_rx_kick(&f->n);
	assert_true(drv_get_used(&f->dq[NET_RXQ], &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, NET_HDR_LEN + 100);
	assert_int_equal(f->mem[g], 0);        /* flags cleared (no CSUM) */
	assert_int_equal(f->mem[g + 10], 1);   /* num_buffers = 1 */
	assert_int_equal(f->mem[g + 11], 0);
	assert_memory_equal(f->mem + g + NET_HDR_LEN, sent + NET_HDR_LEN, 100);
	assert_int_equal(f->mem[g + NET_HDR_LEN + 100], 0xee); /* no overrun */
	assert_int_equal(f->n.st.rx_packets, 1);
	assert_int_equal(f->notified[NET_RXQ], 1);
	/* tap empty now: still reading (EPOLLIN), not blocked */
	assert_false(f->n.rx_blocked);
	assert_true(f->n.tap_events & EPOLLIN);
}

static void test_rx_too_big_without_mrg(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;
	uint16_t head;

	net_set_features(&f->n, F(VIRTIO_NET_F_GUEST_CSUM));
	head = post_rx(f, 200, NULL);
	host_send(f, MAC, 500, 0, 1, NULL);  /* does not fit: dropped */
	host_send(f, MAC, 150, VIRTIO_NET_HDR_F_DATA_VALID, 2, NULL);
	net_rx_kick(&f->n);
	assert_int_equal(f->n.st.rx_dropped, 1);
	/* the buffer was kept for the next (small) frame */
	assert_true(drv_get_used(&f->dq[NET_RXQ], &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, NET_HDR_LEN + 150);
	/* GUEST_CSUM negotiated: DATA_VALID passes through */
	assert_int_equal(f->mem[BUF_BASE], VIRTIO_NET_HDR_F_DATA_VALID);
}

static void test_rx_mergeable(void **state)
{
	struct fx *f = *state;
	uint8_t sent[NET_HDR_LEN + 1500], got[NET_HDR_LEN + 1500];
	uint64_t g[5];
	uint16_t heads[5];
	uint32_t id = 0, len = 0, off = 0;

	for (int i = 0; i < 5; i++)
		heads[i] = post_rx(f, 512, &g[i]);
	host_send(f, MAC, 1500, 0, 9, sent);
	net_rx_kick(&f->n);
	/* 1512 bytes over 512 + 512 + 488, published together */
	assert_int_equal(drv_used_idx(&f->dq[NET_RXQ]), 3);
	for (int i = 0; i < 3; i++) {
		assert_true(drv_get_used(&f->dq[NET_RXQ], &id, &len));
		assert_int_equal(id, heads[i]);
		assert_int_equal(len, i < 2 ? 512 : 488);
		memcpy(got + off, f->mem + g[i], len);
		off += len;
	}
	assert_int_equal(got[10], 3); /* num_buffers */
	assert_int_equal(got[11], 0);
	assert_memory_equal(got + NET_HDR_LEN, sent + NET_HDR_LEN, 1500);
	assert_false(drv_get_used(&f->dq[NET_RXQ], &id, &len));
	assert_int_equal(f->n.st.rx_packets, 1);
	assert_int_equal(f->n.st.rx_bytes, 1500);
}

/* Header split over two descriptors of the first chain: num_buffers lands
 * in the right bytes. */
static void test_rx_mergeable_split_header(void **state)
{
	struct fx *f = *state;
	struct drv_buf b[2];
	uint32_t id, len;

	b[0] = (struct drv_buf){ alloc_buf(f, 11), 11, true };
	b[1] = (struct drv_buf){ alloc_buf(f, 100), 100, true };
	drv_add(&f->dq[NET_RXQ], b, 2);
	post_rx(f, 1000, NULL);
	host_send(f, MAC, 300, 0, 5, NULL);
	net_rx_kick(&f->n);
	assert_true(drv_get_used(&f->dq[NET_RXQ], &id, &len));
	assert_int_equal(len, 111);
	assert_true(drv_get_used(&f->dq[NET_RXQ], &id, &len));
	assert_int_equal(len, NET_HDR_LEN + 300 - 111);
	assert_int_equal(f->mem[b[0].gpa + 10], 2); /* num_buffers lo */
	assert_int_equal(f->mem[b[1].gpa], 0);      /* num_buffers hi */
}

static void test_rx_backpressure(void **state)
{
	struct fx *f = *state;
	uint8_t sent[NET_HDR_LEN + 1500];
	uint64_t g[4];
	uint32_t id, len;

	/* frames arrive, the guest has no buffers */
	host_send(f, MAC, 1500, 0, 11, sent);
	host_send(f, MAC, 60, 0, 12, NULL);
	net_rx_process(&f->n);
	assert_true(f->n.rx_blocked);
	assert_false(f->n.tap_events & EPOLLIN); /* stop reading the tap */
	assert_int_equal(f->n.st.rx_packets, 0);
	assert_int_equal(f->notified[NET_RXQ], 0);

	/* two small buffers: the first frame needs three; held, still
	 * blocked, nothing published */
	post_rx(f, 512, &g[0]);
	post_rx(f, 512, &g[1]);
	net_rx_kick(&f->n);
	assert_true(f->n.rx_blocked);
	assert_int_equal(drv_used_idx(&f->dq[NET_RXQ]), 0);

	/* more buffers: both frames delivered, reading resumes */
	post_rx(f, 512, &g[2]);
	post_rx(f, 512, &g[3]);
	net_rx_kick(&f->n);
	assert_false(f->n.rx_blocked);
	assert_true(f->n.tap_events & EPOLLIN);
	assert_int_equal(f->n.st.rx_packets, 2);
	assert_int_equal(drv_used_idx(&f->dq[NET_RXQ]), 4);
	assert_int_equal(f->mem[g[0] + 10], 3);
	assert_memory_equal(f->mem + g[0] + NET_HDR_LEN, sent + NET_HDR_LEN,
			    500);
	assert_memory_equal(f->mem + g[2], sent + 1024, 1512 - 1024);
	assert_int_equal(f->mem[g[3] + 10], 1);
	for (int i = 0; i < 4; i++)
		assert_true(drv_get_used(&f->dq[NET_RXQ], &id, &len));
}

static void test_rx_ring_too_small(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;
	unsigned n = 0;

	/* every descriptor of the 64-entry ring as a 16-byte buffer: a
	 * 1500-byte frame can never fit; the device must not wait for ever */
	for (int i = 0; i < 64; i++)
		post_rx(f, 16, NULL);
	host_send(f, MAC, 1500, 0, 1, NULL);
	net_rx_kick(&f->n);
	while (drv_get_used(&f->dq[NET_RXQ], &id, &len)) {
		assert_int_equal(len, 0);
		n++;
	}
	assert_int_equal(n, 64);
	assert_int_equal(f->n.st.rx_dropped, 1);
	assert_int_equal(f->resets, 0);
}

static void test_rx_runt_and_first_buffer_too_small(void **state)
{
	struct fx *f = *state;
	uint8_t p[NET_HDR_LEN + 4] = { 0 };
	uint32_t id, len;
	uint16_t tiny;

	assert_int_equal(send(f->peer, p, sizeof(p), 0), (int)sizeof(p));
	tiny = post_rx(f, 8, NULL);  /* cannot hold a header */
	post_rx(f, 2048, NULL);
	host_send(f, MAC, 100, 0, 1, NULL);
	host_send(f, MAC, 100, 0, 2, NULL);
	net_rx_kick(&f->n);
	assert_true(drv_get_used(&f->dq[NET_RXQ], &id, &len));
	assert_int_equal(id, tiny);
	assert_int_equal(len, 0);
	assert_true(drv_get_used(&f->dq[NET_RXQ], &id, &len));
	assert_int_equal(len, NET_HDR_LEN + 100);
	assert_int_equal(f->n.st.rx_dropped, 2); /* the runt + 1st frame */
	assert_int_equal(f->n.st.rx_packets, 1);
}

static void test_rx_broken_ring(void **state)
{
	struct fx *f = *state;
	struct vring_avail *av = (void *)(f->mem + f->dq[NET_RXQ].avail);

	host_send(f, MAC, 100, 0, 1, NULL);
	av->idx = 1000; /* more than the ring size ahead */
	net_rx_kick(&f->n);
	assert_int_equal(f->resets, 1);
	assert_true(f->n.rx_blocked);
	assert_false(f->n.tap_events & EPOLLIN);
}

/* 10000 cycles of a transmit ring broken and reset: the "queue broken"
 * warnings share the device's budget (LOG_BUDGET_MAX lines and the one
 * saying the rest are suppressed). */
static void test_broken_queue_cycles_bounded_log(void **state)
{
	struct fx *f = *state;
	struct virtq *q = &f->dq[NET_TXQ].q;
	struct vring_avail *av = (void *)(f->mem + f->dq[NET_TXQ].avail);
	struct log_capture cap;
	char last[256];
	unsigned lines;

	log_guest_total = (struct log_budget){ 0 }; /* earlier tests' warnings */
	log_capture_start(&cap);
	for (int i = 0; i < 10000; i++) {
		av->idx = 1000; /* more than the ring size ahead */
		net_tx_process(&f->n);
		av->idx = 0; /* the driver resets and sets the ring up again */
		assert_int_equal(virtq_enable(q), 0);
	}
	lines = log_capture_end(&cap, last, sizeof(last));
	print_message("10000 broken-queue cycles: %u lines on stderr\n",
		      lines);
	assert_int_equal(f->resets, 10000);
	assert_true(lines <= LOG_BUDGET_MAX + 1);
	assert_non_null(strstr(last, "further warnings suppressed"));
}

static void test_rx_reset(void **state)
{
	struct fx *f = *state;

	post_rx(f, 512, NULL);
	host_send(f, MAC, 1500, 0, 1, NULL);
	net_rx_kick(&f->n); /* held, waiting for more buffers */
	assert_true(f->n.rx_len > 0);
	net_core_reset(&f->n);
	assert_int_equal(f->n.rx_len, 0);
	assert_int_equal(f->n.nheld, 0);
	assert_true(f->n.rx_blocked);
	assert_int_equal(f->n.features, 0);
	assert_true(f->n.promisc);
}

static bool not_running(struct net_dev *n)
{
	(void)n;
	return false;
}

/* Before DRIVER_OK (or while NEEDS_RESET) no buffer is touched. */
static void test_not_running(void **state)
{
	struct fx *f = *state;
	struct virtio_net_hdr_v1 h = { 0 };
	uint8_t frame[60];
	uint32_t id, len;

	f->n.running = not_running;
	post_rx(f, 2048, NULL);
	host_send(f, MAC, 100, 0, 1, NULL);
	make_frame(frame, sizeof(frame), MAC, 1);
	post_tx(f, &h, frame, sizeof(frame), 4096);
	net_rx_kick(&f->n);
	net_tx_process(&f->n);
	assert_true(f->n.rx_blocked);
	assert_false(drv_get_used(&f->dq[NET_RXQ], &id, &len));
	assert_false(drv_get_used(&f->dq[NET_TXQ], &id, &len));
	f->n.running = NULL;
	net_rx_kick(&f->n);
	net_tx_process(&f->n);
	assert_true(drv_get_used(&f->dq[NET_RXQ], &id, &len));
	assert_true(drv_get_used(&f->dq[NET_TXQ], &id, &len));
}

/* ---- control queue ---- */

/* Send a control command; returns the ack byte (or -1 if no used entry). */
static int ctrl(struct fx *f, const void *cmd, uint32_t len)
{
	struct drv_buf b[2];
	uint32_t id, l;

	b[0] = (struct drv_buf){ alloc_buf(f, len), len, false };
	b[1] = (struct drv_buf){ alloc_buf(f, 1), 1, true };
	memcpy(f->mem + b[0].gpa, cmd, len);
	f->mem[b[1].gpa] = 0x77;
	drv_add(&f->dq[NET_CTRLQ], b, 2);
	net_ctrl_process(&f->n);
	if (!drv_get_used(&f->dq[NET_CTRLQ], &id, &l))
		return -1;
	assert_int_equal(l, 1);
	return f->mem[b[1].gpa];
}

static void test_ctrl_rx_modes(void **state)
{
	struct fx *f = *state;
	static const uint8_t other[6] = { 0x52, 0x54, 0, 0, 0, 9 };
	static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mc[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };

	/* reset state: promiscuous */
	assert_true(net_rx_accept(&f->n, other));
	assert_int_equal(ctrl(f, "\x00\x00\x00", 3), VIRTIO_NET_OK);
	assert_false(net_rx_accept(&f->n, other));
	assert_true(net_rx_accept(&f->n, MAC));
	assert_true(net_rx_accept(&f->n, bc));
	assert_false(net_rx_accept(&f->n, mc));
	assert_int_equal(ctrl(f, "\x00\x01\x01", 3), VIRTIO_NET_OK);
	assert_true(net_rx_accept(&f->n, mc));
	/* bad value / length / command */
	assert_int_equal(ctrl(f, "\x00\x00\x02", 3), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, "\x00\x00\x01\x01", 4), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, "\x00\x00", 2), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, "\x00\x09\x01", 3), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, "\x00", 1), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, "\x07\x00\x01", 3), VIRTIO_NET_ERR);
	/* RX_EXTRA commands need the feature */
	assert_int_equal(ctrl(f, "\x00\x05\x01", 3), VIRTIO_NET_ERR);
	net_set_features(&f->n, f->n.features | F(VIRTIO_NET_F_CTRL_RX_EXTRA));
	assert_int_equal(ctrl(f, "\x00\x05\x01", 3), VIRTIO_NET_OK);
	assert_false(net_rx_accept(&f->n, bc)); /* NOBCAST */
	assert_int_equal(ctrl(f, "\x00\x03\x01", 3), VIRTIO_NET_OK);
	assert_false(net_rx_accept(&f->n, mc)); /* NOMULTI beats ALLMULTI */
	assert_int_equal(ctrl(f, "\x00\x02\x01", 3), VIRTIO_NET_OK);
	assert_true(net_rx_accept(&f->n, other)); /* ALLUNI */
	assert_int_equal(ctrl(f, "\x00\x04\x01", 3), VIRTIO_NET_OK);
	assert_false(net_rx_accept(&f->n, MAC)); /* NOUNI */
	assert_int_equal(f->n.st.ctrl_err, 7);
}

static void test_ctrl_mac(void **state)
{
	struct fx *f = *state;
	static const uint8_t u1[6] = { 0x52, 0x54, 0, 0, 0, 1 };
	static const uint8_t m1[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	static const uint8_t newmac[6] = { 0x02, 0, 0, 0, 0, 0x42 };
	uint8_t cmd[2 + 4 + 6 + 4 + 6], cfg[6];
	uint32_t one = 1;

	assert_int_equal(ctrl(f, "\x00\x00\x00", 3), VIRTIO_NET_OK);
	assert_false(net_rx_accept(&f->n, u1));
	assert_false(net_rx_accept(&f->n, m1));
	cmd[0] = VIRTIO_NET_CTRL_MAC;
	cmd[1] = VIRTIO_NET_CTRL_MAC_TABLE_SET;
	memcpy(cmd + 2, &one, 4);
	memcpy(cmd + 6, u1, 6);
	memcpy(cmd + 12, &one, 4);
	memcpy(cmd + 16, m1, 6);
	assert_int_equal(ctrl(f, cmd, sizeof(cmd)), VIRTIO_NET_OK);
	assert_true(net_rx_accept(&f->n, u1));
	assert_true(net_rx_accept(&f->n, m1));
	/* inconsistent counts: refused, table unchanged */
	assert_int_equal(ctrl(f, cmd, sizeof(cmd) - 1), VIRTIO_NET_ERR);
	memcpy(cmd + 2, "\xff\xff\xff\xff", 4);
	assert_int_equal(ctrl(f, cmd, sizeof(cmd)), VIRTIO_NET_ERR);
	assert_true(net_rx_accept(&f->n, u1));
	/* ADDR_SET */
	cmd[1] = VIRTIO_NET_CTRL_MAC_ADDR_SET;
	memcpy(cmd + 2, newmac, 6);
	assert_int_equal(ctrl(f, cmd, 8), VIRTIO_NET_OK);
	assert_true(net_rx_accept(&f->n, newmac));
	assert_false(net_rx_accept(&f->n, MAC));
	assert_int_equal(ctrl(f, cmd, 7), VIRTIO_NET_ERR);
	memcpy(cfg, f->n.mac, 6);
	assert_memory_equal(cfg, newmac, 6);
}

static void test_ctrl_malformed_chains(void **state)
{
	struct fx *f = *state;
	struct drv_buf b = { alloc_buf(f, 3), 3, false };
	uint32_t id, len;

	/* no writable byte for the ack: consumed, nothing written */
	memcpy(f->mem + b.gpa, "\x00\x00\x01", 3);
	drv_add(&f->dq[NET_CTRLQ], &b, 1);
	net_ctrl_process(&f->n);
	assert_true(drv_get_used(&f->dq[NET_CTRLQ], &id, &len));
	assert_int_equal(len, 0);
	assert_false(f->n.promisc == false); /* not applied */
	assert_int_equal(f->resets, 0);
}

/* One run of the control queue answers at most 32 commands, then the
 * device kicks itself: a driver that keeps the ring full cannot hold the
 * thread. */
static void test_ctrl_budget(void **state)
{
	struct fx *f = *state;
	struct drv_buf b = { alloc_buf(f, 1), 1, true }; /* just an ack */
	uint32_t id, len;
	unsigned used = 0;

	for (int i = 0; i < 40; i++)
		drv_add(&f->dq[NET_CTRLQ], &b, 1);
	net_ctrl_process(&f->n);
	while (drv_get_used(&f->dq[NET_CTRLQ], &id, &len))
		used++;
	assert_int_equal(used, 32);
	assert_int_equal(f->kicks[NET_CTRLQ], 1);
	net_ctrl_process(&f->n);
	while (drv_get_used(&f->dq[NET_CTRLQ], &id, &len))
		used++;
	assert_int_equal(used, 40);
	assert_int_equal(f->kicks[NET_CTRLQ], 1);
}

static void test_ctrl_guest_offloads(void **state)
{
	struct fx *f = *state;
	uint8_t cmd[10] = { VIRTIO_NET_CTRL_GUEST_OFFLOADS,
			    VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET };
	uint64_t v = 0;
	uint32_t id, len;
	uint64_t g;

	assert_int_equal(f->n.guest_offloads, F(VIRTIO_NET_F_GUEST_CSUM));
	memcpy(cmd + 2, &v, 8);
	/* not negotiated: refused */
	assert_int_equal(ctrl(f, cmd, sizeof(cmd)), VIRTIO_NET_ERR);
	net_set_features(&f->n, f->n.features |
			 F(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS));
	v = F(VIRTIO_NET_F_GUEST_TSO4); /* never negotiated */
	memcpy(cmd + 2, &v, 8);
	assert_int_equal(ctrl(f, cmd, sizeof(cmd)), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, cmd, 9), VIRTIO_NET_ERR); /* short */
	v = 0;
	memcpy(cmd + 2, &v, 8);
	assert_int_equal(ctrl(f, cmd, sizeof(cmd)), VIRTIO_NET_OK);
	assert_int_equal(f->n.guest_offloads, 0);
	/* receive checksum offload off: DATA_VALID no longer passed on */
	post_rx(f, 2048, &g);
	host_send(f, MAC, 100, VIRTIO_NET_HDR_F_DATA_VALID, 1, NULL);
	net_rx_kick(&f->n);
	assert_true(drv_get_used(&f->dq[NET_RXQ], &id, &len));
	assert_int_equal(f->mem[g], 0);
	v = F(VIRTIO_NET_F_GUEST_CSUM);
	memcpy(cmd + 2, &v, 8);
	assert_int_equal(ctrl(f, cmd, sizeof(cmd)), VIRTIO_NET_OK);
	post_rx(f, 2048, &g);
	host_send(f, MAC, 100, VIRTIO_NET_HDR_F_DATA_VALID, 1, NULL);
	net_rx_kick(&f->n);
	assert_true(drv_get_used(&f->dq[NET_RXQ], &id, &len));
	assert_int_equal(f->mem[g], VIRTIO_NET_HDR_F_DATA_VALID);
}

/* The filter applies on the receive path. */
static void test_rx_filtered(void **state)
{
	struct fx *f = *state;
	static const uint8_t other[6] = { 0x52, 0x54, 0, 0, 0, 9 };
	uint32_t id, len;

	assert_int_equal(ctrl(f, "\x00\x00\x00", 3), VIRTIO_NET_OK);
	post_rx(f, 2048, NULL);
	host_send(f, other, 100, 0, 1, NULL);
	host_send(f, MAC, 100, 0, 2, NULL);
	net_rx_kick(&f->n);
	assert_int_equal(f->n.st.rx_filtered, 1);
	assert_true(drv_get_used(&f->dq[NET_RXQ], &id, &len));
	assert_int_equal(len, NET_HDR_LEN + 100);
	assert_false(drv_get_used(&f->dq[NET_RXQ], &id, &len));
}

/* ---- counters ---- */

/* Every malformed header is dropped and counted under its reason; frames
 * sent count packets/bytes and their offloads; a frame the tap refuses is
 * a tx error. */
static void test_counters_tx(void **state)
{
	struct fx *f = *state;
	struct virtio_net_hdr_v1 h = { 0 };
	struct drv_buf b = { alloc_buf(f, 8), 8, false };
	uint8_t frame[1600], got[2048];
	struct net_stats s;

	make_frame(frame, sizeof(frame), MAC, 5);
	drv_add(&f->dq[NET_TXQ], &b, 1);      /* shorter than a header */
	post_tx(f, &h, frame, 10, 4096);       /* shorter than Ethernet */
	h.flags = 0x40;                        /* unknown flag */
	post_tx(f, &h, frame, 100, 4096);
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM; /* checksum past the end */
	h.csum_start = 90;
	h.csum_offset = 16;
	post_tx(f, &h, frame, 100, 4096);
	h.csum_start = 34;
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6; /* not negotiated */
	h.gso_size = 1000;
	h.hdr_len = 54;
	post_tx(f, &h, frame, sizeof(frame), 4096);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4; /* gso_size 0 */
	h.gso_size = 0;
	post_tx(f, &h, frame, sizeof(frame), 4096);
	/* valid: a TSO super-frame, a partial checksum, a plain frame */
	h.gso_size = 1000;
	post_tx(f, &h, frame, sizeof(frame), 4096);
	h.gso_type = 0;
	h.gso_size = h.hdr_len = 0;
	post_tx(f, &h, frame, 200, 4096);
	h.flags = 0;
	post_tx(f, &h, frame, 60, 4096);
	net_tx_process(&f->n);

	net_stats_read(&f->n, &s);
	assert_int_equal(s.tx_bad_hdr, 6);
	assert_int_equal(s.tx_bad[NET_HDR_SHORT], 2);
	assert_int_equal(s.tx_bad[NET_HDR_FLAGS], 1);
	assert_int_equal(s.tx_bad[NET_HDR_CSUM], 1);
	assert_int_equal(s.tx_bad[NET_HDR_GSO_TYPE], 1);
	assert_int_equal(s.tx_bad[NET_HDR_GSO_SIZE], 1);
	assert_int_equal(s.tx_bad[NET_HDR_TOO_BIG], 0);
	assert_int_equal(s.tx_packets, 3);
	assert_int_equal(s.tx_bytes, sizeof(frame) + 200 + 60);
	assert_int_equal(s.tx_gso, 1);
	assert_int_equal(s.tx_csum, 2);
	assert_int_equal(s.tx_errors, 0);
	for (int i = 0; i < 3; i++)
		assert_true(recv(f->peer, got, sizeof(got), 0) > 0);

	/* the "tap" refuses (EPIPE): dropped, counted, chain returned */
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(shutdown(f->n.fd, SHUT_WR), 0);
	post_tx(f, &h, frame, 60, 4096);
	net_tx_process(&f->n);
	net_stats_read(&f->n, &s);
	assert_int_equal(s.tx_errors, 1);
	assert_int_equal(s.tx_packets, 3);
	assert_int_equal(drv_used_idx(&f->dq[NET_TXQ]), 10);
}

/* Received frames: drops by reason, offloaded frames as the guest sees
 * them (NEEDS_CSUM only passes with GUEST_CSUM). */
static void test_counters_rx(void **state)
{
	struct fx *f = *state;
	static uint8_t big[NET_RX_BUF + 16];
	uint8_t p[NET_HDR_LEN + 4] = { 0 };
	int sz = 4 * NET_RX_BUF;
	struct net_stats s;
	uint32_t id, len;

	setsockopt(f->peer, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	assert_int_equal(send(f->peer, p, sizeof(p), 0), (int)sizeof(p));
	make_frame(big + NET_HDR_LEN, sizeof(big) - NET_HDR_LEN, MAC, 1);
	assert_int_equal(send(f->peer, big, sizeof(big), 0), (int)sizeof(big));
	post_rx(f, 8, NULL);                  /* cannot hold a header */
	host_send(f, MAC, 100, 0, 1, NULL);
	post_rx(f, 2048, NULL);
	/* a GSO frame with a partial checksum, then a plain one */
	memset(big, 0, NET_HDR_LEN);
	big[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	big[1] = VIRTIO_NET_HDR_GSO_TCPV4;
	make_frame(big + NET_HDR_LEN, 1000, MAC, 2);
	assert_int_equal(send(f->peer, big, NET_HDR_LEN + 1000, 0),
			 NET_HDR_LEN + 1000);
	post_rx(f, 2048, NULL);
	host_send(f, MAC, 60, 0, 3, NULL);
	net_rx_kick(&f->n);

	net_stats_read(&f->n, &s);
	assert_int_equal(s.rx_drop[NET_RX_RUNT], 1);
	assert_int_equal(s.rx_drop[NET_RX_OVERSIZE], 1);
	assert_int_equal(s.rx_drop[NET_RX_BUF_SMALL], 1);
	assert_int_equal(s.rx_drop[NET_RX_RING_SMALL], 0);
	assert_int_equal(s.rx_dropped, 3);
	assert_int_equal(s.rx_packets, 2);
	assert_int_equal(s.rx_bytes, 1000 + 60);
	assert_int_equal(s.rx_gso, 1);
	assert_int_equal(s.rx_csum, 1);
	while (drv_get_used(&f->dq[NET_RXQ], &id, &len))
		;

	/* without GUEST_CSUM the flags are cleared: not counted */
	net_set_features(&f->n, F(VIRTIO_NET_F_MRG_RXBUF));
	post_rx(f, 2048, NULL);
	host_send(f, MAC, 100, VIRTIO_NET_HDR_F_NEEDS_CSUM, 4, NULL);
	net_rx_kick(&f->n);
	net_stats_read(&f->n, &s);
	assert_int_equal(s.rx_packets, 3);
	assert_int_equal(s.rx_csum, 1);

	/* every descriptor too small for the frame */
	for (int i = 0; i < 64; i++)
		post_rx(f, 16, NULL);
	host_send(f, MAC, 1500, 0, 5, NULL);
	net_rx_kick(&f->n);
	net_stats_read(&f->n, &s);
	assert_int_equal(s.rx_drop[NET_RX_RING_SMALL], 1);
	assert_int_equal(s.rx_dropped, 4);
}

static void test_counters_ctrl_offloads(void **state)
{
	struct fx *f = *state;
	uint8_t cmd[10] = { VIRTIO_NET_CTRL_GUEST_OFFLOADS,
			    VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET };
	uint64_t v = F(VIRTIO_NET_F_GUEST_CSUM);

	memcpy(cmd + 2, &v, 8);
	assert_int_equal(ctrl(f, cmd, sizeof(cmd)), VIRTIO_NET_ERR);
	assert_int_equal(f->n.st.ctrl_offloads, 0);
	net_set_features(&f->n, f->n.features |
			 F(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS));
	assert_int_equal(ctrl(f, cmd, sizeof(cmd)), VIRTIO_NET_OK);
	v = 0;
	memcpy(cmd + 2, &v, 8);
	assert_int_equal(ctrl(f, cmd, sizeof(cmd)), VIRTIO_NET_OK);
	assert_int_equal(ctrl(f, cmd, 9), VIRTIO_NET_ERR);
	assert_int_equal(f->n.st.ctrl_offloads, 2);
	assert_int_equal(f->n.st.ctrl_ok, 2);
	assert_int_equal(f->n.st.ctrl_err, 2);
}

/* A tap name may hold '"' and '\\' (only '/', ':' and space are refused):
 * the control socket's JSON escapes them. */
static void test_stats_json_escapes_tap_name(void **state)
{
	struct fx *f = *state;
	char json[4096];

	snprintf(f->n.tap.ifname, sizeof(f->n.tap.ifname), "t\"a\\p");
	net_stats_json(&f->n, json, sizeof(json));
	if (!strstr(json, "\"tap\":\"t\\\"a\\\\p\","))
		fail_msg("tap name not escaped: %s", json);
}

static void test_offloads_str(void **state)
{
	char b[64], tiny[8];

	(void)state;
	assert_string_equal(net_offloads_str(0, b, sizeof(b)), "none");
	assert_string_equal(net_offloads_str(F(VIRTIO_NET_F_GUEST_CSUM), b,
					     sizeof(b)), "csum");
	assert_string_equal(net_offloads_str(NET_GUEST_OFFLOADS, b, sizeof(b)),
			    "csum,tso4,tso6,ecn,ufo");
	/* other bits are not receive offloads */
	assert_string_equal(net_offloads_str(F(VIRTIO_NET_F_CSUM) |
					     F(VIRTIO_NET_F_GUEST_TSO6), b,
					     sizeof(b)), "tso6");
	/* truncated at a whole name */
	assert_string_equal(net_offloads_str(NET_GUEST_OFFLOADS, tiny,
					     sizeof(tiny)), "csum");
}

/* The counters reach --stats (stats_print) and the JSON of the control
 * socket (stats_sources_json) through vm->stats' source list. */
static void test_stats_print_json(void **state)
{
	struct fx *f = *state;
	struct vm_stats vs = { 0 };
	struct net_dev other = { 0 };
	struct stats_source bare = { 0 };
	struct virtio_net_hdr_v1 h = { .gso_type = 9 };
	uint8_t frame[60];
	char *text = NULL, json[4096], small[40];
	size_t tlen = 0;
	const char *p;
	FILE *m;
	int need;

	make_frame(frame, sizeof(frame), MAC, 1);
	post_tx(f, &h, frame, sizeof(frame), 4096);
	h.gso_type = 0;
	post_tx(f, &h, frame, sizeof(frame), 4096);
	net_tx_process(&f->n);
	snprintf(f->n.tap.ifname, sizeof(f->n.tap.ifname), "mvtap7");
	snprintf(f->n.tap.bridge, sizeof(f->n.tap.bridge), "mvbr0");
	f->n.tap.offloads = TAP_F_CSUM;
	other.index = 1;
	snprintf(f->n.vdev.dev.name, sizeof(f->n.vdev.dev.name), "virtio-net0");
	snprintf(other.vdev.dev.name, sizeof(other.vdev.dev.name),
		 "virtio-net1");
	other.st.rx_dropped = other.st.rx_drop[NET_RX_RUNT] = 5;

	/* a source without callbacks is skipped */
	stats_add_source(&vs, &bare);
	m = open_memstream(&text, &tlen);
	stats_print(&vs, m);
	fclose(m);
	assert_non_null(strstr(text, "minivmm: statistics\n"));
	assert_null(strstr(text, "virtio-net0"));
	free(text);
	assert_int_equal(stats_sources_json(&vs, json, sizeof(json)), 12);
	assert_string_equal(json, "\"devices\":{}");

	/* two devices, in the order they were attached */
	net_stats_attach(&f->n, &vs);
	net_stats_attach(&other, &vs);
	m = open_memstream(&text, &tlen);
	stats_print(&vs, m);
	fclose(m);
	assert_non_null(strstr(text, "minivmm: virtio-net0 counters (tap mvtap7 "
				     "on bridge mvbr0)\n"));
	assert_non_null(strstr(text, "  guest receive offloads     csum (0x2)\n"));
	assert_non_null(strstr(text, "  tap offloads (TUN_F_*)     0x1\n"));
	assert_non_null(strstr(text, "  tx packets                            1\n"));
	assert_non_null(strstr(text, "  tx bytes                             60\n"));
	assert_non_null(strstr(text, "  tx bad header (dropped)               1\n"));
	assert_non_null(strstr(text, "    gso type not negotiated             1\n"));
	assert_non_null(strstr(text, "minivmm: virtio-net1 counters (tap -)\n"));
	assert_non_null(strstr(text, "  rx dropped                            5\n"));
	assert_non_null(strstr(text, "    runt frame from the tap             5\n"));
	assert_true(strstr(text, "net0 counters") <
		    strstr(text, "net1 counters"));
	/* the benches read "vm exits" and "virtqueue requests": once only */
	p = strstr(text, "vm exits");
	assert_non_null(p);
	assert_null(strstr(p + 1, "vm exits"));
	p = strstr(text, "virtqueue requests");
	assert_non_null(p);
	assert_null(strstr(p + 1, "virtqueue requests"));
	free(text);

	need = stats_sources_json(&vs, json, sizeof(json));
	assert_int_equal(need, (int)strlen(json));
	p = "\"devices\":{\"virtio-net0\":{\"tap\":\"mvtap7\",\"guest_offloads\":2,"
	    "\"tap_offloads\":1,\"rx_packets\":0,";
	assert_int_equal(strncmp(json, p, strlen(p)), 0);
	assert_non_null(strstr(json, "\"tx_packets\":1,\"tx_bytes\":60,"));
	assert_non_null(strstr(json, "\"tx_bad_hdr\":1,\"tx_bad\":{\"short\":0,"
				     "\"too_big\":0,\"flags\":0,\"csum\":0,"
				     "\"gso_type\":1,\"gso_size\":0},"));
	assert_non_null(strstr(json, "},\"virtio-net1\":{\"tap\":\"\","));
	assert_non_null(strstr(json, "\"rx_dropped\":5,\"rx_drop\":{\"runt\":5,"
				     "\"oversize\":0,\"buf_small\":0,"
				     "\"ring_small\":0},"));
	p = "\"ctrl_offloads\":0}}";
	assert_string_equal(json + need - strlen(p), p);
	/* one device's member alone: what sits between the separators */
	assert_int_equal(net_stats_json(&f->n, NULL, 0),
			 (int)(strstr(json, ",\"virtio-net1\"") -
			       strstr(json, "\"virtio-net0\"")));
	/* too small a buffer: truncated, terminated, same length asked */
	memset(small, 'x', sizeof(small));
	assert_int_equal(stats_sources_json(&vs, small, sizeof(small)), need);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, json, sizeof(small) - 1);
	assert_int_equal(stats_sources_json(&vs, NULL, 0), need);

	/* removal (when the device is freed) */
	stats_del_source(&vs, &f->n.stats_src);
	assert_ptr_equal(vs.sources, &bare);
	assert_ptr_equal(bare.next, &other.stats_src);
	stats_del_source(&vs, &bare);
	stats_del_source(&vs, &other.stats_src);
	assert_null(vs.sources);
	f->n.tap.ifname[0] = 0;
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_mac),
		cmocka_unit_test(test_default_mac),
		cmocka_unit_test(test_cfg_parse),
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_hdr_check),
		T(test_tx),
		T(test_tx_short_chain),
		T(test_tx_eagain),
		T(test_tx_budget),
		T(test_rx_single),
		T(test_rx_too_big_without_mrg),
		T(test_rx_mergeable),
		T(test_rx_mergeable_split_header),
		T(test_rx_backpressure),
		T(test_rx_ring_too_small),
		T(test_rx_runt_and_first_buffer_too_small),
		T(test_rx_broken_ring),
		T(test_broken_queue_cycles_bounded_log),
		T(test_stats_json_escapes_tap_name),
		T(test_rx_reset),
		T(test_not_running),
		T(test_ctrl_rx_modes),
		T(test_ctrl_mac),
		T(test_ctrl_malformed_chains),
		T(test_ctrl_budget),
		T(test_ctrl_guest_offloads),
		T(test_rx_filtered),
		T(test_counters_tx),
		T(test_counters_rx),
		T(test_counters_ctrl_offloads),
		cmocka_unit_test(test_offloads_str),
		T(test_stats_print_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
