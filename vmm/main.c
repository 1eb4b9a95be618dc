/* SPDX-License-Identifier: MIT
 * main.c - minivmm's entry point: the subcommands `run`, `img` and `stat`.
 *
 * To follow a boot from the top: cli_parse_run() (vmm/cli.c) reads the
 * options, machine_run() (vmm/machine.c) builds the machine, vm_create()
 * (vmm/kvm.c) opens /dev/kvm, x86_boot_load() (boot/x86/) puts the kernel
 * in guest RAM, and each vCPU thread (vmm/vcpu.c) loops in KVM_RUN.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "devices/disk/img.h"
#include "log.h"
#include "machine.h"
#include "stat_cli.h"

static int run_main(int argc, char **argv)
{
	struct machine_cfg cfg;
	int ret = cli_parse_run(argc, argv, &cfg);

	if (ret == 1)
		return 0; /* --help */
	if (ret)
		return ret;
	return machine_run(&cfg);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		cli_usage(stderr);
		return VM_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		cli_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("minivmm %s\n", MINIVMM_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "run"))
		return run_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "img"))
		return img_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "stat"))
		return stat_main(argc - 1, argv + 1);
	pr_err("unknown command '%s' (use run, img or stat; see minivmm --help)", argv[1]);
	return VM_EXIT_USAGE;
}
