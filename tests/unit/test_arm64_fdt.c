/* SPDX-License-Identifier: MIT
 * Unit tests: the arm64 device tree (boot/arm64/fdt.c), parsed back with
 * libfdt: every node and property the kernel looks for, the cell counts
 * that give them meaning, phandles that resolve; the blob written into
 * guest RAM where booting.rst allows it, and to a file that dtc reads.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libfdt.h>

#include "boot/arm64/fdt.h"

#define MiB (1ULL << 20)
#define RAM (256 * MiB)

static uint8_t buf[ARM64_FDT_BUF_SIZE];

static void build(const struct arm64_fdt_cfg *cfg)
{
	assert_int_equal(arm64_fdt_build(cfg, buf, sizeof(buf)), 0);
	assert_int_equal(fdt_check_header(buf), 0);
	assert_true(fdt_totalsize(buf) <= sizeof(buf));
}

static struct arm64_fdt_cfg default_cfg(unsigned cpus)
{
	struct arm64_fdt_cfg c;

	arm64_fdt_default_cfg(&c, RAM, cpus);
	c.bootargs = "console=ttyS0 quiet";
	c.initrd_start = ARM64_RAM_BASE + 200 * MiB;
	c.initrd_end = ARM64_RAM_BASE + 200 * MiB + 12345;
	return c;
}

static int node(const char *path)
{
	int off = fdt_path_offset(buf, path);

	if (off < 0)
		fail_msg("no node %s: %s", path, fdt_strerror(off));
	return off;
}

/* Property name of node off as n big-endian cells (exactly n). */
static const fdt32_t *cells(int off, const char *name, int n)
{
	int len;
	const fdt32_t *p = fdt_getprop(buf, off, name, &len);

	if (!p)
		fail_msg("no property %s", name);
	if (len != n * 4)
		fail_msg("property %s: %d bytes, expected %d", name, len, n * 4);
	return p;
}

static uint32_t u32(int off, const char *name)
{
	return fdt32_to_cpu(cells(off, name, 1)[0]);
}

static uint64_t cell64(const fdt32_t *p)
{
	return (uint64_t)fdt32_to_cpu(p[0]) << 32 | fdt32_to_cpu(p[1]);
}

static const char *str(int off, const char *name)
{
	const char *s = fdt_getprop(buf, off, name, NULL);

	if (!s)
		fail_msg("no property %s", name);
	return s;
}

static void has(int off, const char *name)
{
	if (!fdt_getprop(buf, off, name, NULL))
		fail_msg("no property %s", name);
}

/* reg = <addr size> in 2 + 2 cells. */
static void reg_is(int off, uint64_t addr, uint64_t size)
{
	const fdt32_t *p = cells(off, "reg", 4);

	assert_int_equal(cell64(p), addr);
	assert_int_equal(cell64(p + 2), size);
}

/* The node's #address-cells/#size-cells as the kernel reads them for its
 * children. */
static void cells_are(int off, int acells, int scells)
{
	assert_int_equal(fdt_address_cells(buf, off), acells);
	assert_int_equal(fdt_size_cells(buf, off), scells);
}

/* ---- the whole tree ---- */

static void test_root_memory_chosen(void **state)
{
	struct arm64_fdt_cfg c = default_cfg(2);
	int root, ch, uart, mem;
	const char *stdout_path;

	(void)state;
	build(&c);
	root = node("/");
	cells_are(root, 2, 2);
	assert_int_equal(u32(root, "interrupt-parent"), ARM64_PHANDLE_GIC);
	has(root, "compatible");

	mem = node("/memory@40000000");
	assert_string_equal(str(mem, "device_type"), "memory");
	reg_is(mem, ARM64_RAM_BASE, RAM);

	ch = node("/chosen");
	assert_string_equal(str(ch, "bootargs"), "console=ttyS0 quiet");
	assert_int_equal(cell64(cells(ch, "linux,initrd-start", 2)),
			 c.initrd_start);
	assert_int_equal(cell64(cells(ch, "linux,initrd-end", 2)),
			 c.initrd_end);
	stdout_path = str(ch, "stdout-path");
	uart = node(stdout_path);
	assert_int_equal(fdt_node_check_compatible(buf, uart, "ns16550a"), 0);
	assert_string_equal(str(node("/aliases"), "serial0"), stdout_path);
}

static void test_cpus_psci(void **state)
{
	struct arm64_fdt_cfg c = default_cfg(2);
	int cpus, cpu, psci, n = 0;

	(void)state;
	build(&c);
	cpus = node("/cpus");
	cells_are(cpus, 1, 0);
	fdt_for_each_subnode(cpu, buf, cpus) {
		assert_string_equal(str(cpu, "device_type"), "cpu");
		assert_string_equal(str(cpu, "enable-method"), "psci");
		assert_int_equal(fdt_node_check_compatible(buf, cpu, "arm,arm-v8"), 0);
		assert_int_equal(u32(cpu, "reg"), n);
		n++;
	}
	assert_int_equal(n, 2);
	node("/cpus/cpu@0");
	node("/cpus/cpu@1");

	psci = node("/psci");
	assert_int_equal(fdt_node_check_compatible(buf, psci, "arm,psci-0.2"), 0);
	assert_int_equal(fdt_node_check_compatible(buf, psci, "arm,psci"), 0);
	assert_string_equal(str(psci, "method"), "hvc");
	assert_int_equal(u32(psci, "cpu_on"), 0xc4000003);
	assert_int_equal(u32(psci, "cpu_off"), 0x84000002);
}

/* KVM's MPIDRs: vCPU 16 is Aff1 1, Aff0 0; a cpu node's reg and unit
 * address are its affinity; Aff3 needs two address cells. */
static void test_mpidr(void **state)
{
	struct arm64_fdt_cfg c = default_cfg(20);
	int cpus, cpu;

	(void)state;
	assert_int_equal(arm64_default_mpidr(0), 0);
	assert_int_equal(arm64_default_mpidr(15), 0xf);
	assert_int_equal(arm64_default_mpidr(16), 0x100);
	assert_int_equal(arm64_default_mpidr(4096 + 17), 0x10101);
	build(&c);
	cpu = node("/cpus/cpu@103");
	assert_int_equal(u32(cpu, "reg"), 0x103);

	c.nr_cpus = 2;
	c.mpidr[1] = 0x100000000ULL | 0x80000000ULL; /* Aff3 1, RES1 bit 31 */
	build(&c);
	cpus = node("/cpus");
	cells_are(cpus, 2, 0);
	cpu = node("/cpus/cpu@100000000");
	assert_int_equal(cell64(cells(cpu, "reg", 2)), 0x100000000ULL);
	assert_int_equal(cell64(cells(node("/cpus/cpu@0"), "reg", 2)), 0);
}

static void test_gic_its_timer(void **state)
{
	struct arm64_fdt_cfg c = default_cfg(3);
	int gic, its, timer;
	const fdt32_t *p;

	(void)state;
	build(&c);
	gic = fdt_node_offset_by_phandle(buf, ARM64_PHANDLE_GIC);
	assert_true(gic >= 0);
	assert_int_equal(gic, node("/intc@8000000"));
	assert_int_equal(fdt_node_check_compatible(buf, gic, "arm,gic-v3"), 0);
	has(gic, "interrupt-controller");
	assert_int_equal(u32(gic, "#interrupt-cells"), 3);
	cells_are(gic, 2, 2);
	has(gic, "ranges");
	p = cells(gic, "reg", 8);
	assert_int_equal(cell64(p), ARM64_GIC_DIST);
	assert_int_equal(cell64(p + 2), ARM64_GIC_DIST_SIZE);
	assert_int_equal(cell64(p + 4), ARM64_GIC_REDIST);
	assert_int_equal(cell64(p + 6), 3 * ARM64_GIC_REDIST_SIZE);

	its = fdt_node_offset_by_phandle(buf, ARM64_PHANDLE_ITS);
	assert_true(its >= 0);
	assert_int_equal(fdt_parent_offset(buf, its), gic);
	assert_int_equal(fdt_node_check_compatible(buf, its, "arm,gic-v3-its"), 0);
	has(its, "msi-controller");
	assert_int_equal(u32(its, "#msi-cells"), 1);
	reg_is(its, ARM64_GIC_ITS, ARM64_GIC_ITS_SIZE);

	timer = node("/timer");
	assert_int_equal(fdt_node_check_compatible(buf, timer, "arm,armv8-timer"), 0);
	p = cells(timer, "interrupts", 12);
	for (int i = 0; i < 4; i++) {
		static const uint32_t ppi[4] = { 13, 14, 11, 10 };
		assert_int_equal(fdt32_to_cpu(p[3 * i]), 1); /* PPI */
		assert_int_equal(fdt32_to_cpu(p[3 * i + 1]), ppi[i]);
		assert_int_equal(fdt32_to_cpu(p[3 * i + 2]), 8); /* level-low */
	}
}

static void test_uart_rtc(void **state)
{
	struct arm64_fdt_cfg c = default_cfg(1);
	int uart, rtc, clk;
	const fdt32_t *p;

	(void)state;
	build(&c);
	uart = node("/uart@9000000");
	reg_is(uart, ARM64_UART, ARM64_UART_SIZE);
	p = cells(uart, "interrupts", 3);
	assert_int_equal(fdt32_to_cpu(p[0]), 0); /* SPI */
	assert_int_equal(fdt32_to_cpu(p[1]), ARM64_SPI_UART);
	assert_int_equal(fdt32_to_cpu(p[2]), 4); /* level-high */
	assert_int_equal(u32(uart, "clock-frequency"), 1843200);
	assert_int_equal(u32(uart, "reg-shift"), 0);

	rtc = node("/pl031@9010000");
	assert_int_equal(fdt_node_check_compatible(buf, rtc, "arm,pl031"), 0);
	assert_int_equal(fdt_node_check_compatible(buf, rtc, "arm,primecell"), 0);
	reg_is(rtc, ARM64_RTC, ARM64_RTC_SIZE);
	p = cells(rtc, "interrupts", 3);
	assert_int_equal(fdt32_to_cpu(p[1]), ARM64_SPI_RTC);
	assert_string_equal(str(rtc, "clock-names"), "apb_pclk");
	clk = fdt_node_offset_by_phandle(buf, u32(rtc, "clocks"));
	assert_true(clk >= 0);
	assert_int_equal(fdt_node_check_compatible(buf, clk, "fixed-clock"), 0);
	assert_int_equal(u32(clk, "#clock-cells"), 0);
	assert_true(u32(clk, "clock-frequency") > 0);

	/* without an RTC: no node, no clock */
	c.rtc_size = 0;
	build(&c);
	assert_true(fdt_path_offset(buf, "/pl031@9010000") < 0);
	assert_true(fdt_path_offset(buf, "/apb-pclk") < 0);
}

static void test_pci(void **state)
{
	struct arm64_fdt_cfg c = default_cfg(1);
	int pci, gic;
	const fdt32_t *p;

	(void)state;
	build(&c);
	pci = node("/pcie@3f000000");
	assert_int_equal(fdt_node_check_compatible(buf, pci, "pci-host-ecam-generic"), 0);
	assert_string_equal(str(pci, "device_type"), "pci");
	reg_is(pci, ARM64_PCI_ECAM, 16 * MiB);
	p = cells(pci, "bus-range", 2);
	assert_int_equal(fdt32_to_cpu(p[0]), 0);
	assert_int_equal(fdt32_to_cpu(p[1]), 15);
	cells_are(pci, 3, 2);
	assert_int_equal(u32(pci, "#interrupt-cells"), 1);
	has(pci, "dma-coherent");

	/* ranges: (3 PCI cells, 2 CPU cells, 2 size cells) x 2 */
	p = cells(pci, "ranges", 14);
	assert_int_equal(fdt32_to_cpu(p[0]), 0x01000000); /* I/O */
	assert_int_equal(fdt32_to_cpu(p[1]) | fdt32_to_cpu(p[2]), 0);
	assert_int_equal(cell64(p + 3), ARM64_PCI_IO);
	assert_int_equal(cell64(p + 5), ARM64_PCI_IO_SIZE);
	assert_int_equal(fdt32_to_cpu(p[7]), 0x02000000); /* 32-bit memory */
	assert_int_equal(cell64(p + 8), ARM64_PCI_MMIO);
	assert_int_equal(cell64(p + 10), ARM64_PCI_MMIO);
	assert_int_equal(cell64(p + 12), ARM64_PCI_MMIO_SIZE);
	assert_true(ARM64_PCI_MMIO + ARM64_PCI_MMIO_SIZE <= ARM64_PCI_IO);

	/* interrupt-map: 4 slots x 4 pins, each (3 + 1 child cells, the
	 * parent's phandle, 2 address + 3 interrupt cells of the GIC) */
	p = cells(pci, "interrupt-map-mask", 4);
	assert_int_equal(fdt32_to_cpu(p[0]), 0x1800);
	assert_int_equal(fdt32_to_cpu(p[3]), 7);
	gic = fdt_node_offset_by_phandle(buf, ARM64_PHANDLE_GIC);
	assert_int_equal(fdt_address_cells(buf, gic), 2);
	p = cells(pci, "interrupt-map", 16 * 10);
	for (unsigned slot = 0; slot < 4; slot++) {
		for (unsigned pin = 1; pin <= 4; pin++, p += 10) {
			assert_int_equal(fdt32_to_cpu(p[0]), slot << 11);
			assert_int_equal(fdt32_to_cpu(p[3]), pin);
			assert_int_equal(fdt32_to_cpu(p[4]), ARM64_PHANDLE_GIC);
			assert_int_equal(fdt32_to_cpu(p[7]), 0); /* SPI */
			assert_int_equal(fdt32_to_cpu(p[8]),
					 ARM64_SPI_PCI_FIRST + (slot + pin - 1) % 4);
			assert_int_equal(fdt32_to_cpu(p[9]), 4); /* level-high */
		}
	}
	/* INTA# of slot s is SPI 3 + s % 4, the wiring pci.c drives */
	p = cells(pci, "interrupt-map", 16 * 10);
	for (unsigned slot = 0; slot < 4; slot++)
		assert_int_equal(fdt32_to_cpu(p[slot * 40 + 8]), 3 + slot);

	/* MSIs: requester ID = ITS device ID */
	p = cells(pci, "msi-map", 4);
	assert_int_equal(fdt32_to_cpu(p[0]), 0);
	assert_int_equal(fdt32_to_cpu(p[1]), ARM64_PHANDLE_ITS);
	assert_int_equal(fdt32_to_cpu(p[2]), 0);
	assert_int_equal(fdt32_to_cpu(p[3]), 0x10000);

	/* without an ITS: no msi-map, no ITS node */
	c.gic_its_size = 0;
	build(&c);
	assert_null(fdt_getprop(buf, node("/pcie@3f000000"), "msi-map", NULL));
	assert_true(fdt_node_offset_by_phandle(buf, ARM64_PHANDLE_ITS) < 0);
	/* without PCI */
	c.pci_ecam_size = 0;
	build(&c);
	assert_true(fdt_path_offset(buf, "/pcie@3f000000") < 0);
}

/* Every phandle a property names resolves to a node. */
static void test_phandles_resolve(void **state)
{
	struct arm64_fdt_cfg c = default_cfg(2);
	static const struct { const char *path, *prop; int cell; } refs[] = {
		{ "/", "interrupt-parent", 0 },
		{ "/pl031@9010000", "clocks", 0 },
		{ "/pcie@3f000000", "interrupt-map", 4 },
		{ "/pcie@3f000000", "msi-map", 1 },
	};

	(void)state;
	build(&c);
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		const fdt32_t *p = fdt_getprop(buf, node(refs[i].path),
					       refs[i].prop, NULL);
		assert_non_null(p);
		assert_true(fdt_node_offset_by_phandle(
				    buf, fdt32_to_cpu(p[refs[i].cell])) >= 0);
	}
}

static void test_no_initrd_no_bootargs(void **state)
{
	struct arm64_fdt_cfg c;
	int ch;

	(void)state;
	arm64_fdt_default_cfg(&c, RAM, 1);
	build(&c);
	ch = node("/chosen");
	assert_string_equal(str(ch, "bootargs"), "");
	assert_null(fdt_getprop(buf, ch, "linux,initrd-start", NULL));
	assert_null(fdt_getprop(buf, ch, "linux,initrd-end", NULL));
}

/* 64 vCPUs and a 4 KiB command line fit the documented buffer; a small
 * buffer gives -ENOSPC; bad configurations -EINVAL. */
static void test_limits(void **state)
{
	struct arm64_fdt_cfg c = default_cfg(ARM64_MAX_CPUS);
	static char args[4097];
	uint8_t small[512];

	(void)state;
	memset(args, 'x', sizeof(args) - 1);
	c.bootargs = args;
	build(&c);
	node("/cpus/cpu@30f"); /* vCPU 63 */
	assert_int_equal(arm64_fdt_build(&c, small, sizeof(small)), -ENOSPC);

	c = default_cfg(0);
	assert_int_equal(arm64_fdt_build(&c, buf, sizeof(buf)), -EINVAL);
	c = default_cfg(ARM64_MAX_CPUS + 1);
	assert_int_equal(arm64_fdt_build(&c, buf, sizeof(buf)), -EINVAL);
	c = default_cfg(1);
	c.initrd_end = ARM64_RAM_BASE + RAM + 1;
	assert_int_equal(arm64_fdt_build(&c, buf, sizeof(buf)), -EINVAL);
	c = default_cfg(1);
	c.initrd_start = ARM64_RAM_BASE - 4096;
	assert_int_equal(arm64_fdt_build(&c, buf, sizeof(buf)), -EINVAL);
	c = default_cfg(1);
	c.initrd_end = c.initrd_start - 1;
	assert_int_equal(arm64_fdt_build(&c, buf, sizeof(buf)), -EINVAL);
	c = default_cfg(1);
	c.pci_buses = 0;
	assert_int_equal(arm64_fdt_build(&c, buf, sizeof(buf)), -EINVAL);
}

/* Into guest RAM: 8-byte aligned, within one 2 MiB block, inside RAM. */
static void test_load(void **state)
{
	struct arm64_fdt_cfg c = default_cfg(2);
	struct guest_mem gm = { .nr = 0 };
	uint64_t size = 8 * MiB, top = ARM64_RAM_BASE + size - 2 * MiB;
	uint8_t *ram = calloc(1, size);

	(void)state;
	assert_non_null(ram);
	assert_int_equal(gm_add_region(&gm, ARM64_RAM_BASE, size, ram), 0);
	build(&c);
	assert_int_equal(arm64_fdt_load(&gm, top, buf), 0);
	assert_memory_equal(ram + (top - ARM64_RAM_BASE), buf,
			    fdt_totalsize(buf));
	assert_int_equal(arm64_fdt_load(&gm, top + 4, buf), -EINVAL);
	/* ends past the 2 MiB block */
	assert_int_equal(arm64_fdt_load(&gm, top - 8, buf), -EINVAL);
	assert_int_equal(arm64_fdt_load(&gm, ARM64_RAM_BASE + size, buf),
			 -EFAULT);
	/* not a tree */
	memset(ram, 0, 64);
	assert_int_equal(arm64_fdt_load(&gm, top, ram), -EINVAL);
	free(ram);
}

/* --dump-dtb's writer, and dtc reading the file back without a warning. */
static void test_dump_dtc(void **state)
{
	struct arm64_fdt_cfg c = default_cfg(2);
	char path[] = "/tmp/minivmm-fdt-test-XXXXXX", cmd[512], err[128];
	char out[64], line[512];
	FILE *f;
	int fd, status, warnings = 0;

	(void)state;
	build(&c);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(arm64_fdt_dump(buf, path, err, sizeof(err)), 0);
	assert_int_equal(arm64_fdt_dump(buf, "/nonexistent/x.dtb", err,
					sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/x.dtb: No such file or directory");
	if (system("command -v dtc >/dev/null 2>&1") != 0) {
		unlink(path);
		skip();
		return;
	}
	snprintf(out, sizeof(out), "%s.dts", path);
	snprintf(cmd, sizeof(cmd), "dtc -I dtb -O dts -o %s %s 2>&1", out,
		 path);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		fprintf(stderr, "dtc: %s", line);
		warnings++;
	}
	status = pclose(f);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(warnings, 0);
	f = fopen(out, "r");
	assert_non_null(f);
	status = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "compatible = \"pci-host-ecam-generic\""))
			status = 1;
	fclose(f);
	assert_int_equal(status, 1);
	unlink(out);
	unlink(path);
}

/* The last boot step: the tree for the loader's ranges, in RAM at the
 * loader's place, and dumped when asked; a command line the kernel would
 * cut is refused. */
static void test_place(void **state)
{
	struct arm64_fdt_cfg c;
	struct arm64_boot_info info = { 0 };
	struct guest_mem gm = { .nr = 0 };
	uint64_t size = 64 * MiB;
	uint8_t *ram = calloc(1, size), *tree;
	char err[256], path[] = "/tmp/minivmm-fdt-place-XXXXXX";
	static char long_args[ARM64_CMDLINE_MAX + 1];
	FILE *f;
	int fd, ch;

	(void)state;
	assert_non_null(ram);
	assert_int_equal(gm_add_region(&gm, ARM64_RAM_BASE, size, ram), 0);
	info.fdt_addr = ARM64_RAM_BASE + size - 2 * MiB;
	info.fdt_max = 2 * MiB;
	info.initrd_start = ARM64_RAM_BASE + 40 * MiB;
	info.initrd_end = info.initrd_start + 4321;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);

	arm64_fdt_default_cfg(&c, size, 2);
	assert_int_equal(arm64_fdt_place(&gm, &c, "console=ttyS0 rdinit=/init",
					 &info, path, err, sizeof(err)),
			 0);
	tree = ram + (info.fdt_addr - ARM64_RAM_BASE);
	assert_int_equal(fdt_check_header(tree), 0);
	memcpy(buf, tree, fdt_totalsize(tree));
	ch = node("/chosen");
	assert_string_equal(str(ch, "bootargs"), "console=ttyS0 rdinit=/init");
	assert_int_equal(cell64(cells(ch, "linux,initrd-start", 2)),
			 info.initrd_start);
	assert_int_equal(cell64(cells(ch, "linux,initrd-end", 2)),
			 info.initrd_end);
	/* the dump is the same blob */
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, sizeof(buf), f), fdt_totalsize(tree));
	fclose(f);
	assert_memory_equal(buf, tree, fdt_totalsize(tree));
	unlink(path);

	/* 2047 bytes pass, 2048 do not */
	memset(long_args, 'a', ARM64_CMDLINE_MAX - 1);
	assert_int_equal(arm64_fdt_place(&gm, &c, long_args, &info, NULL, err,
					 sizeof(err)),
			 0);
	long_args[ARM64_CMDLINE_MAX - 1] = 'a';
	assert_int_equal(arm64_fdt_place(&gm, &c, long_args, &info, NULL, err,
					 sizeof(err)),
			 -E2BIG);
	assert_string_equal(err, "--cmdline: 2048 bytes, the arm64 kernel takes at most 2047");
	/* a dump that cannot be written */
	assert_int_equal(arm64_fdt_place(&gm, &c, NULL, &info, "/nonexistent/t.dtb",
					 err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "--dump-dtb: /nonexistent/t.dtb: No such file or directory");
	/* a place outside RAM */
	info.fdt_addr = ARM64_RAM_BASE + size;
	assert_int_equal(arm64_fdt_place(&gm, &c, NULL, &info, NULL, err,
					 sizeof(err)),
			 -EFAULT);
	assert_non_null(strstr(err, "cannot place it"));
	free(ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_memory_chosen),
		cmocka_unit_test(test_cpus_psci),
		cmocka_unit_test(test_mpidr),
		cmocka_unit_test(test_gic_its_timer),
		cmocka_unit_test(test_uart_rtc),
		cmocka_unit_test(test_pci),
		cmocka_unit_test(test_phandles_resolve),
		cmocka_unit_test(test_no_initrd_no_bootargs),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_dump_dtc),
		cmocka_unit_test(test_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
