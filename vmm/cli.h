/* SPDX-License-Identifier: MIT
 * cli.h - the command line of `minivmm run`. */
#ifndef MINIVMM_CLI_H
#define MINIVMM_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "machine.h"

#define CLI_MIN_MEMORY (32ULL << 20)
#define CLI_MAX_MEMORY (1ULL << 40)

/* Parse "512M", "4G", "1024K", "2T"; a bare number is in units of
 * default_unit (bytes). 0 or -EINVAL (junk, overflow, zero). */
int parse_size(const char *s, uint64_t default_unit, uint64_t *out);
/* Parse the arguments after "run". 0, or VM_EXIT_USAGE after printing one
 * line naming the bad option; 1 for --help (printed). */
int cli_parse_run(int argc, char **argv, struct machine_cfg *cfg);
void cli_usage(FILE *f);

#endif
