/* SPDX-License-Identifier: MIT
 * machine.c - assembling the machine and running it. What differs between
 * architectures (the platform devices, the PCI host, loading the kernel,
 * the vCPUs' registers) is asked through vmm/arch.h: vmm/x86/machine_x86.c
 * builds a PC.
 *
 * The order, readable top to bottom in run_once():
 *   1. guest RAM, then the kernel, initrd and firmware tables loaded into
 *      it (every user-input error shows up here, before /dev/kvm is opened)
 *   2. the KVM VM: interrupt controllers, memory slots, interrupt routing
 *   3. the devices (vmm/device.h), each created then attached and recorded
 *      in the machine's one list: the platform's (x86: COM1, i8042, RTC,
 *      ACPI PM on the port bus), the PCI root bus and the devices on it
 *   4. vCPUs (the boot vCPU in the kernel's entry state; the others wait
 *      for the guest to start them), the I/O thread, the console
 *   5. the main thread waits for a stop request or a signal, then tears
 *      everything down in reverse order (devices: all stopped, last created
 *      first, then the PCI bus destroyed, then all freed)
 */
#include "machine.h"
#include "api.h"
#include "arch.h"
#include "device.h"
#include "evloop.h"
#include "log.h"
#include "sandbox.h"
#include "term.h"
#include "vcpu.h"
#include "devices/e1000.h"
#include "devices/pci.h"
#include "devices/piix_ide.h"
#include "devices/pvpanic.h"
#include "virtio/blk.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/virtio_pci.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* How long a guest gets to shut down after the power button (SIGTERM). */
#define SHUTDOWN_GRACE_SECONDS 30

struct machine {
	struct vm vm;
	struct device_list devices; /* every device, in creation order */
	struct uart *console;       /* the console's UART (x86: COM1) */
	struct console con;
	struct console_out out; /* the console UART's output to stdout */
	bool have_console;
	struct api api;
	struct pci_bus pci;
	struct blockdev *disks[MACHINE_MAX_DISKS]; /* opened, not yet handed over */
	/* the bootable devices, as the firmware names them (OpenFirmware
	 * paths), in the order they were added; cdrom: a CD-ROM drive */
	struct { char path[64]; bool cdrom; } boot[MACHINE_MAX_DISKS];
	unsigned nr_boot;
};

/* ---- devices ---- */

/* Record a device its constructor just returned in the machine's list and
 * attach it (device_list_add: from here teardown() ends it, whatever
 * happens). */
static int plug(struct machine *m, struct device *dev)
{
	return device_list_add(&m->devices, dev);
}

int machine_create_failed(const char *opt, const char *kind, int ret)
{
	pr_err("%s%scannot create the %s device: %s", opt ? opt : "",
	       opt ? ": " : "", kind, strerror(-ret));
	return ret;
}

/* ---- power management ---- */

/* Press the power button (the control socket's "shutdown"). False when the
 * machine has none. */
static bool machine_power_button(void *opaque)
{
	struct machine *m = opaque;

	return arch_power_button(&m->vm);
}

/* The platform's devices (vmm/arch.h): their console UART is ours. */
static int add_platform_devices(struct machine *m)
{
	struct arch_platform p = { .devices = &m->devices,
				   .console_tx = console_tx,
				   .console_opaque = &m->out };
	int ret = arch_add_platform_devices(&m->vm, &p);

	m->console = p.console;
	if (!ret && !m->console) {
		pr_err("the platform has no console UART");
		ret = -ENODEV;
	}
	return ret;
}

/* ---- the main thread's wait ---- */

/* Wait for a stop request; turn signals into stops. SIGTERM asks the guest
 * to power off (ACPI power button) and gives it SHUTDOWN_GRACE_SECONDS; a
 * second SIGTERM, SIGINT or SIGHUP stops at once. True if a signal came:
 * the caller must not restart the guest then, even when the stop that won
 * was its reboot (a vCPU may be recording one as the signal arrives, and
 * the signal's own stop request then loses: it would be lost with the
 * restart). */
static bool wait_for_stop(struct machine *m, int sfd)
{
	struct vm *vm = &m->vm;
	bool term_seen = false, signalled = false;
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
		signalled = true;
		if (si.ssi_signo == SIGTERM && !term_seen && machine_power_button(m)) {
			term_seen = true;
			pr_info("SIGTERM: pressing the power button (again to stop at once)");
			timeout = SHUTDOWN_GRACE_SECONDS * 1000;
			continue;
		}
		pr_info("stopped by signal %s", strsignal((int)si.ssi_signo));
		vm_request_stop(vm, VM_EXIT_SIGNAL);
	}
	return signalled;
}

/* Open every disk image before KVM is touched: a bad image is a user
 * error, reported as such. */
static int open_disks(struct machine *m, const struct machine_cfg *cfg)
{
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		const struct disk_opt *d = &cfg->disks[i];
		struct blockdev_opts o = { .path = d->path, .format = d->format,
					   .readonly = d->readonly, .cache = d->cache,
					   .backing_format = d->backing_format,
					   .backing_dirs = d->backing_dirs,
					   .nr_backing_dirs = d->nr_backing_dirs };
		char err[512] = "";
		int ret = blockdev_open(&o, &m->disks[i], err, sizeof(err));

		if (ret) {
			pr_err("--disk: %s", err[0] ? err : strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* Record a bootable device by the name the firmware gives it
 * (arch_boot_path). */
static void add_boot_path(struct machine *m, bool cdrom,
			  enum arch_boot_dev kind, unsigned slot,
			  unsigned channel, unsigned unit)
{
	if (m->nr_boot == MACHINE_MAX_DISKS)
		return;
	arch_boot_path(kind, slot, channel, unit, m->boot[m->nr_boot].path,
		       sizeof(m->boot[0].path));
	if (m->boot[m->nr_boot].path[0])
		m->boot[m->nr_boot++].cdrom = cdrom;
}

/* The IDE controller, if any disk is if=ide or there is a CD-ROM: those
 * disks in the order given are the primary master and slave, then the
 * secondary master and slave; the CD-ROM takes the next position. */
static int add_ide(struct machine *m, const struct machine_cfg *cfg)
{
	struct piix_ide_cfg ic = { 0 };
	char serials[PIIX_IDE_MAX_DISKS][21], opt[300];
	unsigned n = 0, idx[PIIX_IDE_MAX_DISKS], nr_disks;
	struct blockdev *cd = NULL;
	struct piix_ide *ide;
	int ret;

	for (unsigned i = 0; i < cfg->nr_disks && n < PIIX_IDE_MAX_DISKS; i++) {
		if (!cfg->disks[i].ide)
			continue;
		ic.serials[n] = cfg->disks[i].serial;
		if (!ic.serials[n]) { /* a stable default: the disk's index */
			snprintf(serials[n], sizeof(serials[n]), "minivmm-disk%u",
				 i % MACHINE_MAX_DISKS);
			ic.serials[n] = serials[n];
		}
		ic.disks[n] = m->disks[i];
		idx[n++] = i;
	}
	nr_disks = n;
	if (cfg->cdrom) {
		struct blockdev_opts o = { .path = cfg->cdrom, .format = "raw",
					   .readonly = true };
		char err[512] = "";

		if (n == PIIX_IDE_MAX_DISKS) { /* the command line checks it */
			pr_err("--cdrom %s: no free IDE position", cfg->cdrom);
			return -ENOSPC;
		}
		if ((ret = blockdev_open(&o, &cd, err, sizeof(err)))) {
			pr_err("--cdrom: %s", err[0] ? err : strerror(-ret));
			return ret;
		}
		if (cd->size < ATAPI_SECTOR) {
			pr_err("--cdrom %s: smaller than one 2048-byte block",
			       cfg->cdrom);
			blockdev_close(cd);
			return -EINVAL;
		}
		ic.disks[n] = cd;
		ic.cdrom[n] = true;
		ic.serials[n] = "minivmm-cd0";
		n++;
	}
	if (!n)
		return 0;
	if (nr_disks)
		snprintf(opt, sizeof(opt), "--disk %s", cfg->disks[idx[0]].path);
	else
		snprintf(opt, sizeof(opt), "--cdrom %s", cfg->cdrom);
	if ((ret = piix_ide_create(&m->vm, &ic, &ide))) {
		blockdev_close(cd);
		return machine_create_failed(opt, "piix-ide", ret);
	}
	for (unsigned j = 0; j < nr_disks; j++)
		m->disks[idx[j]] = NULL; /* owned by the device now */
	if ((ret = plug(m, &ide->dev)))
		return machine_create_failed(opt, "piix-ide", ret);
	for (unsigned j = 0; j < n; j++) /* channel j / 2, unit j % 2 */
		add_boot_path(m, ic.cdrom[j], ARCH_BOOT_IDE, ide->pci.slot,
			      j / 2, j % 2);
	return 0;
}

/* The PCI root bus and what sits on it, in slot order: the IDE controller,
 * virtio disks, the network devices, the entropy device, pvpanic. */
static int add_pci_devices(struct machine *m, const struct machine_cfg *cfg)
{
	struct vm *vm = &m->vm;
	struct virtio_dev *vd;
	struct pvpanic *pvpanic;
	char opt[300];
	int ret;

	if ((ret = arch_pci_init(&m->pci, vm)))
		return ret;
	vm->pci = &m->pci;
	if ((ret = add_ide(m, cfg)))
		return ret;
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		char serial[21];
		struct virtio_blk_cfg bc = { .bd = m->disks[i],
					     .serial = cfg->disks[i].serial,
					     .nr_queues = cfg->disks[i].num_queues ?
						cfg->disks[i].num_queues :
						vm->nr_cpus,
					     .aio = cfg->disks[i].aio_sync ?
						    VIRTIO_BLK_AIO_SYNC :
						    VIRTIO_BLK_AIO_IO_URING,
					     .poll_us = cfg->disks[i].poll_us };

		if (cfg->disks[i].ide)
			continue;
		if (!bc.serial) { /* a stable default: the disk's index */
			snprintf(serial, sizeof(serial), "minivmm-disk%u", i % MACHINE_MAX_DISKS);
			bc.serial = serial;
		}
		snprintf(opt, sizeof(opt), "--disk %s", cfg->disks[i].path);
		if ((ret = virtio_blk_create(vm, &bc, &vd)))
			return machine_create_failed(opt, "virtio-blk", ret);
		m->disks[i] = NULL; /* owned by the device now */
		if ((ret = virtio_blk_aio_error(vd)))
			pr_info("%s: io_uring unavailable (%s): synchronous I/O",
				opt, strerror(-ret));
		if ((ret = plug(m, &vd->dev)))
			return machine_create_failed(opt, "virtio-blk", ret);
		add_boot_path(m, false, ARCH_BOOT_VIRTIO_BLK, vd->pci.slot, 0, 0);
	}
	for (unsigned i = 0; i < cfg->nr_nets; i++) {
		char err[256] = "", what[128];
		struct e1000 *e1000;

		snprintf(opt, sizeof(opt), "--net tap=%s", cfg->nets[i].tap);
		if (cfg->nets[i].model == NET_MODEL_E1000) {
			if ((ret = e1000_create(vm, &cfg->nets[i], i, &e1000, err,
						sizeof(err)))) {
				if (!err[0])
					return machine_create_failed(opt, "e1000", ret);
				pr_err("%s: %s", opt, err);
				return ret;
			}
			if ((ret = plug(m, &e1000->dev)))
				return machine_create_failed(opt, "e1000", ret);
			e1000_describe(e1000, what, sizeof(what));
			pr_info("%s: %s", e1000->dev.name, what);
			continue;
		}
		if ((ret = virtio_net_create(vm, &cfg->nets[i], i, &vd, err,
					     sizeof(err)))) {
			if (!err[0])
				return machine_create_failed(opt, "virtio-net", ret);
			pr_err("%s: %s", opt, err);
			return ret;
		}
		if ((ret = plug(m, &vd->dev)))
			return machine_create_failed(opt, "virtio-net", ret);
		virtio_net_describe(vd, what, sizeof(what));
		pr_info("%s: %s", vd->dev.name, what);
	}
	if (cfg->rng &&
	    ((ret = virtio_rng_create(vm, &vd)) || (ret = plug(m, &vd->dev))))
		return machine_create_failed("--rng", "virtio-rng", ret);
	if ((ret = pvpanic_create(vm, &pvpanic)) || (ret = plug(m, &pvpanic->dev)))
		return machine_create_failed(NULL, "pvpanic", ret);
	return 0;
}

/* --firmware: what the firmware reads about the machine, from the
 * architecture (x86: the debug console, the CMOS memory sizes, fw_cfg),
 * with the boot order: --boot cdrom puts the CD-ROMs first, then the
 * disks; else the other way round; each kind in the order given. */
static int add_firmware_devices(struct machine *m, const struct machine_cfg *cfg)
{
	char bootorder[MACHINE_MAX_DISKS * 65 + 1] = "";
	struct arch_platform p = { .devices = &m->devices };
	size_t at = 0;

	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < m->nr_boot; i++)
			if (m->boot[i].cdrom == (cfg->boot_cdrom == !pass))
				at += (size_t)snprintf(bootorder + at,
						       sizeof(bootorder) - at,
						       "%s%s", at ? "\n" : "",
						       m->boot[i].path);
	return arch_add_firmware_devices(&m->vm, &p, cfg, bootorder);
}

/* Every vCPU, then what the VM needs once they exist, then the boot vCPU's
 * entry state; only then do their threads start. */
static int start_vcpus(struct machine *m)
{
	struct vm *vm = &m->vm;
	int ret = 0;

	for (unsigned i = 0; i < vm->nr_cpus && !ret; i++)
		ret = vcpu_create(vm, &vm->vcpus[i], i);
	if (ret || (ret = arch_vm_finish(vm)) ||
	    (ret = arch_boot_vcpu(&vm->vcpus[0])))
		return ret;
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
	/* no more guest output: write what is gathered */
	console_out_stop(&m->out);
	if (m->have_console)
		console_stop(&m->con);
	api_stop(&m->api);
	/* Devices' threads stop first (the last created first), then the bus
	 * releases BARs and interrupts, then the devices are freed: nothing
	 * may run on guest RAM or on a freed device after this. */
	device_list_stop(&m->devices);
	if (vm->pci)
		pci_bus_destroy(vm->pci);
	device_list_free(&m->devices);
	m->console = NULL;
	for (unsigned i = 0; i < MACHINE_MAX_DISKS; i++) {
		blockdev_close(m->disks[i]);
		m->disks[i] = NULL;
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
	int ret, status;
	bool signalled;

	*restart = false;
	memset(m, 0, sizeof(*m));
	m->api.listen_fd = -1;
	if ((ret = vm_init_memory(vm, cfg->mem_size, cfg->mem_hugetlb,
				   cfg->nr_cpus)) ||
	    (ret = arch_load_guest(vm, cfg)))
		goto fail;
	if (cfg->dump_dtb) { /* written by arch_load_guest: nothing to run */
		teardown(m);
		return VM_EXIT_OK;
	}
	if ((ret = open_disks(m, cfg)) ||
	    (ret = arch_check_image(cfg)) ||
	    (ret = vm_create(vm)))
		goto fail;
	vm->on_reboot = cfg->on_reboot;
	vm->watch_exits = log_trace_enabled;
	/* exits by register: named only when someone will look (bus.h) */
	if (cfg->stats || log_trace_enabled) {
		bus_watch_regs(&vm->pio);
		bus_watch_regs(&vm->mmio);
	}
	vm->no_ioeventfd = cfg->no_ioeventfd;
	vm->no_irqfd = cfg->no_irqfd;
	vm->io = evloop_new("io");
	if (!vm->io) {
		ret = -ENOMEM;
		goto fail;
	}
	evloop_set_sandbox(vm->io, SANDBOX_API);
	console_out_init(&m->out, vm);
	if ((ret = add_platform_devices(m)) ||
	    (ret = add_pci_devices(m, cfg)) ||
	    (cfg->firmware && (ret = add_firmware_devices(m, cfg))))
		goto fail;
	/* the machine is complete: every name --trace=DEVICE may give */
	if (trace_check_devices(&cfg->trace_filter, &vm->pio, &vm->mmio)) {
		teardown(m);
		return VM_EXIT_USAGE;
	}
	if ((ret = evloop_start(vm->io)))
		goto fail;
	if ((ret = console_start(&m->con, vm, m->console, vm->io)))
		goto fail;
	m->have_console = true;
	if ((ret = console_out_start(&m->out, vm->io)))
		goto fail;
	m->api.listen_fd = -1;
	if (cfg->api_socket &&
	    (ret = api_start(&m->api, vm, vm->io, cfg->api_socket,
			     machine_power_button, m)))
		goto fail;
	if ((ret = start_vcpus(m)))
		goto fail;
	/* every other thread is under its allow-list by now */
	if ((ret = sandbox_enter(SANDBOX_MAIN))) {
		pr_err("cannot enter the seccomp sandbox: %s", strerror(-ret));
		goto fail;
	}

	signalled = wait_for_stop(m, sfd);
	/* the guest's last partial line before minivmm's own lines */
	console_out_flush(&m->out);
	status = vm->exit_status;
	*restart = __atomic_load_n(&vm->reboot_requested, __ATOMIC_SEQ_CST);
	if (signalled && *restart) { /* the signal asked to stop: it does */
		pr_info("the guest rebooted as a signal came: not restarting");
		*restart = false;
		status = VM_EXIT_SIGNAL;
	}
	if (cfg->stats) {
		stats_print(&vm->stats, stderr);
		fprintf(stderr, "  exits by device (and its busiest registers):\n");
		bus_print_counters(&vm->pio, stderr);
		bus_print_counters(&vm->mmio, stderr);
	}
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
	/* the restart line: a guest rebooting in a loop must not fill the log */
	struct log_budget reboots = { 0 };
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
	if (cfg->seccomp &&
	    (status = sandbox_prepare(cfg->on_reboot == VM_REBOOT_RESTART))) {
		pr_err("--seccomp: cannot build the filters: %s", strerror(-status));
		close(sfd);
		free(m);
		return VM_EXIT_ERROR;
	}
	/* before any thread is sandboxed: the file is opened here */
	if (cfg->trace && trace_start(cfg->trace_file, &cfg->trace_filter)) {
		close(sfd);
		free(m);
		sandbox_release();
		return VM_EXIT_ERROR;
	}

	do {
		status = run_once(m, cfg, sfd, &restart);
		if (restart && log_budget_take(&reboots, "guest reboots"))
			pr_info("guest rebooted: restarting (--on-reboot=restart)");
	} while (restart);
	close(sfd);
	free(m);
	sandbox_release();
	if (cfg->trace)
		trace_stop();
	return status;
}
