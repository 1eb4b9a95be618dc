/* SPDX-License-Identifier: MIT
 * fuzz_cli - libFuzzer target for the command line of `minivmm run`
 * (vmm/cli.c cli_parse_run, with the --disk and --net sub-option parsers):
 * the input is the argument list, NUL-separated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/cli.h"
#include "vmm/log.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_ARGS + 2];
	struct machine_cfg cfg;
	int argc = 0;

	if (!buf)
		return 0;
	log_quiet = true;
	memcpy(buf, data, size);
	buf[size] = 0;
	argv[argc++] = "run";
	for (char *p = buf; p <= buf + size && argc <= MAX_ARGS;
	     p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	cli_parse_run(argc, argv, &cfg);
	free(buf);
	return 0;
}
