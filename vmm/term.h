/* SPDX-License-Identifier: MIT
 * term.h - the serial console on the host side: guest output to stdout,
 * host stdin to the UART. A terminal is put in raw mode (and restored on
 * every exit path); Ctrl-A x quits, Ctrl-A Ctrl-A sends a Ctrl-A. A pipe,
 * a file or /dev/null on stdin works too. Input the guest is not reading
 * yet is held back (stdin is not read meanwhile), never dropped. stdin's
 * file status flags are left alone: on a terminal they are stdout's and
 * the shell's too. Guest output blocks on a stalled stdout until the VM
 * stops.
 */
#ifndef MINIVMM_TERM_H
#define MINIVMM_TERM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct evloop;
struct uart;
struct vm;

struct console {
	struct vm *vm;
	struct uart *uart;
	struct evloop *loop;
	int in_fd;
	int room_efd; /* rx_ready -> I/O thread: the UART has room again */
	bool is_tty, polled, escape, eof;
	uint8_t held[256]; /* read from stdin, not yet taken by the UART */
	size_t held_off, held_len;
	pthread_t reader; /* for stdin that epoll cannot watch (a file) */
	bool reader_started;
};

/* Start forwarding stdin to the UART. 0 or -errno. */
int console_start(struct console *con, struct vm *vm, struct uart *uart,
		  struct evloop *loop);
void console_stop(struct console *con);
/* Guest output (UART tx callback). */
void console_tx(void *opaque, uint8_t byte);
/* Put the terminal back as it was; async-signal-safe, idempotent. */
void console_restore(void);

#endif
