/* SPDX-License-Identifier: MIT
 * test_e1000.c - the emulated Intel 82540EM (devices/e1000.c): the EEPROM
 * (Microwire bit-banging as the Linux driver does it, EERD, the 0xBABA
 * checksum), the PHY through MDIC, ICR/ICS/IMS/IMC and ITR throttling,
 * transmit of legacy and context/data descriptors with checksum offload
 * and TSO (the frames that come out are checked), receive (status bits,
 * several buffers, the address filter, waiting for buffers), the
 * statistics, the I/O BAR, and hostile rings and descriptors.
 *
 * The device core is driven through its BAR handlers; a SOCK_SEQPACKET
 * socketpair stands in for the tap (it keeps frame boundaries).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "devices/e1000.h"
#include "devices/e1000_regs.h"
#include "vmm/log.h"

#define MEM_SIZE (4u << 20)
#define TX_RING 0x10000u
#define RX_RING 0x11000u
#define TX_BUF 0x20000u
#define RX_BUF 0x100000u

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct fx {
	uint8_t *mem;
	struct guest_mem gm;
	struct e1000 *d;
	int peer;
	int level;
	unsigned raised;
};

static void t_irq(struct e1000 *d, bool level)
{
	struct fx *f = d->test_opaque;

	f->level = level;
	f->raised += level;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];

	log_quiet = true;
	f->mem = aligned_alloc(4096, MEM_SIZE);
	memset(f->mem, 0, MEM_SIZE);
	assert_int_equal(gm_add_region(&f->gm, 0, MEM_SIZE, f->mem), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	f->peer = sv[1];
	f->d = calloc(1, sizeof(*f->d));
	f->d->irq = t_irq;
	f->d->test_opaque = f;
	assert_int_equal(e1000_core_init(f->d, &f->gm, sv[0], 0, MAC), 0);
	f->d->pci.bus_master = true;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	close(f->d->fd);
	close(f->peer);
	e1000_core_free(f->d);
	free(f->d);
	free(f->mem);
	free(f);
	return 0;
}

static void wr(struct fx *f, uint32_t off, uint32_t v)
{
	e1000_mmio(f->d, off, &v, 4, true);
}

static uint32_t rd(struct fx *f, uint32_t off)
{
	uint32_t v;

	e1000_mmio(f->d, off, &v, 4, false);
	return v;
}

/* ---- EEPROM ---- */

/* The Linux driver's Microwire read: request/grant, CS, shift the READ
 * opcode and address out on DI (rising SK), shift 16 bits in from DO. */
static uint16_t ee_read_bitbang(struct fx *f, unsigned addr)
{
	uint32_t e = rd(f, E1000_EECD) | EECD_REQ;
	uint32_t cmd = EEPROM_MW_READ << 6 | addr;
	uint16_t data = 0;

	wr(f, E1000_EECD, e);
	assert_true(rd(f, E1000_EECD) & EECD_GNT);
	e &= ~(EECD_DI | EECD_SK);
	wr(f, E1000_EECD, e);
	e |= EECD_CS;
	wr(f, E1000_EECD, e);
	for (int i = 8; i >= 0; i--) {
		e = (e & ~EECD_DI) | ((cmd >> i) & 1 ? EECD_DI : 0);
		wr(f, E1000_EECD, e);
		wr(f, E1000_EECD, e | EECD_SK);
		wr(f, E1000_EECD, e);
	}
	e &= ~EECD_DI;
	for (int i = 0; i < 16; i++) {
		wr(f, E1000_EECD, e | EECD_SK);
		data = (uint16_t)(data << 1 | !!(rd(f, E1000_EECD) & EECD_DO));
		wr(f, E1000_EECD, e);
	}
	e &= ~(EECD_CS | EECD_DI);
	wr(f, E1000_EECD, e);
	wr(f, E1000_EECD, e & ~EECD_REQ);
	return data;
}

static void test_eeprom(void **state)
{
	struct fx *f = *state;
	uint16_t sum = 0, w[64];

	assert_true(rd(f, E1000_EECD) & EECD_PRES);
	assert_false(rd(f, E1000_EECD) & EECD_SIZE); /* 64 words */
	for (unsigned i = 0; i < 64; i++) {
		w[i] = ee_read_bitbang(f, i);
		sum = (uint16_t)(sum + w[i]);
	}
	assert_int_equal(sum, 0xbaba);
	assert_int_equal(w[0], 0x5452);
	assert_int_equal(w[1], 0x1200);
	assert_int_equal(w[2], 0x5634);
	assert_int_equal(w[EEPROM_DEVICE_ID], 0x100e);
	/* EERD */
	for (unsigned i = 0; i < 64; i++) {
		wr(f, E1000_EERD, i << EERD_ADDR_SHIFT | EERD_START);
		uint32_t v = rd(f, E1000_EERD);
		assert_true(v & EERD_DONE);
		assert_int_equal(v >> EERD_DATA_SHIFT, w[i]);
	}
	/* past the end: done, no data, nothing broken */
	wr(f, E1000_EERD, 200u << EERD_ADDR_SHIFT | EERD_START);
	assert_int_equal(rd(f, E1000_EERD) >> EERD_DATA_SHIFT, 0);
	/* the MAC is in RAL0/RAH0 with AV after reset */
	assert_int_equal(rd(f, E1000_RA), 0x12005452);
	assert_int_equal(rd(f, E1000_RA + 4), 0x5634 | RAH_AV);
}

/* ---- PHY ---- */

static uint32_t mdic(struct fx *f, unsigned phy, unsigned reg, bool write,
		     uint16_t val)
{
	wr(f, E1000_MDIC, reg << MDIC_REG_SHIFT | phy << MDIC_PHY_SHIFT |
			  (write ? MDIC_OP_WRITE : MDIC_OP_READ) | val);
	uint32_t v = rd(f, E1000_MDIC);
	assert_true(v & MDIC_READY);
	return v;
}

static void test_phy(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mdic(f, 1, PHY_ID1, false, 0) & 0xffff, 0x0141);
	assert_int_equal(mdic(f, 1, PHY_ID2, false, 0) & 0xfff0, 0x0c20);
	uint32_t st = mdic(f, 1, PHY_STATUS, false, 0);
	assert_false(st & MDIC_ERROR);
	assert_true(st & 0x0004); /* link */
	assert_true(st & 0x0020); /* autoneg complete */
	assert_int_equal(mdic(f, 1, M88_PHY_SPEC_STATUS, false, 0) & 0xc000,
			 0x8000); /* 1000 Mb/s */
	/* the registers e1000_phy_setup_autoneg writes read back */
	mdic(f, 1, PHY_AUTONEG_ADV, true, 0x0de1);
	assert_int_equal(mdic(f, 1, PHY_AUTONEG_ADV, false, 0) & 0xffff, 0x0de1);
	mdic(f, 1, PHY_1000T_CTRL, true, 0x0200);
	assert_int_equal(mdic(f, 1, PHY_1000T_CTRL, false, 0) & 0xffff, 0x0200);
	/* reset and restart-autoneg clear themselves; status is read-only */
	mdic(f, 1, PHY_CTRL, true, 0x8000 | 0x1000 | 0x0200);
	assert_int_equal(mdic(f, 1, PHY_CTRL, false, 0) & 0xffff, 0x1000);
	mdic(f, 1, PHY_STATUS, true, 0);
	assert_true(mdic(f, 1, PHY_STATUS, false, 0) & 0x0004);
	/* another PHY address: an error */
	assert_true(mdic(f, 2, PHY_ID1, false, 0) & MDIC_ERROR);
	/* link as the MAC sees it */
	uint32_t s = rd(f, E1000_STATUS);
	assert_true(s & STATUS_LU);
	assert_true(s & STATUS_FD);
	assert_true(s & STATUS_SPEED_1000);
}

/* ---- interrupts ---- */

static void test_icr_ims(void **state)
{
	struct fx *f = *state;

	assert_int_equal(rd(f, E1000_ICR), 0);
	wr(f, E1000_ICS, ICR_RXT0 | ICR_TXDW);
	assert_int_equal(f->level, 0); /* masked */
	wr(f, E1000_IMS, ICR_RXT0);
	assert_int_equal(f->level, 1);
	assert_int_equal(rd(f, E1000_IMS), ICR_RXT0);
	/* read to clear: everything goes, the line drops */
	assert_int_equal(rd(f, E1000_ICR), ICR_RXT0 | ICR_TXDW);
	assert_int_equal(f->level, 0);
	assert_int_equal(rd(f, E1000_ICR), 0);
	/* IMC masks again */
	wr(f, E1000_ICS, ICR_RXT0);
	assert_int_equal(f->level, 1);
	wr(f, E1000_IMC, ICR_RXT0);
	assert_int_equal(f->level, 0);
	assert_int_equal(rd(f, E1000_IMS), 0);
	/* write 1 to clear */
	wr(f, E1000_ICR, ICR_RXT0);
	assert_int_equal(rd(f, E1000_ICR), 0);
	/* CTRL.RST: back to reset, the link change is reported */
	wr(f, E1000_IMS, 0xffffffff);
	wr(f, E1000_CTRL, CTRL_RST);
	assert_int_equal(rd(f, E1000_IMS), 0);
	assert_int_equal(rd(f, E1000_CTRL) & CTRL_RST, 0);
	assert_int_equal(rd(f, E1000_ICR), ICR_LSC);
}

static void test_itr(void **state)
{
	struct fx *f = *state;
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	wr(f, E1000_ITR, 0xffff); /* 65535 * 256 ns: about 16.8 ms */
	wr(f, E1000_IMS, ICR_RXT0);
	wr(f, E1000_ICS, ICR_RXT0);
	assert_int_equal(f->level, 1);
	rd(f, E1000_ICR);
	assert_int_equal(f->level, 0);
	wr(f, E1000_ICS, ICR_RXT0); /* too soon: held */
	assert_int_equal(f->level, 0);
	assert_true(f->d->timer_armed);
	nanosleep(&ts, NULL);
	e1000_itr_expired(f->d);
	assert_int_equal(f->level, 1);
	assert_int_equal(f->raised, 2);
	assert_int_equal(f->d->cnt.irqs, 2);
	assert_int_equal(f->d->cnt.irqs_held, 1);
	/* ITR 0: no throttling */
	wr(f, E1000_ITR, 0);
	rd(f, E1000_ICR);
	wr(f, E1000_ICS, ICR_RXT0);
	assert_int_equal(f->level, 1);
}

/* ---- transmit ---- */

static void put_desc(struct fx *f, uint64_t ring, unsigned i, uint64_t addr,
		     uint32_t lower, uint32_t upper)
{
	uint8_t *p = f->mem + ring + 16 * i;

	memcpy(p, &addr, 8);
	memcpy(p + 8, &lower, 4);
	memcpy(p + 12, &upper, 4);
}

static void put_ctx(struct fx *f, unsigned i, uint8_t ipcss, uint8_t ipcso,
		    uint16_t ipcse, uint8_t tucss, uint8_t tucso,
		    uint16_t tucse, uint32_t paylen, uint8_t tucmd,
		    uint8_t hdrlen, uint16_t mss)
{
	uint8_t *p = f->mem + TX_RING + 16 * i;

	p[0] = ipcss;
	p[1] = ipcso;
	memcpy(p + 2, &ipcse, 2);
	p[4] = tucss;
	p[5] = tucso;
	memcpy(p + 6, &tucse, 2);
	uint32_t l = (paylen & 0xfffff) | (uint32_t)(TXD_CMD_DEXT | tucmd) << 24;
	memcpy(p + 8, &l, 4);
	p[12] = 0;
	p[13] = hdrlen;
	memcpy(p + 14, &mss, 2);
}

#define DATA_LOWER(len, dcmd) \
	(((len) & 0xfffff) | 0x00100000u | (uint32_t)(TXD_CMD_DEXT | (dcmd)) << 24)

static void tx_setup(struct fx *f, unsigned n)
{
	wr(f, E1000_TDBAL, TX_RING);
	wr(f, E1000_TDBAH, 0);
	wr(f, E1000_TDLEN, 16 * n);
	wr(f, E1000_TDH, 0);
	wr(f, E1000_TDT, 0);
	wr(f, E1000_TCTL, TCTL_EN | TCTL_PSP);
}

static ssize_t peer_recv(struct fx *f, uint8_t *buf, size_t len)
{
	return recv(f->peer, buf, len, MSG_DONTWAIT);
}

static void test_tx_legacy(void **state)
{
	struct fx *f = *state;
	uint8_t out[2048];

	for (int i = 0; i < 100; i++)
		f->mem[TX_BUF + i] = (uint8_t)i;
	tx_setup(f, 8);
	/* 100 bytes in two pieces; RS on the last */
	put_desc(f, TX_RING, 0, TX_BUF, 40, 0);
	put_desc(f, TX_RING, 1, TX_BUF + 40,
		 60 | (uint32_t)(TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS) << 24, 0);
	wr(f, E1000_IMS, ICR_TXDW);
	wr(f, E1000_TDT, 2);
	assert_int_equal(peer_recv(f, out, sizeof(out)), 100);
	assert_memory_equal(out, f->mem + TX_BUF, 100);
	assert_int_equal(peer_recv(f, out, sizeof(out)), -1);
	assert_int_equal(rd(f, E1000_TDH), 2);
	assert_int_equal(f->mem[TX_RING + 16 + 12] & TXD_STAT_DD, TXD_STAT_DD);
	assert_int_equal(f->mem[TX_RING + 12] & TXD_STAT_DD, 0); /* no RS */
	assert_int_equal(f->level, 1);
	assert_int_equal(rd(f, E1000_ICR), ICR_TXDW | ICR_TXQE);
	/* statistics: read to clear, 64-bit octets low then high */
	assert_int_equal(rd(f, E1000_GPTC), 1);
	assert_int_equal(rd(f, E1000_GPTC), 0);
	assert_int_equal(rd(f, E1000_TPT), 1);
	assert_int_equal(rd(f, E1000_GOTCL), 104);
	assert_int_equal(rd(f, E1000_GOTCH), 0);
	assert_int_equal(rd(f, E1000_GOTCL), 0);
	assert_int_equal(rd(f, E1000_GPRC), 0);

	/* legacy IC: checksum from CSS to the end inserted at CSO */
	memset(f->mem + TX_BUF, 0, 64);
	f->mem[TX_BUF + 20] = 0x12;
	f->mem[TX_BUF + 21] = 0x34;
	put_desc(f, TX_RING, 2, TX_BUF,
		 64 | (uint32_t)16 << 16 |
			 (uint32_t)(TXD_CMD_EOP | TXD_CMD_IC | TXD_CMD_RS) << 24,
		 (uint32_t)20 << 8); /* CSO 16, CSS 20 */
	wr(f, E1000_TDT, 3);
	assert_int_equal(peer_recv(f, out, sizeof(out)), 64);
	assert_int_equal(out[16] << 8 | out[17], (uint16_t)~0x1234);
}

/* A frame: Ethernet, IPv4 (20), TCP (20) or UDP (8), payload. */
static unsigned build_ipv4(uint8_t *p, bool tcp, unsigned paylen)
{
	unsigned l4 = tcp ? 20 : 8, h = 14 + 20 + l4;

	memset(p, 0, h);
	memcpy(p, "\x52\x54\x00\xaa\xbb\xcc", 6);
	memcpy(p + 6, MAC, 6);
	p[12] = 0x08;
	p[13] = 0x00;
	p[14] = 0x45;
	p[16] = (uint8_t)((20 + l4 + paylen) >> 8);
	p[17] = (uint8_t)(20 + l4 + paylen);
	p[18] = 0x12; /* id 0x1234 */
	p[19] = 0x34;
	p[22] = 64;
	p[23] = tcp ? 6 : 17;
	memcpy(p + 26, "\x0a\x4d\x00\x02\x0a\x4d\x00\x01", 8);
	p[34] = 0x30; p[35] = 0x39; /* ports */
	p[36] = 0x13; p[37] = 0x89;
	if (tcp) {
		memcpy(p + 38, "\x00\x00\x10\x00", 4); /* seq 0x1000 */
		p[46] = 0x50;                           /* data offset 5 */
		p[47] = 0x18 | 0x01;                    /* PSH ACK FIN */
		p[48] = 0xff;
	} else {
		p[38] = (uint8_t)((8 + paylen) >> 8);
		p[39] = (uint8_t)(8 + paylen);
	}
	for (unsigned i = 0; i < paylen; i++)
		p[h + i] = (uint8_t)(i * 7 + 3);
	return h + paylen;
}

static uint32_t sum16(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The pseudo-header sum of an IPv4 frame (addresses, protocol; plus len
 * when len >= 0). */
static uint32_t pseudo(const uint8_t *p, int len)
{
	return sum16(p + 26, 8) + p[23] + (len >= 0 ? (uint32_t)len : 0);
}

/* Both checksums of an IPv4 frame are right. */
static void check_ipv4(const uint8_t *p, size_t len)
{
	unsigned iplen = (unsigned)(p[16] << 8 | p[17]);

	assert_int_equal(iplen, len - 14);
	assert_int_equal(fold(sum16(p + 14, 20)), 0xffff);
	assert_int_equal(fold(pseudo(p, (int)(len - 34)) + sum16(p + 34, len - 34)),
			 0xffff);
}

static void test_tx_csum(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = f->mem + TX_BUF, out[2048];
	unsigned len = build_ipv4(buf, false, 101);
	uint16_t ps;

	/* the stack's CHECKSUM_PARTIAL: the pseudo-header sum (with the
	 * length) in the UDP checksum field; the device does the rest */
	ps = fold(pseudo(buf, (int)(len - 34)));
	buf[40] = (uint8_t)(ps >> 8);
	buf[41] = (uint8_t)ps;
	/* and the IP header checksum, zero, to be filled in (IXSM) */
	tx_setup(f, 8);
	put_ctx(f, 0, 14, 24, 33, 34, 40, 0, 0, TXD_TUCMD_IP, 0, 0);
	put_desc(f, TX_RING, 1, TX_BUF, DATA_LOWER(len, TXD_CMD_EOP | TXD_CMD_RS),
		 (uint32_t)(TXD_POPTS_TXSM | TXD_POPTS_IXSM) << 8);
	wr(f, E1000_TDT, 2);
	assert_int_equal(peer_recv(f, out, sizeof(out)), len);
	check_ipv4(out, len);
	assert_memory_equal(out + 42, buf + 42, 101);
	assert_true(f->mem[TX_RING + 16 + 12] & TXD_STAT_DD);

	/* TXSM alone with the context's TUCSE: only up to there */
	put_ctx(f, 2, 14, 24, 33, 34, 40, 41, 0, 0, 0, 0);
	put_desc(f, TX_RING, 3, TX_BUF, DATA_LOWER(len, TXD_CMD_EOP),
		 (uint32_t)TXD_POPTS_TXSM << 8);
	buf[40] = 0x11;
	buf[41] = 0x22;
	wr(f, E1000_TDT, 4);
	assert_int_equal(peer_recv(f, out, sizeof(out)), len);
	assert_int_equal(out[40] << 8 | out[41],
			 (uint16_t)~fold(sum16(buf + 34, 4) + 8 + 101 + 0x1122));
}

static void test_tso(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = f->mem + TX_BUF, out[4096];
	unsigned pay = 2500, mss = 1000, h = 54;
	unsigned len = build_ipv4(buf, true, pay);
	uint16_t ps;

	assert_int_equal(len, h + pay);
	/* what Linux's e1000_tso leaves: IP length and checksum 0, the TCP
	 * checksum field holding the pseudo-header sum without a length */
	buf[16] = buf[17] = 0;
	ps = fold(pseudo(buf, -1));
	buf[50] = (uint8_t)(ps >> 8);
	buf[51] = (uint8_t)ps;
	tx_setup(f, 8);
	put_ctx(f, 0, 14, 24, 33, 34, 50, 0, pay,
		TXD_TUCMD_TSE | TXD_TUCMD_IP | TXD_TUCMD_TCP, (uint8_t)h,
		(uint16_t)mss);
	/* the header alone, then the payload in two pieces */
	uint32_t up = (uint32_t)(TXD_POPTS_TXSM | TXD_POPTS_IXSM) << 8;
	put_desc(f, TX_RING, 1, TX_BUF, DATA_LOWER(h, TXD_CMD_TSE), up);
	put_desc(f, TX_RING, 2, TX_BUF + h, DATA_LOWER(1200, TXD_CMD_TSE), up);
	put_desc(f, TX_RING, 3, TX_BUF + h + 1200,
		 DATA_LOWER(pay - 1200, TXD_CMD_TSE | TXD_CMD_EOP | TXD_CMD_RS), up);
	wr(f, E1000_TDT, 4);
	for (unsigned i = 0; i < 3; i++) {
		unsigned sl = i < 2 ? mss : pay - 2 * mss;
		ssize_t n = peer_recv(f, out, sizeof(out));

		assert_int_equal(n, h + sl);
		check_ipv4(out, (size_t)n);
		assert_int_equal(out[18] << 8 | out[19], 0x1234 + i);
		uint32_t seq = (uint32_t)out[38] << 24 | (uint32_t)out[39] << 16 |
			       (uint32_t)out[40] << 8 | out[41];
		assert_int_equal(seq, 0x1000 + i * mss);
		/* FIN and PSH only on the last segment, ACK on all */
		assert_int_equal(out[47], i == 2 ? 0x19 : 0x10);
		assert_memory_equal(out + h, buf + h + i * mss, sl);
	}
	assert_int_equal(peer_recv(f, out, sizeof(out)), -1);
	assert_true(f->mem[TX_RING + 48 + 12] & TXD_STAT_DD);
	assert_int_equal(rd(f, E1000_TSCTC), 1);
	assert_int_equal(rd(f, E1000_GPTC), 3);
}

/* ---- hostile transmit ---- */

static void test_tx_hostile(void **state)
{
	struct fx *f = *state;
	uint8_t *buf = f->mem + TX_BUF, out[4096];
	unsigned len = build_ipv4(buf, true, 2000);

	tx_setup(f, 8);
	/* MSS 0 */
	put_ctx(f, 0, 14, 24, 33, 34, 50, 0, 2000,
		TXD_TUCMD_TSE | TXD_TUCMD_IP | TXD_TUCMD_TCP, 54, 0);
	put_desc(f, TX_RING, 1, TX_BUF,
		 DATA_LOWER(len, TXD_CMD_TSE | TXD_CMD_EOP | TXD_CMD_RS),
		 (uint32_t)TXD_POPTS_TXSM << 8);
	/* header length past the frame */
	put_ctx(f, 2, 14, 24, 33, 34, 50, 0, 2000,
		TXD_TUCMD_TSE | TXD_TUCMD_IP | TXD_TUCMD_TCP, 200, 1000);
	put_desc(f, TX_RING, 3, TX_BUF,
		 DATA_LOWER(100, TXD_CMD_TSE | TXD_CMD_EOP | TXD_CMD_RS),
		 (uint32_t)TXD_POPTS_TXSM << 8);
	/* checksum offsets past the frame */
	put_ctx(f, 4, 14, 24, 33, 250, 252, 0, 0, TXD_TUCMD_IP, 0, 0);
	put_desc(f, TX_RING, 5, TX_BUF, DATA_LOWER(60, TXD_CMD_EOP | TXD_CMD_RS),
		 (uint32_t)TXD_POPTS_TXSM << 8);
	/* a buffer past RAM, and one wrapping around */
	put_desc(f, TX_RING, 6, MEM_SIZE - 10,
		 100 | (uint32_t)(TXD_CMD_EOP | TXD_CMD_RS) << 24, 0);
	put_desc(f, TX_RING, 7, ~0ull - 5,
		 100 | (uint32_t)(TXD_CMD_EOP | TXD_CMD_RS) << 24, 0);
	wr(f, E1000_TDT, 0); /* all eight: TDT wraps to TDH */
	wr(f, E1000_TDT, 7);
	wr(f, E1000_TDT, 0);
	assert_int_equal(peer_recv(f, out, sizeof(out)), -1);
	assert_int_equal(rd(f, E1000_TDH), 0);
	/* every descriptor with RS is still handed back */
	for (unsigned i = 1; i < 8; i += 2)
		assert_true(f->mem[TX_RING + 16 * i + 12] & TXD_STAT_DD);
	assert_int_equal(f->d->cnt.tx_bad_ctx, 3);
	assert_int_equal(f->d->cnt.tx_bad_buf, 2);

	/* a huge data length over several descriptors: too big, dropped */
	for (unsigned i = 0; i < 4; i++)
		put_desc(f, TX_RING, i, 0, DATA_LOWER(0xfffff, i == 3 ? TXD_CMD_EOP : 0), 0);
	wr(f, E1000_TDT, 4);
	assert_int_equal(peer_recv(f, out, sizeof(out)), -1);
	assert_int_equal(rd(f, E1000_TDH), 4);
	assert_true(f->d->cnt.tx_too_big >= 1);

	/* head past the end: the ring stops, nothing is read */
	wr(f, E1000_TDH, 50);
	wr(f, E1000_TDT, 2);
	assert_int_equal(rd(f, E1000_TDH), 50);
	assert_int_equal(f->d->cnt.ring_errors, 1);
	wr(f, E1000_TDT, 3); /* the doorbell again: no second warning */
	assert_int_equal(f->d->cnt.ring_errors, 1);
	/* ring base past RAM */
	wr(f, E1000_TDBAL, 0xfffff000);
	wr(f, E1000_TDH, 0);
	wr(f, E1000_TDT, 1);
	assert_int_equal(rd(f, E1000_TDH), 0);
	/* TDLEN 0 */
	wr(f, E1000_TDLEN, 0);
	wr(f, E1000_TDT, 5);
	assert_int_equal(rd(f, E1000_TDH), 0);
	assert_int_equal(peer_recv(f, out, sizeof(out)), -1);
}

/* ---- receive ---- */

static void rx_setup(struct fx *f, unsigned n, uint32_t bsize_bits)
{
	for (unsigned i = 0; i < n; i++)
		put_desc(f, RX_RING, i, RX_BUF + 2048u * i, 0, 0);
	wr(f, E1000_RDBAL, RX_RING);
	wr(f, E1000_RDBAH, 0);
	wr(f, E1000_RDLEN, 16 * n);
	wr(f, E1000_RDH, 0);
	wr(f, E1000_RDT, n - 1);
	wr(f, E1000_RCTL, RCTL_EN | RCTL_BAM | bsize_bits);
	wr(f, E1000_IMS, ICR_RXT0 | ICR_RXDMT0);
}

static void send_frame(struct fx *f, const uint8_t dst[6], unsigned len)
{
	uint8_t p[4096];

	memcpy(p, dst, 6);
	memcpy(p + 6, "\x52\x54\x00\xaa\xbb\xcc", 6);
	p[12] = 0x08;
	p[13] = 0x00;
	for (unsigned i = 14; i < len; i++)
		p[i] = (uint8_t)i;
	assert_int_equal(send(f->peer, p, len, 0), len);
}

static uint8_t *rxd(struct fx *f, unsigned i)
{
	return f->mem + RX_RING + 16 * i;
}

static void test_rx(void **state)
{
	struct fx *f = *state;
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t other[6] = { 0x52, 0x54, 0x00, 0x99, 0x99, 0x99 };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };

	rx_setup(f, 8, 0); /* 2048-byte buffers */
	send_frame(f, MAC, 60);
	send_frame(f, other, 60);   /* not ours: filtered */
	send_frame(f, bcast, 100);  /* BAM */
	send_frame(f, mcast, 70);   /* not in the MTA: filtered */
	e1000_rx_process(f->d);
	assert_int_equal(rd(f, E1000_RDH), 2);
	assert_int_equal(rxd(f, 0)[12], RXD_STAT_DD | RXD_STAT_EOP | RXD_STAT_IXSM);
	assert_int_equal(rxd(f, 0)[13], 0);
	assert_int_equal(rxd(f, 0)[8] | rxd(f, 0)[9] << 8, 64); /* + FCS */
	assert_memory_equal(f->mem + RX_BUF, MAC, 6);
	assert_int_equal(f->mem[RX_BUF + 59], 59);
	assert_int_equal(rxd(f, 1)[8] | rxd(f, 1)[9] << 8, 104);
	assert_int_equal(rxd(f, 2)[12], 0);
	assert_int_equal(f->d->cnt.rx_filtered, 2);
	assert_int_equal(f->level, 1);
	assert_true(rd(f, E1000_ICR) & ICR_RXT0);
	assert_int_equal(rd(f, E1000_GPRC), 2);
	assert_int_equal(rd(f, E1000_BPRC), 1);
	assert_int_equal(rd(f, E1000_GORCL), 168);
	assert_int_equal(rd(f, E1000_GORCH), 0);

	/* the multicast address in the MTA (MO 0: bits 47:36) */
	unsigned hsh = (mcast[4] >> 4 | mcast[5] << 4) & 0xfff;
	wr(f, E1000_MTA + 4 * (hsh >> 5), 1u << (hsh & 31));
	send_frame(f, mcast, 70);
	/* unicast promiscuous */
	wr(f, E1000_RCTL, RCTL_EN | RCTL_UPE);
	send_frame(f, other, 80);
	/* a second receive address */
	wr(f, E1000_RCTL, RCTL_EN);
	wr(f, E1000_RA + 8, 0x99005452);
	wr(f, E1000_RA + 12, 0x9999 | RAH_AV);
	send_frame(f, other, 90);
	e1000_rx_process(f->d);
	assert_int_equal(rd(f, E1000_RDH), 5);
	assert_int_equal(rd(f, E1000_MPRC), 1);

	/* SECRC: no FCS counted */
	wr(f, E1000_RCTL, RCTL_EN | RCTL_SECRC);
	send_frame(f, MAC, 60);
	e1000_rx_process(f->d);
	assert_int_equal(rxd(f, 5)[8], 60);
}

static void test_rx_multi_and_wait(void **state)
{
	struct fx *f = *state;

	/* 256-byte buffers: 600 + 4 bytes take three descriptors */
	rx_setup(f, 8, 3u << RCTL_BSIZE_SHIFT);
	assert_int_equal(rd(f, E1000_RCTL) >> RCTL_BSIZE_SHIFT & 3, 3);
	send_frame(f, MAC, 600);
	e1000_rx_process(f->d);
	assert_int_equal(rd(f, E1000_RDH), 3);
	assert_int_equal(rxd(f, 0)[12], RXD_STAT_DD | RXD_STAT_IXSM);
	assert_int_equal(rxd(f, 1)[12], RXD_STAT_DD | RXD_STAT_IXSM);
	assert_int_equal(rxd(f, 2)[12], RXD_STAT_DD | RXD_STAT_EOP | RXD_STAT_IXSM);
	assert_int_equal(rxd(f, 2)[8] | rxd(f, 2)[9] << 8, 604 - 512);
	assert_int_equal(f->mem[RX_BUF + 2048 + 0], 256 & 0xff);
	assert_int_equal(f->mem[RX_BUF + 4096 + 10], (uint8_t)(512 + 10));

	/* four descriptors left (3..6): the next 600 does not fit in 3 + the
	 * one after; waits in the device until RDT moves */
	send_frame(f, MAC, 600);
	send_frame(f, MAC, 600);
	e1000_rx_process(f->d);
	assert_int_equal(rd(f, E1000_RDH), 6);
	assert_true(f->d->rx_blocked);
	assert_int_equal(f->d->rx_pending, 600);
	assert_true(rd(f, E1000_ICR) & ICR_RXDMT0);
	for (unsigned i = 0; i < 8; i++)
		rxd(f, i)[12] = 0;
	wr(f, E1000_RDT, 4); /* 6, 7, 0, 1, 2, 3 free */
	assert_int_equal(f->d->rx_pending, 0);
	assert_false(f->d->rx_blocked);
	assert_int_equal(rd(f, E1000_RDH), 1);
	assert_true(rxd(f, 0)[12] & RXD_STAT_EOP);
}

static void test_rx_hostile(void **state)
{
	struct fx *f = *state;
	uint8_t tmp[64] = { 0 };

	/* RDLEN 0: nothing delivered, the frame waits */
	rx_setup(f, 8, 0);
	wr(f, E1000_RDLEN, 0);
	send_frame(f, MAC, 60);
	e1000_rx_process(f->d);
	assert_int_equal(f->d->cnt.rx_frames, 0);
	assert_true(f->d->rx_blocked);
	/* head past the end of the ring */
	wr(f, E1000_RDLEN, 128);
	wr(f, E1000_RDH, 100);
	e1000_rx_process(f->d);
	assert_int_equal(f->d->cnt.rx_frames, 0);
	assert_int_equal(f->d->cnt.ring_errors, 1);
	e1000_rx_process(f->d); /* no second warning / count */
	assert_int_equal(f->d->cnt.ring_errors, 1);
	/* a buffer past RAM: that descriptor carries the error, the frame
	 * is dropped, the next one goes on */
	put_desc(f, RX_RING, 0, MEM_SIZE - 8, 0, 0);
	wr(f, E1000_RDH, 0);
	e1000_rx_process(f->d);
	assert_int_equal(f->d->cnt.rx_bad_buf, 1);
	assert_int_equal(f->d->cnt.rx_frames, 0);
	assert_int_equal(rxd(f, 0)[12], RXD_STAT_DD | RXD_STAT_EOP | RXD_STAT_IXSM);
	assert_int_equal(rxd(f, 0)[13], RXD_ERR_RXE);
	send_frame(f, MAC, 60);
	e1000_rx_process(f->d);
	assert_int_equal(f->d->cnt.rx_frames, 1);
	assert_int_equal(rd(f, E1000_RDH), 2);
	/* the ring itself past RAM */
	wr(f, E1000_RDBAL, 0xfffff000);
	wr(f, E1000_RDH, 0);
	wr(f, E1000_RDT, 3);
	send_frame(f, MAC, 60);
	e1000_rx_process(f->d);
	assert_int_equal(f->d->cnt.rx_frames, 1);
	/* a runt */
	wr(f, E1000_RDBAL, RX_RING);
	f->d->rx_pending = 0;
	assert_int_equal(send(f->peer, tmp, 10, 0), 10);
	e1000_rx_process(f->d);
	assert_int_equal(f->d->cnt.rx_runt, 1);
	/* longer than 1522 bytes without LPE: dropped */
	send_frame(f, MAC, 1600);
	e1000_rx_process(f->d);
	assert_int_equal(f->d->rx_pending, 0);
	assert_int_equal(rd(f, E1000_ROC), 1);
	/* a frame bigger than the whole ring can take: dropped */
	wr(f, E1000_RCTL, RCTL_EN | RCTL_LPE | 3u << RCTL_BSIZE_SHIFT);
	send_frame(f, MAC, 3000);
	e1000_rx_process(f->d);
	assert_int_equal(f->d->rx_pending, 0);
	/* no bus mastering: nothing written */
	f->d->pci.bus_master = false;
	wr(f, E1000_RCTL, RCTL_EN);
	send_frame(f, MAC, 60);
	e1000_rx_process(f->d);
	assert_int_equal(f->d->cnt.rx_frames, 1);
}

/* A guest that rewrites its ring registers forever gets a bounded number
 * of warnings (the errors are still counted); one TDT write over a ring of
 * 6000 frames sends E1000_TX_BUDGET (4096) of them and the next TDT write
 * the rest. */
static void test_hostile_budgets(void **state)
{
	struct fx *f = *state;
	const uint32_t ring = 0x200000, n = 6000;

	rx_setup(f, 8, 0);
	send_frame(f, MAC, 60);
	for (int i = 0; i < 1000; i++) {
		wr(f, E1000_RDH, 100); /* past the 8 descriptors */
		e1000_rx_process(f->d);
	}
	assert_int_equal(f->d->cnt.ring_errors, 1000);
	assert_true(f->d->dev.warn.used <= LOG_BUDGET_MAX + 1);

	for (int i = 0; i < 60; i++)
		f->mem[TX_BUF + i] = (uint8_t)i;
	for (uint32_t i = 0; i < n; i++)
		put_desc(f, ring, i, TX_BUF,
			 60 | (uint32_t)(TXD_CMD_EOP | TXD_CMD_IFCS) << 24, 0);
	wr(f, E1000_TDBAL, ring);
	wr(f, E1000_TDBAH, 0);
	wr(f, E1000_TDLEN, 16 * 8192);
	wr(f, E1000_TDH, 0);
	wr(f, E1000_TCTL, TCTL_EN | TCTL_PSP);
	wr(f, E1000_TDT, n);
	assert_int_equal(rd(f, E1000_TDH), 4096);
	wr(f, E1000_TDT, n);
	assert_int_equal(rd(f, E1000_TDH), n);
	/* every frame was handed to the tap (the peer's queue may be full:
	 * those count as errors, not as frames never tried) */
	assert_int_equal(f->d->cnt.tx_frames + f->d->cnt.tx_errors, n);
}

/* ---- registers ---- */

static void test_regs(void **state)
{
	struct fx *f = *state;
	uint32_t v, a;

	/* BAR 1: IOADDR then IODATA reach BAR 0 */
	a = E1000_STATUS;
	e1000_pio(f->d, E1000_IOADDR, &a, 4, true);
	e1000_pio(f->d, E1000_IODATA, &v, 4, false);
	assert_int_equal(v, rd(f, E1000_STATUS));
	a = E1000_RDTR;
	v = 0x1234;
	e1000_pio(f->d, E1000_IOADDR, &a, 4, true);
	e1000_pio(f->d, E1000_IODATA, &v, 4, true);
	assert_int_equal(rd(f, E1000_RDTR), 0x1234);
	/* unknown registers read 0 and ignore writes; statistics read 0 */
	wr(f, 0x8000, 5);
	assert_int_equal(rd(f, 0x8000), 0);
	assert_int_equal(rd(f, E1000_CRCERRS), 0);
	wr(f, E1000_GPRC, 7);
	assert_int_equal(rd(f, E1000_GPRC), 0);
	/* MTA/VFTA keep what is written; STATUS is read-only */
	wr(f, E1000_MTA + 4 * 127, 0xdeadbeef);
	assert_int_equal(rd(f, E1000_MTA + 4 * 127), 0xdeadbeef);
	wr(f, E1000_STATUS, 0);
	assert_true(rd(f, E1000_STATUS) & STATUS_LU);
	/* out of the BAR and odd sizes do not crash */
	e1000_mmio(f->d, E1000_BAR0_SIZE, &v, 4, false);
	e1000_mmio(f->d, 3, &v, 4, false);
	uint8_t b = 1;
	e1000_mmio(f->d, E1000_IMS, &b, 1, true);
	assert_int_equal(rd(f, E1000_IMS), 0);
}

static void test_stats(void **state)
{
	struct fx *f = *state;
	uint8_t out[2048];
	char buf[2048], *txt = NULL;
	size_t tlen = 0;
	FILE *m;
	int n;

	snprintf(f->d->dev.name, sizeof(f->d->dev.name), "e1000-0");
	snprintf(f->d->tap.ifname, sizeof(f->d->tap.ifname), "tap9");
	tx_setup(f, 8);
	put_desc(f, TX_RING, 0, TX_BUF,
		 60 | (uint32_t)(TXD_CMD_EOP | TXD_CMD_RS) << 24, 0);
	wr(f, E1000_TDT, 1);
	assert_int_equal(peer_recv(f, out, sizeof(out)), 60);
	m = open_memstream(&txt, &tlen);
	e1000_stats_print(f->d, m);
	fclose(m);
	assert_non_null(strstr(txt, "minivmm: e1000-0 counters (tap tap9)\n"));
	assert_non_null(strstr(txt, "  frames sent                           1\n"));
	assert_non_null(strstr(txt, "  bytes sent                           60\n"));
	free(txt);
	n = e1000_stats_json(f->d, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	assert_non_null(strstr(buf, "\"e1000-0\":{\"tap\":\"tap9\",\"tx_frames\":1,"));
	assert_int_equal(buf[n - 1], '}');
	/* too small a buffer: cut, and the length it needs */
	assert_int_equal(e1000_stats_json(f->d, buf, 10), n);
	assert_int_equal(strlen(buf), 9);
	/* a tap name may hold '"' and '\\': escaped in the JSON */
	snprintf(f->d->tap.ifname, sizeof(f->d->tap.ifname), "t\"9\\");
	e1000_stats_json(f->d, buf, sizeof(buf));
	assert_non_null(strstr(buf, "{\"tap\":\"t\\\"9\\\\\","));
	f->d->tap.ifname[0] = 0;
}

/* --trace's names: the manual's mnemonics, array entries by index */
static void test_reg_names(void **state)
{
	char n[32];

	(void)state;
	e1000_reg_name_at(E1000_TDT, n, sizeof(n));
	assert_string_equal(n, "TDT");
	e1000_reg_name_at(E1000_ICR, n, sizeof(n));
	assert_string_equal(n, "ICR");
	e1000_reg_name_at(E1000_CTRL + 2, n, sizeof(n));
	assert_string_equal(n, "CTRL+2");
	e1000_reg_name_at(E1000_RA + 8, n, sizeof(n));
	assert_string_equal(n, "RA[2]");
	e1000_reg_name_at(E1000_MTA + 4 * 127, n, sizeof(n));
	assert_string_equal(n, "MTA[127]");
	e1000_reg_name_at(E1000_GPRC, n, sizeof(n));
	assert_string_equal(n, "GPRC");
	e1000_reg_name_at(0x4004, n, sizeof(n));
	assert_string_equal(n, "STATS+0x04");
	e1000_reg_name_at(0x1fffc, n, sizeof(n));
	assert_string_equal(n, "0x1fffc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_eeprom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_phy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icr_ims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_itr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_legacy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_csum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tso, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_multi_and_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_budgets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
		cmocka_unit_test(test_reg_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
