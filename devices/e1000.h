/* SPDX-License-Identifier: MIT
 * e1000.h - an emulated Intel 82540EM Gigabit Ethernet controller (PCI
 * 8086:100E), the NIC Linux's e1000 driver runs on; see e1000.c for what is
 * modelled. Over the same tap backend (devices/tap.h) as virtio-net:
 *   --net tap=NAME[,bridge=BR],model=e1000
 *
 * The device follows vmm/device.h: e1000_create() opens the tap and
 * returns the handle, ops->attach puts it on the PCI bus and starts its
 * I/O thread, ops->stop stops that thread, ops->free closes the tap. A
 * platform reset rebuilds the machine; the driver's own reset is CTRL.RST.
 *
 * The core (registers, rings, offloads) is exposed for unit tests: it needs
 * guest memory, an fd that carries one frame per read/write (the tap, or a
 * SOCK_SEQPACKET socketpair) and an interrupt callback.
 */
#ifndef MINIVMM_E1000_H
#define MINIVMM_E1000_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/pci.h"
#include "devices/tap.h"
#include "vmm/device.h"
#include "vmm/guest_mem.h"
#include "vmm/stats.h"

struct vm;
struct net_cfg;

#define E1000_TX_MAX (64 * 1024 + 1024) /* largest frame the guest may
					 * queue (a TSO super-frame) */
#define E1000_RX_MAX (64 * 1024)        /* largest frame read from the fd */
#define E1000_RX_BUDGET 64              /* frames per RX run */

/* The transmit offload context (3.3.6): the last context descriptor. */
struct e1000_txctx {
	uint8_t ipcss, ipcso, tucss, tucso, tucmd, hdrlen;
	uint16_t ipcse, tucse, mss;
	uint32_t paylen;
	bool valid;
};

/* The device's own counters (relaxed atomics; --stats and the control
 * socket's info show them): traffic, interrupts, and the guest's mistakes,
 * counted rather than logged. */
struct e1000_counters {
	uint64_t tx_frames, tx_bytes, tx_tso_segs;
	uint64_t tx_bad_buf;     /* buffer outside RAM: frame dropped */
	uint64_t tx_too_big;     /* frame longer than E1000_TX_MAX */
	uint64_t tx_bad_ctx;     /* offload offsets/lengths outside the frame */
	uint64_t tx_errors;      /* the fd refused the frame */
	uint64_t rx_frames, rx_bytes;
	uint64_t rx_filtered;    /* not for us (RAL/MTA/RCTL) */
	uint64_t rx_bad_buf;     /* buffer outside RAM: frame dropped */
	uint64_t rx_runt;        /* shorter than an Ethernet header */
	uint64_t ring_errors;    /* a ring made unusable by its registers */
	uint64_t irqs;           /* INTx assertions */
	uint64_t irqs_held;      /* interrupts ITR made wait for its timer */
};

struct e1000 {
	struct device dev;
	struct pci_dev pci;
	const struct guest_mem *gm;
	struct tap tap;
	int fd;                 /* frames in and out */
	unsigned hdr_len;       /* bytes of vnet header in front of frames */
	struct evloop *loop;    /* RX and the ITR timer; NULL in tests */
	int timer_fd;           /* ITR: the held interrupt's timerfd */
	/* interrupt line; pci_intx_set by default, a test's own otherwise */
	void (*irq)(struct e1000 *d, bool level);
	void *test_opaque;

	pthread_mutex_t lock;   /* everything below */
	uint8_t mac[6];
	uint16_t eeprom[64];
	uint32_t ctrl, status, eecd, eerd, mdic, ctrl_ext;
	uint32_t icr, ims, itr;
	uint32_t rctl, tctl, rdbal, rdbah, rdlen, rdh, rdt;
	uint32_t tdbal, tdbah, tdlen, tdh, tdt;
	uint32_t mta[128], ra[32], vfta[128];
	uint32_t plain[0x6000 / 4];  /* read-back-as-written registers */
	uint64_t stats[64];          /* 0x4000 block; 64-bit pairs in the low */
	uint16_t phy[32];
	/* Microwire EEPROM bit-banging through EECD */
	unsigned ee_bits, ee_state, ee_addr;
	uint32_t ee_in;
	uint16_t ee_out;
	/* interrupt line and throttling (ITR) */
	bool line;
	bool timer_armed;
	uint64_t next_irq_ns;        /* no new interrupt before this */
	/* transmit: the frame being gathered and the offload context */
	struct e1000_txctx ctx;
	uint8_t *txbuf;              /* E1000_TX_MAX bytes */
	uint8_t *segbuf;             /* one segment of a TSO frame */
	uint32_t txlen;
	bool tx_started, tx_drop, tx_tse, tx_vle;
	uint8_t tx_popts;
	uint16_t tx_vlan;
	bool tx_ring_warned;
	uint32_t tx_budget;          /* frames this TDT write may still send */
	/* receive: a frame read from the fd and waiting for buffers */
	uint8_t *rxbuf;              /* hdr_len + E1000_RX_MAX bytes */
	uint32_t rx_pending;         /* bytes of frame in rxbuf, 0 = none */
	bool rx_blocked;             /* tap not watched: no buffers */
	bool rx_ring_warned;
	bool tap_dead;               /* the fd failed: no longer watched */
	uint32_t ioaddr;             /* BAR 1's IOADDR */
	uint8_t warned_reg[0x20000 / 4 / 8]; /* BAR 0 size / 4 bits */

	struct e1000_counters cnt;
	struct stats_source stats_src; /* our section of vm->stats */
};

/* Create an e1000 on tap cfg->tap (opened and attached to cfg->bridge
 * here); index is the device's place among the --net options (for the
 * default MAC). Prints nothing: 0, or -errno with the tap's reason in err
 * when there is one (else err is left alone). */
int e1000_create(struct vm *vm, const struct net_cfg *cfg, unsigned index,
		 struct e1000 **out, char *err, size_t errlen);
/* "e1000 on tap T on bridge B, MAC ..." for the machine's start-up line. */
void e1000_describe(const struct e1000 *d, char *buf, size_t len);

/* ---- the core, for the device and for tests ---- */
/* Set up registers, EEPROM and buffers; fd carries frames, each preceded
 * by hdr_len bytes of header (12 for the tap's vnet header, 0 in tests).
 * 0 or -errno. */
int e1000_core_init(struct e1000 *d, const struct guest_mem *gm, int fd,
		    unsigned hdr_len, const uint8_t mac[6]);
void e1000_core_free(struct e1000 *d);
/* The power-on / CTRL.RST state. Takes the lock. */
void e1000_core_reset(struct e1000 *d);
/* BAR 0 (memory) and BAR 1 (I/O) handlers. */
/* The register at BAR 0 offset off, for --trace: its mnemonic from the
 * manual ("TDT", "RA[1]", "STATS+0x10"). */
void e1000_reg_name_at(uint64_t off, char *buf, size_t size);
void e1000_mmio(void *opaque, uint64_t off, void *data, unsigned len,
		bool is_write);
void e1000_pio(void *opaque, uint64_t off, void *data, unsigned len,
	       bool is_write);
/* The fd is readable: receive up to E1000_RX_BUDGET frames. */
void e1000_rx_process(struct e1000 *d);
/* The ITR timer expired: deliver the interrupt it held. */
void e1000_itr_expired(struct e1000 *d);
/* The --stats section: a title line naming the device and its tap, then
 * one counter a line. */
void e1000_stats_print(const struct e1000 *d, FILE *f);
/* The same as a JSON object member, "e1000-0":{...}, like snprintf. */
int e1000_stats_json(const struct e1000 *d, char *buf, size_t len);

#endif
