/* SPDX-License-Identifier: MIT
 * term.c - host side of the serial console (see term.h).
 */
#include "term.h"
#include "evloop.h"
#include "log.h"
#include "vm.h"
#include "devices/uart16550.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
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

/* Write o->buf to stdout (o->lock held). wait: as long as stdout is stalled,
 * until the VM stops (then what is left is dropped); otherwise only what
 * stdout takes now, the rest stays. stdout is never made non-blocking (a
 * terminal's file description is the shell's too): the wait is in poll()
 * with the stop eventfd, not in write(), so a stop (whose kick a blocked
 * write() could just miss) always gets it out. */
static void out_write(struct console_out *o, bool wait)
{
	struct pollfd p[2] = { { .fd = STDOUT_FILENO, .events = POLLOUT },
			       { .fd = o->vm->stop_efd, .events = POLLIN } };
	size_t off = 0;

	while (off < o->len) {
		ssize_t n;

		if (poll(p, 2, wait ? -1 : 0) < 0) {
			if (errno == EINTR)
				continue; /* a kick: the eventfd tells a stop */
			break;
		}
		if (!p[0].revents) {
			if (!wait)
				break; /* stalled: the timer tries again */
			if (p[1].revents) {
				off = o->len; /* stopping, and stdout is stuck */
				break;
			}
			continue;
		}
		n = write(STDOUT_FILENO, o->buf + off, o->len - off);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EINTR && errno != EAGAIN)
			off = o->len; /* stdout is gone */
	}
	memmove(o->buf, o->buf + off, o->len - off);
	o->len -= off;
}

/* One-shot timer: the partial line goes out soon. */
static void out_arm(struct console_out *o)
{
	struct itimerspec t = { .it_value = { 0, CONSOLE_OUT_DELAY_US * 1000L } };

	o->armed = timerfd_settime(o->timer_fd, 0, &t, NULL) == 0;
}

/* I/O thread: the partial line's time is up. */
static void out_timer(void *opaque, uint32_t events)
{
	struct console_out *o = opaque;
	uint64_t v;
	ssize_t r = read(o->timer_fd, &v, sizeof(v));

	(void)events;
	(void)r;
	/* a vCPU holding the lock is writing, or blocked on a stalled
	 * stdout: never wait for it here, look again later */
	if (pthread_mutex_trylock(&o->lock)) {
		out_arm(o);
		return;
	}
	o->armed = false;
	out_write(o, false);
	if (o->len)
		out_arm(o);
	pthread_mutex_unlock(&o->lock);
}

void console_out_init(struct console_out *o, struct vm *vm)
{
	memset(o, 0, sizeof(*o));
	o->vm = vm;
	o->timer_fd = -1;
	pthread_mutex_init(&o->lock, NULL);
	o->ready = true;
}

int console_out_start(struct console_out *o, struct evloop *loop)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = evloop_add(loop, fd, EPOLLIN, out_timer, o);
	if (ret) {
		close(fd);
		return ret;
	}
	pthread_mutex_lock(&o->lock);
	o->loop = loop;
	o->timer_fd = fd;
	pthread_mutex_unlock(&o->lock);
	return 0;
}

void console_out_flush(struct console_out *o)
{
	if (!o->ready)
		return;
	pthread_mutex_lock(&o->lock);
	out_write(o, true);
	pthread_mutex_unlock(&o->lock);
}

/* On the I/O thread: the timer's callback is not running meanwhile. */
static void out_unwatch(void *opaque)
{
	struct console_out *o = opaque;

	evloop_del(o->loop, o->timer_fd);
}

void console_out_stop(struct console_out *o)
{
	if (!o->ready)
		return;
	if (o->timer_fd >= 0) {
		evloop_call(o->loop, out_unwatch, o);
		close(o->timer_fd);
		o->timer_fd = -1;
	}
	console_out_flush(o);
	pthread_mutex_destroy(&o->lock);
	o->ready = false;
}

void console_tx(void *opaque, uint8_t byte)
{
	struct console_out *o = opaque;

	pthread_mutex_lock(&o->lock);
	o->buf[o->len++] = byte;
	if (byte == '\n' || o->len == sizeof(o->buf) || o->timer_fd < 0)
		out_write(o, true);
	else if (!o->armed)
		out_arm(o);
	pthread_mutex_unlock(&o->lock);
}

/* Apply the Ctrl-A escapes (terminal only) and feed the UART. Returns the
 * number of input bytes consumed; an escape whose bytes the UART could not
 * take stays pending, so feeding the rest again later loses nothing. */
static size_t feed(struct console *con, const uint8_t *buf, size_t n)
{
	size_t i;

	if (!con->is_tty)
		return uart_receive(con->uart, buf, (unsigned)n);
	for (i = 0; i < n; i++) {
		uint8_t c = buf[i];

		if (!con->escape && c == CTRL_A) {
			con->escape = true;
			continue;
		}
		if (con->escape && (c == 'x' || c == 'X')) {
			con->escape = false;
			console_restore();
			pr_info("terminated by Ctrl-A x");
			vm_request_stop(con->vm, VM_EXIT_OK);
			return n;
		}
		/* Ctrl-A c sends both, Ctrl-A Ctrl-A a single Ctrl-A */
		if (con->escape && c != CTRL_A) {
			if (!uart_receive(con->uart, &(uint8_t){ CTRL_A }, 1))
				break;
			con->escape = false;
		}
		if (!uart_receive(con->uart, &c, 1))
			break;
		con->escape = false;
	}
	return i;
}

/* stdin is watched one event at a time (EPOLLONESHOT; a mask of 0 would
 * still report a hang-up, over and over): armed again only once nothing
 * is held. */
static void arm_stdin(struct console *con)
{
	if (con->polled && !con->eof)
		evloop_mod(con->loop, con->in_fd, EPOLLIN | EPOLLONESHOT);
}

/* Hand the held input to the UART (I/O thread). What it cannot take yet
 * stays held and stdin is not read meanwhile; rx_ready wakes us once the
 * guest has read some: backpressure, nothing typed is dropped. Then stdin
 * is armed again. */
static void pump(struct console *con)
{
	bool retried = false;

	while (con->held_len) {
		size_t k = feed(con, con->held + con->held_off, con->held_len);

		con->held_off += k;
		con->held_len -= k;
		if (k || !con->held_len) {
			retried = false;
			continue;
		}
		if (!uart_rx_room(con->uart))
			return; /* rx_ready will follow */
		if (retried) {
			/* room, yet nothing taken twice: the guest has the
			 * UART in loopback mode, where the receiver is cut
			 * off from the line (on the real chip too) */
			con->held_len = 0;
			break;
		}
		retried = true;
	}
	con->held_off = 0;
	arm_stdin(con);
}

static void stdin_ready(void *opaque, uint32_t events)
{
	struct console *con = opaque;
	ssize_t n;

	(void)events;
	if (con->held_len) {
		pump(con);
		return;
	}
	/* stdin stays blocking (on a terminal its file description is
	 * stdout's and the shell's too): read only when epoll says so */
	n = read(con->in_fd, con->held, sizeof(con->held));
	if (n > 0) {
		con->held_len = (size_t)n;
		pump(con);
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		/* end of input: the guest keeps running without a console */
		con->eof = true;
		evloop_del(con->loop, con->in_fd);
	}
}

/* UART callback (UART lock held, on a vCPU thread): host input room
 * reopened. Wake the I/O thread, which feeds what is held. */
static void rx_ready(void *opaque)
{
	struct console *con = opaque;
	uint64_t one = 1;
	ssize_t r = write(con->room_efd, &one, sizeof(one));

	(void)r; /* EAGAIN: a wake-up is pending anyway */
}

static void room_ready(void *opaque, uint32_t events)
{
	struct console *con = opaque;
	uint64_t v;
	ssize_t r = read(con->room_efd, &v, sizeof(v));

	(void)events;
	(void)r;
	pump(con);
}

/* Regular files cannot be polled: read them on a thread of their own. */
static void *file_reader(void *opaque)
{
	struct console *con = opaque;
	uint8_t buf[256];
	ssize_t n;

	if (sandbox_enter(SANDBOX_IO)) {
		pr_err("console: cannot enter the seccomp sandbox");
		return NULL; /* the guest runs without console input */
	}
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
	con->room_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (con->room_efd < 0)
		return -errno;
	ret = evloop_add(loop, con->room_efd, EPOLLIN, room_ready, con);
	if (ret) {
		close(con->room_efd);
		con->room_efd = -1;
		return ret;
	}
	pthread_mutex_lock(&uart->lock);
	uart->rx_ready = rx_ready;
	uart->rx_opaque = con;
	pthread_mutex_unlock(&uart->lock);
	con->is_tty = isatty(STDIN_FILENO);
	if (con->is_tty && (ret = raw_mode()))
		pr_warn("cannot put the terminal in raw mode: %s", strerror(-ret));
	ret = evloop_add(loop, con->in_fd, EPOLLIN | EPOLLONESHOT, stdin_ready,
			 con);
	if (ret == 0) {
		con->polled = true;
		return 0;
	}
	if (ret != -EPERM)
		return 0; /* closed or odd stdin: run without console input */
	/* a regular file: blocking reads on a thread */
	if (pthread_create(&con->reader, NULL, file_reader, con) == 0)
		con->reader_started = true;
	return 0;
}

/* On the I/O thread: none of our callbacks runs meanwhile. */
static void unwatch(void *opaque)
{
	struct console *con = opaque;

	if (con->polled && !con->eof)
		evloop_del(con->loop, con->in_fd);
	con->polled = false;
	evloop_del(con->loop, con->room_efd);
	close(con->room_efd);
	con->room_efd = -1;
}

void console_stop(struct console *con)
{
	if (con->reader_started) {
		/* the reader may sit in read(): a file read returns soon */
		pthread_cancel(con->reader);
		pthread_join(con->reader, NULL);
	}
	evloop_call(con->loop, unwatch, con);
	if (con->is_tty)
		console_restore();
}
