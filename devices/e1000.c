/* SPDX-License-Identifier: MIT
 * e1000.c - an Intel 82540EM Gigabit Ethernet controller (PCI 8086:100E),
 * as described by the "PCI/PCI-X Family of Gigabit Ethernet Controllers
 * Software Developer's Manual" (8254x): chapter 3 "Receive and Transmit
 * Description" (descriptor rings, legacy and TCP/IP context/data transmit
 * descriptors, checksum offload, TCP segmentation), chapter 5 "EEPROM
 * Interface" (a 64-word Microwire EEPROM and EERD), chapter 7 "Interrupts"
 * (ICR/ICS/IMS/IMC, ITR throttling), chapter 8 "PHY" through MDIC, and
 * chapter 13 "Register Descriptions". Register offsets are in e1000_regs.h.
 *
 * What the device is, from the guest's side:
 *   - BAR 0: 128 KiB of registers; BAR 1: 64 bytes of I/O space with
 *     IOADDR/IODATA, an indirect window onto BAR 0 (13.2); INTA#.
 *   - Link is always up at 1000 Mb/s full duplex (the tap is the cable);
 *     the PHY (M88E1011 IDs) reports link and autonegotiation complete.
 *   - Transmit runs on the vCPU thread at the TDT write: descriptors from
 *     TDH to TDT, frames gathered until EOP, checksums inserted (legacy
 *     CSO/CSS, or TXSM/IXSM with the context's offsets), TSO frames cut
 *     into MSS-sized segments with IP length/ID/checksum and TCP sequence,
 *     flags and checksum fixed up, each written to the tap. With RS the
 *     descriptor gets DD; TXDW and TXQE follow.
 *   - Receive runs on the device's I/O thread when the tap is readable:
 *     the frame goes through the address filter (RAL/RAH with AV, MTA
 *     hash by RCTL.MO, UPE/MPE/BAM), then into as many receive buffers
 *     (RCTL.BSIZE/BSEX) as it needs, status DD|EOP|IXSM (no receive
 *     checksum offload: the stack checks), RXT0 at once (RDTR/RADV are
 *     kept but the delay is left to ITR), RXDMT0 when the free descriptors
 *     cross RCTL.RDMTS. With no free descriptors the tap is not read
 *     (RXO, RNBC) until RDT moves. The 4-byte FCS the driver expects
 *     without RCTL.SECRC is counted in the length and written as zeros.
 *   - Not modelled: VLAN filtering (VFTA is stored only) and receive VLAN
 *     stripping (tagged frames arrive tagged), flow control frames, wake
 *     on LAN, the receive/transmit interrupt delay timers, IPv6 options
 *     beyond what the context offsets say.
 *
 * Every ring and buffer address comes from the guest: descriptors and
 * buffers are reached through gm_ptr() with their whole length; a ring
 * whose registers are out of range stops (one warning, until the driver
 * writes them again), a buffer outside RAM costs that frame (counted), a
 * context that points outside the frame drops that frame. Writes to
 * registers we do not model are ignored with one warning per register.
 * Warnings of every kind share the device's budget of LOG_BUDGET_MAX
 * (vmm/log.h), so a guest rewriting its ring registers cannot flood the
 * log. One TDT write
 * sends at most E1000_TX_BUDGET frames (a TSO segment counts as a frame):
 * the rest waits for the next TDT write, so a ring of tiny-MSS TSO frames
 * cannot hold the vCPU for long.
 */
#include "devices/e1000.h"
#include "devices/e1000_regs.h"

#include "virtio/net.h"
#include "vmm/evloop.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define E1000_TX_BUDGET 4096
#define E1000_MAX_FRAME 1522 /* with FCS and a VLAN tag, without LPE */

/* ---- small helpers ---- */

static inline uint16_t get16be(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t get32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void put32be(uint8_t *p, uint32_t v)
{
	put16be(p, (uint16_t)(v >> 16));
	put16be(p + 2, (uint16_t)v);
}

static inline uint16_t get16le(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get32le(const uint8_t *p)
{
	return (uint32_t)get16le(p) | (uint32_t)get16le(p + 2) << 16;
}

static inline uint64_t get64le(const uint8_t *p)
{
	return (uint64_t)get32le(p) | (uint64_t)get32le(p + 4) << 32;
}

static inline void put16le(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void cnt(uint64_t *c, uint64_t v)
{
	__atomic_fetch_add(c, v, __ATOMIC_RELAXED);
}

/* The Internet checksum (RFC 1071): add big-endian 16-bit words. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	while (len > 1) {
		sum += get16be(p);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint64_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- EEPROM (chapter 5) ---- */

/* The 64 words: the MAC (words 0-2), the IDs the 82540EM's EEPROM
 * carries, no flow control in Initialization Control 2 (word 0x0f), and
 * word 0x3f making the words sum to 0xBABA, which the driver checks. */
static void eeprom_build(struct e1000 *d)
{
	uint16_t *w = d->eeprom, sum = 0;

	memset(w, 0, sizeof(d->eeprom));
	for (int i = 0; i < 3; i++)
		w[i] = (uint16_t)(d->mac[2 * i] | d->mac[2 * i + 1] << 8);
	w[0x04] = 0xffff; /* ID LED settings: the defaults */
	w[EEPROM_INIT_CTRL1] = 0x0401; /* load the subsystem IDs */
	w[EEPROM_SUBSYS_ID] = 0x001e;
	w[EEPROM_SUBSYS_VENDOR] = 0x8086;
	w[EEPROM_DEVICE_ID] = 0x100e;
	w[EEPROM_VENDOR_ID] = 0x8086;
	w[EEPROM_INIT_CTRL2] = 0x0000; /* no PAUSE: flow control off */
	for (int i = 0; i < EEPROM_CHECKSUM_WORD; i++)
		sum = (uint16_t)(sum + w[i]);
	w[EEPROM_CHECKSUM_WORD] = (uint16_t)(EEPROM_CHECKSUM_SUM - sum);
}

enum { EE_CMD, EE_READ, EE_IGNORE };

/* EECD written: the driver bit-bangs the Microwire protocol (5.3): with
 * CS high, DI is sampled on each rising edge of SK: a start bit, the
 * 2-bit opcode and 6 address bits; after a READ, each rising edge puts
 * the next data bit (most significant first) on DO. Writes to the EEPROM
 * are not supported (it reads back the same), nor needed by the driver. */
static void eecd_write(struct e1000 *d, uint32_t v)
{
	bool rise = (v & EECD_SK) && !(d->eecd & EECD_SK);
	uint32_t keep = EECD_SK | EECD_CS | EECD_DI | EECD_FWE_MASK | EECD_REQ;

	d->eecd = (d->eecd & EECD_DO) | (v & keep);
	if (!(v & EECD_CS)) {
		d->ee_state = EE_CMD;
		d->ee_bits = 0;
		d->ee_in = 0;
		d->eecd &= ~EECD_DO;
		return;
	}
	if (!rise)
		return;
	switch (d->ee_state) {
	case EE_CMD:
		if (!d->ee_bits && !(v & EECD_DI))
			return; /* leading zeros before the start bit */
		d->ee_in = d->ee_in << 1 | !!(v & EECD_DI);
		if (++d->ee_bits < EEPROM_MW_OPBITS + EEPROM_MW_ADDRBITS)
			return;
		if (d->ee_in >> EEPROM_MW_ADDRBITS == EEPROM_MW_READ) {
			d->ee_addr = d->ee_in & (EEPROM_WORDS - 1);
			d->ee_state = EE_READ;
			d->ee_bits = 0;
		} else {
			d->ee_state = EE_IGNORE;
		}
		break;
	case EE_READ:
		if (d->ee_bits == 16) { /* sequential read: the next word */
			d->ee_addr = (d->ee_addr + 1) & (EEPROM_WORDS - 1);
			d->ee_bits = 0;
		}
		if (d->eeprom[d->ee_addr] >> (15 - d->ee_bits) & 1)
			d->eecd |= EECD_DO;
		else
			d->eecd &= ~EECD_DO;
		d->ee_bits++;
		break;
	default:
		break;
	}
}

static uint32_t eecd_read(struct e1000 *d)
{
	uint32_t v = d->eecd | EECD_PRES; /* SIZE 0: 64 words */

	if (v & EECD_REQ)
		v |= EECD_GNT; /* nobody else wants the EEPROM */
	return v;
}

/* EERD (13.4.4): START with an address; DONE with the word. */
static void eerd_write(struct e1000 *d, uint32_t v)
{
	unsigned addr = (v >> EERD_ADDR_SHIFT) & 0xff;

	if (!(v & EERD_START)) {
		d->eerd = v & ~EERD_DONE;
		return;
	}
	d->eerd = addr << EERD_ADDR_SHIFT | EERD_DONE |
		  (uint32_t)(addr < EEPROM_WORDS ? d->eeprom[addr] : 0)
			  << EERD_DATA_SHIFT;
}

/* ---- PHY through MDIC (8.x, 13.4.7) ---- */

static void phy_reset(struct e1000 *d)
{
	memset(d->phy, 0, sizeof(d->phy));
	d->phy[PHY_CTRL] = 0x1140;          /* autoneg on, 1000 FD */
	d->phy[PHY_STATUS] = 0x796d;        /* link up, AN complete */
	d->phy[PHY_ID1] = M88E1011_ID1;
	d->phy[PHY_ID2] = M88E1011_ID2;
	d->phy[PHY_AUTONEG_ADV] = 0x01e1;
	d->phy[PHY_LP_ABILITY] = 0x41e1;    /* ack, 10/100 HD/FD, no pause */
	d->phy[PHY_AUTONEG_EXP] = 0x0001;   /* partner can autonegotiate */
	d->phy[PHY_1000T_CTRL] = 0x0300;
	d->phy[PHY_1000T_STATUS] = 0x3c00;  /* partner 1000 FD/HD, rx OK */
	d->phy[PHY_EXT_STATUS] = 0x3000;    /* 1000BASE-T FD/HD */
	d->phy[M88_PHY_SPEC_CTRL] = 0x0068;
	d->phy[M88_PHY_SPEC_STATUS] = 0xac00; /* 1000, FD, resolved, link */
}

static bool phy_readonly(unsigned reg)
{
	switch (reg) {
	case PHY_STATUS: case PHY_ID1: case PHY_ID2: case PHY_LP_ABILITY:
	case PHY_AUTONEG_EXP: case PHY_1000T_STATUS: case PHY_EXT_STATUS:
	case M88_PHY_SPEC_STATUS: case M88_RX_ERR_CNTR:
		return true;
	}
	return false;
}

static void mdic_write(struct e1000 *d, uint32_t v)
{
	unsigned reg = (v >> MDIC_REG_SHIFT) & 0x1f;
	unsigned phy = (v >> MDIC_PHY_SHIFT) & 0x1f;

	d->mdic = v & ~(MDIC_READY | MDIC_ERROR);
	if (phy != E1000_PHY_ADDR || !(v & (MDIC_OP_READ | MDIC_OP_WRITE)) ||
	    (v & MDIC_OP_READ && v & MDIC_OP_WRITE)) {
		d->mdic |= MDIC_READY | MDIC_ERROR;
		return;
	}
	if (v & MDIC_OP_READ) {
		d->mdic = (d->mdic & ~MDIC_DATA_MASK) | d->phy[reg];
	} else if (!phy_readonly(reg)) {
		uint16_t val = (uint16_t)(v & MDIC_DATA_MASK);
		if (reg == PHY_CTRL) /* reset and restart-AN clear themselves */
			val &= (uint16_t)~(MII_CR_RESET | MII_CR_RESTART_AN);
		d->phy[reg] = val;
	}
	d->mdic |= MDIC_READY;
}

/* ---- interrupts (chapter 7) ---- */

static void arm_timer(struct e1000 *d, uint64_t at_ns)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(at_ns / 1000000000ull),
			      .tv_nsec = (long)(at_ns % 1000000000ull) },
	};

	if (d->timer_fd < 0 ||
	    timerfd_settime(d->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return;
	d->timer_armed = true;
}

/* The INTx line follows ICR & IMS, but a new assertion waits until
 * ITR * 256 ns have passed since the last one (7.4, ITR 13.4.18): the
 * interrupt is held by a timer meanwhile. Lock held. */
static void irq_update(struct e1000 *d)
{
	uint64_t gap = (uint64_t)(d->itr & 0xffff) * 256, now;

	if (!(d->icr & d->ims)) {
		if (d->line) {
			d->line = false;
			d->irq(d, false);
		}
		return;
	}
	if (d->line)
		return;
	if (gap) {
		now = now_ns();
		if (now < d->next_irq_ns) {
			if (!d->timer_armed) {
				arm_timer(d, d->next_irq_ns);
				if (d->timer_armed)
					cnt(&d->cnt.irqs_held, 1);
			}
			if (d->timer_armed)
				return;
			/* no timer: deliver rather than lose it */
		}
		d->next_irq_ns = now + gap;
	}
	d->line = true;
	cnt(&d->cnt.irqs, 1);
	d->irq(d, true);
}

static void set_cause(struct e1000 *d, uint32_t cause)
{
	d->icr |= cause;
	irq_update(d);
}

void e1000_itr_expired(struct e1000 *d)
{
	pthread_mutex_lock(&d->lock);
	d->timer_armed = false;
	irq_update(d);
	pthread_mutex_unlock(&d->lock);
}

static void timer_event(void *opaque, uint32_t events)
{
	struct e1000 *d = opaque;
	uint64_t ticks;

	(void)events;
	if (read(d->timer_fd, &ticks, sizeof(ticks)) < 0) {
		/* spurious wakeup: nothing expired */
	}
	e1000_itr_expired(d);
}

static void pci_irq(struct e1000 *d, bool level)
{
	pci_intx_set(&d->pci, level);
}

/* ---- statistics (13.7) ---- */

static inline void e1000_stat(struct e1000 *d, unsigned off, uint64_t v)
{
	d->stats[(off - E1000_STATS) / 4] += v;
}

static bool stat_is_low64(unsigned off)
{
	return off == E1000_GORCL || off == E1000_GOTCL || off == E1000_TORL ||
	       off == E1000_TOTL;
}

/* Read-to-clear; the 64-bit counters clear when their high half is read
 * (the driver reads low, then high). */
static uint32_t stat_read(struct e1000 *d, unsigned off)
{
	unsigned i = (off - E1000_STATS) / 4;
	uint64_t v;

	if (stat_is_low64(off))
		return (uint32_t)d->stats[i];
	if (i > 0 && stat_is_low64(off - 4)) {
		v = d->stats[i - 1] >> 32;
		d->stats[i - 1] = 0;
		return (uint32_t)v;
	}
	v = d->stats[i];
	d->stats[i] = 0;
	return v > 0xffffffffu ? 0xffffffffu : (uint32_t)v;
}

/* Size bucket of the PRCxxx / PTCxxx counters (64, 65-127, ... 1024+). */
static unsigned size_bucket(uint32_t len)
{
	unsigned b = 0;

	for (uint32_t lim = 64; b < 5 && len > lim; lim = lim * 2 + 1)
		b++;
	return b;
}

/* One more warning allowed? Warnings of every kind share the device's
 * budget (log.h), whatever the guest does. */
static bool may_warn(struct e1000 *d)
{
	return log_budget_take(&d->dev.warn, d->dev.name);
}

static void count_frame(struct e1000 *d, const uint8_t *dst, uint32_t len,
			bool rx)
{
	bool bcast = !memcmp(dst, "\xff\xff\xff\xff\xff\xff", 6);

	if (rx) {
		e1000_stat(d, E1000_GPRC, 1);
		e1000_stat(d, E1000_TPR, 1);
		e1000_stat(d, E1000_GORCL, len);
		e1000_stat(d, E1000_TORL, len);
		e1000_stat(d, E1000_PRC64 + 4 * size_bucket(len), 1);
		if (bcast)
			e1000_stat(d, E1000_BPRC, 1);
		else if (dst[0] & 1)
			e1000_stat(d, E1000_MPRC, 1);
	} else {
		e1000_stat(d, E1000_GPTC, 1);
		e1000_stat(d, E1000_TPT, 1);
		e1000_stat(d, E1000_GOTCL, len);
		e1000_stat(d, E1000_TOTL, len);
		e1000_stat(d, E1000_PTC64 + 4 * size_bucket(len), 1);
		if (bcast)
			e1000_stat(d, E1000_BPTC, 1);
		else if (dst[0] & 1)
			e1000_stat(d, E1000_MPTC, 1);
	}
}

/* ---- receive (3.2) ---- */

static uint32_t rx_bufsize(uint32_t rctl)
{
	unsigned bs = (rctl >> RCTL_BSIZE_SHIFT) & 3;

	if (rctl & RCTL_BSEX)
		return bs ? 32768u >> bs : 2048; /* 16K, 8K, 4K */
	return 2048u >> bs; /* 2048, 1024, 512, 256 */
}

static uint64_t rx_base(struct e1000 *d)
{
	return (uint64_t)d->rdbah << 32 | d->rdbal;
}

/* Descriptors the device owns (RDH up to RDT), or -1 for a ring whose
 * registers make no sense (one warning until they are written again). */
static int rx_free(struct e1000 *d)
{
	uint32_t n = d->rdlen / E1000_DESC_SIZE;

	if (!n)
		return 0;
	if (d->rdh >= n || d->rdt >= n) {
		if (!d->rx_ring_warned) {
			if (may_warn(d))
				pr_warn("%s: receive ring head %u / tail %u outside its "
					"%u descriptors; receive stopped", d->dev.name,
					d->rdh, d->rdt, n);
			d->rx_ring_warned = true;
			cnt(&d->cnt.ring_errors, 1);
		}
		return -1;
	}
	return (int)((d->rdt + n - d->rdh) % n);
}

/* Would the address filter (RCTL, RAL/RAH, MTA) take a frame for dst? */
static bool rx_accept(struct e1000 *d, const uint8_t *dst)
{
	/* the exact filters first: the driver puts multicast addresses in
	 * receive addresses 1-15 too */
	for (unsigned i = 0; i < E1000_RA_N; i++) {
		uint32_t lo = d->ra[2 * i], hi = d->ra[2 * i + 1];
		uint8_t a[6] = { (uint8_t)lo, (uint8_t)(lo >> 8),
				 (uint8_t)(lo >> 16), (uint8_t)(lo >> 24),
				 (uint8_t)hi, (uint8_t)(hi >> 8) };
		if ((hi & RAH_AV) && !memcmp(a, dst, 6))
			return true;
	}
	if (dst[0] & 1) {
		unsigned h, mo = (d->rctl >> RCTL_MO_SHIFT) & 3;

		if (!memcmp(dst, "\xff\xff\xff\xff\xff\xff", 6) &&
		    (d->rctl & RCTL_BAM))
			return true;
		if (d->rctl & RCTL_MPE)
			return true;
		/* 12 bits of the address picked by MO (13.4.22 / 13.5.1) */
		h = ((unsigned)dst[4] >> (4 - mo) | (unsigned)dst[5] << (4 + mo)) &
		    0xfff;
		if (mo == 3)
			h = ((unsigned)dst[4] | (unsigned)dst[5] << 8) & 0xfff;
		return d->mta[h >> 5] >> (h & 31) & 1;
	}
	return d->rctl & RCTL_UPE;
}

/* Put the frame f[0..len) into receive buffers: 0 done (delivered or, for
 * a bad buffer, dropped), -EAGAIN not enough free descriptors yet,
 * -EINVAL it never will (dropped). Lock held. */
static int rx_deliver(struct e1000 *d, const uint8_t *f, uint32_t len)
{
	uint32_t n = d->rdlen / E1000_DESC_SIZE, bs = rx_bufsize(d->rctl);
	uint32_t fcs = d->rctl & RCTL_SECRC ? 0 : 4, total = len + fcs;
	uint32_t need = (total + bs - 1) / bs, off = 0;
	unsigned thr = n >> (((d->rctl >> RCTL_RDMTS_SHIFT) & 3) + 1);
	int free = rx_free(d);

	if (!(d->rctl & RCTL_LPE) && total > E1000_MAX_FRAME) {
		/* without LPE longer frames are discarded (3.2.3): the
		 * driver's buffers then hold just 1522 bytes, whatever
		 * BSIZE says */
		e1000_stat(d, E1000_ROC, 1);
		return -EINVAL;
	}
	if (free < 0 || (uint32_t)free < need)
		return n && need >= n ? -EINVAL : -EAGAIN;
	while (off < total) {
		uint8_t *desc = gm_ptr(d->gm, rx_base(d) +
				       (uint64_t)d->rdh * E1000_DESC_SIZE,
				       E1000_DESC_SIZE);
		uint32_t chunk = total - off < bs ? total - off : bs;
		uint32_t data = off < len ? (len - off < chunk ? len - off
							       : chunk) : 0;
		bool last = off + chunk == total;
		uint8_t status = RXD_STAT_DD | RXD_STAT_IXSM, err = 0;
		uint8_t *buf;

		if (!desc) {
			if (!d->rx_ring_warned) {
				if (may_warn(d))
					pr_warn("%s: receive ring at 0x%llx is not in "
						"guest RAM; receive stopped",
						d->dev.name,
						(unsigned long long)rx_base(d));
				d->rx_ring_warned = true;
				cnt(&d->cnt.ring_errors, 1);
			}
			return -EAGAIN;
		}
		buf = gm_ptr(d->gm, get64le(desc), chunk);
		if (buf) {
			memcpy(buf, f + off, data);
			memset(buf + data, 0, chunk - data); /* the FCS */
		} else {
			/* a buffer outside RAM: this descriptor ends the
			 * frame with an error, the rest of it is dropped */
			cnt(&d->cnt.rx_bad_buf, 1);
			chunk = 0;
			last = true;
			err = RXD_ERR_RXE;
		}
		if (last)
			status |= RXD_STAT_EOP;
		put16le(desc + 8, (uint16_t)chunk);
		put16le(desc + 10, 0);  /* packet checksum: not computed */
		desc[13] = err;
		put16le(desc + 14, 0);
		/* the data and the other fields before DD: the driver reads
		 * the descriptor once it sees DD */
		__atomic_thread_fence(__ATOMIC_RELEASE);
		__atomic_store_n(&desc[12], status, __ATOMIC_RELAXED);
		d->rdh = (d->rdh + 1) % n;
		if (!buf)
			goto out;
		off += chunk;
	}
	count_frame(d, f, total, true);
	cnt(&d->cnt.rx_frames, 1);
	cnt(&d->cnt.rx_bytes, len);
out:
	free = rx_free(d);
	if (free >= 0 && (unsigned)free <= thr &&
	    (unsigned)free + need > thr)
		d->icr |= ICR_RXDMT0;
	return 0;
}

static void rx_watch(struct e1000 *d, bool on)
{
	if (d->rx_blocked == !on)
		return;
	d->rx_blocked = !on;
	if (d->loop && !d->tap_dead && evloop_mod(d->loop, d->fd, on ? EPOLLIN : 0))
		pr_warn_limited(&d->dev.warn, d->dev.name,
				"%s: cannot change the tap's events", d->dev.name);
}

/* Can a frame be written to the guest now? (EN, bus master, a sane ring
 * with a free descriptor) */
static bool rx_ready(struct e1000 *d)
{
	return (d->rctl & RCTL_EN) && pci_bus_master(&d->pci) &&
	       rx_free(d) > 0;
}

/* Receive ring registers or RCTL changed: deliver a frame that waited for
 * buffers and watch the tap again. Lock held (vCPU thread). */
static void rx_kick(struct e1000 *d)
{
	int r;

	if (d->rx_pending && rx_ready(d)) {
		r = rx_deliver(d, d->rxbuf + d->hdr_len, d->rx_pending);
		if (r != -EAGAIN) {
			d->rx_pending = 0;
			if (!r)
				d->icr |= ICR_RXT0;
			irq_update(d);
		}
	}
	if (!d->rx_pending && rx_ready(d))
		rx_watch(d, true);
}

void e1000_rx_process(struct e1000 *d)
{
	bool got = false;

	pthread_mutex_lock(&d->lock);
	for (int i = 0; i < E1000_RX_BUDGET; i++) {
		if (!d->rx_pending) {
			ssize_t r;

			if ((d->rctl & RCTL_EN) && !rx_ready(d)) {
				/* no buffers: leave frames in the tap */
				e1000_stat(d, E1000_RNBC, 1);
				d->icr |= ICR_RXO;
				rx_watch(d, false);
				break;
			}
			r = read(d->fd, d->rxbuf, d->hdr_len + E1000_RX_MAX);
			if (r < 0)
				break; /* EAGAIN: drained */
			if ((size_t)r < d->hdr_len + 14) {
				cnt(&d->cnt.rx_runt, 1);
				continue;
			}
			if (!(d->rctl & RCTL_EN)) {
				e1000_stat(d, E1000_MPC, 1); /* receiver off */
				continue;
			}
			if (!rx_accept(d, d->rxbuf + d->hdr_len)) {
				cnt(&d->cnt.rx_filtered, 1);
				continue;
			}
			d->rx_pending = (uint32_t)r - d->hdr_len;
		}
		int r = rx_deliver(d, d->rxbuf + d->hdr_len, d->rx_pending);
		if (r == -EAGAIN) {
			rx_watch(d, false);
			break;
		}
		d->rx_pending = 0;
		got |= r == 0;
	}
	if (got)
		d->icr |= ICR_RXT0;
	irq_update(d);
	pthread_mutex_unlock(&d->lock);
}

static void rx_event(void *opaque, uint32_t events)
{
	struct e1000 *d = opaque;

	if (events & (EPOLLERR | EPOLLHUP)) {
		pr_warn("%s: tap '%s' failed (deleted?); network is down",
			d->dev.name, d->tap.ifname);
		pthread_mutex_lock(&d->lock);
		if (d->loop && !d->tap_dead)
			evloop_del(d->loop, d->fd);
		d->tap_dead = true;
		pthread_mutex_unlock(&d->lock);
		return;
	}
	e1000_rx_process(d);
}

/* ---- transmit (3.3, 3.5, 3.6) ---- */

/* Write one frame to the fd, behind the zero vnet header (no offloads
 * asked of the host) and with the VLAN tag inserted after the source
 * address when the descriptor said VLE and CTRL.VME is on (3.3.3). */
static void tx_emit(struct e1000 *d, uint8_t *f, uint32_t len)
{
	static const uint8_t zero_hdr[16];
	uint8_t tag[4];
	struct iovec iov[4];
	int n = 0;

	if (d->hdr_len)
		iov[n++] = (struct iovec){ (void *)zero_hdr, d->hdr_len };
	if (d->tx_vle && (d->ctrl & CTRL_VME) && len >= 12) {
		put16be(tag, (uint16_t)d->plain[E1000_VET / 4]);
		put16be(tag + 2, d->tx_vlan);
		iov[n++] = (struct iovec){ f, 12 };
		iov[n++] = (struct iovec){ tag, 4 };
		iov[n++] = (struct iovec){ f + 12, len - 12 };
		len += 4;
	} else {
		iov[n++] = (struct iovec){ f, len };
	}
	if (d->tx_budget)
		d->tx_budget--;
	if (writev(d->fd, iov, n) < 0) {
		cnt(&d->cnt.tx_errors, 1);
		return;
	}
	count_frame(d, f, len + 4, false);
	cnt(&d->cnt.tx_frames, 1);
	cnt(&d->cnt.tx_bytes, len);
}

/* Insert the checksum of f[css..cse] (cse 0: to the end) at cso. False if
 * the offsets do not fit the frame. */
static bool csum_insert(uint8_t *f, uint32_t len, uint32_t css, uint32_t cso,
			uint32_t cse)
{
	uint32_t end = cse ? cse + 1 : len;

	if (css >= end || end > len || cso + 2 > len)
		return false;
	put16be(f + cso, csum_fold(csum_add(0, f + css, end - css)));
	return true;
}

/* A frame without TSE: the offloads its descriptors asked for, then out. */
static void tx_plain(struct e1000 *d, bool legacy, uint8_t css, uint8_t cso)
{
	struct e1000_txctx *c = &d->ctx;
	uint8_t *f = d->txbuf;
	uint32_t len = d->txlen;
	bool ok = true;

	if (legacy) {
		if (d->tx_popts & TXD_POPTS_TXSM) /* IC on the EOP descriptor */
			ok = csum_insert(f, len, css, cso, 0);
	} else {
		if ((d->tx_popts & TXD_POPTS_IXSM) && ok) {
			if (c->valid && c->ipcso + 2u <= len)
				put16be(f + c->ipcso, 0);
			ok = c->valid &&
			     csum_insert(f, len, c->ipcss, c->ipcso, c->ipcse);
		}
		if ((d->tx_popts & TXD_POPTS_TXSM) && ok)
			ok = c->valid &&
			     csum_insert(f, len, c->tucss, c->tucso, c->tucse);
	}
	if (!ok) {
		cnt(&d->cnt.tx_bad_ctx, 1);
		return;
	}
	tx_emit(d, f, len);
}

/* A TSE frame (3.5 "TCP Segmentation"): the header (HDRLEN bytes) is
 * repeated in front of every MSS bytes of payload; per segment the IPv4
 * total length, identification (+1 each) and header checksum, or the IPv6
 * payload length, the TCP sequence number (+ offset), FIN/PSH (last
 * segment only) and the TCP checksum (the driver's pseudo-header sum
 * plus this segment's length), or the UDP length, are fixed up. */
static void tx_tso(struct e1000 *d)
{
	struct e1000_txctx *c = &d->ctx;
	uint8_t *f = d->txbuf, *s = d->segbuf;
	uint32_t len = d->txlen, h = c->hdrlen, mss = c->mss, pay, nseg;
	bool ip4 = c->tucmd & TXD_TUCMD_IP, tcp = c->tucmd & TXD_TUCMD_TCP;
	uint32_t l4hdr = tcp ? 20 : 8, iphdr = ip4 ? 20 : 40;
	uint32_t ipend = c->ipcse ? c->ipcse + 1u : c->tucss;
	uint16_t id0;
	uint32_t seq0;

	if (!c->valid || !mss || !h || h > len ||
	    c->ipcss + iphdr > h || c->tucss + l4hdr > h ||
	    c->tucso + 2u > h || c->tucss < c->ipcss + iphdr ||
	    (ip4 && (c->ipcso + 2u > h || ipend > h || ipend <= c->ipcss))) {
		cnt(&d->cnt.tx_bad_ctx, 1);
		return;
	}
	pay = len - h;
	nseg = pay ? (pay + mss - 1) / mss : 1;
	id0 = get16be(f + c->ipcss + 4);
	seq0 = get32be(f + c->tucss + 4);
	for (uint32_t i = 0, off = 0; i < nseg; i++, off += mss) {
		uint32_t sl = pay - off < mss ? pay - off : mss;
		uint32_t slen = h + sl;

		memcpy(s, f, h);
		memcpy(s + h, f + h + off, sl);
		if (ip4) {
			put16be(s + c->ipcss + 2, (uint16_t)(slen - c->ipcss));
			put16be(s + c->ipcss + 4, (uint16_t)(id0 + i));
			if (d->tx_popts & TXD_POPTS_IXSM) {
				put16be(s + c->ipcso, 0);
				put16be(s + c->ipcso,
					csum_fold(csum_add(0, s + c->ipcss,
							   ipend - c->ipcss)));
			}
		} else {
			put16be(s + c->ipcss + 4,
				(uint16_t)(slen - c->ipcss - 40));
		}
		if (tcp) {
			put32be(s + c->tucss + 4, seq0 + off);
			if (i + 1 < nseg)
				s[c->tucss + 13] &= (uint8_t)~0x09; /* FIN, PSH */
		} else {
			put16be(s + c->tucss + 4, (uint16_t)(slen - c->tucss));
		}
		if (d->tx_popts & TXD_POPTS_TXSM) {
			uint64_t sum = slen - c->tucss; /* pseudo-header length */
			sum = csum_add(sum, s + c->tucss, slen - c->tucss);
			put16be(s + c->tucso, csum_fold(sum));
		}
		tx_emit(d, s, slen);
		cnt(&d->cnt.tx_tso_segs, 1);
	}
	e1000_stat(d, E1000_TSCTC, 1);
}

static void tx_frame_reset(struct e1000 *d)
{
	d->txlen = 0;
	d->tx_started = d->tx_drop = d->tx_tse = d->tx_vle = false;
	d->tx_popts = 0;
	d->tx_vlan = 0;
}

/* Gather [addr, addr+len) into the frame being built. */
static void tx_append(struct e1000 *d, uint64_t addr, uint32_t len)
{
	const uint8_t *p;

	if (d->tx_drop || !len)
		return;
	if (len > E1000_TX_MAX - d->txlen) {
		cnt(&d->cnt.tx_too_big, 1);
		d->tx_drop = true;
		return;
	}
	p = gm_ptr(d->gm, addr, len);
	if (!p) {
		cnt(&d->cnt.tx_bad_buf, 1);
		d->tx_drop = true;
		return;
	}
	memcpy(d->txbuf + d->txlen, p, len);
	d->txlen += len;
}

/* One descriptor (a copy, fetched once). */
static void tx_desc(struct e1000 *d, const uint8_t *desc)
{
	uint8_t cmd = desc[11];
	bool legacy = !(cmd & TXD_CMD_DEXT);

	if (!legacy && (desc[10] >> 4) == TXD_DTYP_CTX) {
		struct e1000_txctx *c = &d->ctx;

		c->ipcss = desc[0];
		c->ipcso = desc[1];
		c->ipcse = get16le(desc + 2);
		c->tucss = desc[4];
		c->tucso = desc[5];
		c->tucse = get16le(desc + 6);
		c->paylen = get32le(desc + 8) & 0xfffff;
		c->tucmd = cmd;
		c->hdrlen = desc[13];
		c->mss = get16le(desc + 14);
		c->valid = true;
		return;
	}
	if (!legacy && (desc[10] >> 4) != TXD_DTYP_DATA) {
		cnt(&d->cnt.tx_bad_ctx, 1); /* reserved type: skipped */
		return;
	}
	if (!d->tx_started) {
		d->tx_started = true;
		d->tx_popts = legacy ? 0 : desc[13];
		d->tx_tse = !legacy && (cmd & TXD_CMD_TSE);
	}
	if (cmd & TXD_CMD_VLE) {
		d->tx_vle = true;
		d->tx_vlan = get16le(desc + 14);
	}
	tx_append(d, get64le(desc),
		  legacy ? get16le(desc + 8) : get32le(desc + 8) & 0xfffff);
	if (!(cmd & TXD_CMD_EOP))
		return;
	if (!d->tx_drop && d->txlen) {
		if (legacy && (cmd & TXD_CMD_IC))
			d->tx_popts = TXD_POPTS_TXSM;
		if (d->tx_tse)
			tx_tso(d);
		else
			tx_plain(d, legacy, desc[13], desc[10]);
	}
	tx_frame_reset(d);
}

static uint64_t tx_base(struct e1000 *d)
{
	return (uint64_t)d->tdbah << 32 | d->tdbal;
}

/* Transmit what lies between TDH and TDT. Lock held (vCPU thread). */
static void tx_process(struct e1000 *d)
{
	uint32_t n = d->tdlen / E1000_DESC_SIZE, budget = n;
	uint32_t cause = 0;

	if (!(d->tctl & TCTL_EN) || !pci_bus_master(&d->pci) ||
	    d->tdh == d->tdt)
		return;
	if (!n || d->tdh >= n || d->tdt >= n) {
		if (!d->tx_ring_warned) {
			if (may_warn(d))
				pr_warn("%s: transmit ring head %u / tail %u outside "
					"its %u descriptors; transmit stopped",
					d->dev.name, d->tdh, d->tdt, n);
			d->tx_ring_warned = true;
			cnt(&d->cnt.ring_errors, 1);
		}
		return;
	}
	d->tx_budget = E1000_TX_BUDGET;
	while (d->tdh != d->tdt && budget-- && d->tx_budget) {
		uint8_t desc[E1000_DESC_SIZE], *p;

		p = gm_ptr(d->gm, tx_base(d) + (uint64_t)d->tdh * E1000_DESC_SIZE,
			   E1000_DESC_SIZE);
		if (!p) {
			if (!d->tx_ring_warned) {
				if (may_warn(d))
					pr_warn("%s: transmit ring at 0x%llx is not in "
						"guest RAM; transmit stopped",
						d->dev.name,
						(unsigned long long)tx_base(d));
				d->tx_ring_warned = true;
				cnt(&d->cnt.ring_errors, 1);
			}
			break;
		}
		memcpy(desc, p, sizeof(desc));
		tx_desc(d, desc);
		if (desc[11] & TXD_CMD_RS) {
			/* the frame has been read out of the buffers: the
			 * driver may reuse them once it sees DD */
			__atomic_thread_fence(__ATOMIC_RELEASE);
			__atomic_store_n(&p[12], (uint8_t)(desc[12] | TXD_STAT_DD),
					 __ATOMIC_RELAXED);
			cause |= ICR_TXDW;
		}
		d->tdh = (d->tdh + 1) % n;
	}
	if (d->tdh == d->tdt)
		cause |= ICR_TXQE;
	if (cause)
		set_cause(d, cause);
}

/* ---- registers ---- */

/* Registers kept as written (and read back), with no side effect here. */
static bool is_plain(uint32_t off)
{
	switch (off) {
	case E1000_FLA: case E1000_FCAL: case E1000_FCAH: case E1000_FCT:
	case E1000_VET: case E1000_FCTTV: case E1000_TXCW: case E1000_RXCW:
	case E1000_TIPG: case E1000_AIT: case E1000_LEDCTL: case E1000_PBA:
	case E1000_FCRTL: case E1000_FCRTH: case E1000_RDFH: case E1000_RDFT:
	case E1000_RDFHS: case E1000_RDFTS: case E1000_RDFPC:
	case E1000_RDTR: case E1000_RXDCTL: case E1000_RADV: case E1000_RSRPD:
	case E1000_TDFH: case E1000_TDFT: case E1000_TDFHS: case E1000_TDFTS:
	case E1000_TDFPC: case E1000_TIDV: case E1000_TXDCTL: case E1000_TADV:
	case E1000_TSPMT: case E1000_RXCSUM: case E1000_WUC: case E1000_WUFC:
	case E1000_WUS: case E1000_MANC: case E1000_IPAV:
		return true;
	}
	return (off >= E1000_IP4AT && off < E1000_IP4AT + 32) ||
	       (off >= E1000_IP6AT && off < E1000_IP6AT + 16) ||
	       (off >= E1000_WUPM && off < E1000_WUPM + 128) ||
	       (off >= E1000_FFLT && off < E1000_FFLT + 32) ||
	       off == E1000_WUPL;
}

static void warn_reg(struct e1000 *d, uint32_t off, bool is_write)
{
	unsigned i = off / 4;

	if (d->warned_reg[i / 8] & (1u << (i % 8)))
		return;
	d->warned_reg[i / 8] |= (uint8_t)(1u << (i % 8));
	if (may_warn(d))
		pr_warn("%s: %s of register 0x%05x ignored (not modelled)",
			d->dev.name, is_write ? "write" : "read", off);
}

static void reset_locked(struct e1000 *d)
{
	memset(d->mta, 0, sizeof(d->mta));
	memset(d->ra, 0, sizeof(d->ra));
	memset(d->vfta, 0, sizeof(d->vfta));
	memset(d->plain, 0, sizeof(d->plain));
	memset(d->stats, 0, sizeof(d->stats));
	d->ctrl = CTRL_FD | CTRL_ASDE | CTRL_SLU | CTRL_SPD_1000;
	d->status = STATUS_FD | STATUS_LU | STATUS_SPEED_1000 |
		    STATUS_ASDV_1000;
	d->eecd = 0;
	d->eerd = d->mdic = d->ctrl_ext = 0;
	d->ee_state = EE_CMD;
	d->ee_bits = 0;
	d->ee_in = 0;
	d->ims = d->itr = 0;
	d->rctl = d->tctl = 0;
	d->rdbal = d->rdbah = d->rdlen = d->rdh = d->rdt = 0;
	d->tdbal = d->tdbah = d->tdlen = d->tdh = d->tdt = 0;
	d->plain[E1000_PBA / 4] = 0x30;      /* 48 KiB for receive */
	d->plain[E1000_VET / 4] = 0x8100;
	d->plain[E1000_TXCW / 4] = 0;
	/* the EEPROM's MAC is loaded into the first receive address */
	d->ra[0] = (uint32_t)d->mac[0] | (uint32_t)d->mac[1] << 8 |
		   (uint32_t)d->mac[2] << 16 | (uint32_t)d->mac[3] << 24;
	d->ra[1] = (uint32_t)d->mac[4] | (uint32_t)d->mac[5] << 8 | RAH_AV;
	phy_reset(d);
	d->ctx = (struct e1000_txctx){ 0 };
	tx_frame_reset(d);
	d->rx_pending = 0;
	d->rx_ring_warned = d->tx_ring_warned = false;
	/* the link comes up again after the reset */
	d->icr = ICR_LSC;
	irq_update(d);
}

void e1000_core_reset(struct e1000 *d)
{
	pthread_mutex_lock(&d->lock);
	reset_locked(d);
	pthread_mutex_unlock(&d->lock);
}

static uint32_t reg_read(struct e1000 *d, uint32_t off)
{
	uint32_t v;

	switch (off) {
	case E1000_CTRL: return d->ctrl;
	case E1000_STATUS: return d->status;
	case E1000_EECD: return eecd_read(d);
	case E1000_EERD: return d->eerd;
	case E1000_CTRL_EXT: return d->ctrl_ext;
	case E1000_MDIC: return d->mdic;
	case E1000_ICR:
		/* read to clear (the 82540EM clears it whatever IMS is) */
		v = d->icr;
		d->icr = 0;
		irq_update(d);
		return v;
	case E1000_ITR: return d->itr;
	case E1000_IMS: return d->ims;
	case E1000_ICS: case E1000_IMC: return 0; /* write-only */
	case E1000_RCTL: return d->rctl;
	case E1000_TCTL: return d->tctl;
	case E1000_RDBAL: return d->rdbal;
	case E1000_RDBAH: return d->rdbah;
	case E1000_RDLEN: return d->rdlen;
	case E1000_RDH: return d->rdh;
	case E1000_RDT: return d->rdt;
	case E1000_TDBAL: return d->tdbal;
	case E1000_TDBAH: return d->tdbah;
	case E1000_TDLEN: return d->tdlen;
	case E1000_TDH: return d->tdh;
	case E1000_TDT: return d->tdt;
	}
	if (off >= E1000_STATS && off < E1000_STATS_END)
		return stat_read(d, off);
	if (off >= E1000_MTA && off < E1000_MTA + 4 * E1000_MTA_N)
		return d->mta[(off - E1000_MTA) / 4];
	if (off >= E1000_RA && off < E1000_RA + 8 * E1000_RA_N)
		return d->ra[(off - E1000_RA) / 4];
	if (off >= E1000_VFTA && off < E1000_VFTA + 4 * E1000_VFTA_N)
		return d->vfta[(off - E1000_VFTA) / 4];
	if (is_plain(off))
		return d->plain[off / 4];
	warn_reg(d, off, false);
	return 0;
}

static void reg_write(struct e1000 *d, uint32_t off, uint32_t v)
{
	switch (off) {
	case E1000_CTRL:
		if (v & CTRL_RST) {
			reset_locked(d);
			return;
		}
		d->ctrl = v & ~CTRL_PHY_RST;
		return;
	case E1000_STATUS: return; /* read-only */
	case E1000_EECD: eecd_write(d, v); return;
	case E1000_EERD: eerd_write(d, v); return;
	case E1000_CTRL_EXT: d->ctrl_ext = v; return;
	case E1000_MDIC:
		mdic_write(d, v);
		if (v & MDIC_INT_EN)
			set_cause(d, ICR_MDAC);
		return;
	case E1000_ICR: /* write 1 to clear */
		d->icr &= ~v;
		irq_update(d);
		return;
	case E1000_ICS: set_cause(d, v & ICR_VALID); return;
	case E1000_IMS: d->ims |= v & ICR_VALID; irq_update(d); return;
	case E1000_IMC: d->ims &= ~v; irq_update(d); return;
	case E1000_ITR: d->itr = v & 0xffff; return;
	case E1000_RCTL: d->rctl = v; rx_kick(d); return;
	case E1000_TCTL: d->tctl = v; tx_process(d); return;
	case E1000_RDBAL: d->rdbal = v & ~0xfu; break;
	case E1000_RDBAH: d->rdbah = v; break;
	case E1000_RDLEN: d->rdlen = v & 0xfff80; break;
	case E1000_RDH: d->rdh = v & 0xffff; break;
	case E1000_RDT: /* the doorbell: no new warning for a broken ring */
		d->rdt = v & 0xffff;
		rx_kick(d);
		return;
	case E1000_TDBAL: d->tdbal = v & ~0xfu; d->tx_ring_warned = false; return;
	case E1000_TDBAH: d->tdbah = v; d->tx_ring_warned = false; return;
	case E1000_TDLEN: d->tdlen = v & 0xfff80; d->tx_ring_warned = false; return;
	case E1000_TDH: d->tdh = v & 0xffff; d->tx_ring_warned = false; return;
	case E1000_TDT: /* the doorbell: no new warning for a broken ring */
		d->tdt = v & 0xffff;
		tx_process(d);
		return;
	default:
		if (off >= E1000_STATS && off < E1000_STATS_END)
			return; /* read-only counters */
		if (off >= E1000_MTA && off < E1000_MTA + 4 * E1000_MTA_N)
			d->mta[(off - E1000_MTA) / 4] = v;
		else if (off >= E1000_RA && off < E1000_RA + 8 * E1000_RA_N)
			d->ra[(off - E1000_RA) / 4] = v;
		else if (off >= E1000_VFTA && off < E1000_VFTA + 4 * E1000_VFTA_N)
			d->vfta[(off - E1000_VFTA) / 4] = v;
		else if (is_plain(off))
			d->plain[off / 4] = v;
		else
			warn_reg(d, off, true);
		return;
	}
	/* the receive ring moved or changed size: warn again if bad */
	d->rx_ring_warned = false;
	rx_kick(d);
}

static void reg_access(struct e1000 *d, uint64_t off, void *data, unsigned len,
		   bool is_write)
{
	uint32_t reg = (uint32_t)off & ~3u, v;
	unsigned sh = (unsigned)(off & 3) * 8;

	if (off >= E1000_BAR0_SIZE || len > 4 || (off & 3) + len > 4) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&d->lock);
	if (is_write) {
		/* the driver writes whole registers; a byte or word write
		 * would need a read with its side effects: ignored */
		if (len == 4) {
			memcpy(&v, data, 4);
			reg_write(d, reg, v);
		} else {
			warn_reg(d, reg, true);
		}
	} else {
		v = reg_read(d, reg) >> sh;
		memcpy(data, &v, len);
	}
	pthread_mutex_unlock(&d->lock);
}

/* The mnemonics of the manual's register table (13.3), for --trace */
static const struct { uint32_t off; const char *name; } reg_names[] = {
	{ E1000_CTRL, "CTRL" },
	{ E1000_STATUS, "STATUS" },
	{ E1000_EECD, "EECD" },
	{ E1000_EERD, "EERD" },
	{ E1000_CTRL_EXT, "CTRL_EXT" },
	{ E1000_FLA, "FLA" },
	{ E1000_MDIC, "MDIC" },
	{ E1000_FCAL, "FCAL" },
	{ E1000_FCAH, "FCAH" },
	{ E1000_FCT, "FCT" },
	{ E1000_VET, "VET" },
	{ E1000_ICR, "ICR" },
	{ E1000_ITR, "ITR" },
	{ E1000_ICS, "ICS" },
	{ E1000_IMS, "IMS" },
	{ E1000_IMC, "IMC" },
	{ E1000_RCTL, "RCTL" },
	{ E1000_FCTTV, "FCTTV" },
	{ E1000_TXCW, "TXCW" },
	{ E1000_RXCW, "RXCW" },
	{ E1000_TCTL, "TCTL" },
	{ E1000_TIPG, "TIPG" },
	{ E1000_AIT, "AIT" },
	{ E1000_LEDCTL, "LEDCTL" },
	{ E1000_PBA, "PBA" },
	{ E1000_FCRTL, "FCRTL" },
	{ E1000_FCRTH, "FCRTH" },
	{ E1000_RDFH, "RDFH" },
	{ E1000_RDFT, "RDFT" },
	{ E1000_RDFHS, "RDFHS" },
	{ E1000_RDFTS, "RDFTS" },
	{ E1000_RDFPC, "RDFPC" },
	{ E1000_RDBAL, "RDBAL" },
	{ E1000_RDBAH, "RDBAH" },
	{ E1000_RDLEN, "RDLEN" },
	{ E1000_RDH, "RDH" },
	{ E1000_RDT, "RDT" },
	{ E1000_RDTR, "RDTR" },
	{ E1000_RXDCTL, "RXDCTL" },
	{ E1000_RADV, "RADV" },
	{ E1000_RSRPD, "RSRPD" },
	{ E1000_TDFH, "TDFH" },
	{ E1000_TDFT, "TDFT" },
	{ E1000_TDFHS, "TDFHS" },
	{ E1000_TDFTS, "TDFTS" },
	{ E1000_TDFPC, "TDFPC" },
	{ E1000_TDBAL, "TDBAL" },
	{ E1000_TDBAH, "TDBAH" },
	{ E1000_TDLEN, "TDLEN" },
	{ E1000_TDH, "TDH" },
	{ E1000_TDT, "TDT" },
	{ E1000_TIDV, "TIDV" },
	{ E1000_TXDCTL, "TXDCTL" },
	{ E1000_TADV, "TADV" },
	{ E1000_TSPMT, "TSPMT" },
	{ E1000_CRCERRS, "CRCERRS" },
	{ E1000_MPC, "MPC" },
	{ E1000_PRC64, "PRC64" },
	{ E1000_GPRC, "GPRC" },
	{ E1000_BPRC, "BPRC" },
	{ E1000_MPRC, "MPRC" },
	{ E1000_GPTC, "GPTC" },
	{ E1000_GORCL, "GORCL" },
	{ E1000_GORCH, "GORCH" },
	{ E1000_GOTCL, "GOTCL" },
	{ E1000_GOTCH, "GOTCH" },
	{ E1000_RNBC, "RNBC" },
	{ E1000_ROC, "ROC" },
	{ E1000_TORL, "TORL" },
	{ E1000_TORH, "TORH" },
	{ E1000_TOTL, "TOTL" },
	{ E1000_TOTH, "TOTH" },
	{ E1000_TPR, "TPR" },
	{ E1000_TPT, "TPT" },
	{ E1000_PTC64, "PTC64" },
	{ E1000_MPTC, "MPTC" },
	{ E1000_BPTC, "BPTC" },
	{ E1000_TSCTC, "TSCTC" },
	{ E1000_TSCTFC, "TSCTFC" },
	{ E1000_STATS_END, "STATS_END" },
	{ E1000_RXCSUM, "RXCSUM" },
	{ E1000_WUC, "WUC" },
	{ E1000_WUFC, "WUFC" },
	{ E1000_WUS, "WUS" },
	{ E1000_MANC, "MANC" },
	{ E1000_IPAV, "IPAV" },
	{ E1000_IP4AT, "IP4AT" },
	{ E1000_IP6AT, "IP6AT" },
	{ E1000_WUPL, "WUPL" },
	{ E1000_WUPM, "WUPM" },
	{ E1000_FFLT, "FFLT" },
	{ E1000_FFMT, "FFMT" },
	{ E1000_FFVT, "FFVT" },
};

void e1000_reg_name_at(uint64_t off, char *buf, size_t size)
{
	/* the arrays: a name and an index */
	static const struct { uint32_t off, n, stride; const char *name; } arr[] = {
		{ E1000_MTA, E1000_MTA_N, 4, "MTA" },
		{ E1000_RA, E1000_RA_N * 2, 4, "RA" },
		{ E1000_VFTA, E1000_VFTA_N, 4, "VFTA" },
	};

	for (unsigned i = 0; i < sizeof(reg_names) / sizeof(reg_names[0]); i++)
		if (reg_names[i].off == (off & ~3ull)) {
			snprintf(buf, size, off & 3 ? "%s+%u" : "%s",
				 reg_names[i].name, (unsigned)(off & 3));
			return;
		}
	for (unsigned i = 0; i < sizeof(arr) / sizeof(arr[0]); i++)
		if (off >= arr[i].off &&
		    off < arr[i].off + (uint64_t)arr[i].n * arr[i].stride) {
			snprintf(buf, size, "%s[%u]", arr[i].name,
				 (unsigned)((off - arr[i].off) / arr[i].stride));
			return;
		}
	if (off >= E1000_STATS && off < E1000_STATS + 0x100)
		snprintf(buf, size, "STATS+0x%02x", (unsigned)(off - E1000_STATS));
	else
		snprintf(buf, size, "0x%05x", (unsigned)off);
}

static unsigned mmio_name(void *opaque, uint64_t off, unsigned len,
			  bool is_write, char *buf, size_t size)
{
	(void)opaque;
	(void)len;
	(void)is_write;
	e1000_reg_name_at(off, buf, size);
	return 0;
}

/* IOADDR, or IODATA with the register IOADDR selects: "IODATA(TDT)" */
static unsigned pio_name(void *opaque, uint64_t off, unsigned len,
			 bool is_write, char *buf, size_t size)
{
	struct e1000 *d = opaque;
	char reg[32];
	uint32_t a;

	(void)len;
	(void)is_write;
	if (off == E1000_IOADDR) {
		snprintf(buf, size, "IOADDR");
	} else if (off == E1000_IODATA) {
		pthread_mutex_lock(&d->lock);
		a = d->ioaddr & (E1000_BAR0_SIZE - 4);
		pthread_mutex_unlock(&d->lock);
		e1000_reg_name_at(a, reg, sizeof(reg));
		snprintf(buf, size, "IODATA(%s)", reg);
	}
	return 0;
}

void e1000_mmio(void *opaque, uint64_t off, void *data, unsigned len,
		bool is_write)
{
	reg_access(opaque, off, data, len, is_write);
}

/* BAR 1 (13.2): IOADDR (offset 0) selects a register, IODATA (offset 4)
 * reads or writes it. */
void e1000_pio(void *opaque, uint64_t off, void *data, unsigned len,
	       bool is_write)
{
	struct e1000 *d = opaque;
	uint32_t v = 0;

	if (off == E1000_IOADDR && len == 4) {
		pthread_mutex_lock(&d->lock);
		if (is_write)
			memcpy(&d->ioaddr, data, 4);
		else
			memcpy(data, &d->ioaddr, 4);
		pthread_mutex_unlock(&d->lock);
		return;
	}
	if (off == E1000_IODATA && len == 4) {
		pthread_mutex_lock(&d->lock);
		v = d->ioaddr & (E1000_BAR0_SIZE - 4);
		pthread_mutex_unlock(&d->lock);
		reg_access(d, v, data, 4, is_write);
		return;
	}
	if (!is_write)
		memset(data, 0xff, len);
}

/* ---- setup ---- */

int e1000_core_init(struct e1000 *d, const struct guest_mem *gm, int fd,
		    unsigned hdr_len, const uint8_t mac[6])
{
	d->gm = gm;
	d->fd = fd;
	d->hdr_len = hdr_len;
	if (!d->irq)
		d->irq = pci_irq;
	memcpy(d->mac, mac, 6);
	d->txbuf = malloc(E1000_TX_MAX);
	d->segbuf = malloc(256 + 65536);
	d->rxbuf = malloc(hdr_len + E1000_RX_MAX);
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC,
				     TFD_NONBLOCK | TFD_CLOEXEC);
	if (!d->txbuf || !d->segbuf || !d->rxbuf || d->timer_fd < 0) {
		int r = d->timer_fd < 0 ? -errno : -ENOMEM;
		e1000_core_free(d);
		return r;
	}
	pthread_mutex_init(&d->lock, NULL);
	eeprom_build(d);
	reset_locked(d);
	d->icr = 0; /* nothing pending at power-on */
	return 0;
}

void e1000_core_free(struct e1000 *d)
{
	free(d->txbuf);
	free(d->segbuf);
	free(d->rxbuf);
	d->txbuf = d->segbuf = d->rxbuf = NULL;
	if (d->timer_fd >= 0)
		close(d->timer_fd);
	d->timer_fd = -1;
}

/* ---- counters (--stats) ---- */

static const struct {
	const char *label, *key;
	size_t off;
} counters[] = {
#define C(label, field) { label, #field, offsetof(struct e1000_counters, field) }
	C("frames sent", tx_frames),
	C("bytes sent", tx_bytes),
	C("TSO segments sent", tx_tso_segs),
	C("frames received", rx_frames),
	C("bytes received", rx_bytes),
	C("interrupts", irqs),
	C("interrupts held by ITR", irqs_held),
	C("rx filtered (not ours)", rx_filtered),
	C("rx runts", rx_runt),
	C("rx bad buffer", rx_bad_buf),
	C("tx bad buffer", tx_bad_buf),
	C("tx too big", tx_too_big),
	C("tx bad context", tx_bad_ctx),
	C("tx refused by the tap", tx_errors),
	C("ring errors", ring_errors),
#undef C
};

static uint64_t counter(const struct e1000 *d, size_t off)
{
	const uint64_t *p = (const uint64_t *)((const char *)&d->cnt + off);

	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void e1000_stats_print(const struct e1000 *d, FILE *f)
{
	fprintf(f, "minivmm: %s counters (tap %s%s%s)\n", d->dev.name,
		d->tap.ifname[0] ? d->tap.ifname : "-",
		d->tap.bridge[0] ? " on bridge " : "", d->tap.bridge);
	for (unsigned i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		fprintf(f, "  %-26s %12llu\n", counters[i].label,
			(unsigned long long)counter(d, counters[i].off));
}

int e1000_stats_json(const struct e1000 *d, char *buf, size_t len)
{
	char name[JSON_ESCAPED_MAX(sizeof(d->dev.name))];
	char tap[JSON_ESCAPED_MAX(sizeof(d->tap.ifname))];
	size_t at = 0;
	int r;

	/* an interface name may hold '"' or '\\' (tap.c) */
	json_escape(name, sizeof(name), d->dev.name);
	json_escape(tap, sizeof(tap), d->tap.ifname);
	r = snprintf(buf, len, "\"%s\":{\"tap\":\"%s\"", name, tap);
	at += r > 0 ? (size_t)r : 0;
	for (unsigned i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		r = snprintf(at < len ? buf + at : NULL, at < len ? len - at : 0,
			     ",\"%s\":%llu", counters[i].key,
			     (unsigned long long)counter(d, counters[i].off));
		at += r > 0 ? (size_t)r : 0;
	}
	r = snprintf(at < len ? buf + at : NULL, at < len ? len - at : 0, "}");
	at += r > 0 ? (size_t)r : 0;
	return (int)at;
}

static void src_print(const struct stats_source *src, FILE *f)
{
	e1000_stats_print(container_of(src, struct e1000, stats_src), f);
}

static int src_json(const struct stats_source *src, char *buf, size_t len)
{
	return e1000_stats_json(container_of(src, struct e1000, stats_src),
				buf, len);
}

/* ---- the device (vmm/device.h) ---- */

static int e1000_attach(struct device *dev)
{
	struct e1000 *d = container_of(dev, struct e1000, dev);
	int r;

	if ((r = pci_bus_add(dev->vm->pci, &d->pci)))
		return r;
	if ((r = evloop_add(d->loop, d->fd, EPOLLIN, rx_event, d)) ||
	    (r = evloop_add(d->loop, d->timer_fd, EPOLLIN, timer_event, d)) ||
	    (r = evloop_start(d->loop)))
		return r;
	/* the VM is still being built: nothing walks vm->stats yet */
	d->stats_src.print = src_print;
	d->stats_src.json = src_json;
	stats_add_source(&dev->vm->stats, &d->stats_src);
	return 0;
}

void e1000_describe(const struct e1000 *d, char *buf, size_t len)
{
	snprintf(buf, len, "e1000 on tap %s%s%s, MAC %02x:%02x:%02x:%02x:%02x:%02x",
		 d->tap.ifname, d->tap.bridge[0] ? " on bridge " : "",
		 d->tap.bridge, d->mac[0], d->mac[1], d->mac[2], d->mac[3],
		 d->mac[4], d->mac[5]);
}

static void e1000_stop(struct device *dev)
{
	struct e1000 *d = container_of(dev, struct e1000, dev);

	if (d->loop)
		evloop_free(d->loop);
	d->loop = NULL;
}

static void e1000_free(struct device *dev)
{
	struct e1000 *d = container_of(dev, struct e1000, dev);

	e1000_stop(dev);
	stats_del_source(&dev->vm->stats, &d->stats_src);
	tap_close(&d->tap);
	e1000_core_free(d);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static const struct device_ops e1000_ops = {
	.attach = e1000_attach,
	.stop = e1000_stop,
	.free = e1000_free,
};

int e1000_create(struct vm *vm, const struct net_cfg *cfg, unsigned index,
		 struct e1000 **out, char *err, size_t errlen)
{
	struct e1000 *d = calloc(1, sizeof(*d));
	uint8_t mac[6];
	int r;

	if (!d)
		return -ENOMEM;
	d->tap.fd = -1;
	d->timer_fd = -1;
	/* "e1000-<n>", numbered by the device list */
	device_init(&d->dev, &e1000_ops, "e1000", vm, NULL);
	if (cfg->mac_set)
		memcpy(mac, cfg->mac, 6);
	else
		net_default_mac(cfg->tap, index, mac);
	r = tap_open(&d->tap, cfg->tap, cfg->bridge[0] ? cfg->bridge : NULL,
		     cfg->bridge_create);
	if (r) {
		snprintf(err, errlen, "%s", d->tap.err);
		goto fail;
	}
	if ((r = e1000_core_init(d, &vm->mem, d->tap.fd, TAP_VNET_HDR_LEN, mac)))
		goto fail_tap;
	pci_dev_init(&d->pci, d->dev.name, 0x8086, 0x100e, 0x020000, 0x03, 0x8086,
		     0x001e);
	d->pci.opaque = d;
	if ((r = pci_dev_set_bar(&d->pci, 0, PCI_BAR_MEM32, E1000_BAR0_SIZE,
				 e1000_mmio, d)) ||
	    (r = pci_dev_set_bar(&d->pci, 1, PCI_BAR_IO, E1000_BAR1_SIZE,
				 e1000_pio, d)))
		goto fail_core;
	d->pci.bars[0].reg = mmio_name;
	d->pci.bars[1].reg = pio_name;
	d->loop = evloop_new("e1000");
	if (!d->loop) {
		r = -ENOMEM;
		goto fail_core;
	}
	*out = d;
	return 0;

fail_core:
	e1000_core_free(d);
	pthread_mutex_destroy(&d->lock);
fail_tap:
	tap_close(&d->tap);
fail:
	free(d);
	return r;
}
