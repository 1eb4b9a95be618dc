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

/* Guest output on its way to stdout. Bytes are gathered and written a line
 * at a time: at a newline, when the buffer is full, or by the I/O thread
 * CONSOLE_OUT_DELAY_US after the first byte of a partial line (a prompt),
 * instead of one poll() and one write() per byte, which under an emulated
 * KVM host were most of the time minivmm spent on a Linux boot's exits.
 * What is still gathered is written when the VM stops. A stalled stdout
 * blocks the vCPU that fills the buffer (backpressure), never the I/O
 * thread, and a stop always gets it out. */
#define CONSOLE_OUT_DELAY_US 1000
struct console_out {
	struct vm *vm;
	struct evloop *loop;
	pthread_mutex_t lock;
	int timer_fd; /* -1: not started, every byte is written at once */
	bool armed;   /* the timer will flush */
	bool ready;   /* console_out_init ran: console_out_stop has work */
	size_t len;
	uint8_t buf[1024];
};

/* Before the UART is created (nothing is written until then). */
void console_out_init(struct console_out *o, struct vm *vm);
/* Flush partial lines from loop's thread from now on. 0 or -errno (then
 * every byte is still written, at once). */
int console_out_start(struct console_out *o, struct evloop *loop);
/* Write what is gathered (waits for a stalled stdout until the VM stops). */
void console_out_flush(struct console_out *o);
/* After the last vCPU stopped: flush, stop the timer, release. */
void console_out_stop(struct console_out *o);

/* Start forwarding stdin to the UART. 0 or -errno. */
int console_start(struct console *con, struct vm *vm, struct uart *uart,
		  struct evloop *loop);
void console_stop(struct console *con);
/* Guest output (UART tx callback; opaque is a struct console_out). */
void console_tx(void *opaque, uint8_t byte);
/* Put the terminal back as it was; async-signal-safe, idempotent. */
void console_restore(void);

#endif
