/* SPDX-License-Identifier: MIT
 * cli.c - parsing `minivmm run` options into a struct machine_cfg.
 *
 * Every error is one line naming the option and the value at fault; the
 * caller exits with status 2.
 */
#include "cli.h"
#include "guest_mem.h"
#include "log.h"
#include "sandbox.h"
#include "virtio/blk.h"
#include "virtio/net.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int parse_size(const char *s, uint64_t default_unit, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t unit = default_unit;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'B': unit = 1; end++; break;
	case 'K': unit = 1ULL << 10; end++; break;
	case 'M': unit = 1ULL << 20; end++; break;
	case 'G': unit = 1ULL << 30; end++; break;
	case 'T': unit = 1ULL << 40; end++; break;
	default: return -EINVAL;
	}
	/* allow "512M", "512MB", "512MiB" */
	if (unit != default_unit || *end) {
		if (*end == 'i' || *end == 'I')
			end++;
		if ((*end == 'B' || *end == 'b') && unit != 1)
			end++;
	}
	if (*end || v == 0 || __builtin_mul_overflow((uint64_t)v, unit, out))
		return -EINVAL;
	return 0;
}

void cli_usage(FILE *f)
{
	fprintf(f,
"Usage: minivmm run --kernel PATH [options]\n"
"       minivmm run --firmware seabios|PATH [--boot disk|cdrom] [options]\n"
"       minivmm img create|info|check ...   (minivmm img --help)\n"
"       minivmm stat --api-socket PATH [--interval SECONDS] [--once] [--json]\n"
"                       live statistics of a running minivmm (minivmm stat --help)\n"
"       minivmm --help | --version\n"
"\n"
"Boot a guest on KVM with a serial console on stdin/stdout.\n"
"\n"
"Options of 'run':\n"
"  --kernel PATH        bzImage, or ELF vmlinux with a PVH entry note\n"
"  --initrd PATH        initial ramdisk\n"
"  --cmdline STR        kernel command line (default: console=ttyS0)\n"
"  --firmware seabios|PATH\n"
"                       boot a firmware instead of a kernel: 'seabios' is Debian's\n"
"                       SeaBIOS (" MACHINE_SEABIOS_PATH "), which boots the\n"
"                       disks' own bootloaders; or a BIOS image (<= 256K, ending at\n"
"                       1 MiB, entered at F000:FFF0). The firmware reads fw_cfg\n"
"                       (memory map, boot order, ACPI tables) and prints to COM1\n"
"  --boot disk|cdrom    with --firmware: what the firmware tries first (default disk)\n"
"  --debugcon PATH      with --firmware: write what the firmware prints to its debug\n"
"                       port (0x402) to PATH\n"
"  --dump-dtb FILE      arm64: write the guest's device tree (DTB) to FILE and\n"
"                       exit without running it (refused on x86)\n"
"  --memory SIZE[,hugepages=on|off]\n"
"                       guest RAM, K/M/G suffix, bare number = MiB (default 256M);\n"
"                       transparent huge pages by default, hugepages=on: hugetlbfs\n"
"                       pages reserved in /proc/sys/vm/nr_hugepages (SIZE a multiple of 2M)\n"
"  --cpus N             vCPUs (default 1)\n"
"  --disk PATH[,format=raw|qcow2][,readonly=on][,cache=none|writeback][,serial=STR][,if=virtio|ide]\n"
"        [,backing-format=raw|qcow2][,backing-dir=DIR[:DIR...]][,aio=io_uring|sync]\n"
"        [,num-queues=N][,poll=MICROSECONDS]\n"
"                       virtio-blk disk, or an IDE disk (if=ide, at most 4) (repeatable);\n"
"                       backing files must be in the image's directory or a backing-dir;\n"
"                       aio: virtio-blk requests through io_uring (default) or one at a time\n"
"                       num-queues: virtio-blk request queues (default one per vCPU, 1-16)\n"
"                       poll: with io_uring, each queue busy-polls up to this long while\n"
"                       requests are in flight before it sleeps (default 32, 0: never)\n"
"  --cdrom FILE.iso     an ATAPI CD-ROM drive with FILE (read-only, 2048-byte\n"
"                       blocks) as its disc, at the first IDE position no\n"
"                       if=ide disk takes (primary master, primary slave...)\n"
"  --net tap=NAME[,bridge=BR[,bridge-create=on]][,mac=XX:XX:XX:XX:XX:XX]\n"
"        [,model=virtio|e1000][,vhost=on|off]\n"
"                       virtio-net (or an emulated Intel e1000) on a tap\n"
"                       device (repeatable); vhost=on: virtio-net's data path\n"
"                       in the host kernel (/dev/vhost-net)\n"
"  --rng                virtio-rng entropy device\n"
"  --on-reboot=exit|restart   what a guest reboot does (default exit)\n"
"  --api-socket PATH    control socket: pause, resume, info, stats, regs, shutdown,\n"
"                       stop (minivmm stat watches it)\n"
"  --seccomp=on|off     run every thread under its system call allow-list\n"
"                       (default %s); a forbidden call ends minivmm with SIGSYS\n"
"  --trace[=FILTER]     print one line per VM exit to stderr: time (us), vCPU,\n"
"                       reason, port or address, size, device and register,\n"
"                       value, handler time. FILTER: comma-separated reasons\n"
"                       (io, mmio, hlt, intr, shutdown, system_event, error,\n"
"                       other), vCPUs (vcpu0...) and device names (com1, pci,\n"
"                       virtio-blk...), e.g. --trace=mmio,virtio-blk\n"
"  --trace-file PATH    write the trace to PATH instead of stderr (implies --trace)\n"
"  --ioeventfd=on|off   virtio doorbells signal an eventfd inside KVM (default on);\n"
"                       off: each kick is an MMIO exit the VMM handles\n"
"  --irqfd=on|off       MSI-X interrupts go through irqfds (default on); off:\n"
"                       the device's thread injects them with KVM_SIGNAL_MSI\n"
"  --stats              print VM exit counters, vCPU times and handler latencies\n"
"                       when the VM ends\n"
"\n"
"Console: Ctrl-A x quits; Ctrl-A Ctrl-A sends Ctrl-A.\n"
"SIGTERM presses the ACPI power button; a second SIGTERM or SIGINT stops at once.\n"
"\n"
"Exit status:\n"
"  0  the guest powered off or rebooted (or Ctrl-A x)\n"
"  1  run-time error (bad file, no usable /dev/kvm, ...)\n"
"  2  bad command line\n"
"  3  the guest triple-faulted\n"
"  4  the guest kernel panicked (pvpanic)\n"
"  5  KVM could not run the guest (entry failure, emulation failure)\n"
"  6  stopped by a signal before the guest shut down\n"
"  159  (killed by SIGSYS) a thread made a system call --seccomp forbids\n",
		SANDBOX_DEFAULT_ON ? "on" : "off in this sanitizer build");
}

static bool opt_on(const char *v)
{
	return !strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "1") ||
	       !strcmp(v, "yes");
}

static bool opt_bool(const char *v, bool *out)
{
	if (opt_on(v))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "0") ||
		 !strcmp(v, "no"))
		*out = false;
	else
		return false;
	return true;
}

/* One KEY=VALUE sub-option of --disk (or another comma-separated option):
 * set() stores v in the option's struct or prints one error line and
 * returns -1. A new sub-option is one more row in the option's table. */
struct subopt {
	const char *key;
	int (*set)(void *ctx, const char *opt, const char *v);
};

static const struct subopt *subopt_find(const struct subopt *tab,
					const char *key)
{
	for (; tab->key; tab++)
		if (!strcmp(tab->key, key))
			return tab;
	return NULL;
}

/* The "unknown key" error line, listing the table's keys. */
static void subopt_unknown(const struct subopt *tab, const char *opt,
			   const char *key)
{
	char names[128] = "";
	size_t len = 0;

	for (; tab->key && len < sizeof(names); tab++)
		len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
					len ? ", " : "", tab->key);
	pr_err("%s: unknown key '%s' (%s)", opt, key, names);
}

/* Split "a=b,c=d" in place and hand each pair to its row of tab. */
static int parse_kv(char *spec, const char *opt, void *ctx,
		    const struct subopt *tab)
{
	char *save = NULL;

	for (char *tok = strtok_r(spec, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		const struct subopt *so;
		char *eq = strchr(tok, '=');

		if (!eq) {
			pr_err("%s: '%s' is not KEY=VALUE", opt, tok);
			return -EINVAL;
		}
		*eq = '\0';
		so = subopt_find(tab, tok);
		if (!so) {
			subopt_unknown(tab, opt, tok);
			return -EINVAL;
		}
		if (so->set(ctx, opt, eq + 1))
			return -EINVAL;
	}
	return 0;
}

static int disk_format(void *ctx, const char *opt, const char *v)
{
	struct disk_opt *d = ctx;

	if (strcmp(v, "raw") && strcmp(v, "qcow2")) {
		pr_err("%s: format '%s' is not raw or qcow2", opt, v);
		return -1;
	}
	d->format = v;
	return 0;
}

static int disk_readonly(void *ctx, const char *opt, const char *v)
{
	struct disk_opt *d = ctx;

	if (!opt_bool(v, &d->readonly)) {
		pr_err("%s: readonly='%s' is not on or off", opt, v);
		return -1;
	}
	return 0;
}

static int disk_cache(void *ctx, const char *opt, const char *v)
{
	struct disk_opt *d = ctx;

	if (!strcmp(v, "none")) {
		d->cache = BLOCKDEV_CACHE_NONE;
	} else if (!strcmp(v, "writeback")) {
		d->cache = BLOCKDEV_CACHE_WRITEBACK;
	} else {
		pr_err("%s: cache='%s' is not none or writeback", opt, v);
		return -1;
	}
	return 0;
}

static int disk_aio(void *ctx, const char *opt, const char *v)
{
	struct disk_opt *d = ctx;

	if (!strcmp(v, "io_uring")) {
		d->aio_sync = false;
	} else if (!strcmp(v, "sync")) {
		d->aio_sync = true;
	} else {
		pr_err("%s: aio='%s' is not io_uring or sync", opt, v);
		return -1;
	}
	return 0;
}

/* num-queues=N: virtio-blk request queues, each with its own I/O thread
 * and interrupt vector (the guest spreads them over its vCPUs) */
static int disk_num_queues(void *ctx, const char *opt, const char *v)
{
	struct disk_opt *d = ctx;
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || *v == '-' || n < 1 ||
	    n > VIRTIO_BLK_MAX_QUEUES) {
		pr_err("%s: num-queues='%s' is not a number from 1 to %d", opt,
		       v, VIRTIO_BLK_MAX_QUEUES);
		return -1;
	}
	d->num_queues = (unsigned)n;
	return 0;
}

/* poll=N: microseconds a virtio-blk queue busy-polls with requests in
 * flight before its thread sleeps (0: never) */
static int disk_poll(void *ctx, const char *opt, const char *v)
{
	struct disk_opt *d = ctx;
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || *v == '-' || n > 1000000) {
		pr_err("%s: poll='%s' is not a number of microseconds from 0 "
		       "to 1000000", opt, v);
		return -1;
	}
	d->poll_us = (unsigned)n;
	return 0;
}

static int disk_serial(void *ctx, const char *opt, const char *v)
{
	struct disk_opt *d = ctx;

	if (strlen(v) > 20) {
		pr_err("%s: serial '%s' is longer than 20 characters", opt, v);
		return -1;
	}
	d->serial = v;
	return 0;
}

static int disk_if(void *ctx, const char *opt, const char *v)
{
	struct disk_opt *d = ctx;

	if (!strcmp(v, "virtio")) {
		d->ide = false;
	} else if (!strcmp(v, "ide")) {
		d->ide = true;
	} else {
		pr_err("%s: if='%s' is not virtio or ide", opt, v);
		return -1;
	}
	return 0;
}

static int disk_backing_format(void *ctx, const char *opt, const char *v)
{
	struct disk_opt *d = ctx;

	if (strcmp(v, "raw") && strcmp(v, "qcow2")) {
		pr_err("%s: backing-format '%s' is not raw or qcow2", opt, v);
		return -1;
	}
	d->backing_format = v;
	return 0;
}

/* backing-dir=DIR, repeatable; DIR may be a colon-separated list */
static int disk_backing_dir(void *ctx, const char *opt, const char *v)
{
	struct disk_opt *d = ctx;
	char *list = (char *)v, *save = NULL;

	if (!*v) {
		pr_err("%s: backing-dir needs a directory", opt);
		return -1;
	}
	for (char *t = strtok_r(list, ":", &save); t;
	     t = strtok_r(NULL, ":", &save)) {
		if (d->nr_backing_dirs == BLOCKDEV_MAX_BACKING_DIRS) {
			pr_err("%s: at most %d backing directories", opt,
			       BLOCKDEV_MAX_BACKING_DIRS);
			return -1;
		}
		d->backing_dirs[d->nr_backing_dirs++] = t;
	}
	return 0;
}

static const struct subopt disk_keys[] = {
	{ "format", disk_format },
	{ "backing-format", disk_backing_format },
	{ "backing-dir", disk_backing_dir },
	{ "readonly", disk_readonly },
	{ "cache", disk_cache },
	{ "aio", disk_aio },
	{ "num-queues", disk_num_queues },
	{ "poll", disk_poll },
	{ "serial", disk_serial },
	{ "if", disk_if },
	{ NULL, NULL },
};

static int parse_disk(struct machine_cfg *cfg, char *spec)
{
	struct disk_opt *d;
	char *rest = strchr(spec, ',');

	if (cfg->nr_disks == MACHINE_MAX_DISKS) {
		pr_err("--disk: at most %d disks", MACHINE_MAX_DISKS);
		return -EINVAL;
	}
	d = &cfg->disks[cfg->nr_disks++];
	memset(d, 0, sizeof(*d));
	d->cache = BLOCKDEV_CACHE_WRITEBACK;
	d->poll_us = VIRTIO_BLK_POLL_US;
	if (rest)
		*rest++ = '\0';
	if (!*spec) {
		pr_err("--disk: missing image path");
		return -EINVAL;
	}
	d->path = spec;
	if (rest && parse_kv(rest, "--disk", d, disk_keys))
		return -EINVAL;
	if (d->ide && d->num_queues) {
		pr_err("--disk %s: num-queues is for virtio-blk, not if=ide",
		       d->path);
		return -EINVAL;
	}
	if (d->ide) {
		unsigned ide = 0;

		for (unsigned i = 0; i < cfg->nr_disks; i++)
			ide += cfg->disks[i].ide;
		if (ide > MACHINE_MAX_IDE_DISKS) {
			pr_err("--disk %s: at most %d IDE disks (two channels, "
			       "master and slave)", d->path, MACHINE_MAX_IDE_DISKS);
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_net(struct machine_cfg *cfg, const char *spec)
{
	if (cfg->nr_nets == MACHINE_MAX_NETS) {
		pr_err("--net: at most %d network devices", MACHINE_MAX_NETS);
		return -EINVAL;
	}
	return net_cfg_parse(spec, &cfg->nets[cfg->nr_nets++]);
}

/* --memory SIZE[,hugepages=on|off]: the size as before, then keys. */
static int parse_memory(const char *v, uint64_t *mem_size, bool *hugetlb)
{
	char size[32];
	const char *comma = strchr(v, ',');
	size_t n = comma ? (size_t)(comma - v) : strlen(v);

	if (n >= sizeof(size)) {
		pr_err("--memory: '%s' is not a size (use e.g. 512M or 2G)", v);
		return -EINVAL;
	}
	memcpy(size, v, n);
	size[n] = 0;
	if (parse_size(size, 1ULL << 20, mem_size)) {
		pr_err("--memory: '%s' is not a size (use e.g. 512M or 2G)", size);
		return -EINVAL;
	}
	if (*mem_size < CLI_MIN_MEMORY) {
		pr_err("--memory: %s is too small (at least 32M)", size);
		return -EINVAL;
	}
	if (*mem_size > CLI_MAX_MEMORY) {
		pr_err("--memory: %s is too large (at most 1T)", size);
		return -EINVAL;
	}
	if (*mem_size & 0xfff) {
		pr_err("--memory: %s is not a multiple of 4K", size);
		return -EINVAL;
	}
	*hugetlb = false;
	while (comma) {
		const char *key = comma + 1;

		comma = strchr(key, ',');
		n = comma ? (size_t)(comma - key) : strlen(key);
		if (n == strlen("hugepages=on") &&
		    !strncmp(key, "hugepages=on", n)) {
			*hugetlb = true;
		} else if (n == strlen("hugepages=off") &&
			   !strncmp(key, "hugepages=off", n)) {
			*hugetlb = false;
		} else {
			pr_err("--memory: '%.*s' is not hugepages=on or "
			       "hugepages=off", (int)n, key);
			return -EINVAL;
		}
	}
	/* hugetlbfs pages are 2 MiB: each RAM piece must be whole pages */
	if (*hugetlb && (*mem_size & (GM_HUGE_PAGE - 1))) {
		pr_err("--memory: %s is not a multiple of 2M (hugepages=on)",
		       size);
		return -EINVAL;
	}
	return 0;
}

static int parse_cpus(const char *v, unsigned *nr_cpus)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || !isdigit((unsigned char)*v) || n < 1 ||
	    n > VM_MAX_CPUS) {
		pr_err("--cpus: '%s' is not a number from 1 to %d", v,
		       VM_MAX_CPUS);
		return -EINVAL;
	}
	*nr_cpus = (unsigned)n;
	return 0;
}

static int parse_on_reboot(const char *v, enum vm_reboot_policy *on_reboot)
{
	if (!strcmp(v, "exit")) {
		*on_reboot = VM_REBOOT_EXIT;
	} else if (!strcmp(v, "restart")) {
		*on_reboot = VM_REBOOT_RESTART;
	} else {
		pr_err("--on-reboot: '%s' is not exit or restart", v);
		return -EINVAL;
	}
	return 0;
}

enum {
	OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_FIRMWARE, OPT_MEMORY,
	OPT_CPUS, OPT_DISK, OPT_NET, OPT_RNG, OPT_TRACE, OPT_STATS,
	OPT_ON_REBOOT, OPT_API_SOCKET, OPT_SECCOMP, OPT_TRACE_FILE,
	OPT_IOEVENTFD, OPT_IRQFD, OPT_DUMP_DTB, OPT_CDROM, OPT_BOOT, OPT_DEBUGCON,
	OPT_HELP,
};

static const struct option run_opts[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "firmware", required_argument, NULL, OPT_FIRMWARE },
	{ "dump-dtb", required_argument, NULL, OPT_DUMP_DTB },
	{ "boot", required_argument, NULL, OPT_BOOT },
	{ "debugcon", required_argument, NULL, OPT_DEBUGCON },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "cdrom", required_argument, NULL, OPT_CDROM },
	{ "net", required_argument, NULL, OPT_NET },
	{ "rng", no_argument, NULL, OPT_RNG },
	{ "trace", optional_argument, NULL, OPT_TRACE },
	{ "trace-file", required_argument, NULL, OPT_TRACE_FILE },
	{ "ioeventfd", required_argument, NULL, OPT_IOEVENTFD },
	{ "irqfd", required_argument, NULL, OPT_IRQFD },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "on-reboot", required_argument, NULL, OPT_ON_REBOOT },
	{ "api-socket", required_argument, NULL, OPT_API_SOCKET },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* getopt_long returned '?' or ':' for argv[optind - 1]: say which. */
static void report_bad_option(char **argv)
{
	if (optopt && optopt < 256)
		pr_err("unknown option '-%c' (see minivmm --help)", optopt);
	else if (optopt >= OPT_KERNEL)
		pr_err("%s: missing value", argv[optind - 1]);
	else
		pr_err("unknown option '%s' (see minivmm --help)",
		       argv[optind - 1]);
}

/* Apply one option to cfg: 0, VM_EXIT_USAGE (error printed) or 1 (--help
 * printed). */
static int apply_run_opt(int c, char **argv, struct machine_cfg *cfg)
{
	int err = 0;

	switch (c) {
	case OPT_KERNEL: cfg->kernel = optarg; break;
	case OPT_INITRD: cfg->initrd = optarg; break;
	case OPT_CMDLINE: cfg->cmdline = optarg; break;
	case OPT_FIRMWARE:
		cfg->firmware = strcmp(optarg, "seabios") ? optarg :
							    MACHINE_SEABIOS_PATH;
		break;
	case OPT_BOOT:
		if (strcmp(optarg, "disk") && strcmp(optarg, "cdrom")) {
			pr_err("--boot: '%s' is not disk or cdrom", optarg);
			return VM_EXIT_USAGE;
		}
		cfg->boot_cdrom = !strcmp(optarg, "cdrom");
		cfg->boot_set = true;
		break;
	case OPT_DEBUGCON:
		if (!*optarg) {
			pr_err("--debugcon: empty path");
			return VM_EXIT_USAGE;
		}
		cfg->debugcon = optarg;
		break;
	case OPT_DUMP_DTB:
		if (!*optarg) {
			pr_err("--dump-dtb: empty path");
			return VM_EXIT_USAGE;
		}
		cfg->dump_dtb = optarg;
		break;
	case OPT_MEMORY:
		err = parse_memory(optarg, &cfg->mem_size, &cfg->mem_hugetlb);
		break;
	case OPT_CPUS: err = parse_cpus(optarg, &cfg->nr_cpus); break;
	case OPT_DISK: err = parse_disk(cfg, optarg); break;
	case OPT_CDROM:
		if (!*optarg) {
			pr_err("--cdrom: empty path");
			return VM_EXIT_USAGE;
		}
		if (cfg->cdrom) {
			pr_err("--cdrom %s: one CD-ROM drive only (--cdrom %s given before)",
			       optarg, cfg->cdrom);
			return VM_EXIT_USAGE;
		}
		cfg->cdrom = optarg;
		break;
	case OPT_NET: err = parse_net(cfg, optarg); break;
	case OPT_RNG: cfg->rng = true; break;
	case OPT_TRACE:
		cfg->trace = true;
		err = trace_filter_parse(optarg, &cfg->trace_filter);
		break;
	case OPT_TRACE_FILE:
		if (!*optarg) {
			pr_err("--trace-file: empty path");
			return VM_EXIT_USAGE;
		}
		cfg->trace = true;
		cfg->trace_file = optarg;
		break;
	case OPT_IOEVENTFD:
	case OPT_IRQFD: {
		bool on;

		if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
			pr_err("--%s: '%s' is not on or off",
			       c == OPT_IRQFD ? "irqfd" : "ioeventfd", optarg);
			return VM_EXIT_USAGE;
		}
		on = !strcmp(optarg, "on");
		if (c == OPT_IRQFD)
			cfg->no_irqfd = !on;
		else
			cfg->no_ioeventfd = !on;
		break;
	}
	case OPT_STATS: cfg->stats = true; break;
	case OPT_ON_REBOOT: err = parse_on_reboot(optarg, &cfg->on_reboot); break;
	case OPT_API_SOCKET: cfg->api_socket = optarg; break;
	case OPT_SECCOMP:
		if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
			pr_err("--seccomp: '%s' is not on or off", optarg);
			return VM_EXIT_USAGE;
		}
		cfg->seccomp = !strcmp(optarg, "on");
		break;
	case OPT_HELP:
		cli_usage(stdout);
		return 1;
	case ':':
		pr_err("%s: missing value", argv[optind - 1]);
		return VM_EXIT_USAGE;
	default:
		report_bad_option(argv);
		return VM_EXIT_USAGE;
	}
	return err ? VM_EXIT_USAGE : 0;
}

/* The options that only make sense together (or not at all together). */
static int check_run_cfg(struct machine_cfg *cfg)
{
	if (!cfg->kernel && !cfg->firmware) {
		pr_err("run: --kernel PATH is required (see minivmm --help)");
		return VM_EXIT_USAGE;
	}
	if (cfg->kernel && cfg->firmware) {
		pr_err("run: --kernel and --firmware exclude each other");
		return VM_EXIT_USAGE;
	}
	if (cfg->firmware && (cfg->initrd || cfg->cmdline)) {
		pr_err("run: --initrd and --cmdline need --kernel, not --firmware");
		return VM_EXIT_USAGE;
	}
#ifndef __aarch64__
	/* x86 guests learn their hardware from ACPI and e820, not from a
	 * device tree */
	if (cfg->dump_dtb) {
		pr_err("--dump-dtb: only arm64 builds make a device tree");
		return VM_EXIT_USAGE;
	}
#endif
	if (!cfg->firmware && (cfg->boot_set || cfg->debugcon)) {
		pr_err("run: --%s needs --firmware", cfg->boot_set ? "boot" : "debugcon");
		return VM_EXIT_USAGE;
	}
	if (cfg->cdrom) {
		unsigned ide = 0;

		for (unsigned i = 0; i < cfg->nr_disks; i++)
			ide += cfg->disks[i].ide;
		if (ide >= MACHINE_MAX_IDE_DISKS) {
			pr_err("--cdrom %s: no free IDE position (%u if=ide disks)",
			       cfg->cdrom, ide);
			return VM_EXIT_USAGE;
		}
	}
	return 0;
}

int cli_parse_run(int argc, char **argv, struct machine_cfg *cfg)
{
	int c, ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_size = 256ULL << 20;
	cfg->nr_cpus = 1;
	cfg->on_reboot = VM_REBOOT_EXIT;
	cfg->seccomp = SANDBOX_DEFAULT_ON;
	opterr = 0; /* we print our own one-line errors */
	optind = 1;
	while ((c = getopt_long(argc, argv, "", run_opts, NULL)) != -1) {
		ret = apply_run_opt(c, argv, cfg);
		if (ret)
			return ret;
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s' (see minivmm --help)", argv[optind]);
		return VM_EXIT_USAGE;
	}
	ret = check_run_cfg(cfg);
	if (ret)
		return ret;
	if (!cfg->cmdline)
		cfg->cmdline = "console=ttyS0";
	return 0;
}
