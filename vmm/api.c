/* SPDX-License-Identifier: MIT
 * api.c - the control socket (see api.h). Served on the VM's I/O thread;
 * each connection is short: read a line, answer, keep reading until EOF.
 */
#include "api.h"
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
#include <sys/un.h>
#include <unistd.h>

#define API_LINE_MAX 256
#define API_ANSWER_MAX 8192 /* "regs" of 64 vCPUs */

struct api_conn {
	struct api *api;
	struct api_conn *next; /* in api->conns */
	int fd;
	char buf[API_LINE_MAX];
	size_t len;
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
		r = vcpu_regs_json(&vm->vcpus[i], out + n, outlen - n);
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
			 "(pause, resume, info, regs, shutdown, stop)\"}\n");
	}
}

static void conn_close(struct api_conn *c)
{
	struct api_conn **pc = &c->api->conns;

	while (*pc != c)
		pc = &(*pc)->next;
	*pc = c->next;
	evloop_del(c->api->loop, c->fd);
	close(c->fd);
	free(c);
}

static void conn_ready(void *opaque, uint32_t events)
{
	struct api_conn *c = opaque;
	ssize_t n;
	char *nl;

	(void)events;
	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return;
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	while ((nl = strchr(c->buf, '\n'))) {
		char out[API_ANSWER_MAX];
		*nl = '\0';
		if (nl > c->buf && nl[-1] == '\r')
			nl[-1] = '\0';
		api_command(c->api, c->buf, out, sizeof(out));
		if (write(c->fd, out, strlen(out)) < 0) {
			conn_close(c);
			return;
		}
		c->len -= (size_t)(nl + 1 - c->buf);
		memmove(c->buf, nl + 1, c->len + 1);
	}
	if (c->len == sizeof(c->buf) - 1) {
		/* a line longer than any command: refuse and hang up */
		const char *msg = "{\"ok\":false,\"error\":\"line too long\"}\n";
		if (write(c->fd, msg, strlen(msg)) < 0)
			pr_trace("api: write: %s", strerror(errno));
		conn_close(c);
	}
}

static void accept_ready(void *opaque, uint32_t events)
{
	struct api *a = opaque;
	struct api_conn *c;
	int fd;

	(void)events;
	fd = accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->api = a;
	c->fd = fd;
	if (evloop_add(a->loop, fd, EPOLLIN, conn_ready, c)) {
		close(fd);
		free(c);
		return;
	}
	c->next = a->conns;
	a->conns = c;
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
	return evloop_add(loop, a->listen_fd, EPOLLIN, accept_ready, a);
}

/* On the I/O thread, so that no callback of ours is running meanwhile. */
static void close_all(void *opaque)
{
	struct api *a = opaque;

	while (a->conns)
		conn_close(a->conns);
	evloop_del(a->loop, a->listen_fd);
	close(a->listen_fd);
	a->listen_fd = -1;
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
