/* SPDX-License-Identifier: MIT
 * net-pps.c - packets per second of the virtio-net device model, natively
 * (no guest, no KVM): two device cores (virtio/net.c) on real taps joined
 * by a Linux bridge, each on its own I/O thread (evloop), driven by a bench
 * "driver" thread through split virtqueues in a fake guest memory:
 *
 *   driver --TX ring--> dev A --tap nbA--> bridge nbbr --tap nbB--> dev B
 *   --RX ring--> driver
 *
 * Kicks are eventfds watched by the device's loop (what an ioeventfd is to
 * a real guest), interrupts are eventfds the driver polls. Every received
 * frame's length and sequence pattern are checked.
 *
 * Run through net-pps.sh (it makes a private network namespace):
 *   net-pps FRAME_BYTES SECONDS
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "../unit/net_vqdrv.h"
#include "virtio/net.h"
#include "vmm/evloop.h"
#include "vmm/log.h"

#define QSZ 256
#define MEM (64u << 20)
#define SLOT 2048u /* bytes per buffer slot */

struct side {
	struct net_dev n;
	struct drv_vq dq[NET_NR_QUEUES];
	struct evloop *loop;
	int kick[NET_NR_QUEUES]; /* driver -> device */
	int irq;                 /* device -> driver */
	uint64_t slots;          /* gpa of QSZ buffer slots */
};

static uint8_t *mem;
static struct guest_mem gm;

static void on_notify(struct net_dev *n, unsigned q)
{
	struct side *s = n->test_opaque;
	uint64_t one = 1;
	ssize_t r = write(s->irq, &one, sizeof(one));
	(void)q;
	(void)r;
}

static void on_reset(struct net_dev *n)
{
	fprintf(stderr, "net%u: needs reset!\n", n->index);
	exit(1);
}

static void on_self_kick(struct net_dev *n, unsigned q)
{
	struct side *s = n->test_opaque;
	uint64_t one = 1;
	ssize_t r = write(s->kick[q], &one, sizeof(one));
	(void)r;
}

struct kick_ctx {
	struct side *s;
	unsigned q;
};
static struct kick_ctx kctx[2][NET_NR_QUEUES];

static void on_kick(void *opaque, uint32_t ev)
{
	struct kick_ctx *k = opaque;
	uint64_t v;
	ssize_t r = read(k->s->kick[k->q], &v, sizeof(v));

	(void)ev;
	(void)r;
	if (k->q == NET_RXQ)
		net_rx_kick(&k->s->n);
	else if (k->q == NET_TXQ)
		net_tx_process(&k->s->n);
}

static uint64_t at; /* gpa allocation cursor */

static int side_init(struct side *s, int idx, const char *tap,
		     const uint8_t mac[6])
{
	uint64_t f = (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
		     (1ULL << VIRTIO_NET_F_CSUM) |
		     (1ULL << VIRTIO_NET_F_GUEST_CSUM);
	int r = tap_open(&s->n.tap, tap, "nbbr", true);

	if (r) {
		fprintf(stderr, "net-pps: %s\n", s->n.tap.err);
		return r;
	}
	for (int q = 0; q < NET_NR_QUEUES; q++) {
		at = drv_vq_setup(&s->dq[q], &gm, mem, at, QSZ);
		s->n.vq[q] = &s->dq[q].q;
	}
	s->slots = at;
	at += (uint64_t)QSZ * SLOT;
	if (net_core_init(&s->n, s->n.tap.fd, mac))
		return -ENOMEM;
	s->n.index = (unsigned)idx;
	s->n.notify = on_notify;
	s->n.needs_reset = on_reset;
	s->n.kick = on_self_kick;
	s->n.test_opaque = s;
	net_set_features(&s->n, f);
	tap_set_offloads(&s->n.tap, net_tap_offloads(f));
	s->irq = eventfd(0, EFD_NONBLOCK);
	s->loop = evloop_new(idx ? "net-b" : "net-a");
	s->n.loop = s->loop;
	evloop_add(s->loop, s->n.fd, s->n.tap_events, net_tap_event, &s->n);
	for (int q = 0; q < 2; q++) {
		s->kick[q] = eventfd(0, EFD_NONBLOCK);
		kctx[idx][q] = (struct kick_ctx){ s, (unsigned)q };
		evloop_add(s->loop, s->kick[q], EPOLLIN, on_kick, &kctx[idx][q]);
	}
	return evloop_start(s->loop);
}

static void kick(struct side *s, unsigned q)
{
	uint64_t one = 1;
	ssize_t r = write(s->kick[q], &one, sizeof(one));
	(void)r;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0xa };
	static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0xb };
	uint32_t flen = argc > 1 ? (uint32_t)atoi(argv[1]) : 64;
	double secs = argc > 2 ? atof(argv[2]) : 3;
	static struct side A, B;
	uint64_t sent = 0, got = 0, bad = 0, other = 0, bytes = 0;
	unsigned tx_inflight = 0, rx_posted = 0;
	uint32_t id, len;
	double t0, t1;

	if (flen < 60 || flen > SLOT - NET_HDR_LEN) {
		fprintf(stderr, "frame size 60..%u\n", SLOT - NET_HDR_LEN);
		return 2;
	}
	mem = aligned_alloc(4096, MEM);
	memset(mem, 0, MEM);
	gm_add_region(&gm, 0, MEM, mem);
	if (side_init(&A, 0, "nbA", mac_a) || side_init(&B, 1, "nbB", mac_b))
		return 1;
	/* bridge learning: let B's MAC be unknown: frames to it flood to the
	 * only other port, which is what we want */

	/* B: fill the receive ring */
	for (unsigned i = 0; i < QSZ; i++) {
		struct drv_buf b = { B.slots + (uint64_t)i * SLOT, SLOT, true };
		drv_add(&B.dq[NET_RXQ], &b, 1);
		rx_posted++;
	}
	kick(&B, NET_RXQ);
	/* A: TX slot contents are fixed: header 0, frame to B's MAC */
	for (unsigned i = 0; i < QSZ; i++) {
		uint8_t *p = mem + A.slots + (uint64_t)i * SLOT;
		memset(p, 0, NET_HDR_LEN);
		memcpy(p + NET_HDR_LEN, mac_b, 6);
		memcpy(p + NET_HDR_LEN + 6, mac_a, 6);
		p[NET_HDR_LEN + 12] = 0x88; /* local experimental ethertype */
		p[NET_HDR_LEN + 13] = 0xb5;
		for (uint32_t j = 14; j < flen; j++)
			p[NET_HDR_LEN + j] = (uint8_t)(i + j);
	}
	sleep(1); /* bridge ports come up (no STP: forwarding at once) */

	t0 = now();
	t1 = t0 + secs;
	unsigned next_slot = 0;
	while (now() < t1) {
		bool progress = false;

		/* post as many TX chains as the ring takes */
		while (tx_inflight < QSZ) {
			struct drv_buf b = {
				A.slots + (uint64_t)next_slot * SLOT,
				NET_HDR_LEN + flen, false };
			drv_add(&A.dq[NET_TXQ], &b, 1);
			next_slot = (next_slot + 1) % QSZ;
			tx_inflight++;
			progress = true;
		}
		kick(&A, NET_TXQ);
		while (drv_get_used(&A.dq[NET_TXQ], &id, &len)) {
			tx_inflight--;
			sent++;
			progress = true;
		}
		/* collect received frames, check them, give buffers back */
		unsigned refill = 0;
		while (drv_get_used(&B.dq[NET_RXQ], &id, &len)) {
			struct vring_desc *d =
				(void *)(mem + B.dq[NET_RXQ].desc);
			uint64_t g = d[id % QSZ].addr;
			uint8_t *p = mem + g;
			if (len >= NET_HDR_LEN + 14 &&
			    (p[NET_HDR_LEN + 12] != 0x88 ||
			     p[NET_HDR_LEN + 13] != 0xb5)) {
				other++; /* the kernel's own (IPv6 ND...) */
			} else {
				if (len != NET_HDR_LEN + flen || p[10] != 1 ||
				    memcmp(p + NET_HDR_LEN, mac_b, 6))
					bad++;
				got++;
				bytes += len - NET_HDR_LEN;
			}
			struct drv_buf b = { g, SLOT, true };
			drv_add(&B.dq[NET_RXQ], &b, 1);
			refill++;
			progress = true;
		}
		if (refill)
			kick(&B, NET_RXQ);
		if (!progress) {
			struct pollfd pf[2] = { { A.irq, POLLIN, 0 },
						{ B.irq, POLLIN, 0 } };
			uint64_t v;
			if (poll(pf, 2, 1) > 0) {
				if (read(A.irq, &v, 8) < 0 && errno != EAGAIN)
					break;
				if (read(B.irq, &v, 8) < 0 && errno != EAGAIN)
					break;
			}
		}
	}
	t1 = now() - t0;
	printf("frame %u B: tx %.0f pps, rx %.0f pps (%.1f MB/s), rx lost %.1f%%, "
	       "bad %llu, other %llu; dev A tx_errors %llu, dev B rx_dropped %llu "
	       "rx_filtered %llu\n",
	       flen, sent / t1, got / t1, bytes / t1 / 1e6,
	       sent ? 100.0 * (double)(sent - got) / (double)sent : 0.0,
	       (unsigned long long)bad, (unsigned long long)other,
	       (unsigned long long)A.n.st.tx_errors,
	       (unsigned long long)B.n.st.rx_dropped,
	       (unsigned long long)B.n.st.rx_filtered);
	evloop_free(A.loop);
	evloop_free(B.loop);
	tap_close(&A.n.tap);
	tap_close(&B.n.tap);
	return bad ? 1 : 0;
}
