/* SPDX-License-Identifier: MIT
 * stat_cli.h - `minivmm stat`: the live statistics of a running minivmm,
 * read from its control socket ("stats", vmm/api.c) and shown as a table
 * that refreshes, like kvm_stat. The pieces below are exposed for tests.
 */
#ifndef MINIVMM_STAT_CLI_H
#define MINIVMM_STAT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A JSON answer flattened to (path, value) pairs: {"a":{"b":[7,8]}} gives
 * "a.b.0" = 7 and "a.b.1" = 8. Numbers are unsigned integers (a fraction is
 * cut, a negative number is 0), true/false are 1/0, strings are kept up to
 * SJ_STR_MAX - 1 bytes. The answer comes from a socket anyone may have
 * made: the parser is bounded in depth, items and path length, and refuses
 * what is not one JSON object. */
#define SJ_ITEMS_MAX 4096
#define SJ_KEY_MAX 96
#define SJ_STR_MAX 64
#define SJ_DEPTH_MAX 16

enum sj_type { SJ_NUM, SJ_BOOL, SJ_STR, SJ_NULL };

struct sj_item {
	char key[SJ_KEY_MAX];
	enum sj_type type;
	uint64_t num;
	char str[SJ_STR_MAX];
};

struct sj {
	struct sj_item *items; /* SJ_ITEMS_MAX of them */
	unsigned n;
};

/* 0, -EINVAL (not one JSON object, too deep, a path too long) or -E2BIG
 * (more than SJ_ITEMS_MAX values). j->items must be allocated. */
int sj_parse(struct sj *j, const char *text, size_t len);
const struct sj_item *sj_find(const struct sj *j, const char *key);
/* the number (or boolean) at key, or 0 */
uint64_t sj_num(const struct sj *j, const char *key);

/* One reading of the counters: the answer to "stats" and the kernel's
 * guest time of each vCPU thread (/proc/PID/task/TID/stat, which not every
 * host accounts: 0 then). */
#define STAT_VCPUS_MAX 64
struct stat_sample {
	struct sj j;
	uint64_t guest_ns[STAT_VCPUS_MAX];
};

/* The table for the interval from prev to cur (prev NULL: totals only, no
 * rates). dt_ns: the length of the interval by the VM's own clock. */
void stat_table(FILE *f, const char *path, const struct stat_sample *prev,
		const struct stat_sample *cur);

/* "--interval": seconds from 0.1 to 3600; 0 or -EINVAL */
int stat_parse_interval(const char *s, double *out);

/* `minivmm stat ...`: argv[0] is "stat". Exit status. */
int stat_main(int argc, char **argv);

#endif
