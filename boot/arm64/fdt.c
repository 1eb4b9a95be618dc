/* SPDX-License-Identifier: MIT
 * fdt.c - the arm64 guest's device tree, written with libfdt's
 * sequential-write API (Devicetree Specification v0.4, chapters 2-3 for
 * the generic nodes /, /memory, /cpus, /chosen, /aliases).
 *
 * The bindings each node follows (Linux, Documentation/devicetree/bindings):
 *   interrupt-controller/arm,gic-v3.yaml  GIC: 3 interrupt cells (type 0
 *       SPI / 1 PPI, number, flags 4 level-high), reg = distributor then
 *       redistributors; the ITS as a child node (msi-controller,
 *       #msi-cells = 1: the device ID), hence #address-cells/#size-cells
 *       and an empty ranges on the GIC node
 *   timer/arm,arch_timer.yaml             four PPIs: secure, non-secure,
 *       virtual, hypervisor physical
 *   arm/psci.yaml                         "arm,psci-0.2" with the function
 *       IDs of the original binding for "arm,psci", method "hvc"
 *   serial/8250.yaml                      ns16550a: reg, interrupts,
 *       clock-frequency
 *   rtc/arm,pl031 (primecell)             plus the AMBA bus's "apb_pclk"
 *       clock, a fixed-clock node
 *   pci/host-generic-pci.yaml, pci/pci-msi.txt, PCI Bus Binding to Open
 *       Firmware (IEEE 1275): 3 address cells (phys.hi: space code 01 I/O,
 *       10 32-bit memory; bus, device, function), ranges, bus-range,
 *       interrupt-map for INTA#-INTD#, msi-map (requester ID = ITS device
 *       ID, the identity the KVM MSI routes use)
 */
#include "boot/arm64/fdt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libfdt.h>

/* Interrupt specifier cells (arm,gic-v3). */
#define GIC_SPI 0
#define GIC_PPI 1
#define IRQ_LEVEL_HIGH 4
#define IRQ_LEVEL_LOW 8

/* PSCI 0.2 function IDs (SMC calling convention, 64-bit where the
 * function takes addresses): for the "arm,psci" binding's properties. */
#define PSCI_CPU_SUSPEND 0xc4000001u
#define PSCI_CPU_OFF 0x84000002u
#define PSCI_CPU_ON 0xc4000003u
#define PSCI_MIGRATE 0xc4000005u

/* PCI phys.hi space codes (IEEE 1275 PCI binding). */
#define PCI_SPACE_IO 0x01000000u
#define PCI_SPACE_MEM32 0x02000000u

#define MPIDR_AFF_MASK 0xff00ffffffULL /* Aff3 39:32, Aff2-Aff0 23:0 */
#define APB_CLK_HZ 24000000u

uint64_t arm64_default_mpidr(unsigned vcpu_id)
{
	return (uint64_t)(vcpu_id & 0x0f) |
	       (uint64_t)((vcpu_id >> 4) & 0xff) << 8 |
	       (uint64_t)((vcpu_id >> 12) & 0xff) << 16;
}

void arm64_fdt_default_cfg(struct arm64_fdt_cfg *cfg, uint64_t ram_size,
			   unsigned nr_cpus)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ram_base = ARM64_RAM_BASE;
	cfg->ram_size = ram_size;
	cfg->nr_cpus = nr_cpus;
	for (unsigned i = 0; i < nr_cpus && i < ARM64_MAX_CPUS; i++)
		cfg->mpidr[i] = arm64_default_mpidr(i);
	cfg->gic_dist = ARM64_GIC_DIST;
	cfg->gic_dist_size = ARM64_GIC_DIST_SIZE;
	cfg->gic_redist = ARM64_GIC_REDIST;
	cfg->gic_redist_size = (uint64_t)nr_cpus * ARM64_GIC_REDIST_SIZE;
	cfg->gic_its = ARM64_GIC_ITS;
	cfg->gic_its_size = ARM64_GIC_ITS_SIZE;
	cfg->uart = ARM64_UART;
	cfg->uart_size = ARM64_UART_SIZE;
	cfg->uart_spi = ARM64_SPI_UART;
	cfg->uart_clock = ARM64_UART_CLOCK;
	cfg->rtc = ARM64_RTC;
	cfg->rtc_size = ARM64_RTC_SIZE;
	cfg->rtc_spi = ARM64_SPI_RTC;
	cfg->pci_ecam = ARM64_PCI_ECAM;
	cfg->pci_ecam_size = ARM64_PCI_ECAM_SIZE;
	cfg->pci_buses = ARM64_PCI_ECAM_BUSES;
	cfg->pci_mmio = ARM64_PCI_MMIO;
	cfg->pci_mmio_size = ARM64_PCI_MMIO_SIZE;
	cfg->pci_io = ARM64_PCI_IO;
	cfg->pci_io_size = ARM64_PCI_IO_SIZE;
	cfg->pci_spi_first = ARM64_SPI_PCI_FIRST;
	cfg->timer_ppi[0] = ARM64_PPI_TIMER_SECURE;
	cfg->timer_ppi[1] = ARM64_PPI_TIMER_NONSECURE;
	cfg->timer_ppi[2] = ARM64_PPI_TIMER_VIRT;
	cfg->timer_ppi[3] = ARM64_PPI_TIMER_HYP;
}

/* ---- property helpers: big-endian cells into a small array ---- */

struct cells {
	fdt32_t c[256];
	unsigned n;
};

static void put32(struct cells *p, uint32_t v)
{
	if (p->n < sizeof(p->c) / sizeof(p->c[0]))
		p->c[p->n] = cpu_to_fdt32(v);
	p->n++; /* an overflow is caught by prop_cells */
}

static void put64(struct cells *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p, (uint32_t)v);
}

static int prop_cells(void *fdt, const char *name, const struct cells *p)
{
	if (p->n > sizeof(p->c) / sizeof(p->c[0]))
		return -FDT_ERR_INTERNAL;
	return fdt_property(fdt, name, p->c, p->n * sizeof(fdt32_t));
}

/* reg = <addr size> with 2 address and 2 size cells. */
static int prop_reg(void *fdt, uint64_t addr, uint64_t size)
{
	struct cells p = { .n = 0 };

	put64(&p, addr);
	put64(&p, size);
	return prop_cells(fdt, "reg", &p);
}

/* interrupts = <type number flags>. */
static int prop_irq(void *fdt, uint32_t type, uint32_t nr, uint32_t flags)
{
	struct cells p = { .n = 0 };

	put32(&p, type);
	put32(&p, nr);
	put32(&p, flags);
	return prop_cells(fdt, "interrupts", &p);
}

/* Begin a node named name@addr. */
static int begin_at(void *fdt, const char *name, uint64_t addr)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s@%llx", name, (unsigned long long)addr);
	return fdt_begin_node(fdt, buf);
}

/* Every step returns a libfdt error (< 0) or 0; TRY stops at the first. */
#define TRY(x)                                                                 \
	do {                                                                   \
		int r_ = (x);                                                  \
		if (r_ < 0)                                                    \
			return r_;                                             \
	} while (0)

/* ---- the nodes ---- */

static int add_chosen(void *fdt, const struct arm64_fdt_cfg *c)
{
	char path[64];

	snprintf(path, sizeof(path), "/uart@%llx", (unsigned long long)c->uart);
	TRY(fdt_begin_node(fdt, "chosen"));
	TRY(fdt_property_string(fdt, "bootargs", c->bootargs ? c->bootargs : ""));
	TRY(fdt_property_string(fdt, "stdout-path", path));
	if (c->initrd_end > c->initrd_start) {
		TRY(fdt_property_u64(fdt, "linux,initrd-start", c->initrd_start));
		TRY(fdt_property_u64(fdt, "linux,initrd-end", c->initrd_end));
	}
	TRY(fdt_end_node(fdt));

	TRY(fdt_begin_node(fdt, "aliases"));
	TRY(fdt_property_string(fdt, "serial0", path));
	return fdt_end_node(fdt);
}

static int add_memory(void *fdt, const struct arm64_fdt_cfg *c)
{
	TRY(begin_at(fdt, "memory", c->ram_base));
	TRY(fdt_property_string(fdt, "device_type", "memory"));
	TRY(prop_reg(fdt, c->ram_base, c->ram_size));
	return fdt_end_node(fdt);
}

/* /cpus: reg of each cpu is its MPIDR's affinity fields; one address cell
 * suffices unless some Aff3 is set. */
static int add_cpus(void *fdt, const struct arm64_fdt_cfg *c)
{
	unsigned acells = 1;

	for (unsigned i = 0; i < c->nr_cpus; i++)
		if ((c->mpidr[i] & MPIDR_AFF_MASK) >> 32)
			acells = 2;
	TRY(fdt_begin_node(fdt, "cpus"));
	TRY(fdt_property_u32(fdt, "#address-cells", acells));
	TRY(fdt_property_u32(fdt, "#size-cells", 0));
	for (unsigned i = 0; i < c->nr_cpus; i++) {
		uint64_t id = c->mpidr[i] & MPIDR_AFF_MASK;

		TRY(begin_at(fdt, "cpu", id));
		TRY(fdt_property_string(fdt, "device_type", "cpu"));
		TRY(fdt_property_string(fdt, "compatible", "arm,arm-v8"));
		TRY(fdt_property_string(fdt, "enable-method", "psci"));
		if (acells == 2)
			TRY(fdt_property_u64(fdt, "reg", id));
		else
			TRY(fdt_property_u32(fdt, "reg", (uint32_t)id));
		TRY(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

static int add_psci(void *fdt)
{
	static const char compat[] = "arm,psci-0.2\0arm,psci";

	TRY(fdt_begin_node(fdt, "psci"));
	TRY(fdt_property(fdt, "compatible", compat, sizeof(compat)));
	TRY(fdt_property_string(fdt, "method", "hvc"));
	TRY(fdt_property_u32(fdt, "cpu_suspend", PSCI_CPU_SUSPEND));
	TRY(fdt_property_u32(fdt, "cpu_off", PSCI_CPU_OFF));
	TRY(fdt_property_u32(fdt, "cpu_on", PSCI_CPU_ON));
	TRY(fdt_property_u32(fdt, "migrate", PSCI_MIGRATE));
	return fdt_end_node(fdt);
}

static int add_gic(void *fdt, const struct arm64_fdt_cfg *c)
{
	struct cells reg = { .n = 0 };

	put64(&reg, c->gic_dist);
	put64(&reg, c->gic_dist_size);
	put64(&reg, c->gic_redist);
	put64(&reg, c->gic_redist_size);
	TRY(begin_at(fdt, "intc", c->gic_dist));
	TRY(fdt_property_string(fdt, "compatible", "arm,gic-v3"));
	TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
	TRY(fdt_property_u32(fdt, "#interrupt-cells", 3));
	TRY(prop_cells(fdt, "reg", &reg));
	TRY(fdt_property_u32(fdt, "#address-cells", 2));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property(fdt, "ranges", NULL, 0));
	TRY(fdt_property_u32(fdt, "phandle", ARM64_PHANDLE_GIC));
	if (c->gic_its_size) {
		TRY(begin_at(fdt, "its", c->gic_its));
		TRY(fdt_property_string(fdt, "compatible", "arm,gic-v3-its"));
		TRY(fdt_property(fdt, "msi-controller", NULL, 0));
		TRY(fdt_property_u32(fdt, "#msi-cells", 1));
		TRY(prop_reg(fdt, c->gic_its, c->gic_its_size));
		TRY(fdt_property_u32(fdt, "phandle", ARM64_PHANDLE_ITS));
		TRY(fdt_end_node(fdt));
	}
	return fdt_end_node(fdt);
}

/* The architected timer: level-low PPIs, as QEMU's virt machine describes
 * them; always-on because a VM has no power state that stops it. */
static int add_timer(void *fdt, const struct arm64_fdt_cfg *c)
{
	struct cells irq = { .n = 0 };

	for (unsigned i = 0; i < 4; i++) {
		put32(&irq, GIC_PPI);
		put32(&irq, c->timer_ppi[i]);
		put32(&irq, IRQ_LEVEL_LOW);
	}
	TRY(fdt_begin_node(fdt, "timer"));
	TRY(fdt_property_string(fdt, "compatible", "arm,armv8-timer"));
	TRY(prop_cells(fdt, "interrupts", &irq));
	TRY(fdt_property(fdt, "always-on", NULL, 0));
	return fdt_end_node(fdt);
}

static int add_uart(void *fdt, const struct arm64_fdt_cfg *c)
{
	TRY(begin_at(fdt, "uart", c->uart));
	TRY(fdt_property_string(fdt, "compatible", "ns16550a"));
	TRY(prop_reg(fdt, c->uart, c->uart_size));
	TRY(prop_irq(fdt, GIC_SPI, c->uart_spi, IRQ_LEVEL_HIGH));
	TRY(fdt_property_u32(fdt, "clock-frequency", c->uart_clock));
	TRY(fdt_property_u32(fdt, "reg-shift", 0));
	TRY(fdt_property_u32(fdt, "reg-io-width", 1));
	return fdt_end_node(fdt);
}

static int add_rtc(void *fdt, const struct arm64_fdt_cfg *c)
{
	static const char compat[] = "arm,pl031\0arm,primecell";

	/* AMBA devices are probed only with their bus clock. */
	TRY(fdt_begin_node(fdt, "apb-pclk"));
	TRY(fdt_property_string(fdt, "compatible", "fixed-clock"));
	TRY(fdt_property_u32(fdt, "#clock-cells", 0));
	TRY(fdt_property_u32(fdt, "clock-frequency", APB_CLK_HZ));
	TRY(fdt_property_string(fdt, "clock-output-names", "clk24mhz"));
	TRY(fdt_property_u32(fdt, "phandle", ARM64_PHANDLE_APB_CLK));
	TRY(fdt_end_node(fdt));

	TRY(begin_at(fdt, "pl031", c->rtc));
	TRY(fdt_property(fdt, "compatible", compat, sizeof(compat)));
	TRY(prop_reg(fdt, c->rtc, c->rtc_size));
	TRY(prop_irq(fdt, GIC_SPI, c->rtc_spi, IRQ_LEVEL_HIGH));
	TRY(fdt_property_u32(fdt, "clocks", ARM64_PHANDLE_APB_CLK));
	TRY(fdt_property_string(fdt, "clock-names", "apb_pclk"));
	return fdt_end_node(fdt);
}

/* The ECAM host bridge. interrupt-map: only the low two bits of the
 * device number and the pin matter (the mask), and pin p (1 = INTA#) of
 * slot s is SPI first + (s + p - 1) % 4: the usual rotation, which gives
 * INTA# of slot s SPI first + s % 4. */
static int add_pci(void *fdt, const struct arm64_fdt_cfg *c)
{
	struct cells ranges = { .n = 0 }, map = { .n = 0 }, mask = { .n = 0 };
	struct cells bus_range = { .n = 0 }, msi = { .n = 0 };

	put32(&ranges, PCI_SPACE_IO);
	put64(&ranges, 0);
	put64(&ranges, c->pci_io);
	put64(&ranges, c->pci_io_size);
	put32(&ranges, PCI_SPACE_MEM32);
	put64(&ranges, c->pci_mmio);
	put64(&ranges, c->pci_mmio);
	put64(&ranges, c->pci_mmio_size);

	for (unsigned slot = 0; slot < 4; slot++) {
		for (unsigned pin = 1; pin <= 4; pin++) {
			put32(&map, slot << 11); /* phys.hi: device number */
			put64(&map, 0);
			put32(&map, pin);
			put32(&map, ARM64_PHANDLE_GIC);
			put64(&map, 0); /* the GIC's unit address (2 cells) */
			put32(&map, GIC_SPI);
			put32(&map, c->pci_spi_first + (slot + pin - 1) % 4);
			put32(&map, IRQ_LEVEL_HIGH);
		}
	}
	put32(&mask, 3 << 11);
	put64(&mask, 0);
	put32(&mask, 7);

	put32(&bus_range, 0);
	put32(&bus_range, c->pci_buses - 1);

	TRY(begin_at(fdt, "pcie", c->pci_ecam));
	TRY(fdt_property_string(fdt, "compatible", "pci-host-ecam-generic"));
	TRY(fdt_property_string(fdt, "device_type", "pci"));
	TRY(prop_reg(fdt, c->pci_ecam, c->pci_ecam_size));
	TRY(prop_cells(fdt, "bus-range", &bus_range));
	TRY(fdt_property_u32(fdt, "linux,pci-domain", 0));
	TRY(fdt_property_u32(fdt, "#address-cells", 3));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property_u32(fdt, "#interrupt-cells", 1));
	TRY(prop_cells(fdt, "ranges", &ranges));
	TRY(prop_cells(fdt, "interrupt-map-mask", &mask));
	TRY(prop_cells(fdt, "interrupt-map", &map));
	if (c->gic_its_size) {
		/* requester IDs 0-0xffff are ITS device IDs 0-0xffff */
		put32(&msi, 0);
		put32(&msi, ARM64_PHANDLE_ITS);
		put32(&msi, 0);
		put32(&msi, 0x10000);
		TRY(prop_cells(fdt, "msi-map", &msi));
	}
	TRY(fdt_property(fdt, "dma-coherent", NULL, 0));
	return fdt_end_node(fdt);
}

static int build(const struct arm64_fdt_cfg *c, void *fdt, size_t size)
{
	TRY(fdt_create(fdt, (int)size));
	TRY(fdt_finish_reservemap(fdt));
	TRY(fdt_begin_node(fdt, ""));
	TRY(fdt_property_string(fdt, "compatible", "minivmm,virt"));
	TRY(fdt_property_string(fdt, "model", "minivmm arm64 virtual machine"));
	TRY(fdt_property_u32(fdt, "#address-cells", 2));
	TRY(fdt_property_u32(fdt, "#size-cells", 2));
	TRY(fdt_property_u32(fdt, "interrupt-parent", ARM64_PHANDLE_GIC));
	TRY(add_chosen(fdt, c));
	TRY(add_memory(fdt, c));
	TRY(add_cpus(fdt, c));
	TRY(add_psci(fdt));
	TRY(add_gic(fdt, c));
	TRY(add_timer(fdt, c));
	TRY(add_uart(fdt, c));
	if (c->rtc_size)
		TRY(add_rtc(fdt, c));
	if (c->pci_ecam_size)
		TRY(add_pci(fdt, c));
	TRY(fdt_end_node(fdt));
	return fdt_finish(fdt);
}

int arm64_fdt_build(const struct arm64_fdt_cfg *c, void *buf, size_t size)
{
	int ret;

	if (!c->nr_cpus || c->nr_cpus > ARM64_MAX_CPUS || !c->ram_size ||
	    c->ram_base + c->ram_size < c->ram_base)
		return -EINVAL;
	if (c->pci_ecam_size && (!c->pci_buses || c->pci_buses > 256))
		return -EINVAL;
	if (c->initrd_end != c->initrd_start &&
	    (c->initrd_end < c->initrd_start ||
	     c->initrd_start < c->ram_base ||
	     c->initrd_end > c->ram_base + c->ram_size))
		return -EINVAL;
	if (size > INT32_MAX)
		size = INT32_MAX;
	ret = build(c, buf, size);
	if (ret == -FDT_ERR_NOSPACE)
		return -ENOSPC;
	return ret < 0 ? -EINVAL : 0;
}

int arm64_fdt_load(struct guest_mem *gm, uint64_t gpa, const void *fdt)
{
	uint64_t size;

	if (fdt_check_header(fdt))
		return -EINVAL;
	size = fdt_totalsize(fdt);
	if ((gpa & 7) || size > ARM64_FDT_MAX_SIZE ||
	    (gpa & ~(ARM64_FDT_MAX_SIZE - 1)) !=
		    ((gpa + size - 1) & ~(ARM64_FDT_MAX_SIZE - 1)))
		return -EINVAL;
	return gm_write(gm, gpa, fdt, size);
}

int arm64_fdt_dump(const void *fdt, const char *path, char *err,
		   size_t errlen)
{
	const uint8_t *p = fdt;
	size_t left = fdt_totalsize(fdt);
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	while (left) {
		ssize_t n = write(fd, p, left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		p += n;
		left -= (size_t)n;
	}
	if (close(fd) < 0 && !ret)
		ret = -errno;
out:
	if (ret < 0 && err && errlen)
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
	return ret;
}

int arm64_fdt_place(struct guest_mem *gm, struct arm64_fdt_cfg *fcfg,
		    const char *cmdline, const struct arm64_boot_info *info,
		    const char *dump_path, char *err, size_t errlen)
{
	size_t len = cmdline ? strlen(cmdline) : 0;
	void *buf;
	int ret;

	if (len >= ARM64_CMDLINE_MAX) {
		if (err && errlen)
			snprintf(err, errlen,
				 "--cmdline: %zu bytes, the arm64 kernel takes at most %d",
				 len, ARM64_CMDLINE_MAX - 1);
		return -E2BIG;
	}
	buf = calloc(1, ARM64_FDT_BUF_SIZE);
	if (!buf) {
		if (err && errlen)
			snprintf(err, errlen, "device tree: out of memory");
		return -ENOMEM;
	}
	fcfg->bootargs = cmdline;
	fcfg->initrd_start = info->initrd_start;
	fcfg->initrd_end = info->initrd_end;
	ret = arm64_fdt_build(fcfg, buf, ARM64_FDT_BUF_SIZE);
	if (!ret && fdt_totalsize(buf) > info->fdt_max)
		ret = -E2BIG;
	if (ret < 0) {
		if (err && errlen)
			snprintf(err, errlen, "device tree: cannot build it: %s",
				 strerror(-ret));
		goto out;
	}
	ret = arm64_fdt_load(gm, info->fdt_addr, buf);
	if (ret < 0) {
		if (err && errlen)
			snprintf(err, errlen,
				 "device tree: cannot place it at 0x%llx: %s",
				 (unsigned long long)info->fdt_addr,
				 strerror(-ret));
		goto out;
	}
	if (dump_path) {
		char why[128];

		ret = arm64_fdt_dump(buf, dump_path, why, sizeof(why));
		if (ret < 0 && err && errlen)
			snprintf(err, errlen, "--dump-dtb: %s", why);
	}
out:
	free(buf);
	return ret;
}
