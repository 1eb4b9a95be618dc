/* SPDX-License-Identifier: MIT
 * net.h - virtio-net over a tap device (VIRTIO 1.x section 5.1 "Network
 * Device").
 *
 * One receive queue (0), one transmit queue (1) and the control queue (2).
 * Queues 0 and 1 share one I/O thread, which also watches the tap fd: frames
 * the host sends to the tap are copied into the guest's receive buffers
 * (spread over several buffers with MRG_RXBUF), frames the guest transmits
 * are written to the tap with writev(). Checksum and segmentation offloads
 * pass through untouched in the 12-byte virtio_net_hdr_v1 that the tap
 * carries in front of every frame (IFF_VNET_HDR).
 *
 * The code is in net.c (the device), net_rx.c, net_tx.c, net_ctrl.c (one
 * file a queue), net_stats.c (the counters) and net_cfg.c (--net); their
 * shared internals are in net_int.h.
 *
 * With vhost=on the receive and transmit queues are served by the host
 * kernel's vhost-net instead (net_vhost.h), from DRIVER_OK to the next
 * reset; the control queue stays here.
 *
 * Command line:
 *   --net tap=NAME[,bridge=BR[,bridge-create=on]][,mac=52:54:00:12:34:56]
 *         [,vhost=on|off]
 */
#ifndef MINIVMM_VIRTIO_NET_H
#define MINIVMM_VIRTIO_NET_H

#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>

#include <linux/virtio_net.h>

#include "devices/tap.h"
#include "virtio/net_vhost.h"
#include "virtio/virtio_pci.h"
#include "vmm/stats.h"

struct vm;

/* The NIC the guest sees on the tap. */
enum net_model {
	NET_MODEL_VIRTIO = 0,   /* virtio-net (the default) */
	NET_MODEL_E1000,        /* an Intel 82540EM (devices/e1000.c) */
};

struct net_cfg {
	char tap[IFNAMSIZ];     /* tap to use or create (required) */
	enum net_model model;   /* model=virtio|e1000 */
	char bridge[IFNAMSIZ];  /* "" = do not attach to a bridge */
	bool bridge_create;     /* create the bridge when it is missing */
	uint8_t mac[6];         /* guest MAC when mac_set */
	bool mac_set;
	bool vhost;             /* vhost=on: data path in /dev/vhost-net */
};

/* Create a virtio-net device backed by tap cfg->tap (device.h,
 * virtio_pci.h), the index-th network device of the VM (its log name
 * net<index>; without cfg->mac_set the MAC is net_default_mac(cfg->tap,
 * index)). Attaching it starts its I/O threads; freeing it closes the tap
 * (a tap we created is removed, a pre-existing one is restored). 0 or
 * -errno; a tap that cannot be opened leaves its reason in err (one line,
 * naming the tap or bridge). Prints nothing. */
int virtio_net_create(struct vm *vm, const struct net_cfg *cfg,
		      unsigned index, struct virtio_dev **out, char *err,
		      size_t errlen);
/* "tap vm0 on bridge br0, MAC 52:54:00:..": what the device is wired to, for
 * the line the machine prints when it starts. */
void virtio_net_describe(struct virtio_dev *d, char *buf, size_t len);

/* "52:54:00:12:34:56" (hex, case-insensitive, ':' or '-') -> mac. Refuses
 * multicast and all-zero addresses. 0 or -EINVAL (message printed). */
int net_parse_mac(const char *s, uint8_t mac[6]);

/* A stable locally administered unicast MAC derived from the tap name and
 * the device index (FNV-1a hash): same VM command line, same MAC. */
void net_default_mac(const char *tap, unsigned index, uint8_t mac[6]);

/* Parse "tap=NAME[,bridge=BR][,bridge-create=on|off][,mac=MAC]
 * [,model=virtio|e1000][,vhost=on|off]" into cfg
 * (zeroed first). 0 or -EINVAL with a message naming the bad part. */
int net_cfg_parse(const char *s, struct net_cfg *cfg);

/* ------------------------------------------------------------------------
 * The device core, exposed for unit tests and the bench: it only needs
 * three virtqueues, a tap-like fd and three callbacks, so tests can drive
 * it with their own rings and a socketpair instead of virtio-pci + tap.
 */
enum { NET_RXQ = 0, NET_TXQ = 1, NET_CTRLQ = 2, NET_NR_QUEUES = 3 };

#define NET_HDR_LEN 12           /* struct virtio_net_hdr_v1 */
#define NET_MAX_FRAME (65536 + 64) /* largest frame (GSO super-frame) */
#define NET_RX_BUF (128 * 1024)  /* bounce buffer for one tap read */
#define NET_MAC_TABLE 64         /* filter entries; more = all-uni/multi */
#define NET_RX_BUDGET 64         /* frames per RX run before yielding */
#define NET_TX_BUDGET 256        /* chains per TX run before yielding */
/* the receive offloads, VIRTIO_NET_F_GUEST_{CSUM,TSO4,TSO6,ECN,UFO} */
#define NET_GUEST_OFFLOADS                                                \
	((1ULL << 1) | (1ULL << 7) | (1ULL << 8) | (1ULL << 9) | (1ULL << 10))

/* Why net_tx_hdr_check() refused a header (0 = valid). */
enum net_hdr_err {
	NET_HDR_OK = 0,
	NET_HDR_SHORT,      /* chain shorter than the header + Ethernet hdr */
	NET_HDR_TOO_BIG,    /* frame longer than NET_MAX_FRAME */
	NET_HDR_FLAGS,      /* unknown flag bits */
	NET_HDR_CSUM,       /* NEEDS_CSUM without CSUM, or outside frame */
	NET_HDR_GSO_TYPE,   /* unknown or not negotiated gso_type / ECN */
	NET_HDR_GSO_SIZE,   /* gso_size 0, or gso fields exceed the frame */
	NET_HDR_ERR_NR
};

/* Why a frame from the tap was dropped (other than by the filter). */
enum net_rx_drop {
	NET_RX_RUNT,        /* shorter than the header + Ethernet header */
	NET_RX_OVERSIZE,    /* filled the bounce buffer: possibly truncated */
	NET_RX_BUF_SMALL,   /* first buffer cannot hold the header or, without
			     * MRG_RXBUF, the whole frame */
	NET_RX_RING_SMALL,  /* does not fit even in every descriptor */
	NET_RX_DROP_NR
};

/* Device counters (relaxed atomics: written by the RX/TX and control
 * threads, read at any time by net_stats_read(), --stats and the bench). */
struct net_stats {
	uint64_t rx_packets, rx_bytes;   /* delivered to the guest (bytes
					  * without the vnet header) */
	uint64_t rx_gso;        /* of those, GSO super-frames (gso_type) */
	uint64_t rx_csum;       /* of those, with NEEDS_CSUM */
	uint64_t rx_filtered;   /* dropped by the MAC / mode filter */
	uint64_t rx_dropped;    /* the sum of rx_drop[] */
	uint64_t rx_drop[NET_RX_DROP_NR];
	uint64_t tx_packets, tx_bytes;   /* written to the tap */
	uint64_t tx_gso;        /* of those, GSO super-frames */
	uint64_t tx_csum;       /* of those, with NEEDS_CSUM */
	uint64_t tx_bad_hdr;    /* malformed virtio_net_hdr: dropped; the
				 * sum of tx_bad[] (by enum net_hdr_err) */
	uint64_t tx_bad[NET_HDR_ERR_NR];
	uint64_t tx_errors;     /* tap refused the frame */
	uint64_t ctrl_ok, ctrl_err;
	uint64_t ctrl_offloads; /* accepted GUEST_OFFLOADS_SET commands */
};

struct net_rx_held {
	uint16_t head;
	uint32_t len;
};

struct net_dev {
	struct virtio_dev vdev;     /* the transport (unused by tests) */
	struct vm *vm;
	unsigned index;
	struct tap tap;
	int fd;                     /* frames in and out: tap.fd, or a test fd */

	/* glue, set by virtio_net_create() or by a test */
	struct virtq *vq[NET_NR_QUEUES];
	struct evloop *loop;        /* the RX/TX thread; NULL in tests */
	void (*notify)(struct net_dev *n, unsigned qidx);
	void (*needs_reset)(struct net_dev *n);
	void (*kick)(struct net_dev *n, unsigned qidx);
	bool (*running)(struct net_dev *n); /* optional: DRIVER_OK, no
					     * NEEDS_RESET */
	void *test_opaque;

	uint64_t features;          /* negotiated (atomic) */
	uint64_t guest_offloads;    /* GUEST_* receive offloads in force:
				     * negotiated, or CTRL_GUEST_OFFLOADS */
	bool mrg_rxbuf;

	/* RX/TX state: RX/TX thread only */
	uint32_t tap_events;        /* EPOLLIN unless rx_blocked; EPOLLOUT
				     * while tx_blocked */
	bool rx_blocked, tx_blocked;
	bool tap_dead;              /* tap fd failed; no longer watched */
	uint8_t *rx_buf;            /* NET_RX_BUF bytes */
	uint32_t rx_len, rx_done;   /* pending frame (incl. header), copied */
	unsigned nheld;             /* chains holding the pending frame */
	struct net_rx_held *held;   /* VIRTQ_MAX_SIZE entries */
	struct iovec hdr_iov[NET_HDR_LEN]; /* first chain's header bytes */
	unsigned hdr_niov;
	struct virtq_req *rxreq, *txreq, *ctrlreq;
	struct iovec *txiov;        /* VIRTQ_MAX_SIZE + 1 entries */

	/* MAC and receive filter: ctrl thread writes, RX thread and the
	 * config-space reader read, under lock */
	pthread_mutex_t lock;
	uint8_t cfg_mac[6];         /* from the command line */
	uint8_t mac[6];             /* current (ADDR_SET) */
	bool promisc, allmulti, alluni, nomulti, nouni, nobcast;
	unsigned n_uni, n_multi;
	bool uni_overflow, multi_overflow;
	uint8_t uni[NET_MAC_TABLE][6], multi[NET_MAC_TABLE][6];

	/* vhost=on: vhost.fd >= 0. vhost_on (atomic) while the kernel has
	 * the receive and transmit queues (RX/TX thread writes it); it
	 * signals vhost_call[q] where we would interrupt the driver. */
	struct net_vhost vhost;
	bool vhost_on;
	uint64_t vhost_starts;      /* times vhost took the queues (atomic) */
	int vhost_call[NET_VHOST_NR_QUEUES];
	int vhost_target[NET_VHOST_NR_QUEUES]; /* what vhost signals now:
					* vhost_call[q] or the vector's irqfd */
	int vhost_recheck;          /* eventfd: the MSI-X state changed */
	int vhost_err;              /* eventfd: vhost met a ring it cannot
				     * use (VHOST_SET_VRING_ERR) */
	struct net_vhost_call {
		struct net_dev *n;
		unsigned q;
	} vcall[NET_VHOST_NR_QUEUES];

	struct net_stats st;
	struct stats_source stats_src; /* our part of vm->stats (--stats,
					* the control socket's "info") */
};

/* Allocate the buffers and set the reset state; fd is where frames are
 * read and written. 0 or -ENOMEM. */
int net_core_init(struct net_dev *n, int fd, const uint8_t mac[6]);
void net_core_free(struct net_dev *n);
/* Device reset: forget any pending frame and filter state. RX/TX thread. */
void net_core_reset(struct net_dev *n);
/* The driver's accepted features (sets MRG_RXBUF handling). */
void net_set_features(struct net_dev *n, uint64_t features);
/* Offered device features for a tap that accepts `offload_ok` (TAP_F_*). */
uint64_t net_device_features(unsigned offload_ok);
/* 0 if the driver's feature set respects 5.1.3.1 (e.g. GUEST_TSO4 needs
 * GUEST_CSUM, CTRL_RX needs CTRL_VQ), else -EINVAL: FEATURES_OK refused. */
int net_check_features(uint64_t features);
/* TAP_F_* bits matching the guest's GUEST_* features. */
unsigned net_tap_offloads(uint64_t features);

/* Event handlers (RX/TX thread; ctrl thread for net_ctrl_process). */
void net_rx_process(struct net_dev *n);   /* tap readable / RX kick */
void net_rx_kick(struct net_dev *n);      /* driver added RX buffers */
void net_tx_process(struct net_dev *n);   /* TX kick */
void net_tap_event(void *opaque, uint32_t events);
void net_ctrl_process(struct net_dev *n);

/* Validate a transmit header for a frame of frame_len bytes (after the
 * header) under the negotiated features; may clear harmless bits in h. */
enum net_hdr_err net_tx_hdr_check(struct virtio_net_hdr_v1 *h,
				  uint32_t frame_len, uint64_t features);
/* Would the receive filter pass a frame with this destination MAC? */
bool net_rx_accept(struct net_dev *n, const uint8_t dst[6]);

/* ---- counters ---- */

/* A snapshot of n's counters (each one read atomically). */
void net_stats_read(const struct net_dev *n, struct net_stats *out);
/* "csum,tso4,tso6" for VIRTIO_NET_F_GUEST_* bits, "none" for 0. */
const char *net_offloads_str(uint64_t guest_offloads, char *buf,
			     size_t len);
/* The --stats section of one device: a title line with the tap and the
 * receive offloads in force, then one counter a line (drops by reason). */
void net_stats_print(const struct net_dev *n, FILE *f);
/* The same as a JSON object member, "net0":{"tap":"..",...}, into buf
 * like snprintf (returns the length it needs). */
int net_stats_json(const struct net_dev *n, char *buf, size_t len);
/* Add n's section to vs (vm->stats; virtio_net_create() does it, and
 * freeing the device takes it out again). */
void net_stats_attach(struct net_dev *n, struct vm_stats *vs);

#endif
