/* SPDX-License-Identifier: MIT
 * machine.c - assembling the x86 machine and running it.
 *
 * The order, readable top to bottom in machine_run():
 *   1. guest RAM, then the kernel, initrd and firmware tables loaded into
 *      it (every user-input error shows up here, before /dev/kvm is opened)
 *   2. the KVM VM: irqchip, PIT, memory slots, interrupt routing
 *   3. legacy devices on the port bus (COM1, i8042, RTC, port 0x80),
 *      the PCI root bus and the devices on it
 *   4. vCPUs (the boot vCPU in the kernel's entry state; the others wait
 *      for INIT/SIPI in the in-kernel LAPIC), the I/O thread, the console
 *   5. the main thread waits for a stop request or a signal, then tears
 *      everything down in reverse order
 */
#include "machine.h"
#include "api.h"
#include "evloop.h"
#include "log.h"
#include "term.h"
#include "vcpu.h"
#include "x86/layout.h"
#include "boot/x86/acpi.h"
#include "boot/x86/boot.h"
#include "boot/x86/mptable.h"
#include "devices/acpi_pm.h"
#include "devices/i8042.h"
#include "devices/pci.h"
#include "devices/pvpanic.h"
#include "devices/rtc.h"
#include "devices/uart16550.h"
#include "virtio/blk.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/virtio_pci.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

/* How long a guest gets to shut down after the power button (SIGTERM). */
#define SHUTDOWN_GRACE_SECONDS 30

struct machine {
	struct vm vm;
	struct uart com1;
	struct i8042 kbd;
	struct rtc rtc;
	struct console con;
	bool have_console;
	struct api api;
	struct pci_bus pci;
	struct acpi_pm *pm;
	struct blockdev *disks[MACHINE_MAX_DISKS]; /* opened, not yet handed over */
	struct virtio_blk *blk[MACHINE_MAX_DISKS];
	struct virtio_rng *rng;
	struct pvpanic *pvpanic; /* freed after the bus is destroyed */
	/* things to undo at teardown, in reverse order */
	struct { void (*fn)(void *); void *opaque; } exit_hooks[32];
	unsigned nr_exit_hooks;
};

/* ---- legacy device glue: callbacks from device models into the VM ---- */

static void com1_irq(void *opaque, bool level)
{
	vm_irq_line(opaque, X86_IRQ_COM1, level);
}

static void kbd_irq(void *opaque, bool level)
{
	vm_irq_line(opaque, 1, level);
}

static void kbd_reset(void *opaque)
{
	vm_request_reboot(opaque);
}

/* Port 0x80 (POST codes / I/O delay) with the DMA page registers beside it
 * (0x81-0x8f: Linux's DMA code reads 0x87 once at boot), the absent serial
 * ports, and the two Super I/O configuration ports (0x2e/0x2f, 0x4e/0x4f:
 * Debian's generic kernel probes them for a chip; all ones says there is
 * none): accepted, reads as all ones, nothing counted as unhandled. */
static void ignore_io(void *opaque, uint64_t off, void *data, unsigned len,
		      bool is_write)
{
	(void)opaque;
	(void)off;
	if (!is_write)
		memset(data, 0xff, len);
}

static int add_legacy_devices(struct machine *m)
{
	struct vm *vm = &m->vm;
	static const struct { uint16_t port, len; const char *name; } absent[] = {
		{ 0x2f8, 8, "absent serial port" }, { 0x3e8, 8, "absent serial port" },
		{ 0x2e8, 8, "absent serial port" }, { 0x2e, 2, "absent Super I/O" },
		{ 0x4e, 2, "absent Super I/O" },
	};
	int ret;

	uart_init(&m->com1, com1_irq, console_tx, vm);
	i8042_init(&m->kbd, kbd_irq, kbd_reset, vm);
	rtc_init(&m->rtc, NULL);
	if ((ret = bus_add(&vm->pio, 0x3f8, 8, uart_io, &m->com1, "com1")) ||
	    (ret = bus_add(&vm->pio, 0x60, 1, i8042_data_io, &m->kbd, "i8042")) ||
	    (ret = bus_add(&vm->pio, 0x64, 1, i8042_cmd_io, &m->kbd, "i8042")) ||
	    (ret = bus_add(&vm->pio, 0x70, 2, rtc_io, &m->rtc, "rtc")) ||
	    (ret = bus_add(&vm->pio, 0x80, 16, ignore_io, NULL, "port80")))
		return ret;
	for (unsigned i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		if ((ret = bus_add(&vm->pio, absent[i].port, absent[i].len,
				   ignore_io, NULL, absent[i].name)))
			return ret;
	return 0;
}

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

static int check_pvm(const struct machine_cfg *cfg)
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

/* ---- teardown hooks ---- */

static __attribute__((unused)) void add_exit_hook(struct machine *m, void (*fn)(void *), void *opaque)
{
	if (m->nr_exit_hooks < sizeof(m->exit_hooks) / sizeof(m->exit_hooks[0]))
		m->exit_hooks[m->nr_exit_hooks++] = (typeof(m->exit_hooks[0])){ fn, opaque };
}

/* ---- power management ---- */

/* Press the ACPI power button. False when the machine has none. */
static bool machine_power_button(void *opaque)
{
	struct machine *m = opaque;

	if (!m->pm)
		return false;
	acpi_pm_power_button(m->pm);
	return true;
}

/* ---- the main thread's wait ---- */

/* Wait for a stop request; turn signals into stops. SIGTERM asks the guest
 * to power off (ACPI power button) and gives it SHUTDOWN_GRACE_SECONDS; a
 * second SIGTERM, SIGINT or SIGHUP stops at once. */
static void wait_for_stop(struct machine *m, int sfd)
{
	struct vm *vm = &m->vm;
	bool term_seen = false;
	int timeout = -1;

	while (!vm_stopping(vm)) {
		struct pollfd p[2] = { { .fd = vm->stop_efd, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN } };
		struct signalfd_siginfo si;
		int n = poll(p, 2, timeout);

		if (n == 0) {
			pr_err("the guest did not shut down within %d s of the "
			       "power button; stopping it", SHUTDOWN_GRACE_SECONDS);
			vm_request_stop(vm, VM_EXIT_SIGNAL);
			break;
		}
		if (n < 0 || !(p[1].revents & POLLIN))
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGTERM && !term_seen && machine_power_button(m)) {
			term_seen = true;
			pr_info("SIGTERM: pressing the power button (again to stop at once)");
			timeout = SHUTDOWN_GRACE_SECONDS * 1000;
			continue;
		}
		pr_info("stopped by signal %s", strsignal((int)si.ssi_signo));
		vm_request_stop(vm, VM_EXIT_SIGNAL);
	}
}

/* Load the kernel (or firmware) and the boot tables into guest RAM. */
static int load_guest(struct machine *m, const struct machine_cfg *cfg,
		      struct x86_boot_entry *entry)
{
	struct x86_boot_cfg bc = {
		.kernel = cfg->kernel,
		.initrd = cfg->initrd,
		.cmdline = cfg->cmdline,
		.firmware = cfg->firmware,
		.low_size = m->vm.low_size,
		.high_size = m->vm.high_size,
	};
	struct acpi_cfg acpi = { .nr_cpus = m->vm.nr_cpus };
	char err[512] = "";
	int ret;

	/* Firmware tables: the MP table for kernels without ACPI, ACPI (its
	 * RSDP address goes into boot_params) for everything else. A
	 * --firmware image occupies the BIOS area and brings its own. */
	if (!cfg->firmware &&
	    ((ret = mptable_build(&m->vm.mem, m->vm.nr_cpus)) ||
	     (ret = acpi_build(&m->vm.mem, &acpi, &bc.acpi_rsdp)))) {
		pr_err("cannot build the firmware tables: %s", strerror(-ret));
		return ret;
	}
	ret = x86_boot_load(&m->vm.mem, &bc, entry, err, sizeof(err));
	if (ret)
		pr_err("%s", err[0] ? err : strerror(-ret));
	return ret;
}

/* Open every disk image before KVM is touched: a bad image is a user
 * error, reported as such. */
static int open_disks(struct machine *m, const struct machine_cfg *cfg)
{
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		const struct disk_opt *d = &cfg->disks[i];
		struct blockdev_opts o = { .path = d->path, .format = d->format,
					   .readonly = d->readonly, .cache = d->cache };
		char err[512] = "";
		int ret = blockdev_open(&o, &m->disks[i], err, sizeof(err));

		if (ret) {
			pr_err("--disk: %s", err[0] ? err : strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* pvpanic_create hands out no handle: the device is the one whose BAR 0
 * handler is pvpanic_bar_io, and that handler's opaque is its struct. */
static struct pvpanic *find_pvpanic(struct pci_bus *bus)
{
	for (unsigned s = 0; s < PCI_MAX_SLOTS; s++)
		if (bus->slots[s] && bus->slots[s]->bars[0].fn == pvpanic_bar_io)
			return bus->slots[s]->bars[0].opaque;
	return NULL;
}

/* The PCI root bus and what sits on it, in slot order: virtio disks, the
 * network devices, the entropy device, pvpanic. */
static int add_pci_devices(struct machine *m, const struct machine_cfg *cfg)
{
	struct vm *vm = &m->vm;
	int ret;

	if ((ret = pci_bus_init(&m->pci, vm)))
		return ret;
	vm->pci = &m->pci;
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		char serial[21];
		const char *sn = cfg->disks[i].serial;

		if (!sn) { /* a stable default: the disk's index */
			snprintf(serial, sizeof(serial), "minivmm-disk%u", i % MACHINE_MAX_DISKS);
			sn = serial;
		}
		ret = virtio_blk_new(vm, m->disks[i], sn, vm->nr_cpus, true,
				     &m->blk[i]);
		if (ret) {
			pr_err("--disk %s: cannot create the virtio-blk device: %s",
			       cfg->disks[i].path, strerror(-ret));
			return ret;
		}
		m->disks[i] = NULL; /* owned by the device now */
	}
	for (unsigned i = 0; i < cfg->nr_nets; i++)
		if ((ret = virtio_net_create(vm, &cfg->nets[i])))
			return ret;
	if (cfg->rng && (ret = virtio_rng_create(vm, &m->rng))) {
		pr_err("--rng: cannot create the virtio-rng device: %s", strerror(-ret));
		return ret;
	}
	if ((ret = pvpanic_create(vm))) {
		pr_err("cannot create the pvpanic device: %s", strerror(-ret));
		return ret;
	}
	m->pvpanic = find_pvpanic(&m->pci);
	return 0;
}

static int start_vcpus(struct machine *m, const struct x86_boot_entry *entry)
{
	struct vm *vm = &m->vm;
	int ret;

	for (unsigned i = 0; i < vm->nr_cpus; i++)
		if ((ret = vcpu_create(vm, &vm->vcpus[i], i)))
			return ret;
	ret = x86_boot_setup_vcpu(vm->vcpus[0].fd, &vm->mem, entry);
	if (ret) {
		pr_err("cannot set up the boot vCPU: %s", strerror(-ret));
		return ret;
	}
	for (unsigned i = 0; i < vm->nr_cpus; i++)
		if ((ret = vcpu_start(&vm->vcpus[i])))
			return ret;
	return 0;
}

static void teardown(struct machine *m)
{
	struct vm *vm = &m->vm;

	/* A no-op after wait_for_stop; on a failed start it makes the vCPUs
	 * already running leave KVM_RUN for good (a kick alone only makes
	 * them re-enter it). Then no more kicks: kvm_run gets unmapped. */
	vm_request_stop(vm, VM_EXIT_ERROR);
	vm_close_kicks(vm);
	/* vCPUs first: nothing may touch devices after this */
	if (vm->vcpus)
		for (unsigned i = 0; i < vm->nr_cpus; i++)
			vcpu_destroy(&vm->vcpus[i]);
	if (m->have_console)
		console_stop(&m->con);
	api_stop(&m->api);
	/* Devices' I/O threads stop first, then the bus releases BARs and
	 * interrupts, then device memory is freed: nothing may run on guest
	 * RAM or on a freed device after this. */
	virtio_net_destroy_all(vm);
	for (unsigned i = 0; i < MACHINE_MAX_DISKS; i++)
		if (m->blk[i])
			virtio_pci_destroy(virtio_blk_dev(m->blk[i]));
	virtio_rng_stop(m->rng);
	if (vm->pci)
		pci_bus_destroy(vm->pci);
	virtio_rng_destroy(m->rng);
	m->rng = NULL;
	virtio_net_free_all(vm);
	free(m->pvpanic);
	m->pvpanic = NULL;
	for (unsigned i = 0; i < MACHINE_MAX_DISKS; i++) {
		virtio_blk_destroy(m->blk[i]);
		m->blk[i] = NULL;
		blockdev_close(m->disks[i]);
		m->disks[i] = NULL;
	}
	if (m->pm)
		acpi_pm_destroy(m->pm);
	m->pm = NULL;
	while (m->nr_exit_hooks) {
		m->nr_exit_hooks--;
		m->exit_hooks[m->nr_exit_hooks].fn(m->exit_hooks[m->nr_exit_hooks].opaque);
	}
	if (vm->io)
		evloop_free(vm->io);
	vm->io = NULL;
	vm_destroy(vm);
}

/* One boot of the guest: build, run, tear down. */
static int run_once(struct machine *m, const struct machine_cfg *cfg, int sfd,
		    bool *restart)
{
	struct vm *vm = &m->vm;
	struct x86_boot_entry entry;
	int ret, status;

	*restart = false;
	memset(m, 0, sizeof(*m));
	m->api.listen_fd = -1;
	if ((ret = vm_init_memory(vm, cfg->mem_size, cfg->nr_cpus)) ||
	    (ret = load_guest(m, cfg, &entry)) ||
	    (ret = open_disks(m, cfg)) ||
	    (ret = check_pvm(cfg)) ||
	    (ret = vm_create(vm)))
		goto fail;
	vm->on_reboot = cfg->on_reboot;
	vm->io = evloop_new("io");
	if (!vm->io) {
		ret = -ENOMEM;
		goto fail;
	}
	if ((ret = add_legacy_devices(m)))
		goto fail;
	m->pm = acpi_pm_create(vm);
	if (!m->pm) {
		ret = -EIO;
		goto fail;
	}
	if ((ret = add_pci_devices(m, cfg)))
		goto fail;
	if ((ret = evloop_start(vm->io)))
		goto fail;
	if ((ret = console_start(&m->con, vm, &m->com1, vm->io)))
		goto fail;
	m->have_console = true;
	m->api.listen_fd = -1;
	if (cfg->api_socket &&
	    (ret = api_start(&m->api, vm, vm->io, cfg->api_socket,
			     machine_power_button, m)))
		goto fail;
	if ((ret = start_vcpus(m, &entry)))
		goto fail;

	wait_for_stop(m, sfd);
	status = vm->exit_status;
	*restart = __atomic_load_n(&vm->reboot_requested, __ATOMIC_SEQ_CST);
	if (cfg->stats)
		stats_print(&vm->stats, stderr);
	teardown(m);
	return status;
fail:
	teardown(m);
	return VM_EXIT_ERROR;
}

int machine_run(const struct machine_cfg *cfg)
{
	struct machine *m = calloc(1, sizeof(*m));
	sigset_t set;
	bool restart;
	int sfd, status;

	if (!m)
		return VM_EXIT_ERROR;
	/* Signals for the whole process are taken synchronously by the main
	 * thread; threads created from here on inherit the blocked mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, SIGPIPE);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	vcpu_init_signals();
	set = (sigset_t){ 0 };
	sigaddset(&set, vcpu_kick_signal);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	do {
		status = run_once(m, cfg, sfd, &restart);
		if (restart)
			pr_info("guest rebooted: restarting (--on-reboot=restart)");
	} while (restart);
	close(sfd);
	free(m);
	return status;
}
