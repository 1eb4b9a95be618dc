/* SPDX-License-Identifier: MIT
 * machine_x86.c - the PC around the x86 vCPUs (the machine hooks of
 * vmm/arch.h): the legacy devices on the port bus (COM1, i8042, RTC, ACPI
 * PM, the absent ports Linux probes), the PCI host's windows and
 * configuration mechanism #1, the kernel with the MP and ACPI tables, and
 * the boot vCPU's entry state.
 */
#include "vmm/arch.h"
#include "vmm/log.h"
#include "vmm/machine.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"
#include "x86.h"
#include "boot/x86/acpi.h"
#include "boot/x86/boot.h"
#include "boot/x86/fw_cfg_x86.h"
#include "boot/x86/mptable.h"
#include "devices/debugcon.h"
#include "devices/rom.h"
#include "devices/fw_cfg.h"
#include "devices/i8042.h"
#include "devices/pci.h"
#include "devices/rtc.h"
#include "devices/uart16550.h"
#include "devices/x86/acpi_pm.h"
#include "devices/x86/i440fx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- checks that need no KVM ---- */

/* Linux kernels cannot run on PVM's /dev/kvm (its instruction emulator
 * stops at int3, xrstor, clac...). A Linux image is a bzImage whose header
 * names a kernel version, or an ELF vmlinux containing "Linux version". */
static bool image_is_linux(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	bool linux_image = false;
	uint8_t *p;

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < 0x210) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return false;
	if (!memcmp(p + 0x202, "HdrS", 4)) {
		/* kernel_version (0x20e): offset - 0x200 of a version string */
		linux_image = (p[0x20e] | p[0x20f]) != 0;
	} else if (!memcmp(p, "\177ELF", 4)) {
		linux_image = memmem(p, (size_t)st.st_size, "Linux version ", 14) != NULL;
	}
	munmap(p, (size_t)st.st_size);
	return linux_image;
}

int arch_check_image(const struct machine_cfg *cfg)
{
	if (!kvm_is_pvm() || !cfg->kernel || getenv("MINIVMM_ALLOW_PVM"))
		return 0;
	if (!image_is_linux(cfg->kernel))
		return 0;
	pr_err("/dev/kvm is PVM (software KVM), whose instruction emulator "
	       "cannot run a Linux kernel; run minivmm through "
	       "tests/harness/kvm-run (an emulated KVM host) instead");
	return -ENOTSUP;
}

/* ---- the kernel and the firmware tables ---- */

int arch_load_guest(struct vm *vm, const struct machine_cfg *cfg)
{
	struct x86_boot_cfg bc = {
		.kernel = cfg->kernel,
		.initrd = cfg->initrd,
		.cmdline = cfg->cmdline,
		.firmware = cfg->firmware,
	};
	struct acpi_cfg acpi = { .nr_cpus = vm->nr_cpus };
	char err[512] = "";
	int ret;

	x86_ram_split(vm->mem_size, &bc.low_size, &bc.high_size);
	/* Firmware tables: the MP table for kernels without ACPI, ACPI (its
	 * RSDP address goes into boot_params) for everything else. A
	 * --firmware image occupies the BIOS area and brings its own. */
	if (!cfg->firmware &&
	    ((ret = mptable_build(&vm->mem, vm->nr_cpus)) ||
	     (ret = acpi_build(&vm->mem, &acpi, &bc.acpi_rsdp)))) {
		pr_err("cannot build the firmware tables: %s", strerror(-ret));
		return ret;
	}
	ret = x86_boot_load(&vm->mem, &bc, &vm->arch->entry, err, sizeof(err));
	if (ret)
		pr_err("%s", err[0] ? err : strerror(-ret));
	return ret;
}

/* ---- the platform devices ---- */

/* Port 0x80 (POST codes / I/O delay) with the DMA page registers beside it
 * (0x81-0x8f: Linux's DMA code reads 0x87 once at boot), the absent serial
 * ports, and the two Super I/O configuration ports (0x2e/0x2f, 0x4e/0x4f:
 * Debian's generic kernel probes them for a chip; all ones says there is
 * none): accepted, reads as all ones, nothing counted as unhandled. They
 * have no state: the port bus holds them until the VM is destroyed. */
static void ignore_io(void *opaque, uint64_t off, void *data, unsigned len,
		      bool is_write)
{
	(void)opaque;
	(void)off;
	if (!is_write)
		memset(data, 0xff, len);
}

/* Their names for --trace: opaque is the range's name. Port 0x80 is the
 * POST code register; the rest has nothing to name. */
static unsigned ignore_reg_name(void *opaque, uint64_t off, unsigned len,
				bool is_write, char *buf, size_t size)
{
	(void)len;
	(void)is_write;
	snprintf(buf, size, "%s", !strcmp(opaque, "port80") && off == 0 ?
					  "POST" : "(ignored)");
	return 0;
}

/* The PC's legacy devices on the port bus. */
int arch_add_platform_devices(struct vm *vm, struct arch_platform *p)
{
	static const struct { uint16_t port, len; const char *name; } absent[] = {
		{ 0x80, 16, "port80" },
		/* one word each, so that --trace=DEVICE can name them */
		{ 0x2f8, 8, "absent-serial" }, { 0x3e8, 8, "absent-serial" },
		{ 0x2e8, 8, "absent-serial" }, { 0x2e, 2, "absent-superio" },
		{ 0x4e, 2, "absent-superio" },
		/* what a BIOS probes or resets at start-up: the parallel
		 * ports, the two ISA DMA controllers, and System Control Port
		 * A (0x92: reads as A20 on, its fast-reset writes ignored) */
		{ 0x378, 8, "absent-parallel" }, { 0x278, 8, "absent-parallel" },
		{ 0x00, 16, "absent-dma" }, { 0xc0, 32, "absent-dma" },
		{ 0x92, 1, "absent-port92" },
		/* what a bootloader resets before it starts a kernel (GRUB:
		 * the floppy motor, the VGA text mode): the floppy controller
		 * around the IDE control port 0x3f6, the VGA registers */
		{ 0x3f0, 6, "absent-floppy" }, { 0x3f7, 1, "absent-floppy" },
		{ 0x3c0, 32, "absent-vga" },
		/* the PC/AT math coprocessor's ports (0xf0: clear its busy
		 * latch, 0xf1: reset it), which Linux's real-mode setup
		 * writes when a bootloader enters the kernel at its 16-bit
		 * entry (firmware boots): the FPU is the vCPU's own */
		{ 0xf0, 2, "absent-fpu" },
	};
	const struct uart_cfg com1 = { .name = "com1", .port = 0x3f8,
				       .irq = X86_IRQ_COM1, .tx = p->console_tx,
				       .tx_opaque = p->console_opaque };
	struct acpi_pm *pm;
	struct i8042 *kbd;
	struct rtc *rtc;
	int ret;

	if ((ret = uart_create(vm, &com1, &p->console)) ||
	    (ret = device_list_add(p->devices, &p->console->dev)))
		return machine_create_failed(NULL, "COM1 16550 UART", ret);
	if ((ret = i8042_create(vm, &kbd)) ||
	    (ret = device_list_add(p->devices, &kbd->dev)))
		return machine_create_failed(NULL, "i8042", ret);
	if ((ret = rtc_create(vm, &rtc)) ||
	    (ret = device_list_add(p->devices, &rtc->dev)))
		return machine_create_failed(NULL, "RTC", ret);
	vm->arch->rtc = rtc;
	if ((ret = acpi_pm_create(vm, &pm)) ||
	    (ret = device_list_add(p->devices, &pm->dev)))
		return machine_create_failed(NULL, "ACPI PM", ret);
	vm->arch->pm = pm;
	for (unsigned i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		if ((ret = bus_add(&vm->pio, absent[i].port, absent[i].len,
				   ignore_io, ignore_reg_name,
				   (void *)absent[i].name, absent[i].name)))
			return ret;
	return 0;
}

/* Press the ACPI power button. */
bool arch_power_button(struct vm *vm)
{
	if (!vm->arch || !vm->arch->pm)
		return false;
	acpi_pm_power_button(vm->arch->pm);
	return true;
}

/* --firmware (SeaBIOS): its debug console, its image at the top of 4 GiB,
 * the i440FX host bridge whose PAM registers put it (or the shadow RAM)
 * below 1 MiB, the CMOS memory sizes, and fw_cfg with the memory map, the
 * CPUs, the boot order and the ACPI tables. */
int arch_add_firmware_devices(struct vm *vm, struct arch_platform *p,
			      const struct machine_cfg *cfg,
			      const char *bootorder)
{
	struct x86_fw_cfg_cfg fc = { .nr_cpus = vm->nr_cpus,
				     .sercon_port = 0x3f8,
				     .bootorder = bootorder };
	struct debugcon *dc;
	struct i440fx *pmc;
	struct fw_cfg *fw;
	struct rom *rom;
	int ret;

	x86_ram_split(vm->mem_size, &fc.low_size, &fc.high_size);
	if ((ret = debugcon_create(vm, cfg->debugcon, &dc))) {
		pr_err("--debugcon %s: %s", cfg->debugcon, strerror(-ret));
		return ret;
	}
	if ((ret = device_list_add(p->devices, &dc->dev)))
		return machine_create_failed("--debugcon", "debugcon", ret);
	/* the image also at the top of 4 GiB, where a PC's flash is */
	if ((ret = rom_create(vm, cfg->firmware, X86_PCI_HOLE_END, &rom))) {
		pr_err("--firmware %s: %s", cfg->firmware, strerror(-ret));
		return ret;
	}
	if ((ret = device_list_add(p->devices, &rom->dev)))
		return machine_create_failed("--firmware", "bios-rom", ret);
	if ((ret = i440fx_create(vm, rom, &pmc)) ||
	    (ret = device_list_add(p->devices, &pmc->dev)))
		return machine_create_failed("--firmware", "i440fx", ret);
	x86_cmos_memory(vm->arch->rtc->cmos, fc.low_size, fc.high_size,
			vm->nr_cpus);
	if ((ret = fw_cfg_create(vm, &fw)))
		return machine_create_failed("--firmware", "fw_cfg", ret);
	if ((ret = x86_fw_cfg_fill(fw, &fc))) {
		/* not plugged: freed here */
		fw->dev.ops->free(&fw->dev);
		pr_err("--firmware: cannot fill fw_cfg: %s", strerror(-ret));
		return ret;
	}
	if ((ret = device_list_add(p->devices, &fw->dev)))
		return machine_create_failed("--firmware", "fw_cfg", ret);
	return 0;
}

/* SeaBIOS's names (its boot.c builds them from the PCI tree: the host
 * bridge as /pci@i0cf8, a function by its class and slot, an IDE unit
 * as drive@channel/disk@unit, a virtio-blk disk as a SCSI-like disk). */
void arch_boot_path(enum arch_boot_dev kind, unsigned slot, unsigned channel,
		    unsigned unit, char *buf, size_t size)
{
	if (kind == ARCH_BOOT_IDE)
		snprintf(buf, size, "/pci@i0cf8/ide@%x/drive@%x/disk@%x", slot,
			 channel, unit);
	else
		snprintf(buf, size, "/pci@i0cf8/scsi@%x/disk@0,0", slot);
}

/* ---- PCI ---- */

/* The 32-bit hole's BAR windows, IOAPIC pins 16-23 for INTx and the ports
 * 0xCF8/0xCFC, which the ACPI tables and the MP table describe. */
int arch_pci_init(struct pci_bus *bus, struct vm *vm)
{
	static const struct pci_host host = X86_PCI_HOST;
	int ret = pci_bus_init(bus, vm, &host);

	return ret ? ret : pci_cf8_attach(bus);
}

/* ---- the vCPUs ---- */

/* Nothing left to do: the in-kernel LAPICs came with the vCPUs. */
int arch_vm_finish(struct vm *vm)
{
	(void)vm;
	return 0;
}

/* The entry state arch_load_guest chose; the other vCPUs wait for
 * INIT/SIPI in their in-kernel LAPIC. */
int arch_boot_vcpu(struct vcpu *c)
{
	int ret = x86_boot_setup_vcpu(c->fd, &c->vm->mem, &c->vm->arch->entry);

	if (ret)
		pr_err("cannot set up the boot vCPU: %s", strerror(-ret));
	return ret;
}
