/* SPDX-License-Identifier: MIT
 * Unit tests: --trace's filter words, its line format, and the register
 * names devices give the bus (UART, PCI configuration, virtio-pci BAR 0,
 * MSI-X), as the trace prints them. */
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "devices/pci.h"
#include "devices/uart16550.h"
#include "virtio/virtio_pci.h"
#include "vmm/log.h"
#include "vmm/trace.h"

static void no_irq(void *o, bool level)
{
	(void)o;
	(void)level;
}

static void no_tx(void *o, uint8_t b)
{
	(void)o;
	(void)b;
}

static void test_filter_words(void **state)
{
	struct trace_filter f;

	(void)state;
	assert_int_equal(trace_filter_parse(NULL, &f), 0);
	assert_int_equal(f.reasons, 0);
	assert_int_equal(f.nr_devices, 0);
	assert_true(trace_filter_match(&f, TRACE_HLT, 3, NULL));

	assert_int_equal(trace_filter_parse("mmio,virtio-blk", &f), 0);
	assert_int_equal(f.reasons, 1u << TRACE_MMIO);
	assert_int_equal(f.nr_devices, 1);
	assert_string_equal(f.devices[0], "virtio-blk");
	assert_true(trace_filter_match(&f, TRACE_MMIO, 0, "virtio-blk"));
	assert_false(trace_filter_match(&f, TRACE_IO, 0, "virtio-blk"));
	/* a kind names all its instances; an instance only itself */
	assert_true(trace_filter_match(&f, TRACE_MMIO, 0, "virtio-blk0"));
	assert_true(trace_filter_match(&f, TRACE_MMIO, 0, "virtio-blk12"));
	assert_false(trace_filter_match(&f, TRACE_MMIO, 0, "virtio-blkx"));
	assert_int_equal(trace_filter_parse("virtio-blk1", &f), 0);
	assert_true(trace_filter_match(&f, TRACE_MMIO, 0, "virtio-blk1"));
	assert_false(trace_filter_match(&f, TRACE_MMIO, 0, "virtio-blk0"));
	assert_false(trace_filter_match(&f, TRACE_MMIO, 0, "virtio-blk10"));
	assert_true(trace_device_matches("e1000", "e1000-1"));
	assert_false(trace_device_matches("e1000", "e10001"));
	assert_false(trace_device_matches("e1000", "e1000-"));
	assert_false(trace_device_matches("virtio", "virtio-blk0"));
	assert_false(trace_device_matches("absent", "absent-serial"));
	assert_true(trace_device_matches("com", "com1"));
	assert_false(trace_filter_match(&f, TRACE_MMIO, 0, "pvpanic"));
	assert_false(trace_filter_match(&f, TRACE_MMIO, 0, NULL));

	assert_int_equal(trace_filter_parse("vcpu1", &f), 0);
	assert_int_equal(f.vcpus, 2);
	assert_true(trace_filter_match(&f, TRACE_IO, 1, "com1"));
	assert_true(trace_filter_match(&f, TRACE_SYSTEM_EVENT, 1, NULL));
	assert_false(trace_filter_match(&f, TRACE_IO, 0, "com1"));

	/* within a kind: any of them; across kinds: all */
	assert_int_equal(trace_filter_parse("io,hlt,com1,pci,vcpu0,vcpu63", &f), 0);
	assert_int_equal(f.reasons, 1u << TRACE_IO | 1u << TRACE_HLT);
	assert_int_equal(f.vcpus, 1ull | 1ull << 63);
	assert_true(trace_filter_match(&f, TRACE_IO, 63, "pci"));
	assert_false(trace_filter_match(&f, TRACE_IO, 5, "pci"));
	assert_false(trace_filter_match(&f, TRACE_MMIO, 0, "com1"));

	/* every reason word */
	assert_int_equal(trace_filter_parse("io,mmio,hlt,intr,shutdown,"
					    "system_event,error,other", &f), 0);
	assert_int_equal(f.reasons, (1u << TRACE_NR_REASONS) - 1);
}

static void test_filter_errors(void **state)
{
	static const char *const bad[] = {
		"", ",", "io,", ",io", "io,,mmio", "vcpu64", "vcpu1x",
		"vcpu99999999999999999999", "Ümlaut", "mmio;io", "1io",
		"a-very-long-device-name-that-does-not-fit-at-all",
		"d1,d2,d3,d4,d5,d6,d7,d8,d9",
	};
	struct trace_filter f;

	(void)state;
	log_quiet = true;
	/* "" alone is the unfiltered trace: --trace= */
	assert_int_equal(trace_filter_parse("", &f), 0);
	for (unsigned i = 1; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (trace_filter_parse(bad[i], &f) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
	}
	log_quiet = false;
}

/* A bus that knows com1 and pci: device words are looked up there. */
static void io_fn(void *o, uint64_t off, void *data, unsigned len, bool w)
{
	(void)o;
	(void)off;
	(void)w;
	memset(data, 0, len);
}

static void test_filter_devices(void **state)
{
	struct trace_filter f;
	struct bus pio, mmio;

	(void)state;
	assert_int_equal(bus_init(&pio, "pio"), 0);
	assert_int_equal(bus_init(&mmio, "mmio"), 0);
	assert_int_equal(bus_add(&pio, 0x3f8, 8, io_fn, NULL, NULL, "com1"), 0);
	assert_int_equal(bus_add(&mmio, 0xc0000000, 0x1000, io_fn, NULL, NULL,
				 "virtio-blk0"), 0);
	assert_int_equal(bus_add(&mmio, 0xc0001000, 0x1000, io_fn, NULL, NULL,
				 "virtio-blk1"), 0);
	/* by kind or by instance */
	assert_int_equal(trace_filter_parse("com1,virtio-blk,io", &f), 0);
	assert_int_equal(trace_check_devices(&f, &pio, &mmio), 0);
	assert_int_equal(trace_filter_parse("virtio-blk1", &f), 0);
	assert_int_equal(trace_check_devices(&f, &pio, &mmio), 0);
	assert_int_equal(trace_filter_parse("virtio-blk2", &f), 0);
	log_quiet = true;
	assert_int_equal(trace_check_devices(&f, &pio, &mmio), -ENOENT);
	log_quiet = false;
	assert_int_equal(trace_filter_parse("uart0", &f), 0);
	log_quiet = true;
	assert_int_equal(trace_check_devices(&f, &pio, &mmio), -ENOENT);
	log_quiet = false;
	bus_destroy(&pio);
	bus_destroy(&mmio);
}

/* The line: time, vCPU, reason, direction, address, size, device and
 * register, value, character, handler time. */
static void test_format(void **state)
{
	struct uart u;
	struct trace_access a = { 0 };
	uint8_t v = 'A';
	char line[256];
	uint8_t cnt[4] = { 1, 2, 3, 4 };

	(void)state;
	memset(&u, 0, sizeof(u));
	uart_init(&u, no_irq, no_tx, NULL);
	a = (struct trace_access){
		.hit = { "com1", uart_reg_name, &u, 0 },
		.addr = 0x3f8, .data = &v, .size = 1, .count = 1,
		.is_write = true };
	trace_format(line, sizeof(line), 0, TRACE_IO, NULL, &a, 1234567, 812);
	assert_string_equal(line, "    1234.567 vcpu0 io out 0x3f8 1 "
				  "com1 THR <- 0x41 'A' (812ns)\n");

	/* a read, its value what the device returned; microseconds */
	a.is_write = false;
	a.hit.offset = 5;
	v = 0x60;
	trace_format(line, sizeof(line), 2, TRACE_IO, NULL, &a, 5, 12345);
	assert_string_equal(line, "       0.005 vcpu2 io in 0x3f8 1 "
				  "com1 LSR -> 0x60 (12.3us)\n");

	/* a miss; a string instruction */
	a.hit = (struct bus_hit){ 0 };
	v = 0xff;
	trace_format(line, sizeof(line), 0, TRACE_IO, NULL, &a, 0, 0);
	assert_non_null(strstr(line, "(unhandled) -> 0xff"));
	a.hit = (struct bus_hit){ "piix-ide", NULL, NULL, 0 };
	a.size = 2;
	a.count = 2;
	a.is_write = true;
	a.data = cnt;
	trace_format(line, sizeof(line), 0, TRACE_IO, NULL, &a, 0, 0);
	assert_non_null(strstr(line, " 2x2 piix-ide +0x0 <- 0x201 (+1 more)"));

	/* MMIO, 8 bytes little-endian */
	{
		uint8_t q[8] = { 0x10, 0x20, 0, 0, 0, 0, 0, 0x80 };

		a = (struct trace_access){ .hit = { "x", NULL, NULL, 0x20 },
			.addr = 0xc0000020, .data = q, .size = 8, .count = 1,
			.is_write = true };
		trace_format(line, sizeof(line), 1, TRACE_MMIO, NULL, &a, 0, 0);
		assert_non_null(strstr(line, "vcpu1 mmio write 0xc0000020 8 x +0x20 "
					     "<- 0x8000000000002010 (0ns)"));
	}

	/* other exits */
	trace_format(line, sizeof(line), 0, TRACE_SYSTEM_EVENT, "shutdown",
		     NULL, 1000, 50);
	assert_string_equal(line, "       1.000 vcpu0 system_event shutdown (50ns)\n");
	trace_format(line, sizeof(line), 0, TRACE_HLT, NULL, NULL, 0, 1);
	assert_string_equal(line, "       0.000 vcpu0 hlt (1ns)\n");

	/* a line never runs past its buffer, and still ends the line */
	trace_format(line, 24, 0, TRACE_SYSTEM_EVENT, "shutdown", NULL, 0, 0);
	assert_int_equal(strlen(line), 23);
	assert_int_equal(line[22], '\n');
}

static void test_uart_names(void **state)
{
	struct uart u;
	char n[32];
	uint8_t b;

	(void)state;
	memset(&u, 0, sizeof(u));
	uart_init(&u, no_irq, no_tx, NULL);
	assert_int_equal(uart_reg_name(&u, 0, 1, true, n, sizeof(n)), BUS_REG_CHAR);
	assert_string_equal(n, "THR");
	assert_int_equal(uart_reg_name(&u, 0, 1, false, n, sizeof(n)), BUS_REG_CHAR);
	assert_string_equal(n, "RBR");
	uart_reg_name(&u, 2, 1, false, n, sizeof(n));
	assert_string_equal(n, "IIR");
	uart_reg_name(&u, 2, 1, true, n, sizeof(n));
	assert_string_equal(n, "FCR");
	uart_reg_name(&u, 5, 1, false, n, sizeof(n));
	assert_string_equal(n, "LSR");
	/* DLAB set: offsets 0 and 1 are the divisor latch */
	b = 0x80;
	uart_io(&u, 3, &b, 1, true);
	assert_int_equal(uart_reg_name(&u, 0, 1, true, n, sizeof(n)), 0);
	assert_string_equal(n, "DLL");
	uart_reg_name(&u, 1, 1, true, n, sizeof(n));
	assert_string_equal(n, "DLM");
	uart_reg_name(&u, 3, 1, true, n, sizeof(n));
	assert_string_equal(n, "LCR");
}

static void test_pci_cfg_names(void **state)
{
	static struct pci_dev d;
	const uint8_t vcap[4] = { 0x09, 0, 4, 0 };
	char n[64];

	(void)state;
	pci_dev_init(&d, "t", 0x1af4, 0x1042, 0x010000, 1, 0x1af4, 2);
	pci_cfg_reg_name(&d, 0x00, 2, n, sizeof(n));
	assert_string_equal(n, "vendor_id");
	pci_cfg_reg_name(&d, 0x00, 4, n, sizeof(n));
	assert_string_equal(n, "vendor_id/device_id");
	pci_cfg_reg_name(&d, 0x04, 4, n, sizeof(n));
	assert_string_equal(n, "command/status");
	pci_cfg_reg_name(&d, 0x08, 4, n, sizeof(n));
	assert_string_equal(n, "revision/class_code");
	pci_cfg_reg_name(&d, 0x20, 4, n, sizeof(n));
	assert_string_equal(n, "BAR4");
	pci_cfg_reg_name(&d, 0x22, 2, n, sizeof(n));
	assert_string_equal(n, "BAR4+2");
	pci_cfg_reg_name(&d, 0x3c, 1, n, sizeof(n));
	assert_string_equal(n, "interrupt_line");
	/* past the header: the capability that holds the offset */
	pci_cfg_reg_name(&d, 0x40, 4, n, sizeof(n));
	assert_string_equal(n, "0x40");
	assert_int_equal(pci_dev_add_cap(&d, vcap, sizeof(vcap)), 0x40);
	pci_cfg_reg_name(&d, 0x40, 4, n, sizeof(n));
	assert_string_equal(n, "cap 0x40 vendor");
	pci_cfg_reg_name(&d, 0x42, 1, n, sizeof(n));
	assert_string_equal(n, "cap 0x40 vendor+2");
}

static void test_virtio_names(void **state)
{
	static struct virtio_dev d;
	char n[64];

	(void)state;
	memset(&d, 0, sizeof(d));
	d.desc.nr_queues = 2;
	d.desc.cfg_size = 8;
	d.pci.msix.nvec = 3;
	d.pci.msix.table_off = VIRTIO_PCI_MSIX_TABLE_OFF;
	d.pci.msix.pba_off = VIRTIO_PCI_MSIX_PBA_OFF;
	virtio_pci_reg_name(&d, 0x16, 2, true, n, sizeof(n));
	assert_string_equal(n, "common.queue_select");
	virtio_pci_reg_name(&d, 0x14, 1, false, n, sizeof(n));
	assert_string_equal(n, "common.device_status");
	virtio_pci_reg_name(&d, 0x24, 4, true, n, sizeof(n));
	assert_string_equal(n, "common.queue_desc_hi");
	virtio_pci_reg_name(&d, 0x30, 8, true, n, sizeof(n));
	assert_string_equal(n, "common.queue_device");
	virtio_pci_reg_name(&d, VIRTIO_PCI_ISR_OFF, 1, false, n, sizeof(n));
	assert_string_equal(n, "isr");
	virtio_pci_reg_name(&d, VIRTIO_PCI_DEVICE_OFF + 4, 4, false, n, sizeof(n));
	assert_string_equal(n, "config+0x4");
	virtio_pci_reg_name(&d, VIRTIO_PCI_NOTIFY_OFF, 2, true, n, sizeof(n));
	assert_string_equal(n, "notify q0");
	virtio_pci_reg_name(&d, VIRTIO_PCI_NOTIFY_OFF + 4, 2, true, n, sizeof(n));
	assert_string_equal(n, "notify q1");
	/* past the last queue's doorbell, and in no region: no name */
	strcpy(n, "x");
	virtio_pci_reg_name(&d, VIRTIO_PCI_NOTIFY_OFF + 8, 2, true, n, sizeof(n));
	assert_string_equal(n, "x");
	/* the MSI-X table and PBA in the same BAR */
	virtio_pci_reg_name(&d, VIRTIO_PCI_MSIX_TABLE_OFF + 16 + 8, 4, true, n,
			    sizeof(n));
	assert_string_equal(n, "msix.table[1].data");
	virtio_pci_reg_name(&d, VIRTIO_PCI_MSIX_TABLE_OFF + 2 * 16 + 12, 4,
			    true, n, sizeof(n));
	assert_string_equal(n, "msix.table[2].ctrl");
	virtio_pci_reg_name(&d, VIRTIO_PCI_MSIX_PBA_OFF, 8, false, n, sizeof(n));
	assert_string_equal(n, "msix.pba[0]");
}

/* bus_hit_reg: the device's name, "+0xOFF" without one, "" for a miss */
static unsigned no_name(void *o, uint64_t off, unsigned len, bool w,
			char *buf, size_t size)
{
	(void)o;
	(void)off;
	(void)len;
	(void)w;
	(void)buf;
	(void)size;
	return 0;
}

static void test_hit_reg(void **state)
{
	struct bus b;
	struct bus_hit h;
	struct uart u;
	uint8_t v = 'z';
	char n[32];

	(void)state;
	memset(&u, 0, sizeof(u));
	uart_init(&u, no_irq, no_tx, NULL);
	assert_int_equal(bus_init(&b, "pio"), 0);
	assert_int_equal(bus_add(&b, 0x3f8, 8, uart_io, uart_reg_name, &u,
				 "com1"), 0);
	assert_int_equal(bus_add(&b, 0x80, 1, io_fn, no_name, NULL, "post"), 0);
	assert_true(bus_access_hit(&b, 0x3f8, &v, 1, true, &h));
	assert_string_equal(h.name, "com1");
	assert_int_equal(h.offset, 0);
	assert_int_equal(bus_hit_reg(&h, 1, true, n, sizeof(n)), BUS_REG_CHAR);
	assert_string_equal(n, "THR");
	assert_true(bus_access_hit(&b, 0x3fd, &v, 1, false, &h));
	bus_hit_reg(&h, 1, false, n, sizeof(n));
	assert_string_equal(n, "LSR");
	assert_true(bus_access_hit(&b, 0x80, &v, 1, true, &h));
	bus_hit_reg(&h, 1, true, n, sizeof(n));
	assert_string_equal(n, "+0x0");
	log_quiet = true;
	assert_false(bus_access_hit(&b, 0x81, &v, 1, true, &h));
	log_quiet = false;
	assert_null(h.name);
	bus_hit_reg(&h, 1, true, n, sizeof(n));
	assert_string_equal(n, "");
	bus_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_words),
		cmocka_unit_test(test_filter_errors),
		cmocka_unit_test(test_filter_devices),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_uart_names),
		cmocka_unit_test(test_pci_cfg_names),
		cmocka_unit_test(test_virtio_names),
		cmocka_unit_test(test_hit_reg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
