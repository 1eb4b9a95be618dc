/* SPDX-License-Identifier: MIT
 * Unit tests: the virtio-pci modern transport (virtio/virtio_pci.c) on the
 * real PCI bus code (devices/pci.c, msix.c) and the fake KVM side: IDs and
 * capabilities, feature negotiation, the status state machine and reset,
 * queue configuration limits, notifications through the notify region and
 * the ioeventfds, INTx/ISR and MSI-X interrupts (masked vectors held
 * pending), DEVICE_NEEDS_RESET on a malformed ring, status bits that only
 * a reset clears, queue_enable only after FEATURES_OK, Bus Master Enable
 * gating DMA and MSI-X, BAR moves and the PCI-config access window. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#include "devices/pci.h"
#include "fake_vm.h"
#include "virtio/virtio_pci.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define RAM_SIZE (1 << 20)
#define NQ 2
#define QMAX 16
#define TEST_ID 0x2a /* arbitrary virtio device id */
#define DEV_FEATURE_BIT 3

static struct vm vm;
static struct pci_bus pbus;
static uint8_t *ram;
static struct virtio_dev *dev;

/* ---- the device under test: echoes each chain back ---- */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static unsigned notifies, handled, resets, driver_oks;
static struct virtq_req req;
/* test_reset_waits_for_queue_threads: t_notify stops inside the callback,
 * says so (in_notify), waits until the status reads 0 (or 300 ms) and then
 * reports a driver error, as a thread that is still walking the old ring
 * when the driver writes 0 would. */
static bool hold_in_notify, in_notify;
static uint8_t devcfg[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static void t_cfg_read(struct virtio_dev *d, unsigned off, void *data,
		       unsigned len)
{
	(void)d;
	memcpy(data, devcfg + off, len);
}
static void t_cfg_write(struct virtio_dev *d, unsigned off, const void *data,
			unsigned len)
{
	(void)d;
	memcpy(devcfg + off, data, len);
}
static void t_notify(struct virtio_dev *d, unsigned qidx)
{
	struct virtq *q = &d->vqs[qidx];
	int ret;

	if (hold_in_notify) {
		pthread_mutex_lock(&mu);
		in_notify = true;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
		for (int i = 0; i < 300 && __atomic_load_n(&d->status,
							   __ATOMIC_ACQUIRE);
		     i++)
			usleep(1000);
		hold_in_notify = false;
		virtio_pci_set_needs_reset(d);
	}
	while ((ret = virtq_pop(q, &req)) == 1) {
		virtq_push(q, req.head, req.in_len);
		pthread_mutex_lock(&mu);
		handled++;
		pthread_mutex_unlock(&mu);
	}
	if (ret < 0)
		virtio_pci_set_needs_reset(d);
	if (virtq_need_notify(q))
		virtio_pci_notify_queue(d, qidx);
	pthread_mutex_lock(&mu);
	notifies++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}
static void t_reset(struct virtio_dev *d)
{
	(void)d;
	resets++;
}
static void t_driver_ok(struct virtio_dev *d)
{
	(void)d;
	driver_oks++;
}
static const struct virtio_dev_ops ops = {
	.cfg_read = t_cfg_read,
	.cfg_write = t_cfg_write,
	.queue_notify = t_notify,
	.reset = t_reset,
	.driver_ok = t_driver_ok,
};

/* ---- register helpers ---- */
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

/* The driver's pci_set_master() (or its undoing). */
static void set_bus_master(bool on)
{
	uint32_t cmd = pci_cfg_read(&dev->pci, PCI_COMMAND, 2);

	cmd = on ? cmd | PCI_COMMAND_MASTER : cmd & ~PCI_COMMAND_MASTER;
	pci_cfg_write(&dev->pci, PCI_COMMAND, 2, cmd);
}

/* MSI-X table entry i: message (addr, data), vector mask bit. */
static void msix_program(unsigned i, uint32_t addr, uint32_t data,
			 bool masked)
{
	unsigned e = VIRTIO_PCI_MSIX_TABLE_OFF + 16 * i;

	wr(e + 0, 4, addr);
	wr(e + 4, 4, 0);
	wr(e + 8, 4, data);
	wr(e + 12, 4, masked);
}

static void msix_ctrl(uint16_t flags)
{
	pci_cfg_write(&dev->pci, dev->pci.msix.cap + PCI_MSIX_FLAGS, 2, flags);
}

/* Interrupts sent through vector i's irqfd since the last call. */
static uint64_t fired(unsigned i)
{
	uint64_t n = 0;

	if (read(dev->pci.msix.v[i].efd, &n, sizeof(n)) != sizeof(n))
		return 0; /* EAGAIN: none */
	return n;
}

static void wait_notifies(unsigned n)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	pthread_mutex_lock(&mu);
	while (notifies < n)
		if (pthread_cond_timedwait(&cv, &mu, &ts))
			break;
	pthread_mutex_unlock(&mu);
	assert_true(notifies >= n);
}

static int setup(void **state)
{
	(void)state;
	struct virtio_dev_desc desc = {
		.name = "virtio-test",
		.device_id = TEST_ID,
		.class_code = 0xff0000,
		.features = 1ULL << DEV_FEATURE_BIT,
		.nr_queues = NQ,
		.queue_size = QMAX,
		.cfg_size = sizeof(devcfg),
		.ops = &ops,
	};

	log_quiet = true;
	fake_vm_reset();
	for (unsigned i = 0; i < sizeof(devcfg); i++)
		devcfg[i] = (uint8_t)(i + 1);
	memset(&vm, 0, sizeof(vm));
	ram = calloc(1, RAM_SIZE);
	assert_non_null(ram);
	assert_int_equal(gm_add_region(&vm.mem, 0, RAM_SIZE, ram), 0);
	assert_int_equal(bus_init(&vm.pio, "pio"), 0);
	assert_int_equal(bus_init(&vm.mmio, "mmio"), 0);
	assert_int_equal(fake_pci_bus_init(&pbus, &vm), 0);
	dev = calloc(1, sizeof(*dev));
	assert_non_null(dev);
	assert_int_equal(virtio_pci_init(dev, &vm, &desc, NULL), 0);
	assert_int_equal(virtio_pci_start(dev), 0);
	set_bus_master(true); /* as every driver does before using it */
	notifies = handled = resets = driver_oks = 0;
	hold_in_notify = in_notify = false;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	virtio_pci_destroy(dev);
	pci_bus_destroy(&pbus);
	bus_destroy(&vm.pio);
	bus_destroy(&vm.mmio);
	free(dev);
	free(ram);
	return 0;
}

/* Negotiate VERSION_1 (+ extra) and reach FEATURES_OK. */
static void negotiate(uint64_t extra)
{
	uint64_t f = (1ULL << VIRTIO_F_VERSION_1) | extra;

	WR(device_status, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	WR(guest_feature_select, 0);
	WR(guest_feature, (uint32_t)f);
	WR(guest_feature_select, 1);
	WR(guest_feature, (uint32_t)(f >> 32));
	WR(device_status, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				  VIRTIO_CONFIG_S_FEATURES_OK);
}

#define ALL_OK                                                              \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |             \
	 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK)

/* Queue 0: size 8 at desc 0x1000, avail 0x2000, used 0x3000. */
static void setup_queue0(void)
{
	WR(queue_select, 0);
	WR(queue_size, 8);
	WR(queue_desc_lo, 0x1000);
	WR(queue_desc_hi, 0);
	WR(queue_avail_lo, 0x2000);
	WR(queue_avail_hi, 0);
	WR(queue_used_lo, 0x3000);
	WR(queue_used_hi, 0);
	WR(queue_enable, 1);
}

/* One writable 64-byte buffer as the chain at head 0, published. */
static void post_buffer(void)
{
	struct vring_desc *d = (struct vring_desc *)(ram + 0x1000);
	struct vring_avail *a = (struct vring_avail *)(ram + 0x2000);

	d[0] = (struct vring_desc){ .addr = 0x8000, .len = 64,
				    .flags = VRING_DESC_F_WRITE };
	a->ring[a->idx % 8] = 0;
	a->idx++;
}

/* ---- tests ---- */

static void test_ids_and_caps(void **state)
{
	(void)state;
	struct pci_dev *p = &dev->pci;
	unsigned types = 0, off;

	assert_int_equal(pci_cfg_read(p, PCI_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(pci_cfg_read(p, PCI_DEVICE_ID, 2), 0x1040 + TEST_ID);
	assert_int_equal(pci_cfg_read(p, PCI_REVISION_ID, 1), 1);
	assert_int_equal(pci_cfg_read(p, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(pci_cfg_read(p, PCI_SUBSYSTEM_ID, 2), TEST_ID);
	assert_true(pci_cfg_read(p, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);

	/* walk the capability list: five virtio vendor caps + MSI-X */
	off = pci_cfg_read(p, PCI_CAPABILITY_LIST, 1);
	for (int guard = 0; off && guard < 48; guard++) {
		unsigned id = pci_cfg_read(p, off, 1);
		if (id == PCI_CAP_ID_VNDR) {
			unsigned type = pci_cfg_read(p, off + 3, 1);
			unsigned bar = pci_cfg_read(p, off + 4, 1);
			uint32_t o = pci_cfg_read(p, off + 8, 4);
			uint32_t l = pci_cfg_read(p, off + 12, 4);
			types |= 1u << type;
			if (type != VIRTIO_PCI_CAP_PCI_CFG) {
				assert_int_equal(bar, 0);
				assert_true(o + l <= VIRTIO_PCI_BAR_SIZE);
			}
			if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
				assert_int_equal(pci_cfg_read(p, off + 16, 4),
						 4);
				assert_int_equal(o, VIRTIO_PCI_NOTIFY_OFF);
				assert_true(l >= NQ * 4);
			}
			if (type == VIRTIO_PCI_CAP_COMMON_CFG)
				assert_true(l >= 0x38);
			if (type == VIRTIO_PCI_CAP_DEVICE_CFG)
				assert_int_equal(l, sizeof(devcfg));
		} else if (id == PCI_CAP_ID_MSIX) {
			/* table size field is N - 1 */
			assert_int_equal(pci_cfg_read(p, off + 2, 2) & 0x7ff,
					 NQ);
			types |= 1u << 16;
		}
		off = pci_cfg_read(p, off + 1, 1);
	}
	assert_int_equal(types, (1u << VIRTIO_PCI_CAP_COMMON_CFG) |
					(1u << VIRTIO_PCI_CAP_NOTIFY_CFG) |
					(1u << VIRTIO_PCI_CAP_ISR_CFG) |
					(1u << VIRTIO_PCI_CAP_DEVICE_CFG) |
					(1u << VIRTIO_PCI_CAP_PCI_CFG) |
					(1u << 16));
}

static void test_bar_mapped_and_ioeventfds(void **state)
{
	(void)state;
	struct pci_bar *b = &dev->pci.bars[0];
	uint32_t v = 0;

	assert_int_equal(b->type, PCI_BAR_MEM64);
	assert_true(b->mapped);
	/* the BAR answers on the MMIO bus: device config byte 2 */
	assert_true(bus_access(&vm.mmio, b->addr + VIRTIO_PCI_DEVICE_OFF + 2,
			       &v, 1, false));
	assert_int_equal(v, 3);
	/* one ioeventfd per queue at its notify address */
	assert_int_equal(fake.nr_ioeventfd, NQ);
	for (unsigned i = 0; i < NQ; i++)
		assert_int_equal(fake.ioeventfd_addr[i],
				 b->addr + VIRTIO_PCI_NOTIFY_OFF + 4 * i);
	assert_int_equal(fake.ioeventfd_fd[1], dev->q[1].efd);
}

static void test_features(void **state)
{
	(void)state;
	WR(device_feature_select, 0);
	assert_int_equal(RD(device_feature),
			 (1u << DEV_FEATURE_BIT) |
				 (1u << VIRTIO_RING_F_INDIRECT_DESC) |
				 (1u << VIRTIO_RING_F_EVENT_IDX));
	WR(device_feature_select, 1);
	assert_int_equal(RD(device_feature), 1); /* VERSION_1 */
	WR(device_feature_select, 2);
	assert_int_equal(RD(device_feature), 0);

	/* without VERSION_1: FEATURES_OK does not stick */
	WR(device_status, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	WR(guest_feature_select, 0);
	WR(guest_feature, 1u << DEV_FEATURE_BIT);
	WR(device_status, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				  VIRTIO_CONFIG_S_FEATURES_OK);
	assert_false(RD(device_status) & VIRTIO_CONFIG_S_FEATURES_OK);

	/* a feature that was not offered: refused too */
	WR(device_status, 0);
	negotiate(1ULL << 7);
	assert_false(RD(device_status) & VIRTIO_CONFIG_S_FEATURES_OK);

	/* DRIVER_OK without FEATURES_OK is ignored */
	WR(device_status, ALL_OK & ~VIRTIO_CONFIG_S_FEATURES_OK);
	assert_false(RD(device_status) & VIRTIO_CONFIG_S_DRIVER_OK);

	/* proper negotiation */
	WR(device_status, 0);
	negotiate((1ULL << DEV_FEATURE_BIT) | (1ULL << VIRTIO_RING_F_EVENT_IDX));
	assert_true(RD(device_status) & VIRTIO_CONFIG_S_FEATURES_OK);
	assert_int_equal(dev->driver_features,
			 (1ULL << VIRTIO_F_VERSION_1) |
				 (1ULL << DEV_FEATURE_BIT) |
				 (1ULL << VIRTIO_RING_F_EVENT_IDX));
	/* frozen after FEATURES_OK */
	WR(guest_feature_select, 0);
	WR(guest_feature, 0);
	assert_true(dev->driver_features & (1ULL << DEV_FEATURE_BIT));
	WR(guest_feature_select, 0);
	assert_int_equal(RD(guest_feature),
			 (1u << DEV_FEATURE_BIT) | (1u << VIRTIO_RING_F_EVENT_IDX));
}

static void test_queue_config_limits(void **state)
{
	(void)state;
	assert_int_equal(RD(num_queues), NQ);
	WR(queue_select, 1);
	assert_int_equal(RD(queue_size), QMAX);
	assert_int_equal(RD(queue_notify_off), 1);
	WR(queue_size, 12); /* not a power of two */
	assert_int_equal(RD(queue_size), QMAX);
	WR(queue_size, 2 * QMAX); /* above the maximum */
	assert_int_equal(RD(queue_size), QMAX);
	WR(queue_size, 0);
	assert_int_equal(RD(queue_size), QMAX);
	WR(queue_size, 4);
	assert_int_equal(RD(queue_size), 4);

	/* vectors: nvec = NQ + 1; anything else reads NO_VECTOR */
	WR(queue_msix_vector, 2);
	assert_int_equal(RD(queue_msix_vector), 2);
	WR(queue_msix_vector, NQ + 1);
	assert_int_equal(RD(queue_msix_vector), VIRTIO_MSI_NO_VECTOR);
	WR(msix_config, 0);
	assert_int_equal(RD(msix_config), 0);
	WR(msix_config, 100);
	assert_int_equal(RD(msix_config), VIRTIO_MSI_NO_VECTOR);

	/* 64-bit address as two halves */
	WR(queue_desc_lo, 0x12345000);
	WR(queue_desc_hi, 0x1);
	assert_int_equal(RD(queue_desc_lo), 0x12345000);
	assert_int_equal(RD(queue_desc_hi), 1);
	assert_int_equal(dev->vqs[1].desc_gpa, 0x112345000ULL);

	/* a queue that does not exist */
	WR(queue_select, NQ);
	assert_int_equal(RD(queue_size), 0);
	assert_int_equal(RD(queue_enable), 0);
	assert_int_equal(RD(queue_msix_vector), VIRTIO_MSI_NO_VECTOR);
	WR(queue_size, 4);
	WR(queue_enable, 1);
	WR(queue_desc_lo, 0x1000);
	assert_int_equal(RD(queue_size), 0);
	/* odd accesses: wider than the field, past the structure */
	assert_int_equal(rd(0x38, 4), 0);
	assert_int_equal(rd(0x100, 4), 0);
}

static void test_enable_and_frozen_config(void **state)
{
	(void)state;
	negotiate(0);
	setup_queue0();
	assert_int_equal(RD(queue_enable), 1);
	assert_true(dev->vqs[0].ready);
	/* config of an enabled queue can not change under the device */
	WR(queue_size, 4);
	WR(queue_desc_lo, 0x5000);
	assert_int_equal(RD(queue_size), 8);
	assert_int_equal(RD(queue_desc_lo), 0x1000);
}

static void test_bad_ring_address_needs_reset(void **state)
{
	(void)state;
	negotiate(0);
	WR(queue_select, 0);
	WR(queue_desc_lo, RAM_SIZE - 16); /* ring runs off the end of RAM */
	WR(queue_avail_lo, 0x2000);
	WR(queue_used_lo, 0x3000);
	WR(queue_enable, 1);
	assert_int_equal(RD(queue_enable), 0);
	assert_true(RD(device_status) & VIRTIO_CONFIG_S_NEEDS_RESET);
	/* INTx: config change in the ISR, line raised; reading clears */
	assert_int_equal(fake.irq_level[dev->pci.intx_gsi], 1);
	assert_int_equal(rd(VIRTIO_PCI_ISR_OFF, 1), VIRTIO_PCI_ISR_CONFIG);
	assert_int_equal(fake.irq_level[dev->pci.intx_gsi], 0);
	assert_int_equal(rd(VIRTIO_PCI_ISR_OFF, 1), 0);
	/* the driver cannot clear NEEDS_RESET except by a reset */
	WR(device_status, ALL_OK);
	assert_true(RD(device_status) & VIRTIO_CONFIG_S_NEEDS_RESET);
	WR(device_status, 0);
	assert_int_equal(RD(device_status), 0);
}

static void test_reset_restores_initial_state(void **state)
{
	(void)state;
	negotiate(1ULL << VIRTIO_RING_F_EVENT_IDX);
	setup_queue0();
	WR(queue_msix_vector, 1);
	WR(msix_config, 0);
	WR(device_status, ALL_OK);
	assert_int_equal(driver_oks, 1);
	WR(device_status, 0);
	assert_int_equal(resets, 1);
	assert_int_equal(RD(device_status), 0);
	assert_int_equal(RD(msix_config), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(dev->driver_features, 0);
	for (unsigned i = 0; i < NQ; i++) {
		WR(queue_select, i);
		assert_int_equal(RD(queue_size), QMAX);
		assert_int_equal(RD(queue_enable), 0);
		assert_int_equal(RD(queue_desc_lo), 0);
		assert_int_equal(RD(queue_avail_lo), 0);
		assert_int_equal(RD(queue_used_lo), 0);
		assert_int_equal(RD(queue_msix_vector), VIRTIO_MSI_NO_VECTOR);
		assert_false(dev->vqs[i].ready);
		assert_int_equal(dev->vqs[i].last_avail_idx, 0);
	}
	/* and it works again from scratch */
	negotiate(0);
	setup_queue0();
	assert_int_equal(RD(queue_enable), 1);
}

static void test_kick_mmio_exit_and_intx(void **state)
{
	(void)state;
	negotiate(0);
	setup_queue0();
	post_buffer();
	/* a kick before DRIVER_OK is not acted on... */
	wr(VIRTIO_PCI_NOTIFY_OFF, 2, 0);
	usleep(50 * 1000);
	assert_int_equal(handled, 0);
	/* ...but replayed at DRIVER_OK */
	WR(device_status, ALL_OK);
	wait_notifies(1);
	assert_int_equal(handled, 1);
	assert_int_equal(((struct vring_used *)(ram + 0x3000))->idx, 1);
	assert_int_equal(((struct vring_used *)(ram + 0x3000))->ring[0].len, 64);
	/* no MSI-X: ISR bit 0 and INTx */
	assert_int_equal(fake.irq_level[dev->pci.intx_gsi], 1);
	assert_int_equal(rd(VIRTIO_PCI_ISR_OFF, 1), 1);
	assert_int_equal(fake.irq_level[dev->pci.intx_gsi], 0);

	/* a kick arriving as an MMIO exit (not through the ioeventfd) */
	post_buffer();
	assert_true(bus_access(&vm.mmio, dev->pci.bars[0].addr +
				       VIRTIO_PCI_NOTIFY_OFF, &(uint16_t){ 0 },
			       2, true));
	wait_notifies(2);
	assert_int_equal(handled, 2);
}

static void test_kick_through_ioeventfd(void **state)
{
	(void)state;
	uint64_t one = 1;

	negotiate(0);
	setup_queue0();
	WR(device_status, ALL_OK);
	wait_notifies(1); /* the kick replayed at DRIVER_OK found nothing */
	post_buffer();
	/* what KVM does when the guest writes the notify address */
	assert_int_equal(write(fake.ioeventfd_fd[0], &one, 8), 8);
	wait_notifies(2);
	assert_int_equal(handled, 1);
	/* counted per queue for --stats and minivmm stat: two kicks taken
	 * (the one replayed at DRIVER_OK goes through the eventfd too) and
	 * the interrupts sent (at least the one for the used buffer) */
	uint64_t kicks = __atomic_load_n(&dev->q[0].kicks, __ATOMIC_RELAXED);
	uint64_t irqs = __atomic_load_n(&dev->q[0].irqs, __ATOMIC_RELAXED);
	char json[256], want[96];

	assert_int_equal(kicks, 2);
	assert_true(irqs >= 1);
	assert_true(stats_sources_json(&vm.stats, json, sizeof(json)) < (int)sizeof(json));
	snprintf(want, sizeof(want), "\"%s\":{\"q0\":{\"kicks\":2,\"irqs\":%llu}",
		 dev->dev.name, (unsigned long long)irqs);
	if (!strstr(json, want))
		fail_msg("'%s' lacks '%s'", json, want);
}

static void test_malformed_chain_needs_reset(void **state)
{
	(void)state;
	struct vring_avail *a = (struct vring_avail *)(ram + 0x2000);

	unsigned n;

	negotiate(0);
	setup_queue0();
	a->ring[0] = 200; /* head out of range */
	a->idx = 1;
	WR(device_status, ALL_OK); /* replays a kick */
	for (int i = 0; i < 500 && !(RD(device_status) &
				     VIRTIO_CONFIG_S_NEEDS_RESET); i++)
		usleep(10 * 1000);
	assert_true(RD(device_status) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(handled, 0);
	wait_notifies(1);
	/* config-change interrupt (INTx here: MSI-X is off) */
	assert_int_equal(rd(VIRTIO_PCI_ISR_OFF, 1) & VIRTIO_PCI_ISR_CONFIG,
			 VIRTIO_PCI_ISR_CONFIG);
	/* further kicks are ignored while the device needs a reset */
	n = notifies;
	wr(VIRTIO_PCI_NOTIFY_OFF, 2, 0);
	usleep(50 * 1000);
	assert_int_equal(notifies, n);
	/* reset and reuse */
	WR(device_status, 0);
	memset(ram, 0, 0x4000);
	negotiate(0);
	setup_queue0();
	WR(device_status, ALL_OK);
	post_buffer();
	wr(VIRTIO_PCI_NOTIFY_OFF, 2, 0);
	wait_notifies(n + 1);
	for (int i = 0; i < 500 && handled < 1; i++)
		usleep(10 * 1000);
	assert_int_equal(handled, 1);
}

/* A reset waits for the queue threads before it clears the status: a
 * thread that reports a broken ring while the reset is under way cannot
 * leave DEVICE_NEEDS_RESET in the fresh status (a driver that writes 0
 * then waits to read 0 back would wait for ever). */
static void *write_status_zero(void *arg)
{
	(void)arg;
	WR(device_status, 0);
	return NULL;
}

static void test_reset_waits_for_queue_threads(void **state)
{
	(void)state;
	uint64_t one = 1;
	pthread_t t;
	struct timespec ts;

	negotiate(0);
	setup_queue0();
	WR(device_status, ALL_OK);
	wait_notifies(1);
	hold_in_notify = true;
	in_notify = false;
	assert_int_equal(write(fake.ioeventfd_fd[0], &one, 8), 8);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	pthread_mutex_lock(&mu);
	while (!in_notify)
		if (pthread_cond_timedwait(&cv, &mu, &ts))
			break;
	pthread_mutex_unlock(&mu);
	assert_true(in_notify);
	/* the driver's reset, from a vCPU, while the queue thread is busy */
	assert_int_equal(pthread_create(&t, NULL, write_status_zero, NULL), 0);
	pthread_join(t, NULL);
	assert_int_equal(RD(device_status), 0);
	assert_int_equal(rd(VIRTIO_PCI_ISR_OFF, 1), 0);
}

static void test_msix_vectors(void **state)
{
	(void)state;
	struct pci_dev *p = &dev->pci;
	int g1 = p->msix.v[1].gsi;

	/* config changes on vector 0, queue 0 on vector 1, 2 unused */
	msix_program(0, 0xfee00000, 0x40, false);
	msix_program(1, 0xfee01000, 0x41, false);
	msix_program(2, 0xfee02000, 0x42, false);
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	assert_true(pci_msix_enabled(p));

	negotiate(0);
	setup_queue0();
	WR(queue_msix_vector, 1);
	WR(msix_config, 0);
	post_buffer();
	WR(device_status, ALL_OK); /* replays a kick */
	wait_notifies(1);
	assert_int_equal(handled, 1);
	/* one interrupt, through vector 1's irqfd, whose GSI is routed to
	 * vector 1's message; nothing else */
	assert_int_equal(fired(1), 1);
	assert_int_equal(fired(0), 0);
	assert_int_equal(fired(2), 0);
	assert_true(g1 >= 0);
	assert_int_equal(fake.irqfd[g1], p->msix.v[1].efd);
	assert_int_equal(fake.route_addr[g1], 0xfee01000);
	assert_int_equal(fake.route_data[g1], 0x41);
	assert_int_equal(fake.signal_msi_calls, 0);
	/* not INTx, not the ISR */
	assert_int_equal(fake.irq_level[p->intx_gsi], 0);
	assert_int_equal(rd(VIRTIO_PCI_ISR_OFF, 1), 0);

	/* a configuration change goes to the config vector */
	virtio_pci_config_changed(dev);
	assert_int_equal(fired(0), 1);
	assert_int_equal(fired(1), 0);

	/* NO_VECTOR: no interrupt at all (4.1.5.3), not even a pending bit */
	WR(queue_msix_vector, VIRTIO_MSI_NO_VECTOR);
	virtio_pci_notify_queue(dev, 0);
	for (unsigned i = 0; i < NQ + 1; i++)
		assert_int_equal(fired(i), 0);
	assert_int_equal(rd(VIRTIO_PCI_MSIX_PBA_OFF, 4), 0);
	assert_int_equal(rd(VIRTIO_PCI_ISR_OFF, 1), 0);
}

/* MSI-X enabled but masked (function or vector): the interrupt is held in
 * the PBA, not diverted to the ISR/INTx (muted under MSI-X), and sent
 * through the irqfd when the mask clears (PCI 3.0, 6.8.2.9). */
static void test_msix_masked_pending(void **state)
{
	(void)state;
	struct pci_dev *p = &dev->pci;

	msix_program(1, 0xfee01000, 0x41, false);
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	negotiate(0);
	setup_queue0();
	WR(queue_msix_vector, 1);
	post_buffer();
	WR(device_status, ALL_OK); /* replays a kick */
	wait_notifies(1);
	assert_int_equal(handled, 1);
	assert_int_equal(fired(1), 0);
	assert_int_equal(rd(VIRTIO_PCI_MSIX_PBA_OFF, 4), 1u << 1);
	assert_int_equal(rd(VIRTIO_PCI_ISR_OFF, 1), 0);
	assert_int_equal(fake.irq_level[p->intx_gsi], 0);
	/* unmasking the function sends it */
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(fired(1), 1);
	assert_int_equal(rd(VIRTIO_PCI_MSIX_PBA_OFF, 4), 0);
	assert_int_equal(fake.route_data[p->msix.v[1].gsi], 0x41);

	/* the same with the vector's own mask bit */
	wr(VIRTIO_PCI_MSIX_TABLE_OFF + 16 + 12, 4, 1);
	post_buffer();
	wr(VIRTIO_PCI_NOTIFY_OFF, 2, 0);
	wait_notifies(2);
	assert_int_equal(handled, 2);
	assert_int_equal(fired(1), 0);
	assert_int_equal(rd(VIRTIO_PCI_MSIX_PBA_OFF, 4), 1u << 1);
	wr(VIRTIO_PCI_MSIX_TABLE_OFF + 16 + 12, 4, 0);
	assert_int_equal(fired(1), 1);
	assert_int_equal(rd(VIRTIO_PCI_MSIX_PBA_OFF, 4), 0);
	assert_int_equal(rd(VIRTIO_PCI_ISR_OFF, 1), 0);
	assert_int_equal(fake.signal_msi_calls, 0);
}

/* 2.1.1: only a reset clears status bits. A smaller status written
 * without one must not reopen feature negotiation under live queues. */
static void test_status_bits_not_cleared(void **state)
{
	(void)state;
	negotiate(1ULL << VIRTIO_RING_F_EVENT_IDX);
	setup_queue0();
	WR(device_status, ALL_OK);
	wait_notifies(1); /* the replayed kick found nothing */
	assert_true(dev->vqs[0].event_idx);

	WR(device_status, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	assert_int_equal(RD(device_status), ALL_OK);
	assert_true(virtio_pci_running(dev));
	/* so the feature words stay frozen */
	WR(guest_feature_select, 0);
	WR(guest_feature, 0);
	assert_true(dev->driver_features & (1ULL << VIRTIO_RING_F_EVENT_IDX));
	WR(guest_feature_select, 0);
	assert_int_equal(RD(guest_feature), 1u << VIRTIO_RING_F_EVENT_IDX);
	/* a write that drops bits but sets a new one: the new bit is added */
	WR(device_status, VIRTIO_CONFIG_S_FAILED);
	assert_int_equal(RD(device_status), ALL_OK | VIRTIO_CONFIG_S_FAILED);
	assert_int_equal(driver_oks, 1);
	/* the queue still works */
	post_buffer();
	wr(VIRTIO_PCI_NOTIFY_OFF, 2, 0);
	wait_notifies(2);
	assert_int_equal(handled, 1);
	/* a reset does clear everything */
	WR(device_status, 0);
	assert_int_equal(RD(device_status), 0);
	assert_int_equal(dev->driver_features, 0);
}

/* 3.1.1: queues are enabled after FEATURES_OK, which latches the ring
 * features; an earlier queue_enable is ignored. */
static void test_queue_enable_needs_features_ok(void **state)
{
	(void)state;
	WR(device_status, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	WR(guest_feature_select, 0);
	WR(guest_feature, (1u << VIRTIO_RING_F_EVENT_IDX) |
				  (1u << VIRTIO_RING_F_INDIRECT_DESC));
	setup_queue0();
	assert_int_equal(RD(queue_enable), 0);
	assert_false(dev->vqs[0].ready);
	/* the driver settles on fewer features; those are what count */
	WR(guest_feature, 0);
	WR(guest_feature_select, 1);
	WR(guest_feature, 1); /* VERSION_1 */
	WR(device_status, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				  VIRTIO_CONFIG_S_FEATURES_OK);
	assert_true(RD(device_status) & VIRTIO_CONFIG_S_FEATURES_OK);
	WR(queue_select, 0);
	WR(queue_enable, 1);
	assert_int_equal(RD(queue_enable), 1);
	assert_true(dev->vqs[0].ready);
	assert_false(dev->vqs[0].event_idx);
	assert_false(dev->vqs[0].indirect);
	/* and it runs */
	post_buffer();
	WR(device_status, ALL_OK); /* replays a kick */
	wait_notifies(1);
	assert_int_equal(handled, 1);
}

/* PCI 3.0, 6.2.2: without Bus Master Enable the device must not access
 * memory: kicks are not acted on (replayed once it is set again) and no
 * MSI-X message (a memory write) is sent. INTx still works. */
static void test_bus_master_gates_dma(void **state)
{
	(void)state;
	struct vring_used *u = (struct vring_used *)(ram + 0x3000);

	negotiate(0);
	setup_queue0();
	set_bus_master(false);
	WR(device_status, ALL_OK); /* its kick replay is not acted on */
	assert_false(virtio_pci_running(dev));
	post_buffer();
	wr(VIRTIO_PCI_NOTIFY_OFF, 2, 0);
	usleep(50 * 1000);
	assert_int_equal(notifies, 0);
	assert_int_equal(handled, 0);
	assert_int_equal(u->idx, 0);
	/* back on: the kick is replayed, the interrupt is INTx + ISR */
	set_bus_master(true);
	wait_notifies(1);
	assert_int_equal(handled, 1);
	assert_int_equal(u->idx, 1);
	assert_int_equal(rd(VIRTIO_PCI_ISR_OFF, 1), 1);
	/* a command write that leaves it on replays nothing */
	set_bus_master(true);
	usleep(20 * 1000);
	assert_int_equal(notifies, 1);

	/* MSI-X: nothing is sent (nor held pending) while it is off */
	msix_program(1, 0xfee01000, 0x41, false);
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	WR(queue_msix_vector, 1);
	set_bus_master(false);
	virtio_pci_notify_queue(dev, 0);
	assert_int_equal(fired(1), 0);
	assert_int_equal(rd(VIRTIO_PCI_MSIX_PBA_OFF, 4), 0);
	assert_int_equal(rd(VIRTIO_PCI_ISR_OFF, 1), 0);
	assert_int_equal(fake.irq_level[dev->pci.intx_gsi], 0);
	set_bus_master(true);
	virtio_pci_notify_queue(dev, 0);
	assert_int_equal(fired(1), 1);
}

/* A backend that signals the queue's irqfd itself (vhost) is told when a
 * queue's vector changes, after DRIVER_OK too, and when Bus Master Enable
 * does (pci_dev.msix_changed). */
static unsigned msix_changes;
static void count_msix_change(struct pci_dev *p)
{
	(void)p;
	msix_changes++;
}

static void test_vector_change_tells_backend(void **state)
{
	(void)state;
	msix_program(1, 0xfee01000, 0x41, false);
	msix_program(2, 0xfee02000, 0x42, false);
	msix_ctrl(PCI_MSIX_FLAGS_ENABLE);
	negotiate(0);
	setup_queue0();
	dev->pci.msix_changed = count_msix_change;
	msix_changes = 0;
	WR(queue_msix_vector, 1);
	assert_int_equal(msix_changes, 1);
	WR(device_status, ALL_OK);
	WR(queue_msix_vector, 1); /* the same vector: nothing to follow */
	assert_int_equal(msix_changes, 1);
	WR(queue_msix_vector, 2); /* after DRIVER_OK */
	assert_int_equal(msix_changes, 2);
	assert_int_equal(RD(queue_msix_vector), 2);
	set_bus_master(false);
	assert_int_equal(msix_changes, 3);
	set_bus_master(false); /* unchanged */
	assert_int_equal(msix_changes, 3);
	set_bus_master(true);
	assert_int_equal(msix_changes, 4);
	dev->pci.msix_changed = NULL;
}

static void test_bar_move_moves_ioeventfds(void **state)
{
	(void)state;
	struct pci_dev *p = &dev->pci;
	uint64_t old = p->bars[0].addr, new = old + 0x100000;

	assert_int_equal(fake.nr_ioeventfd, NQ);
	pci_cfg_write(p, PCI_BASE_ADDRESS_0, 4, (uint32_t)new | 0x4);
	pci_cfg_write(p, PCI_BASE_ADDRESS_1, 4, (uint32_t)(new >> 32));
	assert_int_equal(p->bars[0].addr, new);
	assert_true(p->bars[0].mapped);
	assert_int_equal(fake.ioeventfd_deassigned, NQ);
	assert_int_equal(fake.nr_ioeventfd, 2 * NQ);
	assert_int_equal(fake.ioeventfd_addr[NQ], new + VIRTIO_PCI_NOTIFY_OFF);
	assert_int_equal(fake.ioeventfd_addr[NQ + 1],
			 new + VIRTIO_PCI_NOTIFY_OFF + 4);
	/* decoding off: unmapped, ioeventfds gone */
	pci_cfg_write(p, PCI_COMMAND, 2, 0);
	assert_false(p->bars[0].mapped);
	assert_int_equal(fake.ioeventfd_deassigned, 2 * NQ);
}

static void test_pci_cfg_window(void **state)
{
	(void)state;
	struct pci_dev *p = &dev->pci;
	unsigned cap = dev->pci_cfg_cap;
	unsigned data = cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);

	assert_true(cap != 0);
	/* read device config bytes 4..7 through the window */
	pci_cfg_write(p, cap + 4, 1, 0);                    /* bar */
	pci_cfg_write(p, cap + 12, 4, 4);                   /* length */
	pci_cfg_write(p, cap + 8, 4, VIRTIO_PCI_DEVICE_OFF + 4); /* offset */
	assert_int_equal(pci_cfg_read(p, data, 4), 0x08070605);
	/* write through it */
	pci_cfg_write(p, data, 4, 0xdeadbeef);
	assert_int_equal(devcfg[4], 0xef);
	assert_int_equal(devcfg[7], 0xde);
	/* common config is not reachable through the window (reads 0,
	 * writes ignored) */
	pci_cfg_write(p, cap + 8, 4, CC(num_queues));
	pci_cfg_write(p, cap + 12, 4, 2);
	assert_int_equal(pci_cfg_read(p, data, 2), 0);
	pci_cfg_write(p, cap + 8, 4, CC(device_status));
	pci_cfg_write(p, cap + 12, 4, 1);
	pci_cfg_write(p, data, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	assert_int_equal(RD(device_status), 0);
	/* nonsense settings are ignored */
	pci_cfg_write(p, cap + 4, 1, 5);
	pci_cfg_write(p, data, 4, 0);
	pci_cfg_write(p, cap + 4, 1, 0);
	pci_cfg_write(p, cap + 12, 4, 3);
	pci_cfg_write(p, data, 4, 0);
	pci_cfg_write(p, cap + 12, 4, 4);
	pci_cfg_write(p, cap + 8, 4, 0xfffffffe);
	pci_cfg_write(p, data, 4, 0);
	assert_int_equal(devcfg[0], 1);
}

static void test_device_config_bounds(void **state)
{
	(void)state;
	assert_int_equal(rd(VIRTIO_PCI_DEVICE_OFF, 4), 0x04030201);
	assert_int_equal(rd(VIRTIO_PCI_DEVICE_OFF + 6, 2), 0x0807);
	/* crossing the end of the device config: reads zero */
	assert_int_equal(rd(VIRTIO_PCI_DEVICE_OFF + 6, 4), 0);
	assert_int_equal(rd(VIRTIO_PCI_DEVICE_OFF + 0x100, 4), 0);
	assert_int_equal(rd(VIRTIO_PCI_BAR_SIZE - 2, 4), 0);
	wr(VIRTIO_PCI_DEVICE_OFF + 7, 4, 0xffffffff);
	assert_int_equal(devcfg[7], 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_ids_and_caps),
		T(test_bar_mapped_and_ioeventfds),
		T(test_features),
		T(test_queue_config_limits),
		T(test_enable_and_frozen_config),
		T(test_bad_ring_address_needs_reset),
		T(test_reset_restores_initial_state),
		T(test_kick_mmio_exit_and_intx),
		T(test_kick_through_ioeventfd),
		T(test_malformed_chain_needs_reset),
		T(test_reset_waits_for_queue_threads),
		T(test_msix_vectors),
		T(test_vector_change_tells_backend),
		T(test_msix_masked_pending),
		T(test_status_bits_not_cleared),
		T(test_queue_enable_needs_features_ok),
		T(test_bus_master_gates_dma),
		T(test_bar_move_moves_ioeventfds),
		T(test_pci_cfg_window),
		T(test_device_config_bounds),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
