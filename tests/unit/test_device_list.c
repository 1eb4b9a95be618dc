/* SPDX-License-Identifier: MIT
 * Unit tests: the machine's device list (vmm/device.c) and the device steps
 * of the legacy devices (devices/uart16550.c, i8042.c, rtc.c, acpi_pm.c):
 * creation order and names, stop and free in reverse, a failed attach
 * ended by the teardown without harming the devices before it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/x86/acpi_pm.h"
#include "devices/i8042.h"
#include "devices/rtc.h"
#include "devices/uart16550.h"
#include "fake_vm.h"
#include "vmm/device.h"
#include "vmm/log.h"
#include "vmm/vm.h"
#include "vmm/x86/layout.h"

/* ---- recording devices ---- */

static char calls[256]; /* "a+b+c!c-b-a-c.b.a." : attach + / attach failed !,
			 * stop -, free . */

struct rec {
	struct device dev;
	char tag;
	int attach_ret;
};

static void note(char tag, char what)
{
	size_t n = strlen(calls);

	assert_true(n + 2 < sizeof(calls));
	calls[n] = tag;
	calls[n + 1] = what;
}

static int rec_attach(struct device *dev)
{
	struct rec *r = container_of(dev, struct rec, dev);

	note(r->tag, r->attach_ret ? '!' : '+');
	return r->attach_ret;
}

static void rec_stop(struct device *dev)
{
	note(container_of(dev, struct rec, dev)->tag, '-');
}

static void rec_free(struct device *dev)
{
	struct rec *r = container_of(dev, struct rec, dev);

	note(r->tag, '.');
	free(r);
}

static const struct device_ops rec_ops = {
	.attach = rec_attach, .stop = rec_stop, .free = rec_free,
};
static const struct device_ops rec_ops_nostop = {
	.attach = rec_attach, .free = rec_free,
};

static struct device *rec_new(char tag, const char *kind, int attach_ret,
			      bool stop)
{
	struct rec *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	device_init(&r->dev, stop ? &rec_ops : &rec_ops_nostop, kind, NULL,
		    NULL);
	r->tag = tag;
	r->attach_ret = attach_ret;
	return &r->dev;
}

static void test_order_and_names(void **state)
{
	(void)state;
	struct device_list l = { 0 };
	struct device *a = rec_new('a', "blk", 0, true);
	struct device *b = rec_new('b', "net", 0, false);
	struct device *c = rec_new('c', "blk", 0, true);

	memset(calls, 0, sizeof(calls));
	assert_int_equal(device_list_add(&l, a), 0);
	assert_int_equal(device_list_add(&l, b), 0);
	assert_int_equal(device_list_add(&l, c), 0);
	assert_string_equal(calls, "a+b+c+");
	/* creation order, named <kind><n> per kind */
	assert_int_equal(l.nr, 3);
	assert_ptr_equal(l.devs[0], a);
	assert_ptr_equal(l.devs[2], c);
	assert_string_equal(a->name, "blk0");
	assert_string_equal(b->name, "net0");
	assert_string_equal(c->name, "blk1");
	/* stop (optional) then free, the last created first */
	memset(calls, 0, sizeof(calls));
	device_list_stop(&l);
	assert_string_equal(calls, "c-a-");
	device_list_free(&l);
	assert_string_equal(calls, "c-a-c.b.a.");
	assert_int_equal(l.nr, 0);
	assert_null(l.devs);
}

static void test_failed_attach(void **state)
{
	(void)state;
	struct device_list l = { 0 };

	memset(calls, 0, sizeof(calls));
	assert_int_equal(device_list_add(&l, rec_new('a', "x", 0, true)), 0);
	assert_int_equal(device_list_add(&l, rec_new('b', "x", -EBUSY, true)),
			 -EBUSY);
	/* the machine gives up here: the failed device is in the list and
	 * ends with the others */
	assert_int_equal(l.nr, 2);
	device_list_stop(&l);
	device_list_free(&l);
	assert_string_equal(calls, "a+b!b-a-b.a.");
}

static void test_many(void **state)
{
	(void)state;
	struct device_list l = { 0 };

	memset(calls, 0, sizeof(calls));
	for (unsigned i = 0; i < 40; i++) /* past the first allocation */
		assert_int_equal(device_list_add(&l, rec_new('x', "x", 0, false)),
				 0);
	assert_string_equal(l.devs[39]->name, "x39");
	device_list_free(&l);
	/* a kind that ends in a digit: "-" before the number; until it is
	 * in the list, a numbered device is called by its kind */
	struct device *e = rec_new('e', "e1000", 0, false);

	assert_string_equal(e->name, "e1000");
	assert_int_equal(device_list_add(&l, e), 0);
	assert_int_equal(device_list_add(&l, rec_new('f', "e1000", 0, false)), 0);
	assert_string_equal(e->name, "e1000-0");
	assert_string_equal(l.devs[1]->name, "e1000-1");
	device_list_free(&l);
}

/* ---- the legacy devices through the list ---- */

static struct vm vm;

static int setup(void **state)
{
	(void)state;
	log_quiet = true;
	fake_vm_reset();
	memset(&vm, 0, sizeof(vm));
	assert_int_equal(bus_init(&vm.pio, "pio"), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	bus_destroy(&vm.pio);
	return 0;
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0;

	bus_access(&vm.pio, port, &v, 1, false);
	return v;
}

static void outb(uint16_t port, uint8_t v)
{
	assert_true(bus_access(&vm.pio, port, &v, 1, true));
}

static void tx(void *opaque, uint8_t byte)
{
	*(uint8_t *)opaque = byte;
}

static void test_legacy_devices(void **state)
{
	(void)state;
	struct device_list l = { 0 };
	uint8_t sent = 0;
	const struct uart_cfg ucfg = { .name = "com1", .port = 0x3f8,
				       .irq = X86_IRQ_COM1, .tx = tx,
				       .tx_opaque = &sent };
	struct uart *com1;
	struct i8042 *kbd, *kbd2;
	struct rtc *rtc;
	struct acpi_pm *pm;
	uint16_t v;

	assert_int_equal(uart_create(&vm, &ucfg, &com1), 0);
	assert_int_equal(device_list_add(&l, &com1->dev), 0);
	assert_int_equal(i8042_create(&vm, &kbd), 0);
	assert_int_equal(device_list_add(&l, &kbd->dev), 0);
	assert_int_equal(rtc_create(&vm, &rtc), 0);
	assert_int_equal(device_list_add(&l, &rtc->dev), 0);
	assert_int_equal(acpi_pm_create(&vm, &pm), 0);
	assert_int_equal(device_list_add(&l, &pm->dev), 0);
	assert_string_equal(com1->dev.name, "com1");
	assert_string_equal(kbd->dev.name, "i8042");

	/* each answers on its ports, wired to the VM */
	outb(0x3f8, 'x');
	assert_int_equal(sent, 'x');
	outb(0x3f9, UART_IER_THRI);     /* THR empty interrupt... */
	outb(0x3fc, UART_MCR_OUT2);     /* ...reaches the line with OUT2 */
	assert_int_equal(fake.irq_level[X86_IRQ_COM1], 1);
	outb(0x64, 0xaa);               /* i8042 self test */
	assert_int_equal(inb(0x60), 0x55);
	outb(0x64, 0xfe);               /* pulse the reset line */
	assert_int_equal(fake.reboot_calls, 1);
	outb(0x70, 0x0b);               /* RTC status register B: 24h */
	assert_true(inb(0x71) & 0x02);
	acpi_pm_power_button(pm);
	v = 0;
	bus_access(&vm.pio, X86_ACPI_PM_BASE, &v, 2, false);
	assert_int_equal(v, PM1_STS_PWRBTN);

	/* a second i8042 cannot take the ports: its attach fails, it stays
	 * in the list and the teardown ends it without touching the first
	 * one's ports */
	assert_int_equal(i8042_create(&vm, &kbd2), 0);
	assert_int_equal(device_list_add(&l, &kbd2->dev), -EEXIST);
	outb(0x64, 0xaa);
	assert_int_equal(inb(0x60), 0x55);
	device_list_stop(&l);
	device_list_free(&l);
	/* every port is free again */
	assert_false(bus_access(&vm.pio, 0x3f8, &v, 1, false));
	assert_false(bus_access(&vm.pio, 0x60, &v, 1, false));
	assert_false(bus_access(&vm.pio, 0x64, &v, 1, false));
	assert_false(bus_access(&vm.pio, 0x70, &v, 1, false));
	assert_false(bus_access(&vm.pio, X86_ACPI_PM_BASE, &v, 2, false));
	assert_false(bus_access(&vm.pio, X86_ACPI_RESET_PORT, &v, 1, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_names),
		cmocka_unit_test(test_failed_attach),
		cmocka_unit_test(test_many),
		cmocka_unit_test_setup_teardown(test_legacy_devices, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
