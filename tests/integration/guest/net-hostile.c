/* SPDX-License-Identifier: MIT
 * net-hostile.c - a hostile guest driver for minivmm's virtio-net (runs as
 * root inside the guest; built statically on the host by
 * tests/integration/cases/net-hostile.prep).
 *
 *   net-hostile 0000:00:05.0
 *
 * Takes a virtio-net PCI function away from Linux and drives it by hand
 * (vdev-hostile.h), feeding its transmit queue frames with malformed
 * struct virtio_net_hdr (VIRTIO 1.x 5.1.6: unknown flags, checksum
 * fields past the frame, segmentation types that were not negotiated or
 * do not exist, segment sizes and header lengths that cannot describe the
 * frame, chains shorter than the header, runts and frames over 64 KiB),
 * and its control queue malformed commands (5.1.6.5). The device must
 * drop such a frame and complete its chain (counted by reason in
 * minivmm's --stats, which the case script checks), answer a bad command
 * VIRTIO_NET_ERR, and go to DEVICE_NEEDS_RESET on a malformed ring; then
 * a well-formed frame must still go out. Prints "HOSTILE <name> ok|FAIL"
 * per attack and "HOSTILE-RESULT pass=N fail=M"; exits 0 only if all
 * passed.
 */
#include "vdev-hostile.h"

#define F_CSUM (1ULL << 0)
#define F_HOST_TSO4 (1ULL << 11)
#define F_CTRL_VQ (1ULL << 17)
#define F_CTRL_RX (1ULL << 18)
#define F_INDIRECT_DESC (1ULL << 28)
#define FEATURES (F_CSUM | F_HOST_TSO4 | F_CTRL_VQ | F_CTRL_RX | F_INDIRECT_DESC)

#define RXQ 0
#define TXQ 1
#define CTRLQ 2

#define HDR_NEEDS_CSUM 1
#define GSO_NONE 0
#define GSO_TCPV4 1
#define GSO_TCPV6 4
#define GSO_ECN 0x80

struct net_hdr { /* struct virtio_net_hdr_v1, 12 bytes */
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset, num_buffers;
} __attribute__((packed));

static void init_tx(void) { init_dev_q(TXQ, FEATURES, 0, 1); }

/* the header at P_HDR, a frame of len bytes at P_DATA: broadcast, from the
 * device's own MAC, a local experimental EtherType, a marker payload */
static struct net_hdr *tx_frame(uint32_t len)
{
	struct net_hdr *h = page(P_HDR);
	uint8_t *f = page(P_DATA);

	memset(h, 0, sizeof(*h));
	memset(f, 0xff, 6);
	for (int i = 0; i < 6; i++)
		f[6 + i] = r8(DEVCFG + i);
	f[12] = 0x88;
	f[13] = 0xb5;
	memset(f + 14, 0, 4096 - 14);
	memcpy(f + 14, "MINIVMM-NET-HOSTILE", 19);
	d(0, phys[P_HDR], sizeof(*h), F_NEXT, 1);
	d(1, phys[P_DATA], len, 0, 0);
	return h;
}

/* publish the chain at head 0; the device must complete it (dropped or
 * sent) and stay usable */
static void expect_done(const char *name)
{
	char why[96];
	int got;

	publish(0, 1);
	got = wait_used(1);
	snprintf(why, sizeof(why), "used idx %u, status %#x", used16()[1],
		 r8(COMMON + STATUS));
	result(name, got && !(r8(COMMON + STATUS) & S_NEEDS_RESET), why);
}

/* headers for a 64-byte frame that the device must refuse; the reason
 * each is counted under in --stats is in the comment */
static const struct {
	const char *name;
	struct net_hdr h; /* flags, gso_type, hdr_len, gso_size, csum_start, csum_offset */
} bad_hdrs[] = {
	{ "tx-unknown-flags", { 0x80, 0, 0, 0, 0, 0, 0 } }, /* flags */
	{ "tx-csum-past-frame", { HDR_NEEDS_CSUM, 0, 0, 0, 60, 100, 0 } }, /* csum */
	{ "tx-gso-unknown-type", { HDR_NEEDS_CSUM, 0x42, 0, 20, 0, 0, 0 } }, /* gso_type */
	/* HOST_TSO6 was not negotiated */
	{ "tx-gso-not-negotiated", { HDR_NEEDS_CSUM, GSO_TCPV6, 0, 20, 0, 0, 0 } }, /* gso_type */
	{ "tx-ecn-without-gso", { 0, GSO_NONE | GSO_ECN, 0, 0, 0, 0, 0 } }, /* gso_type */
	{ "tx-gso-size-zero", { HDR_NEEDS_CSUM, GSO_TCPV4, 0, 0, 34, 16, 0 } }, /* gso_size */
	{ "tx-gso-headers-past-frame", { HDR_NEEDS_CSUM, GSO_TCPV4, 5000, 20, 34, 16, 0 } }, /* gso_size */
};

static void tx_attacks(void)
{
	struct net_hdr *h;

	init_tx();
	tx_frame(64);
	d(0, phys[P_HDR], 8, F_NEXT, 1); /* 8 bytes: not even a header */
	d(1, phys[P_HDR] + 8, 2, 0, 0);
	expect_done("tx-chain-shorter-than-header");

	init_tx();
	tx_frame(10);
	expect_done("tx-runt-frame");

	init_tx();
	tx_frame(64);
	d(1, 16 << 20, 70000, 0, 0); /* guest RAM, but 70000 bytes */
	expect_done("tx-frame-over-64k");

	/* 64-byte frames whose header cannot describe them (5.1.6.2.1) */
	for (size_t i = 0; i < sizeof(bad_hdrs) / sizeof(bad_hdrs[0]); i++) {
		init_tx();
		h = tx_frame(64);
		*h = bad_hdrs[i].h;
		expect_done(bad_hdrs[i].name);
	}

	/* a device-writable buffer after the frame: no place in a transmit
	 * chain; ignored or NEEDS_RESET, but never written as a frame part */
	init_tx();
	tx_frame(64);
	d(1, phys[P_DATA], 64, F_NEXT, 2);
	d(2, phys[P_IND2], 64, F_WRITE, 0);
	publish(0, 1);
	{
		int got = wait_used(1);
		int reset = (r8(COMMON + STATUS) & S_NEEDS_RESET) != 0;
		result("tx-writable-descriptor", got || (reset && wait_needs_reset()),
		       "neither completed nor NEEDS_RESET");
	}
}

/* a well-formed frame, its header split over two descriptors (allowed:
 * 2.6.4 message framing) */
static void tx_split_header(void)
{
	init_tx();
	tx_frame(64);
	d(0, phys[P_HDR], 5, F_NEXT, 2);
	d(2, phys[P_HDR] + 5, 7, F_NEXT, 1);
	expect_done("tx-valid-split-header");
}

static void tx_sanity(const char *name)
{
	init_tx();
	tx_frame(64);
	expect_done(name);
}

/* control queue: command at P_HDR (class, cmd, data...), ack byte at
 * P_HDR + 512, preset to 0xee */
static void ctrl_cmd(const char *name, const uint8_t *cmd, uint32_t len,
		     int with_ack, int want_ack)
{
	uint8_t *c = page(P_HDR);
	char why[96];
	int got;

	init_dev_q(CTRLQ, FEATURES, 0, 1);
	memcpy(c, cmd, len);
	c[512] = 0xee;
	d(0, phys[P_HDR], len, with_ack ? F_NEXT : 0, 1);
	d(1, phys[P_HDR] + 512, 1, F_WRITE, 0);
	publish(0, 1);
	got = wait_used(1);
	snprintf(why, sizeof(why), "used idx %u, ack %#x, status %#x",
		 used16()[1], c[512], r8(COMMON + STATUS));
	result(name, got && !(r8(COMMON + STATUS) & S_NEEDS_RESET) &&
			     (with_ack ? c[512] == want_ack : used32()[2] == 0),
	       why);
}

static void ctrl_attacks(void)
{
	static const uint8_t unknown[] = { 0x77, 0 };
	static const uint8_t promisc_no_data[] = { 0, 0 };
	static const uint8_t promisc_on[] = { 0, 0, 1 };
	/* MAC_TABLE_SET claiming 0xffffffff unicast entries (6 * that
	 * overflows 32 bits), giving none */
	static const uint8_t mac_huge[] = { 1, 0, 0xff, 0xff, 0xff, 0xff,
					    0, 0, 0, 0 };
	/* MAC_ADDR_SET with 3 bytes of a MAC */
	static const uint8_t mac_short[] = { 1, 1, 0x02, 0, 0 };

	ctrl_cmd("ctrl-unknown-class", unknown, sizeof(unknown), 1, 1);
	ctrl_cmd("ctrl-rx-mode-without-data", promisc_no_data,
		 sizeof(promisc_no_data), 1, 1);
	ctrl_cmd("ctrl-mac-table-huge-count", mac_huge, sizeof(mac_huge), 1, 1);
	ctrl_cmd("ctrl-mac-addr-short", mac_short, sizeof(mac_short), 1, 1);
	ctrl_cmd("ctrl-no-ack-byte", promisc_on, sizeof(promisc_on), 0, 0);
	ctrl_cmd("ctrl-valid-promisc", promisc_on, sizeof(promisc_on), 1, 0);
}

int main(int argc, char **argv)
{
	int rc = hostile_start(argc, argv, "net-hostile");

	if (rc)
		return rc;
	printf("HOSTILE-MAC %02x:%02x:%02x:%02x:%02x:%02x\n", r8(DEVCFG),
	       r8(DEVCFG + 1), r8(DEVCFG + 2), r8(DEVCFG + 3), r8(DEVCFG + 4),
	       r8(DEVCFG + 5));

	tx_sanity("tx-sanity-before");
	tx_attacks();
	tx_split_header();
	ring_attacks("tx-", init_tx);
	ctrl_attacks();

	/* bus mastering off: the frame must not go out until it is back on */
	{
		int early, got, ok;

		init_tx();
		ok = !set_bus_master(0);
		tx_frame(64);
		publish(0, 1);
		msleep(200);
		early = used16()[1];
		ok = !set_bus_master(1) && ok;
		got = wait_used(1);
		result("tx-bus-master-off", ok && !early && got,
		       early ? "frame sent with bus mastering off"
			     : "config write failed or not sent after");
	}

	tx_sanity("tx-sanity-after");
	w8(COMMON + STATUS, 0); /* leave it reset */
	printf("HOSTILE-RESULT pass=%d fail=%d\n", pass, fail);
	return fail ? 1 : 0;
}
