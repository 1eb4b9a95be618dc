/* SPDX-License-Identifier: MIT
 * fuzz_api - libFuzzer target for the control socket (vmm/api.c): each
 * input is sent as one client's byte stream to a live control socket (its
 * I/O thread running, as in minivmm), which splits it into lines and runs
 * every command; the client reads the answers until the server hangs up.
 * The VM is one of vm_init_memory with no vCPU running; a "stop" or
 * "pause" of one input is undone before the next. A client that gives up
 * (5 s without an answer) closes its end: SIGPIPE is ignored, as minivmm
 * blocks it.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm/api.h"
#include "vmm/evloop.h"
#include "vmm/log.h"
#include "vmm/vm.h"

static struct vm vm;
static struct api api;
static struct sockaddr_un sun = { .sun_family = AF_UNIX };

static bool power_button(void *opaque)
{
	(void)opaque;
	return true;
}

/* at exit: the socket file goes (api_stop removes it) */
static void stop(void)
{
	api_stop(&api);
}

static void start(void)
{
	struct evloop *loop;

	log_quiet = true;
	signal(SIGPIPE, SIG_IGN); /* minivmm blocks it in every thread */
	snprintf(sun.sun_path, sizeof(sun.sun_path),
		 "/tmp/minivmm-fuzz-api.%d.sock", (int)getpid());
	if (vm_init_memory(&vm, 32ULL << 20, false, 1) || !(loop = evloop_new("api")) ||
	    evloop_start(loop) ||
	    api_start(&api, &vm, loop, sun.sun_path, power_button, NULL))
		abort();
	atexit(stop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pollfd p;
	char answer[4096];
	size_t sent = 0;
	int fd;

	if (!api.path)
		start();
	vm.stop_requested = 0;
	vm_resume(&vm);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)))
		abort();
	while (sent < size) {
		ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);

		if (n <= 0)
			break; /* the server hung up (a line too long) */
		sent += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	/* every answer, then EOF when the server has closed its end */
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (poll(&p, 1, 5000) == 1 && recv(fd, answer, sizeof(answer), 0) > 0)
		;
	close(fd);
	return 0;
}
