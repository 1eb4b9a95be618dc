/* SPDX-License-Identifier: MIT
 * Unit tests: virtio-rng (virtio/rng.c), driven through the real virtio-pci
 * transport by the small driver in virtio_drv.h (no threads: the queue is
 * processed synchronously): its PCI identity, random bytes in a writable
 * buffer, nothing written into a chain without one, the per-request cap,
 * and DEVICE_NEEDS_RESET for a buffer outside guest RAM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/pci_regs.h>
#include <linux/virtio_config.h>

#include "devices/pci.h"
#include "fake_vm.h"
#include "virtio/rng.h"
#include "virtio/virtio_pci.h"
#include "virtio_drv.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define RAM_SIZE (2 << 20)
#define QBASE 0x10000
#define BUF 0x100000
#define QSIZE 64
#define RNG_MAX_PER_REQ 65536 /* rng.c's cap on one request */

static struct vm vm;
static uint8_t *ram;
static struct virtio_dev *rng; /* not attached: driven through BAR 0 */
static struct vdrv drv;

static int setup(void **state)
{
	(void)state;
	log_quiet = true;
	fake_vm_reset();
	memset(&vm, 0, sizeof(vm));
	ram = calloc(1, RAM_SIZE);
	assert_non_null(ram);
	assert_int_equal(gm_add_region(&vm.mem, 0, RAM_SIZE, ram), 0);
	assert_int_equal(virtio_rng_create(&vm, &rng), 0);
	drv = (struct vdrv){ .dev = rng, .ram = ram };
	assert_true(vdrv_negotiate(&drv, vdrv_device_features(&drv)) &
		    VIRTIO_CONFIG_S_FEATURES_OK);
	vdrv_setup_queue(&drv, 0, QSIZE, QBASE);
	vdrv_driver_ok(&drv);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rng->dev.ops->free(&rng->dev);
	free(ram);
	return 0;
}

/* Post bufs, run the device, return the used length of the chain. */
static uint32_t run(const struct vdrv_buf *b, unsigned n)
{
	uint16_t head, used_head = 0xffff;
	uint32_t len = 0xffffffff;

	head = vdrv_post(&drv, 0, b, n, false);
	vdrv_kick(&drv, 0);
	assert_true(vdrv_used(&drv, 0, &used_head, &len));
	assert_int_equal(used_head, head);
	return len;
}

static void test_pci_identity(void **state)
{
	struct pci_dev *p = &rng->pci;

	(void)state;
	assert_int_equal(pci_cfg_read(p, PCI_VENDOR_ID, 2), VIRTIO_PCI_VENDOR_ID);
	assert_int_equal(pci_cfg_read(p, PCI_DEVICE_ID, 2), 0x1044); /* 0x1040 + 4 */
	assert_int_equal(pci_cfg_read(p, PCI_CLASS_REVISION, 4) >> 8, 0x00ff00);
	/* no feature bits of its own: what the transport offers every device */
	assert_int_equal(vdrv_device_features(&drv), VIRTIO_PCI_BASE_FEATURES);
	assert_string_equal(rng->dev.kind, "virtio-rng");
}

static void test_fills_writable_buffer(void **state)
{
	struct vdrv_buf b = { BUF, 256, true };
	unsigned zeros = 0;

	(void)state;
	assert_int_equal(run(&b, 1), 256);
	for (unsigned i = 0; i < 256; i++)
		zeros += ram[BUF + i] == 0;
	assert_true(zeros < 32); /* random bytes, not the zeroed RAM */
	assert_int_equal(vm.stats.v[STAT_VQ_REQUESTS], 1);
}

static void test_readable_buffer_left_alone(void **state)
{
	struct vdrv_buf b = { BUF, 64, false };

	(void)state;
	assert_int_equal(run(&b, 1), 0);
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(ram[BUF + i], 0);
}

static void test_request_capped(void **state)
{
	struct vdrv_buf b[2] = { { BUF, RNG_MAX_PER_REQ - 16, true },
				 { BUF + RNG_MAX_PER_REQ, 4096, true } };

	(void)state;
	/* the second buffer gets only the 16 bytes left under the cap */
	assert_int_equal(run(b, 2), RNG_MAX_PER_REQ);
}

static void test_buffer_outside_ram_needs_reset(void **state)
{
	struct vdrv_buf b = { RAM_SIZE - 16, 64, true }; /* runs off RAM */
	uint16_t head;
	uint32_t len;

	(void)state;
	vdrv_post(&drv, 0, &b, 1, false);
	vdrv_kick(&drv, 0);
	assert_false(vdrv_used(&drv, 0, &head, &len));
	assert_true(VDRV_RD(&drv, device_status) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(vm.stats.v[STAT_VQ_ERRORS], 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pci_identity),
		T(test_fills_writable_buffer),
		T(test_readable_buffer_left_alone),
		T(test_request_capped),
		T(test_buffer_outside_ram_needs_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
