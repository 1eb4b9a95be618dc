/* SPDX-License-Identifier: MIT
 * Unit tests: the ACPI PM1a registers, the power button's SCI, S5 and the
 * 0xcf9 reset (devices/x86/acpi_pm.c), and the PCI pvpanic device
 * (devices/pvpanic.c) on a real PCI bus model, all through the port/MMIO
 * buses as a guest would reach them, with the fake KVM side recording
 * interrupt levels and stop/reboot requests. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/x86/acpi.h"
#include "devices/x86/acpi_pm.h"
#include "devices/pci.h"
#include "devices/pvpanic.h"
#include "fake_vm.h"
#include "vmm/log.h"
#include "vmm/x86/layout.h"

#define STS X86_ACPI_PM_BASE
#define EN (X86_ACPI_PM_BASE + 2)
#define CNT (X86_ACPI_PM_BASE + 4)

static struct vm vm;

static int setup(void **state)
{
	(void)state;
	log_quiet = true;
	assert_int_equal(fake_vm_init(&vm), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_vm_destroy(&vm);
	return 0;
}

static uint32_t in(uint64_t port, unsigned len)
{
	uint32_t v = 0;

	assert_true(bus_access(&vm.pio, port, &v, len, false));
	return v;
}

static void out(uint64_t port, unsigned len, uint32_t v)
{
	assert_true(bus_access(&vm.pio, port, &v, len, true));
}

/* A PM device, created and attached. */
static struct acpi_pm *new_pm(void)
{
	struct acpi_pm *pm;

	assert_int_equal(acpi_pm_create(&vm, &pm), 0);
	assert_int_equal(pm->dev.ops->attach(&pm->dev), 0);
	return pm;
}

static void test_registers(void **state)
{
	(void)state;
	struct acpi_pm *pm = new_pm();

	assert_int_equal(in(STS, 2), 0);
	assert_int_equal(in(EN, 2), 0);
	/* SCI_EN reads 1: ACPI mode without an SMI handshake */
	assert_int_equal(in(CNT, 2), PM1_CNT_SCI_EN);
	/* the fixed events' enable bits read back (ACPICA checks that when
	 * it enables the global lock and RTC events); reserved bits do not */
	out(EN, 2, 0xffff);
	assert_int_equal(in(EN, 2), 0x4721);
	/* ...but only the power button can raise the SCI */
	assert_int_equal(fake.irq_level[X86_IRQ_ACPI_SCI], 0);
	/* a 32-bit read of the event block sees STS then EN */
	assert_int_equal(in(STS, 4), 0x4721u << 16);
	/* byte access to the high byte of EN */
	out(EN + 1, 1, 0);
	assert_int_equal(in(EN, 2), 0x21);
	out(EN, 1, 0);
	assert_int_equal(in(EN, 2), 0);
	/* SLP_TYP is kept, SLP_EN reads 0, SCI_EN cannot be cleared */
	out(CNT, 2, 3u << PM1_CNT_SLP_TYP_SHIFT);
	assert_int_equal(in(CNT, 2),
			 (3u << PM1_CNT_SLP_TYP_SHIFT) | PM1_CNT_SCI_EN);
	assert_int_equal(fake.stop_calls, 0);
	pm->dev.ops->free(&pm->dev);
	/* the ports are free again */
	uint32_t v;
	assert_false(bus_access(&vm.pio, STS, &v, 2, false));
}

static void test_power_button(void **state)
{
	(void)state;
	struct acpi_pm *pm = new_pm();

	/* pressed while the event is disabled: status only, SCI stays low */
	acpi_pm_power_button(pm);
	assert_int_equal(in(STS, 2), PM1_STS_PWRBTN);
	assert_int_equal(fake.irq_level[X86_IRQ_ACPI_SCI], 0);
	/* enabling with the status pending raises the SCI (level) */
	out(EN, 2, PM1_EN_PWRBTN);
	assert_int_equal(fake.irq_level[X86_IRQ_ACPI_SCI], 1);
	/* writing 0 to STS changes nothing (write-1-to-clear) */
	out(STS, 2, 0);
	assert_int_equal(in(STS, 2), PM1_STS_PWRBTN);
	assert_int_equal(fake.irq_level[X86_IRQ_ACPI_SCI], 1);
	/* clearing it lowers the SCI */
	out(STS, 2, PM1_STS_PWRBTN);
	assert_int_equal(in(STS, 2), 0);
	assert_int_equal(fake.irq_level[X86_IRQ_ACPI_SCI], 0);
	/* enabled: a press raises the SCI at once; disabling lowers it */
	acpi_pm_power_button(pm);
	assert_int_equal(fake.irq_level[X86_IRQ_ACPI_SCI], 1);
	unsigned calls = fake.irq_line_calls;
	acpi_pm_power_button(pm); /* already high: no new edge */
	assert_int_equal(fake.irq_line_calls, calls);
	out(EN, 2, 0);
	assert_int_equal(fake.irq_level[X86_IRQ_ACPI_SCI], 0);
	/* byte write of 0x01 to STS's high byte clears bit 8 */
	out(STS + 1, 1, 0x01);
	assert_int_equal(in(STS, 2), 0);
	pm->dev.ops->free(&pm->dev);
}

static void test_sleep(void **state)
{
	(void)state;
	struct acpi_pm *pm = new_pm();
	uint32_t s5 = ACPI_SLP_TYP_S5 << PM1_CNT_SLP_TYP_SHIFT;

	/* Linux writes SLP_TYP first, then SLP_TYP | SLP_EN */
	out(CNT, 2, s5);
	assert_int_equal(fake.stop_calls, 0);
	/* another sleep type: ignored, WAK_STS set so the guest goes on */
	out(CNT, 2, (1u << PM1_CNT_SLP_TYP_SHIFT) | PM1_CNT_SLP_EN);
	assert_int_equal(fake.stop_calls, 0);
	assert_int_equal(in(STS, 2) & PM1_STS_WAK, PM1_STS_WAK);
	out(STS, 2, PM1_STS_WAK);
	assert_int_equal(in(STS, 2), 0);
	/* S5 with a byte write of the high byte */
	out(CNT + 1, 1, (s5 | PM1_CNT_SLP_EN) >> 8);
	assert_int_equal(fake.stop_calls, 1);
	assert_int_equal(fake.stop_status, VM_EXIT_OK);
	pm->dev.ops->free(&pm->dev);
}

static void test_reset(void **state)
{
	(void)state;
	struct acpi_pm *pm = new_pm();

	out(X86_ACPI_RESET_PORT, 1, 0x02); /* SYS_RST alone: no reset */
	assert_int_equal(fake.reboot_calls, 0);
	assert_int_equal(in(X86_ACPI_RESET_PORT, 1), 0x02);
	out(X86_ACPI_RESET_PORT, 1, 0x06);
	assert_int_equal(fake.reboot_calls, 1);
	out(X86_ACPI_RESET_PORT, 1, 0x0e);
	assert_int_equal(fake.reboot_calls, 2);
	assert_int_equal(fake.stop_calls, 0);
	/* a second device cannot take the same ports; freeing it leaves the
	 * first one's alone */
	struct acpi_pm *pm2;
	assert_int_equal(acpi_pm_create(&vm, &pm2), 0);
	assert_int_equal(pm2->dev.ops->attach(&pm2->dev), -EEXIST);
	pm2->dev.ops->free(&pm2->dev);
	assert_int_equal(in(X86_ACPI_RESET_PORT, 1), 0x0a);
	pm->dev.ops->free(&pm->dev);
}

/* ---- pvpanic ---- */

static void test_pvpanic(void **state)
{
	(void)state;
	struct pci_bus bus;
	struct pvpanic *p;
	struct pci_dev *d = NULL;
	uint8_t v = 0;

	assert_int_equal(fake_pci_bus_init(&bus, &vm), 0);
	vm.pci = &bus;
	assert_int_equal(pvpanic_create(&vm, &p), 0);
	assert_int_equal(p->dev.ops->attach(&p->dev), 0);
	for (unsigned s = 1; s < PCI_MAX_SLOTS; s++)
		if (bus.slots[s])
			d = bus.slots[s];
	assert_ptr_equal(d, &p->pci);
	assert_int_equal(pci_cfg_read(d, 0, 2), PVPANIC_VENDOR);
	assert_int_equal(pci_cfg_read(d, 2, 2), PVPANIC_DEVICE);
	assert_int_equal(pci_cfg_read(d, 9, 1), 0x00);  /* prog-if */
	assert_int_equal(pci_cfg_read(d, 10, 2), 0x0880);
	uint32_t bar = pci_cfg_read(d, 0x10, 4);
	assert_int_equal(bar & 1, 0); /* memory */
	bar &= ~0xfu;
	assert_true(bar >= X86_PCI_MMIO_START && bar < X86_PCI_MMIO_END);

	/* the guest driver reads the supported events */
	assert_true(bus_access(&vm.mmio, bar, &v, 1, false));
	assert_int_equal(v, PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
	v = 0xaa;
	assert_true(bus_access(&vm.mmio, bar + 1, &v, 1, false));
	assert_int_equal(v, 0);
	/* crash kernel loaded: the VM keeps running */
	v = PVPANIC_CRASH_LOADED;
	assert_true(bus_access(&vm.mmio, bar, &v, 1, true));
	assert_int_equal(fake.stop_calls, 0);
	/* writes elsewhere are ignored */
	v = PVPANIC_PANICKED;
	assert_true(bus_access(&vm.mmio, bar + 4, &v, 1, true));
	assert_int_equal(fake.stop_calls, 0);
	/* the panic */
	assert_true(bus_access(&vm.mmio, bar, &v, 1, true));
	assert_int_equal(fake.stop_calls, 1);
	assert_int_equal(fake.stop_status, VM_EXIT_GUEST_PANIC);
	pci_bus_destroy(&bus);
	p->dev.ops->free(&p->dev); /* after the bus, as the machine does */
}

static void test_pvpanic_no_bus(void **state)
{
	(void)state;
	struct pvpanic *p;

	vm.pci = NULL;
	assert_int_equal(pvpanic_create(&vm, &p), 0);
	assert_int_equal(p->dev.ops->attach(&p->dev), -ENODEV);
	p->dev.ops->free(&p->dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_power_button, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sleep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pvpanic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pvpanic_no_bus, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
