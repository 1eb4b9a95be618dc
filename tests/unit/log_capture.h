/* SPDX-License-Identifier: MIT
 * log_capture.h - count the lines minivmm prints on stderr meanwhile, for
 * tests that bound what a hostile guest can make it log.
 */
#ifndef MINIVMM_TEST_LOG_CAPTURE_H
#define MINIVMM_TEST_LOG_CAPTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm/log.h"

struct log_capture {
	FILE *f;      /* where stderr goes meanwhile */
	int saved;    /* the real stderr */
	bool quiet;   /* log_quiet before */
};

/* From here on, stderr (with log_quiet off) goes to a temporary file. */
static inline void log_capture_start(struct log_capture *c)
{
	fflush(stderr);
	c->f = tmpfile();
	c->saved = dup(STDERR_FILENO);
	c->quiet = log_quiet;
	if (c->f && c->saved >= 0)
		dup2(fileno(c->f), STDERR_FILENO);
	log_quiet = false;
}

/* stderr back; the number of lines written meanwhile (~0u on a failed
 * capture). The last line is copied to last (if not NULL). */
static inline unsigned log_capture_end(struct log_capture *c, char *last,
				       size_t lastlen)
{
	char line[1024];
	unsigned n = 0;

	fflush(stderr);
	log_quiet = c->quiet;
	if (!c->f || c->saved < 0)
		return ~0u;
	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	rewind(c->f);
	if (last && lastlen)
		last[0] = '\0';
	while (fgets(line, sizeof(line), c->f)) {
		n++;
		if (last && lastlen) {
			size_t k = strlen(line);

			if (k >= lastlen)
				k = lastlen - 1;
			memcpy(last, line, k);
			last[k] = '\0';
		}
	}
	fclose(c->f);
	return n;
}

#endif
