/* SPDX-License-Identifier: MIT
 * Unit tests: MSI-X capability, table and PBA through the device's BAR on
 * the MMIO bus, enable / function mask / vector mask, GSI routing and
 * irqfds requested from (fake) KVM, pending bits and their delivery on
 * unmask, hostile vector numbers and offsets (devices/msix.c). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "devices/pci.h"
#include "fake_vm.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define NVEC 3
#define TABLE_OFF 0x0000
#define PBA_OFF 0x1000

static struct vm vm;
static struct pci_bus pbus;
static struct pci_dev dev;
static uint8_t ram_stub;
static unsigned other_accesses; /* BAR accesses MSI-X did not claim */

/* The device's BAR handler, as a device model writes it. */
static void bar_fn(void *opaque, uint64_t off, void *data, unsigned len,
		   bool is_write)
{
	struct pci_dev *d = opaque;
	if (pci_msix_access(d, off, data, len, is_write))
		return;
	other_accesses++;
	if (!is_write)
		memset(data, 0, len);
}

static int setup_nvec(unsigned nvec)
{
	memset(&vm, 0, sizeof(vm));
	fake_vm_reset();
	other_accesses = 0;
	assert_int_equal(bus_init(&vm.pio, "pio"), 0);
	assert_int_equal(bus_init(&vm.mmio, "mmio"), 0);
	assert_int_equal(gm_add_region(&vm.mem, 0, 0x40000000ULL, &ram_stub), 0);
	assert_int_equal(fake_pci_bus_init(&pbus, &vm), 0);
	pci_dev_init(&dev, "msix-dev", 0x1af4, 0x1041, 0x020000, 1, 0x1af4, 1);
	assert_int_equal(pci_dev_set_bar(&dev, 1, PCI_BAR_MEM32, 0x2000, bar_fn, &dev), 0);
	assert_int_equal(pci_msix_init(&dev, nvec, 1, TABLE_OFF, PBA_OFF), 0);
	log_quiet = true;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	setup_nvec(NVEC);
	assert_int_equal(pci_bus_add(&pbus, &dev), 0);
	return 0;
}

static int setup70(void **state)
{
	(void)state;
	setup_nvec(70);
	assert_int_equal(pci_bus_add(&pbus, &dev), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pci_bus_destroy(&pbus);
	bus_destroy(&vm.pio);
	bus_destroy(&vm.mmio);
	log_quiet = false;
	return 0;
}

/* ---- guest accesses ---- */

static uint64_t bar_base(void)
{
	return dev.bars[1].addr;
}

static uint32_t rd32(uint64_t off)
{
	uint32_t v = 0;
	assert_true(bus_access(&vm.mmio, bar_base() + off, &v, 4, false));
	return v;
}

static void wr32(uint64_t off, uint32_t v)
{
	assert_true(bus_access(&vm.mmio, bar_base() + off, &v, 4, true));
}

static uint64_t rd64(uint64_t off)
{
	uint64_t v = 0;
	assert_true(bus_access(&vm.mmio, bar_base() + off, &v, 8, false));
	return v;
}

static void wr64(uint64_t off, uint64_t v)
{
	assert_true(bus_access(&vm.mmio, bar_base() + off, &v, 8, true));
}

static uint16_t msix_ctrl(void)
{
	return (uint16_t)pci_cfg_read(&dev, dev.msix.cap + 2, 2);
}

static void set_ctrl(uint16_t v)
{
	pci_cfg_write(&dev, dev.msix.cap + 2, 2, v);
}

/* Program vector i the way Linux does: masked, address, data. */
static void program(unsigned i, uint64_t addr, uint32_t data)
{
	uint64_t e = TABLE_OFF + 16ULL * i;
	wr32(e + 12, 1);
	wr32(e + 0, (uint32_t)addr);
	wr32(e + 4, (uint32_t)(addr >> 32));
	wr32(e + 8, data);
}

static void unmask(unsigned i)
{
	wr32(TABLE_OFF + 16ULL * i + 12, 0);
}

static void mask(unsigned i)
{
	wr32(TABLE_OFF + 16ULL * i + 12, 1);
}

/* Interrupts sent through vector i's eventfd since the last call. */
static uint64_t fired(unsigned i)
{
	uint64_t n = 0;
	if (read(dev.msix.v[i].efd, &n, sizeof(n)) != sizeof(n))
		return 0; /* EAGAIN: counter is zero */
	return n;
}

/* ---- tests ---- */

static void test_capability(void **state)
{
	(void)state;
	unsigned c = dev.msix.cap;
	uint32_t v;

	/* the capability sits in the chain with ID 0x11 */
	assert_int_equal(pci_cfg_read(&dev, 0x34, 1), c);
	assert_int_equal(pci_cfg_read(&dev, c, 1), 0x11);
	assert_int_equal(pci_cfg_read(&dev, 0x06, 2) & 0x10, 0x10);
	assert_int_equal(msix_ctrl(), NVEC - 1);
	assert_int_equal(pci_cfg_read(&dev, c + 4, 4), TABLE_OFF | 1);
	assert_int_equal(pci_cfg_read(&dev, c + 8, 4), PBA_OFF | 1);
	/* only Function Mask (14) and Enable (15) are writable */
	set_ctrl(0xffff);
	assert_int_equal(msix_ctrl(), 0xc000 | (NVEC - 1));
	assert_true(dev.msix.enabled && dev.msix.masked);
	/* function masked, but enabled: the vectors (pending), not INTx */
	assert_true(pci_msix_enabled(&dev));
	set_ctrl(0x4000); /* masked alone is not enabled */
	assert_false(pci_msix_enabled(&dev));
	set_ctrl(0x8000);
	assert_true(pci_msix_enabled(&dev));
	set_ctrl(0x0000);
	assert_int_equal(msix_ctrl(), NVEC - 1);
	assert_false(pci_msix_enabled(&dev));
	/* a byte write to the upper half of Message Control works too */
	pci_cfg_write(&dev, c + 3, 1, 0x80);
	assert_true(pci_msix_enabled(&dev));
	/* offsets/BIRs are read-only */
	pci_cfg_write(&dev, c + 4, 4, 0x12345678);
	pci_cfg_write(&dev, c + 8, 4, 0);
	assert_int_equal(pci_cfg_read(&dev, c + 4, 4), TABLE_OFF | 1);
	assert_int_equal(pci_cfg_read(&dev, c + 8, 4), PBA_OFF | 1);
	v = pci_cfg_read(&dev, c, 4);
	assert_int_equal(v, 0x80000000u | (NVEC - 1) << 16 | 0x11);
}

static void test_init_checks(void **state)
{
	(void)state;
	static struct pci_dev d;

	pci_dev_init(&d, "bad", 0x1234, 1, 0xff0000, 0, 0, 0);
	assert_int_equal(pci_dev_set_bar(&d, 0, PCI_BAR_MEM32, 0x1000, bar_fn, &d), 0);
	assert_int_equal(pci_dev_set_bar(&d, 1, PCI_BAR_IO, 64, bar_fn, &d), 0);
	assert_int_equal(pci_msix_init(&d, 0, 0, 0, 0x800), -EINVAL);
	assert_int_equal(pci_msix_init(&d, 2049, 0, 0, 0x800), -EINVAL);
	assert_int_equal(pci_msix_init(&d, 2, 1, 0, 0x20), -EINVAL);   /* IO BAR */
	assert_int_equal(pci_msix_init(&d, 2, 2, 0, 0x20), -EINVAL);   /* no BAR */
	assert_int_equal(pci_msix_init(&d, 2, 6, 0, 0x20), -EINVAL);
	assert_int_equal(pci_msix_init(&d, 2, -1, 0, 0x20), -EINVAL);
	assert_int_equal(pci_msix_init(&d, 2, 0, 4, 0x20), -EINVAL);   /* align */
	assert_int_equal(pci_msix_init(&d, 2, 0, 0, 0x24), -EINVAL);
	assert_int_equal(pci_msix_init(&d, 2, 0, 0, 0x18), -EINVAL);   /* overlap */
	assert_int_equal(pci_msix_init(&d, 2, 0, 0xff8, 0), -EINVAL);  /* past BAR */
	assert_int_equal(pci_msix_init(&d, 2, 0, 0, 0xffffff00u), -EINVAL);
	assert_int_equal(pci_msix_init(&d, 256, 0, 0, 0x1000), -EINVAL); /* 4K+8 */
	assert_int_equal(pci_cfg_read(&d, 0x34, 1), 0); /* nothing added */
	assert_int_equal(pci_msix_init(&d, 255, 0, 0, 0xff0), -EINVAL); /* PBA 32 B */
	assert_int_equal(pci_msix_init(&d, 254, 0, 0, 0xfe0), 0); /* fills 4K */
	assert_int_equal(pci_msix_init(&d, 1, 0, 0, 0xff0), -EEXIST);
	assert_int_equal(pci_cfg_read(&d, 0x42, 2), 253);
	/* never added to a bus: notify is pending-only and release is clean */
	assert_int_equal(pci_msix_notify(&d, 3), 0);
	assert_int_equal(d.msix.pba[0], 1u << 3);
	pci_dev_release(&d);
	assert_null(d.msix.v);
	assert_int_equal(pci_msix_notify(&d, 0), -EINVAL);
}

static void test_gsis_and_irqfds(void **state)
{
	(void)state;
	for (unsigned i = 0; i < NVEC; i++) {
		struct msix_vector *v = &dev.msix.v[i];
		assert_true(v->gsi >= 24);
		assert_true(v->efd >= 0);
		assert_int_equal(fake.irqfd[v->gsi], v->efd);
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(dev.msix.v[j].gsi, v->gsi);
	}
	assert_int_equal(fake.irqfd_calls, NVEC);
	/* nothing routed until the guest programs and enables */
	assert_int_equal(fake.route_calls, 0);
}

static void test_table_access(void **state)
{
	(void)state;
	uint8_t b = 0;
	uint16_t w = 0;
	uint32_t v;

	/* initial state: zero message, masked */
	for (unsigned i = 0; i < NVEC; i++) {
		assert_int_equal(rd32(16 * i + 0), 0);
		assert_int_equal(rd32(16 * i + 8), 0);
		assert_int_equal(rd32(16 * i + 12), 1);
	}
	/* dword writes read back; address bits 1:0 and reserved control
	 * bits read as zero */
	wr32(16 + 0, 0xfee0100f);
	wr32(16 + 4, 0x00000001);
	wr32(16 + 8, 0x00004055);
	wr32(16 + 12, 0xfffffffe);
	assert_int_equal(rd32(16 + 0), 0xfee0100c);
	assert_int_equal(rd32(16 + 4), 1);
	assert_int_equal(rd32(16 + 8), 0x4055);
	assert_int_equal(rd32(16 + 12), 0);
	assert_int_equal(dev.msix.v[1].addr, 0x1fee0100cULL);
	/* qword accesses: address, and data + control */
	wr64(32 + 0, 0x00000000fee02000ULL);
	wr64(32 + 8, 0x0000000100004066ULL);
	assert_int_equal(rd64(32 + 0), 0xfee02000ULL);
	assert_int_equal(rd64(32 + 8), 0x0000000100004066ULL);
	assert_int_equal(dev.msix.v[2].data, 0x4066);
	assert_int_equal(dev.msix.v[2].ctrl, 1);
	/* byte/word and misaligned accesses are ignored, read all ones */
	assert_true(bus_access(&vm.mmio, bar_base() + 16, &b, 1, true));
	assert_true(bus_access(&vm.mmio, bar_base() + 18, &w, 2, true));
	assert_true(bus_access(&vm.mmio, bar_base() + 16, &w, 2, false));
	assert_int_equal(w, 0xffff);
	v = 0x11111111;
	assert_true(bus_access(&vm.mmio, bar_base() + 2, &v, 4, true));
	assert_true(bus_access(&vm.mmio, bar_base() + 2, &v, 4, false));
	assert_int_equal(v, 0xffffffffu);
	{
		uint64_t q = 0;
		assert_true(bus_access(&vm.mmio, bar_base() + 4, &q, 8, false));
		assert_int_equal(q, ~0ULL);
		q = 0;
		assert_true(bus_access(&vm.mmio, bar_base() + 4, &q, 8, true));
	}
	assert_int_equal(rd32(16 + 0), 0xfee0100c);
	assert_int_equal(rd32(0), 0);
	assert_int_equal(other_accesses, 0);
	/* past the table (gap before the PBA) and past the PBA: not MSI-X */
	assert_int_equal(rd32(16 * NVEC), 0);
	assert_int_equal(rd32(PBA_OFF + 8), 0);
	assert_int_equal(rd32(0x1ffc), 0);
	assert_int_equal(other_accesses, 3);
	{
		uint32_t x = 0;
		assert_false(pci_msix_access(&dev, ~0ULL - 3, &x, 4, false));
		assert_false(pci_msix_access(&dev, 1ULL << 40, &x, 4, true));
	}
	/* the PBA is read-only */
	wr32(PBA_OFF, 0xffffffff);
	wr64(PBA_OFF, ~0ULL);
	assert_int_equal(rd64(PBA_OFF), 0);
	/* nothing was routed: MSI-X is off */
	assert_int_equal(fake.route_calls, 0);
}

static void test_enable_route_deliver(void **state)
{
	(void)state;
	unsigned g0 = (unsigned)dev.msix.v[0].gsi;
	unsigned g2 = (unsigned)dev.msix.v[2].gsi;

	program(0, 0xfee00000, 0x4021);
	program(2, 0xfee01000, 0x4022);
	/* a notification while MSI-X is off: pending, not sent */
	assert_int_equal(pci_msix_notify(&dev, 0), 0);
	assert_int_equal(fired(0), 0);
	assert_int_equal(rd32(PBA_OFF), 1);
	/* enable: vectors still masked, nothing routed or sent */
	set_ctrl(0x8000);
	assert_int_equal(fake.route_calls, 0);
	assert_int_equal(fired(0), 0);
	/* unmask vector 0: routed to its message, the pending one sent */
	unmask(0);
	assert_int_equal(fake.route_calls, 1);
	assert_int_equal(fake.route_addr[g0], 0xfee00000);
	assert_int_equal(fake.route_data[g0], 0x4021);
	assert_int_equal(fired(0), 1);
	assert_int_equal(rd32(PBA_OFF), 0);
	/* deliverable: each notify is one eventfd write */
	assert_int_equal(pci_msix_notify(&dev, 0), 0);
	assert_int_equal(pci_msix_notify(&dev, 0), 0);
	assert_int_equal(fired(0), 2);
	/* vector 2 still masked: pending bit 2 */
	assert_int_equal(pci_msix_notify(&dev, 2), 0);
	assert_int_equal(fired(2), 0);
	assert_int_equal(rd32(PBA_OFF), 4);
	unmask(2);
	assert_int_equal(fake.route_addr[g2], 0xfee01000);
	assert_int_equal(fake.route_data[g2], 0x4022);
	assert_int_equal(fired(2), 1);
	assert_int_equal(rd32(PBA_OFF), 0);
	assert_int_equal(fake.route_calls, 2);

	/* mask / unmask without reprogramming: no new route */
	mask(0);
	unmask(0);
	assert_int_equal(fake.route_calls, 2);
	assert_int_equal(fired(0), 0);

	/* function mask holds every vector back, unmask sends them */
	set_ctrl(0xc000);
	assert_true(pci_msix_enabled(&dev));
	assert_int_equal(pci_msix_notify(&dev, 0), 0);
	assert_int_equal(pci_msix_notify(&dev, 2), 0);
	assert_int_equal(fired(0) + fired(2), 0);
	assert_int_equal(rd64(PBA_OFF), 5);
	set_ctrl(0x8000);
	assert_int_equal(fired(0), 1);
	assert_int_equal(fired(2), 1);
	assert_int_equal(rd64(PBA_OFF), 0);

	/* reprogramming while unmasked re-routes at once (qword write) */
	wr64(16 * 2 + 8, 0x4030); /* data 0x4030, control 0: unmasked */
	assert_int_equal(fake.route_calls, 3);
	assert_int_equal(fake.route_data[g2], 0x4030);
	/* Linux-style reprogramming (masked) routes once, on unmask */
	program(2, 0xfee02000, 0x4031);
	assert_int_equal(fake.route_calls, 3);
	unmask(2);
	assert_int_equal(fake.route_calls, 4);
	assert_int_equal(fake.route_addr[g2], 0xfee02000);
	assert_int_equal(fake.route_data[g2], 0x4031);

	/* disabling MSI-X: notifications pend again */
	set_ctrl(0x0000);
	assert_int_equal(pci_msix_notify(&dev, 2), 0);
	assert_int_equal(fired(2), 0);
	assert_int_equal(rd32(PBA_OFF), 4);
	set_ctrl(0x8000);
	assert_int_equal(fired(2), 1);
	assert_int_equal(fake.signal_msi_calls, 0); /* all via irqfd */
}

static void test_hostile_vectors(void **state)
{
	(void)state;
	set_ctrl(0x8000);
	assert_int_equal(pci_msix_notify(&dev, NVEC), -EINVAL);
	assert_int_equal(pci_msix_notify(&dev, 0xffff), -EINVAL); /* NO_VECTOR */
	assert_int_equal(pci_msix_notify(&dev, ~0u), -EINVAL);
	assert_int_equal(rd64(PBA_OFF), 0);
	assert_int_equal(fake.signal_msi_calls, 0);
	for (unsigned i = 0; i < NVEC; i++)
		assert_int_equal(fired(i), 0);
	/* a device without MSI-X */
	{
		static struct pci_dev plain;
		pci_dev_init(&plain, "plain", 0x1234, 2, 0xff0000, 0, 0, 0);
		assert_int_equal(pci_msix_notify(&plain, 0), -EINVAL);
		assert_false(pci_msix_enabled(&plain));
		assert_false(pci_msix_access(&plain, 0, &plain, 4, false));
	}
}

static void test_pba_words(void **state)
{
	(void)state;
	uint32_t v = 0;

	assert_int_equal(msix_ctrl(), 69);
	assert_int_equal(pci_msix_notify(&dev, 65), 0);
	assert_int_equal(pci_msix_notify(&dev, 3), 0);
	assert_int_equal(pci_msix_notify(&dev, 69), 0);
	assert_int_equal(pci_msix_notify(&dev, 70), -EINVAL);
	assert_int_equal(rd64(PBA_OFF), 8);
	assert_int_equal(rd64(PBA_OFF + 8), (1ULL << 1) | (1ULL << 5));
	assert_int_equal(rd32(PBA_OFF + 8), 0x22);
	assert_int_equal(rd32(PBA_OFF + 12), 0);
	/* past the two PBA words: not ours */
	assert_false(pci_msix_access(&dev, PBA_OFF + 16, &v, 4, false));
	/* unmask vector 65 under an enabled function: delivered */
	program(65, 0xfee00000, 0x4041);
	set_ctrl(0x8000);
	unmask(65);
	assert_int_equal(fired(65), 1);
	assert_int_equal(rd64(PBA_OFF + 8), 1ULL << 5);
	assert_int_equal(fake.route_data[dev.msix.v[65].gsi], 0x4041);
}

static void test_intx_quiet_under_msix(void **state)
{
	(void)state;
	unsigned g = dev.intx_gsi;

	pci_intx_set(&dev, true);
	assert_int_equal(fake.irq_level[g], 1);
	set_ctrl(0x8000); /* MSI-X on: INTx# must not be used */
	assert_int_equal(fake.irq_level[g], 0);
	set_ctrl(0xc000); /* nor while the function is masked */
	assert_int_equal(fake.irq_level[g], 0);
	set_ctrl(0x0000);
	assert_int_equal(fake.irq_level[g], 1);
	pci_intx_set(&dev, false);
	assert_int_equal(fake.irq_level[g], 0);
}

/* No GSIs left in KVM: vectors fall back to KVM_SIGNAL_MSI. */
static void test_fallback_signal_msi(void **state)
{
	(void)state;
	setup_nvec(2);
	fake.next_gsi = FAKE_MAX_GSI;
	assert_int_equal(pci_bus_add(&pbus, &dev), 0);
	assert_int_equal(dev.msix.v[0].gsi, -1);
	assert_int_equal(dev.msix.v[0].efd, -1);
	program(1, 0xfee03000, 0x4050);
	set_ctrl(0x8000);
	unmask(1);
	assert_int_equal(pci_msix_notify(&dev, 1), 0);
	assert_int_equal(fake.signal_msi_calls, 1);
	assert_int_equal(fake.last_msi_addr, 0xfee03000);
	assert_int_equal(fake.last_msi_data, 0x4050);
	assert_int_equal(fake.route_calls, 0);
}

/* I/O threads notifying while a vCPU toggles masks and INTx: nothing is
 * lost (once unmasked, no pending bit is left behind) and every
 * notification is accounted for as a fire or a pending bit. */
struct notifier {
	unsigned vec, n, errors;
};

static void *notify_thread(void *arg)
{
	struct notifier *t = arg;
	for (unsigned i = 0; i < t->n; i++) {
		if (pci_msix_notify(&dev, t->vec))
			t->errors++; /* no cmocka asserts off the main thread */
		pci_intx_set(&dev, i & 1);
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	(void)state;
	struct notifier t[2] = { { 0, 20000, 0 }, { 2, 20000, 0 } };
	pthread_t th[2];
	uint64_t total = 0;

	program(0, 0xfee00000, 0x4021);
	program(2, 0xfee00000, 0x4022);
	set_ctrl(0x8000);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, notify_thread, &t[i]), 0);
	for (unsigned k = 0; k < 2000; k++) {
		if (k % 2)
			unmask(k % 4 == 1 ? 0 : 2);
		else
			mask(k % 4 == 0 ? 0 : 2);
		set_ctrl(k % 7 ? 0x8000 : 0xc000);
		pci_cfg_write(&dev, 0x04, 2, k % 3 ? 0x0002 : 0x0402);
		total += fired(0) + fired(2);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(t[i].errors, 0);
	}
	unmask(0);
	unmask(2);
	set_ctrl(0x8000);
	/* everything held back has been sent */
	assert_int_equal(rd64(PBA_OFF), 0);
	total += fired(0) + fired(2);
	assert_true(total >= 2 && total <= 40000);
	/* and the path still works */
	assert_int_equal(pci_msix_notify(&dev, 0), 0);
	assert_int_equal(fired(0), 1);
	pci_intx_set(&dev, false);
	assert_int_equal(fake.irq_level[dev.intx_gsi], 0);
}

/* What a backend outside the VMM (vhost) is told to signal: the vector's
 * irqfd only while the vector is deliverable, and msix_changed after each
 * write that may change that. */
static unsigned changed_calls;

static void count_changed(struct pci_dev *d)
{
	assert_ptr_equal(d, &dev);
	changed_calls++;
}

static void test_vector_irqfd(void **state)
{
	(void)state;
	changed_calls = 0;
	dev.msix_changed = count_changed;
	program(1, 0xfee00000, 0x4041); /* four table writes */
	assert_int_equal(changed_calls, 4);
	/* MSI-X off, then enabled with the vector masked: none */
	assert_int_equal(pci_msix_vector_irqfd(&dev, 1), -1);
	set_ctrl(0x8000);
	assert_int_equal(changed_calls, 5);
	assert_int_equal(pci_msix_vector_irqfd(&dev, 1), -1);
	/* unmasked: its irqfd, routed to its message */
	unmask(1);
	assert_int_equal(changed_calls, 6);
	assert_int_equal(pci_msix_vector_irqfd(&dev, 1), dev.msix.v[1].efd);
	assert_int_equal(fake.route_data[dev.msix.v[1].gsi], 0x4041);
	/* masked again, function-masked, disabled: none */
	mask(1);
	assert_int_equal(pci_msix_vector_irqfd(&dev, 1), -1);
	unmask(1);
	set_ctrl(0xc000);
	assert_int_equal(pci_msix_vector_irqfd(&dev, 1), -1);
	set_ctrl(0x0000);
	assert_int_equal(pci_msix_vector_irqfd(&dev, 1), -1);
	set_ctrl(0x8000);
	assert_int_equal(pci_msix_vector_irqfd(&dev, 1), dev.msix.v[1].efd);
	/* a vector the device does not have */
	assert_int_equal(pci_msix_vector_irqfd(&dev, NVEC), -1);
	/* PBA reads change nothing */
	(void)rd32(PBA_OFF);
	assert_int_equal(changed_calls, 11);
	dev.msix_changed = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_capability, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gsis_and_irqfds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enable_route_deliver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_vectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vector_irqfd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pba_words, setup70, teardown),
		cmocka_unit_test_setup_teardown(test_intx_quiet_under_msix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_signal_msi, NULL, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
