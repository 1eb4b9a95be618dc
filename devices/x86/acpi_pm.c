/* SPDX-License-Identifier: MIT
 * acpi_pm.c - ACPI fixed hardware: the PM1a event and control register
 * blocks (ACPI 6.5, 4.8.3.1 "PM1 Event Grouping", 4.8.3.2 "PM1 Control
 * Grouping"), the fixed power button (4.8.2.2.1) and the reset register at
 * 0xcf9 (4.8.3.6; the Reset Control Register of Intel PCH/PIIX chipsets).
 *
 * Registers are handled byte by byte, so any access width the guest uses
 * (ACPICA uses 16-bit ones, but the FADT cannot forbid others) behaves the
 * same. Only the power button and wake status events exist; the other
 * status bits read 0. The enable bits of the other fixed events are plain
 * read/write bits even though their events never occur: an OS checks that
 * an enable bit it sets reads back as set (ACPICA's acpi_enable_event), and
 * Linux enables the global lock and RTC events unconditionally.
 */
#include "acpi_pm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/x86/acpi.h"
#include "vmm/log.h"
#include "vmm/vm.h"
#include "vmm/x86/layout.h"

#define PM1_STS_W1C (PM1_STS_PWRBTN | PM1_STS_WAK)
#define PM1_EN_RW                                                       \
	(PM1_EN_TMR | PM1_EN_GBL | PM1_EN_PWRBTN | PM1_EN_SLPBTN | PM1_EN_RTC | \
	 PM1_EN_PCIEXP_WAKE_DIS)
#define PM1_CNT_RW (PM1_CNT_SLP_TYP_MASK | PM1_CNT_BM_RLD)
#define PM_LEN 6

/* Drive the SCI to match STS & EN. Called with pm->lock held so that
 * level changes reach KVM in the order they were decided. */
static void update_sci(struct acpi_pm *pm)
{
	bool level = (pm->sts & pm->en & PM1_STS_PWRBTN) != 0;

	if (level != pm->sci) {
		pm->sci = level;
		vm_irq_line(pm->vm, X86_IRQ_ACPI_SCI, level);
	}
}

static void sleep_request(struct acpi_pm *pm, unsigned typ)
{
	if (typ == ACPI_SLP_TYP_S5) {
		pr_trace("acpi: guest entered S5 (soft off)");
		vm_request_stop(pm->vm, VM_EXIT_OK);
		return;
	}
	/* Only \_S5 is in the DSDT, so an OS should never ask for another
	 * state. Report "woke up at once" so a waiting guest continues. */
	if (!pm->sleep_warned) {
		pr_warn("acpi: guest asked for sleep type %u; only S5 (%u) is "
			"supported, ignored", typ, ACPI_SLP_TYP_S5);
		pm->sleep_warned = true;
	}
	pm->sts |= PM1_STS_WAK;
}

static uint8_t reg_byte(const struct acpi_pm *pm, unsigned off)
{
	uint16_t v;

	switch (off / 2) {
	case 0:
		v = pm->sts;
		break;
	case 1:
		v = pm->en;
		break;
	default:
		v = (uint16_t)((pm->cnt & PM1_CNT_RW) | PM1_CNT_SCI_EN);
		break;
	}
	return (uint8_t)(v >> (8 * (off & 1)));
}

static void write_byte(struct acpi_pm *pm, unsigned off, uint8_t b)
{
	unsigned shift = 8 * (off & 1);
	uint16_t v = (uint16_t)(b << shift), lane = (uint16_t)(0xff << shift);

	switch (off / 2) {
	case 0:
		pm->sts &= (uint16_t)~(v & PM1_STS_W1C);
		break;
	case 1:
		pm->en = (uint16_t)((pm->en & ~lane) | (v & PM1_EN_RW));
		break;
	default:
		pm->cnt = (uint16_t)((pm->cnt & ~lane) | (v & PM1_CNT_RW));
		if (v & PM1_CNT_SLP_EN)
			sleep_request(pm, (pm->cnt & PM1_CNT_SLP_TYP_MASK) >>
						  PM1_CNT_SLP_TYP_SHIFT);
		break;
	}
}

static void pm1_io(void *opaque, uint64_t offset, void *data, unsigned len,
		   bool is_write)
{
	struct acpi_pm *pm = opaque;
	uint8_t *d = data;

	pthread_mutex_lock(&pm->lock);
	for (unsigned i = 0; i < len; i++) {
		uint64_t off = offset + i;

		if (off >= PM_LEN) { /* an access running past the block */
			if (!is_write)
				d[i] = 0xff;
			continue;
		}
		if (is_write)
			write_byte(pm, (unsigned)off, d[i]);
		else
			d[i] = reg_byte(pm, (unsigned)off);
	}
	if (is_write)
		update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

static void reset_io(void *opaque, uint64_t offset, void *data, unsigned len,
		     bool is_write)
{
	struct acpi_pm *pm = opaque;
	uint8_t *d = data;

	if (offset != 0 || len == 0) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&pm->lock);
	if (is_write) {
		/* bits 1 (SYS_RST) and 3 (FULL_RST) are kept; RST_CPU going
		 * to 1 starts the reset */
		pm->reset = d[0] & 0x0a;
		if (d[0] & RESET_RST_CPU) {
			pr_trace("acpi: guest reset through port 0xcf9");
			vm_request_reboot(pm->vm);
		}
	} else {
		d[0] = pm->reset;
		memset(d + 1, 0xff, len - 1);
	}
	pthread_mutex_unlock(&pm->lock);
}

/* PM1a_STS, PM1a_EN and PM1a_CNT, two bytes each (4.8.3.1, 4.8.3.2) */
static unsigned pm1_name(void *opaque, uint64_t off, unsigned len,
			 bool is_write, char *buf, size_t size)
{
	static const char *const names[3] = { "PM1a_STS", "PM1a_EN",
					      "PM1a_CNT" };

	(void)opaque;
	(void)len;
	(void)is_write;
	if (off < PM_LEN)
		snprintf(buf, size, "%s%s", names[off / 2],
			 off & 1 ? "+1" : "");
	return 0;
}

static unsigned reset_name(void *opaque, uint64_t off, unsigned len,
			   bool is_write, char *buf, size_t size)
{
	(void)opaque;
	(void)off;
	(void)len;
	(void)is_write;
	snprintf(buf, size, "RESET_REG");
	return 0;
}

static struct acpi_pm *of(struct device *dev)
{
	return container_of(dev, struct acpi_pm, dev);
}

static int pm_attach(struct device *dev)
{
	struct acpi_pm *pm = of(dev);
	int r = bus_add(&pm->vm->pio, X86_ACPI_PM_BASE, PM_LEN, pm1_io, pm1_name, pm,
			"acpi-pm");

	if (r)
		return r;
	r = bus_add(&pm->vm->pio, X86_ACPI_RESET_PORT, 1, reset_io, reset_name, pm,
		    "acpi-reset");
	if (r) {
		bus_remove(&pm->vm->pio, X86_ACPI_PM_BASE);
		return r;
	}
	pm->attached = true;
	return 0;
}

static void pm_free(struct device *dev)
{
	struct acpi_pm *pm = of(dev);

	if (pm->attached) {
		bus_remove(&pm->vm->pio, X86_ACPI_RESET_PORT);
		bus_remove(&pm->vm->pio, X86_ACPI_PM_BASE);
	}
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

static const struct device_ops pm_ops = {
	.attach = pm_attach,
	.free = pm_free,
};

int acpi_pm_create(struct vm *vm, struct acpi_pm **out)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return -ENOMEM;
	device_init(&pm->dev, &pm_ops, "acpi-pm", vm, "acpi-pm");
	pm->vm = vm;
	pthread_mutex_init(&pm->lock, NULL);
	*out = pm;
	return 0;
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->sts |= PM1_STS_PWRBTN;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}
