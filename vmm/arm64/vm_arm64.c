/* SPDX-License-Identifier: MIT
 * vm_arm64.c - the arm64 part of creating a VM (the hooks of vmm/arch.h):
 * guest RAM in one piece at 1 GiB, the in-kernel GICv3 (distributor,
 * redistributors, ITS) and the SPI wiring. The arch timer and PSCI need no
 * setup here: KVM provides both with every vCPU (vmm/arm64/vcpu_arm64.c).
 *
 * The KVM API: Documentation/virt/kvm/api.rst and
 * Documentation/virt/kvm/devices/arm-vgic-v3.rst, arm-vgic-its.rst in the
 * Linux tree.
 */
#include "vmm/arch.h"
#include "vmm/log.h"
#include "vmm/vm.h"
#include "arm64.h"
#include "layout.h"
#include "vgic.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* GIC INTIDs 0-31 are each vCPU's SGIs and PPIs; SPI n is INTID 32 + n. */
#define GIC_SPI_BASE 32

const struct vm_cap arch_vm_caps[] = {
	VM_CAP(KVM_CAP_DEVICE_CTRL),   /* KVM_CREATE_DEVICE: the vGIC */
	VM_CAP(KVM_CAP_ONE_REG),       /* boot registers */
	VM_CAP(KVM_CAP_ARM_PSCI_0_2),  /* CPU_ON, SYSTEM_OFF, SYSTEM_RESET */
	{ 0, NULL },
};

/* The ITS tells PCI functions apart by their requester ID. */
const bool arch_msi_devid = true;

int arch_vm_init(struct vm *vm)
{
	vm->arch = calloc(1, sizeof(*vm->arch));
	if (!vm->arch)
		return -ENOMEM;
	vm->arch->gic_fd = -1;
	return 0;
}

void arch_vm_destroy(struct vm *vm)
{
	if (vm->arch && vm->arch->gic_fd >= 0)
		close(vm->arch->gic_fd);
	free(vm->arch);
}

unsigned arch_memory_layout(struct vm *vm, struct arch_ram ram[ARCH_MAX_RAM])
{
	ram[0] = (struct arch_ram){ ARM64_RAM_BASE, vm->mem_size };
	return 1;
}

/* KVM_SET_DEVICE_ATTR on a KVM device; 0 or -errno. */
static int set_attr(int fd, uint32_t group, uint64_t attr, const void *val)
{
	struct kvm_device_attr a = { .group = group, .attr = attr,
				     .addr = (uint64_t)(uintptr_t)val };

	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

static int create_device(struct vm *vm, uint32_t type)
{
	struct kvm_create_device d = { .type = type };

	return ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &d) < 0 ? -errno : (int)d.fd;
}

/* The ITS (MSI translation for PCI MSI/MSI-X): created, placed and
 * initialised at once; its fd is not needed afterwards (the device lives
 * as long as the VM). */
static int create_its(struct vm *vm)
{
	uint64_t base = ARM64_GIC_ITS;
	int fd = create_device(vm, KVM_DEV_TYPE_ARM_VGIC_ITS), ret;

	if (fd < 0) {
		pr_err("KVM_CREATE_DEVICE (GICv3 ITS): %s", strerror(-fd));
		return fd;
	}
	if ((ret = set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
			    KVM_VGIC_ITS_ADDR_TYPE, &base)) ||
	    (ret = set_attr(fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
			    KVM_DEV_ARM_VGIC_CTRL_INIT, NULL)))
		pr_err("GICv3 ITS setup: %s", strerror(-ret));
	close(fd);
	return ret;
}

/* The GICv3: distributor and one redistributor region for every vCPU, 256
 * SPIs. It is initialised by arm64_vgic_init() once the vCPUs exist. */
int arch_vm_setup(struct vm *vm)
{
	uint64_t dist = ARM64_GIC_DIST, redist = ARM64_GIC_REDIST;
	uint32_t nr_irqs = GIC_SPI_BASE + ARM64_NR_SPIS;
	int ret;

	vm->arch->gic_fd = create_device(vm, KVM_DEV_TYPE_ARM_VGIC_V3);
	if (vm->arch->gic_fd < 0) {
		ret = vm->arch->gic_fd;
		pr_err("KVM_CREATE_DEVICE (GICv3): %s%s", strerror(-ret),
		       ret == -ENODEV ? " (this host's KVM has no GICv3 "
					"emulation)" : "");
		return ret;
	}
	if ((ret = set_attr(vm->arch->gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
			    KVM_VGIC_V3_ADDR_TYPE_DIST, &dist)) ||
	    (ret = set_attr(vm->arch->gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
			    KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist)) ||
	    (ret = set_attr(vm->arch->gic_fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0,
			    &nr_irqs))) {
		pr_err("GICv3 setup: %s", strerror(-ret));
		return ret;
	}
	return create_its(vm);
}

int arm64_vgic_init(struct vm *vm)
{
	int ret = set_attr(vm->arch->gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
			   KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);

	if (ret) {
		pr_err("GICv3 init (KVM_DEV_ARM_VGIC_CTRL_INIT): %s",
		       strerror(-ret));
		return ret;
	}
	/* initialised, the vGIC lives as long as the VM without its fd */
	close(vm->arch->gic_fd);
	vm->arch->gic_fd = -1;
	return 0;
}

/* The vCPUs exist: the GIC can be initialised. */
int arch_vm_finish(struct vm *vm)
{
	return arm64_vgic_init(vm);
}

/* GSI n drives SPI n: the one irqchip (the GIC) takes the SPI number as
 * the pin. KVM installs the same table itself when the vGIC initialises;
 * kvm.c's copy keeps it with the MSI routes it adds later. */
unsigned arch_default_routes(struct vm *vm)
{
	for (unsigned spi = 0; spi < ARM64_NR_SPIS; spi++)
		vm_route_irqchip(vm, spi, 0, spi);
	return ARM64_NR_SPIS;
}

/* KVM_IRQ_LINE on arm64 names the interrupt by type and INTID; SPIs need
 * no vCPU index. */
uint32_t arch_irq_line(unsigned gsi)
{
	return (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) |
	       (GIC_SPI_BASE + gsi);
}
