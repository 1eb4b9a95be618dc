/* SPDX-License-Identifier: MIT
 * evloop.h - an epoll event loop running on its own I/O thread.
 *
 * Device work (virtqueue notifications arriving on ioeventfds, tap and stdin
 * readiness, timers through timerfd) runs on I/O threads, never on a vCPU
 * thread. A device may create its own loop (one I/O thread per queue) or
 * share the VM's main loop. Callbacks run on the loop's thread.
 */
#ifndef MINIVMM_EVLOOP_H
#define MINIVMM_EVLOOP_H

#include <stdint.h>
#include <sys/epoll.h>

#include "sandbox.h"

typedef void (*ev_cb)(void *opaque, uint32_t events);

struct evloop;

struct evloop *evloop_new(const char *name);
/* Watch fd for events (EPOLLIN, EPOLLOUT, ...). 0 or -errno. */
int evloop_add(struct evloop *l, int fd, uint32_t events, ev_cb cb,
	       void *opaque);
int evloop_mod(struct evloop *l, int fd, uint32_t events);
int evloop_del(struct evloop *l, int fd);
/* The seccomp allow-list the loop's thread runs under (vmm/sandbox.h);
 * SANDBOX_IO unless set before evloop_start. */
void evloop_set_sandbox(struct evloop *l, enum sandbox_class c);
/* Start the I/O thread; return once it is under its allow-list. 0 or
 * -errno (the thread could not be sandboxed: it serves nothing, and
 * evloop_free still stops it). */
int evloop_start(struct evloop *l);
/* Run fn(opaque) on the loop's thread and wait until it has run (or run it
 * directly when called from that thread or before the loop started). */
void evloop_call(struct evloop *l, void (*fn)(void *), void *opaque);
/* For a loop whose thread was not started (unit tests): wait up to
 * timeout_ms for events and run their callbacks on the calling thread.
 * How many ran, or -errno (-EBUSY once started). */
int evloop_run_ready(struct evloop *l, int timeout_ms);
/* Stop the thread, join it, free the loop. Registered fds are not closed. */
void evloop_free(struct evloop *l);

#endif
