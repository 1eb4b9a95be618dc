/* SPDX-License-Identifier: MIT
 * api.c - the control socket (see api.h). Served on the VM's I/O thread;
 * each connection is short: read a line, answer, keep reading until EOF.
 */
#include "api.h"
#include "arch.h"
#include "evloop.h"
#include "log.h"
#include "vcpu.h"
#include "vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#define API_LINE_MAX 256
/* "stats" of 64 vCPUs with every device and handler bucket in use is about
 * 20 KiB ("regs" of 64 vCPUs: 8 KiB); one such buffer per connection */
#define API_ANSWER_MAX 32768
#define API_BACKOFF_MS 100  /* pause after accept4() ran out of fds */

struct api_conn {
	struct api *api;
	struct api_conn *next; /* in api->conns */
	int fd;
	uint32_t events;       /* what the loop watches for it */
	bool eof;              /* the client sent everything */
	char buf[API_LINE_MAX];/* the commands received, not yet answered */
	size_t len;
	char out[API_ANSWER_MAX]; /* the answer being sent */
	size_t out_len, out_off;
};

/* "regs": every vCPU's main registers, taken while the VM is paused (the
 * registers of a vCPU inside KVM_RUN cannot be read); a running VM goes on. */
static void regs(struct vm *vm, char *out, size_t outlen)
{
	bool was_paused = __atomic_load_n(&vm->paused, __ATOMIC_RELAXED);
	size_t n;

	if (!vm_pause(vm)) {
		if (!was_paused)
			vm_resume(vm);
		snprintf(out, outlen, "{\"ok\":false,\"error\":\"a vCPU did not stop\"}\n");
		return;
	}
	n = (size_t)snprintf(out, outlen, "{\"ok\":true,\"vcpus\":[");
	for (unsigned i = 0; vm->vcpus && i < vm->nr_cpus && n < outlen; i++) {
		int r;

		if (i)
			out[n++] = ',';
		r = arch_vcpu_regs_json(&vm->vcpus[i], out + n, outlen - n);
		if (r < 0)
			break;
		n += (size_t)r;
	}
	if (n + 4 > outlen)
		snprintf(out, outlen, "{\"ok\":false,\"error\":\"cannot read the registers\"}\n");
	else
		snprintf(out + n, outlen - n, "]}\n");
	if (!was_paused)
		vm_resume(vm);
}

/* "stats": every counter for `minivmm stat` (stats_json(), the exits by
 * device, the devices' own counters, the exits by register), with the
 * time it was taken. An
 * answer that would not fit is refused whole, never cut. */
static void stats_answer(struct api *a, char *out, size_t outlen)
{
	/* what follows the exits by register: "},\"bus_regs_left_out\":N}\n" */
	enum { STATS_TAIL_MAX = 48 };
	struct vm *vm = a->vm;
	unsigned left[2] = { 0, 0 };
	struct timespec now;
	size_t n;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &now);
	n = (size_t)snprintf(out, outlen,
			     "{\"ok\":true,\"minivmm\":\"stats\",\"state\":\"%s\","
			     "\"pid\":%d,\"vcpus\":%u,\"time_ns\":%llu,",
			     __atomic_load_n(&vm->paused, __ATOMIC_RELAXED) ?
				     "paused" : "running",
			     (int)getpid(), vm->nr_cpus,
			     (unsigned long long)now.tv_sec * 1000000000ull +
				     (unsigned long long)now.tv_nsec);
	if (n >= outlen)
		goto too_long;
	r = stats_json(&vm->stats, out + n, outlen - n);
	if (r < 0 || (n += (size_t)r) >= outlen)
		goto too_long;
	n += (size_t)snprintf(out + n, outlen - n, ",\"bus_exits\":{");
	if (n >= outlen)
		goto too_long;
	r = bus_counters_json(&vm->pio, out + n, outlen - n);
	if (r < 0 || (n += (size_t)r) >= outlen)
		goto too_long;
	if (r > 0 && n + 1 < outlen)
		out[n++] = ',';
	r = bus_counters_json(&vm->mmio, out + n, outlen - n);
	if (r < 0 || (n += (size_t)r) >= outlen)
		goto too_long;
	if (r == 0 && out[n - 1] == ',')
		n--;
	n += (size_t)snprintf(out + n, outlen - n, "},");
	if (n >= outlen)
		goto too_long;
	r = stats_sources_json(&vm->stats, out + n, outlen - n);
	if (r < 0 || (n += (size_t)r) >= outlen)
		goto too_long;
	/* "bus_regs":{"pio:com1":[["THR",N],...],...}: each device's busiest
	 * registers, in the room left (whole devices only; "bus_regs_left_out"
	 * counts those that found none). Counted from the first request on. */
	bus_watch_regs(&vm->pio);
	bus_watch_regs(&vm->mmio);
	n += (size_t)snprintf(out + n, outlen - n, ",\"bus_regs\":{");
	if (n + STATS_TAIL_MAX >= outlen)
		goto too_long;
	n += bus_regs_json(&vm->pio, out + n, outlen - n - STATS_TAIL_MAX,
			   &left[0]);
	if (out[n - 1] != '{' && n + 1 < outlen - STATS_TAIL_MAX)
		out[n++] = ',';
	n += bus_regs_json(&vm->mmio, out + n, outlen - n - STATS_TAIL_MAX,
			   &left[1]);
	if (out[n - 1] == ',')
		n--;
	n += (size_t)snprintf(out + n, outlen - n,
			      "},\"bus_regs_left_out\":%u}\n", left[0] + left[1]);
	if (n < outlen)
		return;
too_long:
	snprintf(out, outlen, "{\"ok\":false,\"error\":\"the counters do not fit in an answer\"}\n");
}

void api_command(struct api *a, const char *line, char *out, size_t outlen)
{
	struct vm *vm = a->vm;

	if (!strcmp(line, "pause")) {
		vm_pause(vm);
		snprintf(out, outlen, "{\"ok\":true,\"state\":\"paused\"}\n");
	} else if (!strcmp(line, "resume")) {
		vm_resume(vm);
		snprintf(out, outlen, "{\"ok\":true,\"state\":\"running\"}\n");
	} else if (!strcmp(line, "info")) {
		char dev[4096];

		/* "devices":{...}: each device's counters (virtio-net) */
		char pio[1024], mmio[1024];

		if (stats_sources_json(&vm->stats, dev, sizeof(dev)) >= (int)sizeof(dev))
			snprintf(dev, sizeof(dev), "\"devices\":{}");
		/* "bus_exits":{"pio:com1":N,...}: the exits each device handled */
		if (bus_counters_json(&vm->pio, pio, sizeof(pio)) >= (int)sizeof(pio))
			pio[0] = 0;
		if (bus_counters_json(&vm->mmio, mmio, sizeof(mmio)) >= (int)sizeof(mmio))
			mmio[0] = 0;
		snprintf(out, outlen,
			 "{\"ok\":true,\"state\":\"%s\",\"vcpus\":%u,"
			 "\"memory_mib\":%llu,\"uptime_s\":%lld,"
			 "\"exits\":%llu,\"exits_io\":%llu,\"exits_mmio\":%llu,"
			 "\"pid\":%d,%s,\"bus_exits\":{%s%s%s}}\n",
			 __atomic_load_n(&vm->paused, __ATOMIC_RELAXED) ? "paused" : "running",
			 vm->nr_cpus, (unsigned long long)(vm->mem_size >> 20),
			 (long long)(time(NULL) - a->started),
			 (unsigned long long)vm->stats.v[STAT_EXITS],
			 (unsigned long long)vm->stats.v[STAT_EXIT_IO],
			 (unsigned long long)vm->stats.v[STAT_EXIT_MMIO],
			 (int)getpid(), dev, pio, pio[0] && mmio[0] ? "," : "", mmio);
	} else if (!strcmp(line, "stats")) {
		stats_answer(a, out, outlen);
	} else if (!strcmp(line, "regs")) {
		regs(vm, out, outlen);
	} else if (!strcmp(line, "shutdown")) {
		if (a->power_button && a->power_button(a->opaque))
			snprintf(out, outlen, "{\"ok\":true,\"state\":\"shutting-down\"}\n");
		else
			snprintf(out, outlen, "{\"ok\":false,\"error\":\"no ACPI power button\"}\n");
	} else if (!strcmp(line, "stop")) {
		vm_resume(vm);
		vm_request_stop(vm, VM_EXIT_OK);
		snprintf(out, outlen, "{\"ok\":true,\"state\":\"stopping\"}\n");
	} else {
		snprintf(out, outlen, "{\"ok\":false,\"error\":\"unknown command "
			 "(pause, resume, info, stats, regs, shutdown, stop)\"}\n");
	}
}

/* Stop or restart accepting (API_CONNS_MAX reached, or out of file
 * descriptors): the listening socket stays readable while a client waits,
 * so it must leave the epoll set meanwhile. */
static void accepting(struct api *a, bool on)
{
	if (a->accepting == on)
		return;
	if (!evloop_mod(a->loop, a->listen_fd, on ? EPOLLIN : 0))
		a->accepting = on;
}

static void conn_close(struct api_conn *c)
{
	struct api *a = c->api;
	struct api_conn **pc = &a->conns;

	while (*pc != c)
		pc = &(*pc)->next;
	*pc = c->next;
	evloop_del(a->loop, c->fd);
	close(c->fd);
	free(c);
	a->nr_conns--;
	if (a->listen_fd >= 0 && !a->backing_off)
		accepting(a, true);
}

/* Watch the connection for ev (EPOLLIN while reading commands, EPOLLOUT
 * while an answer waits). 0 or -errno. */
static int conn_watch(struct api_conn *c, uint32_t ev)
{
	int r;

	if (c->events == ev)
		return 0;
	r = evloop_mod(c->api->loop, c->fd, ev);
	if (!r)
		c->events = ev;
	return r;
}

/* Send what is left of the answer. 0 all sent, 1 the socket is full
 * (EPOLLOUT calls again), -1 the connection is gone. */
static int conn_flush(struct api_conn *c)
{
	while (c->out_off < c->out_len) {
		/* SIGPIPE is blocked in every thread (machine_run): a client
		 * gone is EPIPE here. write(), not send(): the sandbox's
		 * allow-list for this thread has it. */
		ssize_t n = write(c->fd, c->out + c->out_off,
				  c->out_len - c->out_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return conn_watch(c, EPOLLOUT) ? -1 : 1;
		if (n <= 0)
			return -1;
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return conn_watch(c, c->eof ? 0 : EPOLLIN) ? -1 : 0;
}

/* Answer the complete lines in c->buf, one at a time: the next only once
 * the last answer is sent, so a client that does not read its answers
 * holds at most one (API_ANSWER_MAX bytes) and is not read meanwhile.
 * 0, or -1 when the connection is to be closed. */
static int conn_serve(struct api_conn *c)
{
	char *nl;

	while (!c->out_len && (nl = memchr(c->buf, '\n', c->len))) {
		size_t l = (size_t)(nl - c->buf);
		bool text = !memchr(c->buf, '\0', l);

		*nl = '\0';
		if (l && nl[-1] == '\r')
			nl[-1] = '\0';
		if (!text)
			snprintf(c->out, sizeof(c->out),
				 "{\"ok\":false,\"error\":\"NUL byte in the line\"}\n");
		else
			api_command(c->api, c->buf, c->out, sizeof(c->out));
		c->out_len = strlen(c->out);
		c->len -= l + 1;
		memmove(c->buf, nl + 1, c->len);
		if (conn_flush(c) < 0)
			return -1;
	}
	if (c->out_len)
		return 0;
	if (c->len == sizeof(c->buf)) {
		/* a line longer than any command: refuse and hang up */
		const char *msg = "{\"ok\":false,\"error\":\"line too long\"}\n";
		if (write(c->fd, msg, strlen(msg)) < 0)
			pr_trace("api: write: %s", strerror(errno));
		return -1;
	}
	/* the client is done sending and has every answer */
	return c->eof ? -1 : 0;
}

static void conn_ready(void *opaque, uint32_t events)
{
	struct api_conn *c = opaque;
	int r;

	if (c->out_len) {
		r = conn_flush(c);
		if (r < 0)
			goto close;
		if (r > 0)
			return;
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->eof &&
	    c->len < sizeof(c->buf)) {
		ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);

		if (n < 0 && errno != EAGAIN && errno != EINTR)
			goto close;
		if (n == 0) {
			/* answer what is complete, then hang up */
			c->eof = true;
			if (conn_watch(c, 0))
				goto close;
		}
		if (n > 0)
			c->len += (size_t)n;
	}
	if (conn_serve(c) < 0)
		goto close;
	return;
close:
	conn_close(c);
}

/* After a pause for want of file descriptors: accept again. */
static void backoff_done(void *opaque, uint32_t events)
{
	struct api *a = opaque;
	uint64_t n;
	ssize_t r;

	(void)events;
	r = read(a->timer_fd, &n, sizeof(n));
	(void)r; /* EAGAIN: nothing expired */
	a->backing_off = false;
	if (a->nr_conns < API_CONNS_MAX)
		accepting(a, true);
}

static void accept_ready(void *opaque, uint32_t events)
{
	struct api *a = opaque;
	struct itimerspec later = { .it_value = { 0, API_BACKOFF_MS * 1000000L } };
	struct api_conn *c;
	int fd;

	(void)events;
	fd = accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		/* Out of descriptors or memory: the client stays in the
		 * backlog and the socket stays readable; a level-triggered
		 * loop would spin here. Pause, try again a little later. */
		if ((errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		     errno == ENOMEM) &&
		    !timerfd_settime(a->timer_fd, 0, &later, NULL)) {
			a->backing_off = true;
			accepting(a, false);
		}
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->api = a;
	c->fd = fd;
	c->events = EPOLLIN;
	if (evloop_add(a->loop, fd, EPOLLIN, conn_ready, c)) {
		close(fd);
		free(c);
		return;
	}
	c->next = a->conns;
	a->conns = c;
	if (++a->nr_conns >= API_CONNS_MAX)
		accepting(a, false); /* the next wait in the backlog */
}

static bool socket_in_use(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool used;

	if (fd < 0)
		return false;
	used = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return used;
}

int api_start(struct api *a, struct vm *vm, struct evloop *loop,
	      const char *path, bool (*power_button)(void *), void *opaque)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int ret;

	memset(a, 0, sizeof(*a));
	a->listen_fd = -1;
	a->timer_fd = -1;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		pr_err("--api-socket: path '%s' is too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			pr_err("--api-socket: '%s' exists and is not a socket", path);
			return -EEXIST;
		}
		/* a leftover from a minivmm that died: take the name over;
		 * one that still answers belongs to a running VM */
		if (socket_in_use(&sun)) {
			pr_err("--api-socket: '%s' is in use by a running VM", path);
			return -EADDRINUSE;
		}
		unlink(path);
	}
	a->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->listen_fd < 0 ||
	    bind(a->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(a->listen_fd, 4) < 0) {
		ret = -errno;
		pr_err("--api-socket: %s: %s", path, strerror(errno));
		if (a->listen_fd >= 0)
			close(a->listen_fd);
		a->listen_fd = -1;
		return ret;
	}
	a->vm = vm;
	a->loop = loop;
	a->path = strdup(path);
	a->started = time(NULL);
	a->power_button = power_button;
	a->opaque = opaque;
	/* made now: when accept4() runs out of descriptors, so would this */
	a->timer_fd = timerfd_create(CLOCK_MONOTONIC,
				     TFD_NONBLOCK | TFD_CLOEXEC);
	a->accepting = true; /* before the loop may call accept_ready */
	if (a->timer_fd < 0 ||
	    (ret = evloop_add(loop, a->timer_fd, EPOLLIN, backoff_done, a)) ||
	    (ret = evloop_add(loop, a->listen_fd, EPOLLIN, accept_ready, a))) {
		ret = a->timer_fd < 0 ? -errno : ret;
		pr_err("--api-socket: %s: %s", path, strerror(-ret));
		if (a->timer_fd >= 0) {
			evloop_del(loop, a->timer_fd);
			close(a->timer_fd);
		}
		close(a->listen_fd);
		a->listen_fd = a->timer_fd = -1;
		unlink(path);
		free(a->path);
		a->path = NULL;
		return ret;
	}
	return 0;
}

/* On the I/O thread, so that no callback of ours is running meanwhile. */
static void close_all(void *opaque)
{
	struct api *a = opaque;

	evloop_del(a->loop, a->listen_fd);
	close(a->listen_fd);
	a->listen_fd = -1;
	evloop_del(a->loop, a->timer_fd);
	close(a->timer_fd);
	a->timer_fd = -1;
	while (a->conns)
		conn_close(a->conns);
}

void api_stop(struct api *a)
{
	if (a->listen_fd < 0)
		return;
	evloop_call(a->loop, close_all, a);
	if (a->path)
		unlink(a->path);
	free(a->path);
	a->path = NULL;
}
