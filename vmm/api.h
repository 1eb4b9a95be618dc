/* SPDX-License-Identifier: MIT
 * api.h - the control socket (--api-socket PATH): a Unix stream socket that
 * takes one command per line and answers one JSON object per line.
 *
 *   pause      stop the vCPUs (devices keep their state)
 *   resume     let them run again
 *   info       state, vCPUs, memory, uptime and exit counters
 *   stats      every counter, for `minivmm stat`: exits by reason and by
 *              device, handler-time histograms, vCPU times, device counters
 *   shutdown   press the ACPI power button (the guest powers off)
 *   stop       end the VM at once
 *
 * Example: echo pause | socat - UNIX-CONNECT:/tmp/vm.sock
 *          {"ok":true,"state":"paused"}
 *
 * Bounds: a line is at most 255 bytes (a longer one is refused and the
 * connection closed); each answer is sent whole before the next line is
 * read, so a client that does not read holds one answer (at most 32 KiB); at most
 * API_CONNS_MAX connections are served at a time; names in answers are
 * JSON-escaped; out of file descriptors, accepting pauses for 100 ms.
 */
#ifndef MINIVMM_API_H
#define MINIVMM_API_H

#include <stdbool.h>
#include <time.h>

/* Connections served at a time; more wait in the listen backlog. */
#define API_CONNS_MAX 16

struct evloop;
struct vm;
struct api_conn;

struct api {
	struct vm *vm;
	struct evloop *loop;
	int listen_fd;
	char *path;
	time_t started;
	bool (*power_button)(void *opaque);
	void *opaque;
	struct api_conn *conns; /* open connections (I/O thread only) */
	unsigned nr_conns;
	int timer_fd;           /* ends a pause in accepting (EMFILE) */
	bool accepting;         /* listen_fd is watched */
	bool backing_off;       /* paused for want of descriptors */
};

/* Listen on path (which must not exist yet: a stale socket file left by a
 * dead minivmm is replaced). 0 or -errno with a message printed. */
int api_start(struct api *a, struct vm *vm, struct evloop *loop,
	      const char *path, bool (*power_button)(void *), void *opaque);
/* Close the socket and every open connection, remove the socket file. */
void api_stop(struct api *a);
/* Run one command line; writes the JSON answer (with '\n') into out.
 * Exposed for tests. */
void api_command(struct api *a, const char *line, char *out, size_t outlen);

#endif
