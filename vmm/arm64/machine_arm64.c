/* SPDX-License-Identifier: MIT
 * machine_arm64.c - the machine around the arm64 vCPUs (the machine hooks of
 * vmm/arch.h), laid out as vmm/arm64/layout.h says: the 16550 UART on MMIO
 * (the console), the PL031 RTC, the generic ECAM PCI host, the kernel Image with its
 * initrd and the device tree that describes all of it, and the boot vCPU's
 * entry state.
 */
#include "vmm/arch.h"
#include "vmm/log.h"
#include "vmm/machine.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"
#include "arm64.h"
#include "vcpu_arm64.h"
#include "boot/arm64/fdt.h"
#include "boot/arm64/image.h"
#include "devices/pci.h"
#include "devices/pci_ecam.h"
#include "devices/pl031.h"
#include "devices/uart16550.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* No PVM on arm64: every kernel is for KVM to run. */
int arch_check_image(const struct machine_cfg *cfg)
{
	(void)cfg;
	return 0;
}

/* ---- the kernel, the initrd and the device tree ---- */

int arch_load_guest(struct vm *vm, const struct machine_cfg *cfg)
{
	struct arm64_boot_cfg bc = { .kernel = cfg->kernel,
				     .initrd = cfg->initrd,
				     .ram_base = ARM64_RAM_BASE,
				     .ram_size = vm->mem_size };
	struct arm64_boot_info info;
	struct arm64_fdt_cfg fc;
	char err[512] = "";
	int ret;

	if (cfg->firmware) {
		pr_err("--firmware: arm64 guests boot a kernel Image (--kernel)");
		return -ENOTSUP;
	}
	if ((ret = arm64_boot_load(&vm->mem, &bc, &info, err, sizeof(err)))) {
		pr_err("%s", err[0] ? err : strerror(-ret));
		return ret;
	}
	/* the machine of layout.h */
	arm64_fdt_default_cfg(&fc, vm->mem_size, vm->nr_cpus);
	ret = arm64_fdt_place(&vm->mem, &fc, cfg->cmdline ? cfg->cmdline :
				      "console=ttyS0", &info, cfg->dump_dtb,
			      err, sizeof(err));
	if (ret) {
		pr_err("%s", err[0] ? err : strerror(-ret));
		return ret;
	}
	vm->arch->entry = info.entry;
	vm->arch->fdt = info.fdt_addr;
	return 0;
}

/* ---- the platform devices ---- */

/* The console: the PC's UART model on MMIO, SPI 1; the PL031 RTC, SPI 2. */
int arch_add_platform_devices(struct vm *vm, struct arch_platform *p)
{
	struct pl031 *rtc;
	const struct uart_cfg uart = { .name = "uart0", .mmio = ARM64_UART,
				       .irq = ARM64_SPI_UART,
				       .tx = p->console_tx,
				       .tx_opaque = p->console_opaque };
	int ret;

	if ((ret = uart_create(vm, &uart, &p->console)) ||
	    (ret = device_list_add(p->devices, &p->console->dev)))
		return machine_create_failed(NULL, "16550 UART", ret);
	if ((ret = pl031_create(vm, ARM64_RTC, ARM64_SPI_RTC, &rtc)) ||
	    (ret = device_list_add(p->devices, &rtc->dev)))
		return machine_create_failed(NULL, "PL031 RTC", ret);
	return 0;
}

/* No power button: SIGTERM stops the guest at once. */
bool arch_power_button(struct vm *vm)
{
	(void)vm;
	return false;
}

/* No firmware on arm64: its devices have no firmware names. */
void arch_boot_path(enum arch_boot_dev kind, unsigned slot, unsigned channel,
		    unsigned unit, char *buf, size_t size)
{
	(void)kind;
	(void)slot;
	(void)channel;
	(void)unit;
	if (size)
		buf[0] = '\0';
}

/* No firmware images on arm64 (arch_load_guest refuses --firmware). */
int arch_add_firmware_devices(struct vm *vm, struct arch_platform *p,
			      const struct machine_cfg *cfg,
			      const char *bootorder)
{
	(void)vm;
	(void)p;
	(void)cfg;
	(void)bootorder;
	return -ENOTSUP;
}

/* ---- PCI ---- */

/* The windows and INTx wiring the device tree's PCI node describes, and
 * ECAM as the configuration mechanism. */
int arch_pci_init(struct pci_bus *bus, struct vm *vm)
{
	static const struct pci_host host = ARM64_PCI_HOST;
	int ret = pci_bus_init(bus, vm, &host);

	if (!ret && (ret = pci_ecam_init(&vm->arch->ecam, bus, ARM64_PCI_ECAM,
					 ARM64_PCI_ECAM_BUSES)))
		pr_err("pci: cannot claim the ECAM window at 0x%llx: %s",
		       (unsigned long long)ARM64_PCI_ECAM, strerror(-ret));
	return ret;
}

/* ---- the boot vCPU ---- */

int arch_boot_vcpu(struct vcpu *c)
{
	int ret = arm64_vcpu_set_boot_regs(c->fd, c->vm->arch->entry,
					   c->vm->arch->fdt);

	if (ret)
		pr_err("cannot set up the boot vCPU: %s", strerror(-ret));
	return ret;
}
