/* SPDX-License-Identifier: MIT
 * term.c - host side of the serial console (see term.h).
 */
#include "term.h"
#include "evloop.h"
#include "log.h"
#include "vm.h"
#include "devices/uart16550.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define CTRL_A 0x01

static struct termios saved_tio;
static volatile sig_atomic_t tio_saved;

void console_restore(void)
{
	if (tio_saved) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
		tio_saved = 0;
	}
}

/* A crash must not leave the user's terminal raw: restore, then die of the
 * same signal. */
static void fatal_signal(int sig)
{
	console_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int raw_mode(void)
{
	struct termios t;
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };

	if (tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return -errno;
	t = saved_tio;
	cfmakeraw(&t);
	t.c_oflag |= OPOST | ONLCR; /* keep the host's own messages readable */
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) < 0)
		return -errno;
	tio_saved = 1;
	atexit(console_restore);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], fatal_signal);
	return 0;
}

void console_tx(void *opaque, uint8_t byte)
{
	(void)opaque;
	/* Unbuffered: nothing is lost when the VM stops. A full pipe on
	 * stdout blocks the vCPU, which is the backpressure we want. */
	while (write(STDOUT_FILENO, &byte, 1) < 0 && errno == EINTR)
		;
}

/* Apply the Ctrl-A escapes (terminal only) and feed the UART. Returns the
 * number of input bytes consumed. */
static size_t feed(struct console *con, const uint8_t *buf, size_t n)
{
	size_t i;

	if (!con->is_tty)
		return uart_receive(con->uart, buf, (unsigned)n);
	for (i = 0; i < n; i++) {
		uint8_t c = buf[i];
		if (con->escape) {
			con->escape = false;
			if (c == 'x' || c == 'X') {
				console_restore();
				pr_info("terminated by Ctrl-A x");
				vm_request_stop(con->vm, VM_EXIT_OK);
				return n;
			}
			if (c != CTRL_A && !uart_receive(con->uart, &(uint8_t){ CTRL_A }, 1))
				break;
		} else if (c == CTRL_A) {
			con->escape = true;
			continue;
		}
		if (!uart_receive(con->uart, &c, 1))
			break;
	}
	return i;
}

static void stdin_ready(void *opaque, uint32_t events)
{
	struct console *con = opaque;
	uint8_t buf[256];
	unsigned room = uart_rx_room(con->uart);
	ssize_t n;

	(void)events;
	if (!room) {
		/* guest is not reading: stop watching until it drains */
		evloop_mod(con->loop, con->in_fd, 0);
		return;
	}
	n = read(con->in_fd, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n > 0) {
		feed(con, buf, (size_t)n);
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		/* end of input: the guest keeps running without a console */
		con->eof = true;
		evloop_del(con->loop, con->in_fd);
	}
}

/* UART callback (UART lock held): host input room reopened. */
static void rx_ready(void *opaque)
{
	struct console *con = opaque;

	if (con->polled && !con->eof)
		evloop_mod(con->loop, con->in_fd, EPOLLIN);
}

/* Regular files cannot be polled: read them on a thread of their own. */
static void *file_reader(void *opaque)
{
	struct console *con = opaque;
	uint8_t buf[256];
	ssize_t n;

	while (!vm_stopping(con->vm) &&
	       (n = read(con->in_fd, buf, sizeof(buf))) > 0) {
		size_t done = 0;
		while (done < (size_t)n && !vm_stopping(con->vm)) {
			size_t k = feed(con, buf + done, (size_t)n - done);
			done += k;
			if (done < (size_t)n)
				nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
		}
	}
	return NULL;
}

int console_start(struct console *con, struct vm *vm, struct uart *uart,
		  struct evloop *loop)
{
	int ret;

	memset(con, 0, sizeof(*con));
	con->vm = vm;
	con->uart = uart;
	con->loop = loop;
	con->in_fd = STDIN_FILENO;
	pthread_mutex_lock(&uart->lock);
	uart->rx_ready = rx_ready;
	uart->rx_opaque = con;
	pthread_mutex_unlock(&uart->lock);
	con->is_tty = isatty(STDIN_FILENO);
	if (con->is_tty && (ret = raw_mode()))
		pr_warn("cannot put the terminal in raw mode: %s", strerror(-ret));
	fcntl(con->in_fd, F_SETFL, fcntl(con->in_fd, F_GETFL) | O_NONBLOCK);
	ret = evloop_add(loop, con->in_fd, EPOLLIN, stdin_ready, con);
	if (ret == 0) {
		con->polled = true;
		return 0;
	}
	if (ret != -EPERM)
		return 0; /* closed or odd stdin: run without console input */
	/* a regular file: blocking reads on a thread */
	fcntl(con->in_fd, F_SETFL, fcntl(con->in_fd, F_GETFL) & ~O_NONBLOCK);
	if (pthread_create(&con->reader, NULL, file_reader, con) == 0)
		con->reader_started = true;
	return 0;
}

void console_stop(struct console *con)
{
	if (con->reader_started) {
		/* the reader may sit in read(): a file read returns soon */
		pthread_cancel(con->reader);
		pthread_join(con->reader, NULL);
	}
	if (con->polled && !con->eof)
		evloop_del(con->loop, con->in_fd);
	if (con->is_tty)
		console_restore();
}
