/* SPDX-License-Identifier: MIT
 * machine.h - what `minivmm run` builds: the configuration the command line
 * produces, and the function that assembles and runs the machine.
 */
#ifndef MINIVMM_MACHINE_H
#define MINIVMM_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/disk/blockdev.h"
#include "vmm/trace.h"
#include "virtio/net.h"
#include "vm.h"

#define MACHINE_MAX_DISKS 8
#define MACHINE_MAX_NETS 4
#define MACHINE_MAX_IDE_DISKS 4 /* primary and secondary channel, master and slave */

struct disk_opt {
	const char *path;
	const char *format;   /* NULL: detect */
	bool readonly;
	enum blockdev_cache cache;
	bool aio_sync;        /* aio=sync: no io_uring (virtio-blk) */
	unsigned num_queues;  /* num-queues=N (virtio-blk); 0: one per vCPU */
	unsigned poll_us;     /* poll=N (virtio-blk with io_uring), 0: off */
	const char *serial;   /* NULL: derived from the index */
	bool ide;             /* if=ide: on the IDE controller, else virtio-blk */
	const char *backing_format; /* backing-format=: NULL: from the image */
	const char *backing_dirs[BLOCKDEV_MAX_BACKING_DIRS]; /* backing-dir= */
	unsigned nr_backing_dirs;
};

struct machine_cfg {
	const char *kernel, *initrd, *cmdline, *firmware;
	uint64_t mem_size;
	bool mem_hugetlb; /* --memory ...,hugepages=on: hugetlbfs-backed RAM */
	unsigned nr_cpus;
	struct disk_opt disks[MACHINE_MAX_DISKS];
	unsigned nr_disks;
	const char *cdrom;    /* --cdrom: the ISO image of the IDE CD-ROM drive */
	struct net_cfg nets[MACHINE_MAX_NETS];
	unsigned nr_nets;
	bool rng;
	bool stats;
	enum vm_reboot_policy on_reboot;
	const char *api_socket;
	bool seccomp; /* every thread under its allow-list (vmm/sandbox.h) */
	bool trace;             /* --trace[=FILTER] or --trace-file */
	struct trace_filter trace_filter;
	const char *trace_file; /* NULL: stderr */
	bool no_ioeventfd, no_irqfd; /* --ioeventfd=off, --irqfd=off */
	const char *dump_dtb; /* --dump-dtb (arm64): write the device tree
			       * here and exit 0 before the guest runs */
	/* --firmware: the boot devices' order for the firmware (bootorder),
	 * and where its debug console (port 0x402) goes, or NULL */
	bool boot_cdrom; /* --boot cdrom: CD-ROMs before disks */
	bool boot_set;   /* --boot given */
	const char *debugcon;
};

/* What --firmware seabios stands for: Debian's SeaBIOS (package seabios). */
#define MACHINE_SEABIOS_PATH "/usr/share/seabios/bios-256k.bin"

/* Build the machine, run it until it stops, tear it down. Returns the
 * exit status (enum vm_exit_status). */
int machine_run(const struct machine_cfg *cfg);

/* For the architectures' machine code too (vmm/arch.h): the one error line
 * of a device that could not be created or attached, "<option>: cannot
 * create the <kind> device: <reason>" (opt may be NULL). Returns ret. */
int machine_create_failed(const char *opt, const char *kind, int ret);

#endif
