/* SPDX-License-Identifier: MIT
 * acpi_pm.h - the ACPI fixed hardware of the machine (ACPI 6.5, 4.8.3
 * "PM1 Event Grouping" and "PM1 Control Grouping"; 4.8.3.6 Reset Register):
 *
 *   X86_ACPI_PM_BASE + 0  PM1a_STS  (16 bits) PWRBTN_STS (8), WAK_STS (15):
 *                                    write 1 to clear
 *   X86_ACPI_PM_BASE + 2  PM1a_EN   (16 bits) TMR_EN (0), GBL_EN (5),
 *                                    PWRBTN_EN (8), SLPBTN_EN (9), RTC_EN (10),
 *                                    PCIEXP_WAKE_DIS (14): read/write
 *   X86_ACPI_PM_BASE + 4  PM1a_CNT  (16 bits) SCI_EN (0, reads 1: no SMM),
 *                                    SLP_TYP (12-10), SLP_EN (13)
 *   0xcf9                 reset control (8 bits): bit 2 set -> reboot
 *
 * The SCI (ISA IRQ 9, level-triggered, active high per the MADT) is high
 * while PWRBTN_STS and PWRBTN_EN are both set. Writing SLP_EN with the S5
 * sleep type of the DSDT's \_S5 stops the VM with status 0.
 */
#ifndef MINIVMM_ACPI_PM_H
#define MINIVMM_ACPI_PM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/device.h"

struct vm;

#define PM1_STS_PWRBTN (1u << 8)
#define PM1_STS_WAK (1u << 15)
#define PM1_EN_TMR (1u << 0)
#define PM1_EN_GBL (1u << 5)
#define PM1_EN_PWRBTN (1u << 8)
#define PM1_EN_SLPBTN (1u << 9)
#define PM1_EN_RTC (1u << 10)
#define PM1_EN_PCIEXP_WAKE_DIS (1u << 14)
#define PM1_CNT_SCI_EN (1u << 0)
#define PM1_CNT_BM_RLD (1u << 1)
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_TYP_MASK (7u << PM1_CNT_SLP_TYP_SHIFT)
#define PM1_CNT_SLP_EN (1u << 13)
#define RESET_RST_CPU 0x04

struct acpi_pm {
	struct device dev;
	struct vm *vm;
	bool attached;
	pthread_mutex_t lock; /* vCPU threads and the power-button caller */
	uint16_t sts, en, cnt;
	uint8_t reset;
	bool sci;         /* level we last drove on the SCI line */
	bool sleep_warned;
};

/* Create the device (device.h); attaching it registers its ports on
 * vm->pio (PM1a at X86_ACPI_PM_BASE, 6 bytes; reset at
 * X86_ACPI_RESET_PORT, 1 byte), freeing it removes them. 0 or -errno. */
int acpi_pm_create(struct vm *vm, struct acpi_pm **out);

/* Press the fixed-feature power button: set PWRBTN_STS and raise the SCI
 * if the guest enabled the event. Any thread (takes a mutex and calls
 * vm_irq_line: not from inside a signal handler; use a signalfd/sigwait
 * thread or the I/O loop). */
void acpi_pm_power_button(struct acpi_pm *pm);

#endif
