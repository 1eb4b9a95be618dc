/* SPDX-License-Identifier: MIT
 * test_virtio_net_pci.c - virtio-net end to end without a guest: the whole
 * device (virtio_net_create: a real tap, the virtio-pci transport, its I/O
 * threads) driven through BAR 0 like a driver would, with frames going
 * through the host kernel. Runs in a private network namespace it creates
 * (unshare(CLONE_NEWNET)); skipped when that is not allowed (not root).
 *
 * Host side of the wire: an AF_PACKET socket on the tap. Sending on it puts
 * a frame on the tap's "cable" towards the device (the device reads it);
 * frames the device writes to the tap are received on it.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

#include "devices/pci.h"
#include "fake_vm.h"
#include "net_vqdrv.h"
#include "virtio/net.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define RAM_SIZE (4u << 20)
#define F(b) (1ULL << (b))
#define ETH_TEST 0x88b5 /* local experimental ethertype */

static struct vm vm;
static struct pci_bus pbus;
static uint8_t *ram;
static struct virtio_dev *dev;
static struct net_dev *nd;
static struct drv_vq dq[NET_NR_QUEUES];
static int psock = -1;
static bool have_ns;

static uint32_t rd(unsigned off, unsigned len)
{
	uint32_t v = 0;
	virtio_pci_bar_access(dev, off, &v, len, false);
	return v;
}
static void wr(unsigned off, unsigned len, uint32_t v)
{
	virtio_pci_bar_access(dev, off, &v, len, true);
}
#define CC(f) offsetof(struct virtio_pci_common_cfg, f)
#define CSZ(f) sizeof(((struct virtio_pci_common_cfg *)0)->f)
#define RD(f) rd(CC(f), CSZ(f))
#define WR(f, v) wr(CC(f), CSZ(f), v)

static int group_setup(void **state)
{
	(void)state;
	log_quiet = true;
	if (getuid() != 0 || unshare(CLONE_NEWNET) != 0)
		return 0; /* every test skips */
	have_ns = true;
	/* no IPv6 autoconfiguration chatter on the new tap: every frame the
	 * device receives is one the test sent */
	for (int i = 0; i < 2; i++) {
		FILE *f = fopen(i ? "/proc/sys/net/ipv6/conf/default/disable_ipv6"
				  : "/proc/sys/net/ipv6/conf/all/disable_ipv6",
				"w");
		if (f) {
			fputs("1", f);
			fclose(f);
		}
	}
	return 0;
}

static int setup(void **state)
{
	struct net_cfg cfg = { .tap = "mvt0" };
	uint64_t at = 0x1000;
	char err[256] = "", what[128];

	(void)state;
	if (!have_ns)
		return 0;
	fake_vm_reset();
	memset(&vm, 0, sizeof(vm));
	ram = aligned_alloc(4096, RAM_SIZE);
	memset(ram, 0, RAM_SIZE);
	assert_int_equal(gm_add_region(&vm.mem, 0, RAM_SIZE, ram), 0);
	assert_int_equal(bus_init(&vm.pio, "pio"), 0);
	assert_int_equal(bus_init(&vm.mmio, "mmio"), 0);
	assert_int_equal(fake_pci_bus_init(&pbus, &vm), 0);
	vm.pci = &pbus;
	assert_int_equal(virtio_net_create(&vm, &cfg, 0, &dev, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	virtio_net_describe(dev, what, sizeof(what));
	assert_non_null(strstr(what, ", MAC "));
	assert_int_equal(dev->dev.ops->attach(&dev->dev), 0);
	nd = dev->opaque;
	for (int q = 0; q < NET_NR_QUEUES; q++)
		at = drv_vq_setup(&dq[q], &vm.mem, ram, at, 64);

	psock = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
	assert_true(psock >= 0);
	struct sockaddr_ll sa = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ALL),
				  .sll_ifindex = (int)if_nametoindex("mvt0") };
	assert_int_equal(bind(psock, (void *)&sa, sizeof(sa)), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (!have_ns)
		return 0;
	close(psock);
	/* the machine's order: stop, destroy the bus, free */
	dev->dev.ops->stop(&dev->dev);
	pci_bus_destroy(&pbus);
	dev->dev.ops->free(&dev->dev);
	/* the tap was ours: it is gone with the device */
	assert_int_equal(if_nametoindex("mvt0"), 0);
	bus_destroy(&vm.pio);
	bus_destroy(&vm.mmio);
	free(ram);
	return 0;
}

static uint64_t dev_features(void)
{
	WR(device_feature_select, 0);
	uint64_t f = RD(device_feature);
	WR(device_feature_select, 1);
	return f | (uint64_t)RD(device_feature) << 32;
}

/* The driver's side of initialisation (3.1.1), all three queues ready. */
static void driver_init(uint64_t f)
{
	f |= F(VIRTIO_F_VERSION_1);
	/* pci_set_master(): no DMA (ring processing) without it */
	pci_cfg_write(&dev->pci, PCI_COMMAND, 2,
		      pci_cfg_read(&dev->pci, PCI_COMMAND, 2) | PCI_COMMAND_MASTER);
	WR(device_status, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	WR(guest_feature_select, 0);
	WR(guest_feature, (uint32_t)f);
	WR(guest_feature_select, 1);
	WR(guest_feature, (uint32_t)(f >> 32));
	WR(device_status, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				  VIRTIO_CONFIG_S_FEATURES_OK);
	assert_true(RD(device_status) & VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned q = 0; q < NET_NR_QUEUES; q++) {
		WR(queue_select, q);
		WR(queue_size, 64);
		WR(queue_desc_lo, (uint32_t)dq[q].desc);
		WR(queue_desc_hi, 0);
		WR(queue_avail_lo, (uint32_t)dq[q].avail);
		WR(queue_avail_hi, 0);
		WR(queue_used_lo, (uint32_t)dq[q].used);
		WR(queue_used_hi, 0);
		WR(queue_enable, 1);
	}
	WR(device_status, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				  VIRTIO_CONFIG_S_FEATURES_OK |
				  VIRTIO_CONFIG_S_DRIVER_OK);
}

static void kick(unsigned q)
{
	wr(VIRTIO_PCI_NOTIFY_OFF + q * VIRTIO_PCI_NOTIFY_MULT, 2, q);
}

static bool wait_used(struct drv_vq *d, uint32_t *id, uint32_t *len)
{
	for (int i = 0; i < 400; i++) {
		if (drv_get_used(d, id, len))
			return true;
		usleep(5000);
	}
	return false;
}

/* A test frame from the host side: dst, our ethertype, pattern. */
static void host_send(const uint8_t dst[6], uint32_t len, uint8_t seed,
		      uint8_t *copy)
{
	uint8_t f[2048];

	memcpy(f, dst, 6);
	memcpy(f + 6, "\x02\x11\x22\x33\x44\x55", 6);
	f[12] = ETH_TEST >> 8;
	f[13] = ETH_TEST & 0xff;
	for (uint32_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i);
	memcpy(copy, f, len);
	assert_int_equal(send(psock, f, len, 0), (ssize_t)len);
}

/* Next frame of our ethertype seen on the tap (from the device), or -1. */
static ssize_t host_recv(uint8_t *buf, size_t cap)
{
	for (int i = 0; i < 400; i++) {
		ssize_t n = recv(psock, buf, cap, 0);
		if (n >= 14 && buf[12] == (ETH_TEST >> 8) &&
		    buf[13] == (ETH_TEST & 0xff))
			return n;
		if (n < 0)
			usleep(5000);
	}
	return -1;
}

static void test_end_to_end(void **state)
{
	uint8_t mac[6], want[6], sent[2048], got[2048];
	uint64_t f, g[4];
	uint32_t id, len;

	(void)state;
	if (!have_ns)
		skip();
	f = dev_features();
	assert_true(f & F(VIRTIO_F_VERSION_1));
	assert_true(f & F(VIRTIO_NET_F_MAC));
	assert_true(f & F(VIRTIO_NET_F_MRG_RXBUF));
	assert_true(f & F(VIRTIO_NET_F_CTRL_VQ));
	assert_true(f & F(VIRTIO_NET_F_GUEST_TSO4));
	assert_true(f & F(VIRTIO_NET_F_HOST_TSO4));
	assert_int_equal(RD(num_queues), NET_NR_QUEUES);

	/* config space: the default MAC and link up */
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)rd(VIRTIO_PCI_DEVICE_OFF + i, 1);
	net_default_mac("mvt0", nd->index, want);
	assert_memory_equal(mac, want, 6);
	assert_int_equal(rd(VIRTIO_PCI_DEVICE_OFF + 6, 2), VIRTIO_NET_S_LINK_UP);

	driver_init(F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_MRG_RXBUF) |
		    F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) |
		    F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_HOST_TSO4) |
		    F(VIRTIO_NET_F_CTRL_VQ) |
		    F(VIRTIO_NET_F_CTRL_RX) | F(VIRTIO_NET_F_STATUS));
	/* the tap follows the guest's offloads */
	assert_int_equal(nd->tap.offloads, TAP_F_CSUM | TAP_F_TSO4);

	/* host -> guest: a 1400-byte frame over 1024-byte buffers */
	for (int i = 0; i < 4; i++) {
		struct drv_buf b = { 0x100000 + (uint64_t)i * 0x1000, 1024,
				     true };
		g[i] = b.gpa;
		drv_add(&dq[NET_RXQ], &b, 1);
	}
	kick(NET_RXQ);
	usleep(20000);
	host_send(mac, 1400, 3, sent);
	assert_true(wait_used(&dq[NET_RXQ], &id, &len));
	assert_int_equal(len, 1024);
	assert_int_equal(ram[g[0] + 10], 2); /* num_buffers */
	assert_memory_equal(ram + g[0] + NET_HDR_LEN, sent, 1024 - NET_HDR_LEN);
	assert_true(wait_used(&dq[NET_RXQ], &id, &len));
	assert_int_equal(len, NET_HDR_LEN + 1400 - 1024);
	assert_memory_equal(ram + g[1], sent + 1024 - NET_HDR_LEN, len);
	/* an interrupt was raised (INTx: MSI-X is not enabled) */
	assert_true(fake.irq_line_calls > 0);

	/* guest -> host, header and frame in separate descriptors */
	{
		uint64_t h = 0x200000, d = 0x201000;
		struct drv_buf b[2] = { { h, NET_HDR_LEN, false },
					{ d, 600, false } };
		memset(ram + h, 0, NET_HDR_LEN);
		memcpy(ram + d, "\x02\x11\x22\x33\x44\x55", 6);
		memcpy(ram + d + 6, mac, 6);
		ram[d + 12] = ETH_TEST >> 8;
		ram[d + 13] = ETH_TEST & 0xff;
		for (int i = 14; i < 600; i++)
			ram[d + i] = (uint8_t)(i * 3);
		drv_add(&dq[NET_TXQ], b, 2);
		kick(NET_TXQ);
		assert_int_equal(host_recv(got, sizeof(got)), 600);
		assert_memory_equal(got, ram + d, 600);
		assert_true(wait_used(&dq[NET_TXQ], &id, &len));
	}

	/* guest -> host TSO: one 3000-byte TCP/IPv4 super-frame with a partial
	 * checksum and gso_size 1000; the tap must accept the header as is */
	{
		uint64_t h = 0x210000, d = 0x211000;
		uint32_t flen = 14 + 20 + 20 + 3000;
		struct drv_buf b[2] = { { h, NET_HDR_LEN, false },
					{ d, flen, false } };
		struct virtio_net_hdr_v1 vh = {
			.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
			.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
			.hdr_len = 54, .gso_size = 1000,
			.csum_start = 34, .csum_offset = 16,
		};
		uint8_t *p = ram + d;
		uint8_t big[4096];
		memcpy(ram + h, &vh, NET_HDR_LEN);
		memset(p, 0, flen);
		memcpy(p, "\x02\x11\x22\x33\x44\x55", 6);
		memcpy(p + 6, mac, 6);
		p[12] = 0x08;                       /* IPv4 */
		p[14] = 0x45;                       /* version 4, IHL 5 */
		p[16] = (uint8_t)((flen - 14) >> 8);/* total length */
		p[17] = (uint8_t)(flen - 14);
		p[22] = 64;                         /* TTL */
		p[23] = 6;                          /* TCP */
		memcpy(p + 26, "\x0a\x4d\x00\x02\x0a\x4d\x00\x01", 8);
		p[34] = 0x30; p[35] = 0x39;         /* ports 12345 -> 80 */
		p[36] = 0x00; p[37] = 0x50;
		p[46] = 0x50;                       /* data offset 5 */
		p[47] = 0x18;                       /* PSH ACK */
		p[48] = 0xff;                       /* window */
		for (uint32_t i = 54; i < flen; i++)
			p[i] = (uint8_t)i;
		drv_add(&dq[NET_TXQ], b, 2);
		kick(NET_TXQ);
		assert_true(wait_used(&dq[NET_TXQ], &id, &len));
		usleep(20000);
		assert_int_equal(nd->st.tx_errors, 0);
		assert_int_equal(nd->st.tx_bad_hdr, 0);
		assert_int_equal(nd->st.tx_packets, 2);
		/* the packet socket sees the TCP payload arrive intact
		 * (as one frame, or as segments: either way 3000 bytes) */
		uint32_t payload = 0;
		for (int i = 0; i < 400 && payload < 3000; i++) {
			ssize_t n = recv(psock, big, sizeof(big), 0);
			if (n < 54) {
				usleep(5000);
				continue;
			}
			if (big[12] != 0x08 || big[23] != 6 || big[34] != 0x30)
				continue;
			assert_memory_equal(big + 54, p + 54 + payload,
					    (size_t)n - 54);
			payload += (uint32_t)n - 54;
		}
		assert_int_equal(payload, 3000);
	}

	/* control queue: promiscuous off; a frame for another MAC is then
	 * filtered, one for ours still arrives */
	{
		uint64_t c = 0x300000;
		struct drv_buf b[2] = { { c, 3, false }, { c + 16, 1, true } };
		static const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x99 };
		memcpy(ram + c, "\x00\x00\x00", 3);
		ram[c + 16] = 0x55;
		drv_add(&dq[NET_CTRLQ], b, 2);
		kick(NET_CTRLQ);
		assert_true(wait_used(&dq[NET_CTRLQ], &id, &len));
		assert_int_equal(ram[c + 16], VIRTIO_NET_OK);
		host_send(other, 100, 1, sent);
		host_send(mac, 100, 2, sent);
		assert_true(wait_used(&dq[NET_RXQ], &id, &len));
		assert_int_equal(len, NET_HDR_LEN + 100);
		assert_memory_equal(ram + g[2] + NET_HDR_LEN, sent, 100);
		assert_int_equal(nd->st.rx_filtered, 1);
	}

	/* device reset: offloads back off, state forgotten */
	WR(device_status, 0);
	assert_int_equal(RD(device_status), 0);
	assert_int_equal(nd->tap.offloads, 0);
	assert_true(nd->promisc);
}

/* A driver breaking 5.1.3.1 (GUEST_TSO4 without GUEST_CSUM) does not get
 * FEATURES_OK. */
static void test_features_refused(void **state)
{
	uint64_t f = F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_GUEST_TSO4);

	(void)state;
	if (!have_ns)
		skip();
	WR(device_status, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	WR(guest_feature_select, 0);
	WR(guest_feature, (uint32_t)f);
	WR(guest_feature_select, 1);
	WR(guest_feature, (uint32_t)(f >> 32));
	WR(device_status, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				  VIRTIO_CONFIG_S_FEATURES_OK);
	assert_false(RD(device_status) & VIRTIO_CONFIG_S_FEATURES_OK);
	assert_int_equal(nd->tap.offloads, 0);
	WR(device_status, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_features_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_end_to_end, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
