/* SPDX-License-Identifier: MIT
 * fdt.h - the arm64 guest's flattened device tree, built with libfdt
 * (Devicetree Specification v0.4; the Linux bindings of each node are
 * named in fdt.c).
 *
 * The tree describes exactly the machine of vmm/arm64/layout.h: RAM, the
 * vCPUs (started through PSCI over HVC), the GICv3 with its ITS, the
 * architected timer, the 16550 UART (the console: /chosen/stdout-path),
 * the optional PL031 RTC, and the generic ECAM PCI host bridge, whose
 * INTx lines are described by its interrupt-map and whose MSIs go to the
 * ITS with the requester ID as device ID (msi-map). /chosen also carries
 * the command line and the initrd range.
 */
#ifndef MINIVMM_ARM64_FDT_H
#define MINIVMM_ARM64_FDT_H

#include <stddef.h>
#include <stdint.h>

#include "boot/arm64/image.h"
#include "vmm/arm64/layout.h"
#include "vmm/guest_mem.h"

/* The buffer arm64_fdt_build needs at most for ARM64_MAX_CPUS vCPUs and a
 * command line of up to 4 KiB (the tree is about 3 KiB + 100 bytes per
 * vCPU + the command line). */
#define ARM64_FDT_BUF_SIZE (64u * 1024)

/* The arm64 kernel's COMMAND_LINE_SIZE: it copies at most 2047 bytes of
 * /chosen/bootargs (and silently drops the rest). */
#define ARM64_CMDLINE_MAX 2048

/* phandles of the nodes others refer to. */
#define ARM64_PHANDLE_GIC 1
#define ARM64_PHANDLE_ITS 2
#define ARM64_PHANDLE_APB_CLK 3

struct arm64_fdt_cfg {
	uint64_t ram_base, ram_size;
	unsigned nr_cpus;                 /* 1..ARM64_MAX_CPUS */
	uint64_t mpidr[ARM64_MAX_CPUS];   /* MPIDR_EL1 of each vCPU */
	const char *bootargs;             /* or NULL */
	uint64_t initrd_start, initrd_end; /* equal (0): no initrd */

	uint64_t gic_dist, gic_dist_size;
	uint64_t gic_redist, gic_redist_size; /* all vCPUs' frames */
	uint64_t gic_its, gic_its_size;   /* size 0: no ITS, no MSIs */

	uint64_t uart, uart_size;
	unsigned uart_spi;
	uint32_t uart_clock;              /* Hz */
	uint64_t rtc, rtc_size;           /* size 0: no RTC */
	unsigned rtc_spi;

	uint64_t pci_ecam, pci_ecam_size; /* size 0: no PCI */
	unsigned pci_buses;               /* buses 0..pci_buses-1 */
	uint64_t pci_mmio, pci_mmio_size; /* identity-mapped 32-bit window */
	uint64_t pci_io, pci_io_size;     /* CPU address of I/O port 0 */
	unsigned pci_spi_first;           /* INTA# of slot s: first + s % 4 */

	unsigned timer_ppi[4];            /* secure, non-secure, virt, hyp */
};

/* KVM's MPIDR_EL1 for vCPU vcpu_id when userspace sets none: Aff0 =
 * id bits 3:0 (16 per cluster, the GICv3 target-list limit), Aff1 = id
 * bits 11:4, Aff2 = id bits 19:12. */
uint64_t arm64_default_mpidr(unsigned vcpu_id);

/* The machine of vmm/arm64/layout.h with ram_size bytes at ARM64_RAM_BASE
 * and nr_cpus vCPUs with KVM's default MPIDRs; no command line, no initrd
 * (the caller fills bootargs and initrd_*). */
void arm64_fdt_default_cfg(struct arm64_fdt_cfg *cfg, uint64_t ram_size,
			   unsigned nr_cpus);

/* Build the tree into buf (size bytes; ARM64_FDT_BUF_SIZE is enough).
 * 0, -EINVAL for a bad cfg (no vCPU, too many, unaligned initrd range
 * outside RAM), -ENOSPC if buf is too small. The blob's size is then
 * fdt_totalsize(buf). */
int arm64_fdt_build(const struct arm64_fdt_cfg *cfg, void *buf, size_t size);

/* Copy the blob into guest RAM at gpa: 8-byte aligned, at most 2 MiB, not
 * crossing a 2 MiB boundary (booting.rst). 0, -EINVAL or -EFAULT. */
int arm64_fdt_load(struct guest_mem *gm, uint64_t gpa, const void *fdt);

/* Write the blob to path (--dump-dtb), created or truncated. 0, or -errno
 * with "<path>: <reason>" in err. */
int arm64_fdt_dump(const void *fdt, const char *path, char *err,
		   size_t errlen);

/* The boot's last step, after arm64_boot_load: build the tree for fcfg
 * with the command line given and the initrd range of info, put it at
 * info->fdt_addr, and also write it to dump_path when that is not NULL
 * (--dump-dtb). 0, or -errno with one line in err: command line longer
 * than the kernel takes, tree too big, dump file not writable. */
int arm64_fdt_place(struct guest_mem *gm, struct arm64_fdt_cfg *fcfg,
		    const char *cmdline, const struct arm64_boot_info *info,
		    const char *dump_path, char *err, size_t errlen);

#endif
