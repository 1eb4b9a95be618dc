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
/* Busy-polling before sleeping, for a loop whose work finishes without
 * an fd becoming readable first (a disk queue's io_uring completions, a
 * ring the driver fills without kicking). Before each epoll_wait the loop
 * calls fn(opaque) over and over for up to its poll window: fn returns
 * > 0 when it did some work (the loop then looks at its fds without
 * sleeping and polls again), 0 when nothing is ready yet but work is due
 * (requests in flight), < 0 when nothing is due (the loop sleeps at
 * once). The window adapts to what the loop saw, between 0 and max_ns:
 * it doubles (from EVLOOP_POLL_MIN_NS) when a sleep with work due ended
 * within max_ns, so that polling would have caught it, and halves (to 0
 * below EVLOOP_POLL_MIN_NS) when a sleep lasted longer. max_ns 0 turns
 * polling off. Call before evloop_start (again: a new limit, the window
 * cut to it). */
typedef int (*ev_poll_fn)(void *opaque);
#define EVLOOP_POLL_MIN_NS 4000u
void evloop_set_poll(struct evloop *l, ev_poll_fn fn, void *opaque,
		     unsigned max_ns);
/* The current poll window in ns (for unit tests). */
unsigned evloop_poll_window(const struct evloop *l);
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
/* For a loop whose thread was not started (unit tests): one round of the
 * loop on the calling thread: poll (evloop_set_poll), wait up to
 * timeout_ms for events (not at all if polling did work) and run their
 * callbacks.
 * How many ran, or -errno (-EBUSY once started). */
int evloop_run_ready(struct evloop *l, int timeout_ms);
/* Stop the thread, join it, free the loop. Registered fds are not closed. */
void evloop_free(struct evloop *l);

#endif
