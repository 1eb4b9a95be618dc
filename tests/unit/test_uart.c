/* SPDX-License-Identifier: MIT
 * Unit tests: 16550A register semantics (DLAB, IIR priorities, LSR/MSR,
 * FIFO, loopback) through the bus handler, as a guest driver sees them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "devices/uart16550.h"

static int irq_level, irq_edges;
static uint8_t out[64];
static unsigned nout;

static void set_irq(void *o, bool level)
{
	(void)o;
	if (level && !irq_level)
		irq_edges++;
	irq_level = level;
}

static void tx(void *o, uint8_t b)
{
	(void)o;
	if (nout < sizeof(out))
		out[nout++] = b;
}

static void wr(struct uart *u, unsigned reg, uint8_t v)
{
	uart_io(u, reg, &v, 1, true);
}

static uint8_t rd(struct uart *u, unsigned reg)
{
	uint8_t v;
	uart_io(u, reg, &v, 1, false);
	return v;
}

static struct uart *fresh(void)
{
	static struct uart u;
	uart_init(&u, set_irq, tx, NULL);
	irq_level = irq_edges = 0;
	nout = 0;
	return &u;
}

static void test_dlab_and_scratch(void **state)
{
	(void)state;
	struct uart *u = fresh();
	wr(u, UART_LCR, UART_LCR_DLAB | 0x03);
	wr(u, UART_THR, 0x01); /* DLL */
	wr(u, UART_IER, 0x02); /* DLM */
	assert_int_equal(rd(u, UART_RBR), 0x01);
	assert_int_equal(rd(u, UART_IER), 0x02);
	assert_int_equal(nout, 0); /* divisor writes are not data */
	wr(u, UART_LCR, 0x03);
	assert_int_equal(rd(u, UART_IER), 0x00);
	assert_int_equal(rd(u, UART_LCR), 0x03);
	wr(u, UART_SCR, 0xa5);
	assert_int_equal(rd(u, UART_SCR), 0xa5);
	/* IER keeps only its 4 defined bits */
	wr(u, UART_IER, 0xff);
	assert_int_equal(rd(u, UART_IER), 0x0f);
}

static void test_transmit_and_lsr(void **state)
{
	(void)state;
	struct uart *u = fresh();
	assert_int_equal(rd(u, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT),
			 UART_LSR_THRE | UART_LSR_TEMT);
	wr(u, UART_THR, 'h');
	wr(u, UART_THR, 'i');
	assert_int_equal(nout, 2);
	assert_memory_equal(out, "hi", 2);
	assert_int_equal(rd(u, UART_LSR) & UART_LSR_DR, 0);
	/* a non-byte access does nothing and reads as ones */
	uint32_t w = 0;
	uart_io(u, UART_LSR, &w, 4, false);
	assert_int_equal(w, 0xffffffff);
}

static void test_receive_fifo(void **state)
{
	(void)state;
	struct uart *u = fresh();
	uint8_t in[20];
	for (int i = 0; i < 20; i++)
		in[i] = (uint8_t)('a' + i);
	wr(u, UART_FCR, UART_FCR_ENABLE);
	assert_int_equal(rd(u, UART_IIR) & 0xc0, UART_IIR_FIFO);
	assert_int_equal(uart_receive(u, in, 20), 20);
	assert_true(rd(u, UART_LSR) & UART_LSR_DR);
	for (int i = 0; i < 20; i++)
		assert_int_equal(rd(u, UART_RBR), 'a' + i);
	assert_false(rd(u, UART_LSR) & UART_LSR_DR);
	/* FIFO off: one byte at a time still gets everything through */
	wr(u, UART_FCR, 0);
	assert_int_equal(rd(u, UART_IIR) & 0xc0, 0);
	uart_receive(u, in, 3);
	assert_int_equal(rd(u, UART_RBR), 'a');
	assert_int_equal(rd(u, UART_RBR), 'b');
	assert_int_equal(rd(u, UART_RBR), 'c');
	/* FCR clear-RX drops the FIFO contents */
	wr(u, UART_FCR, UART_FCR_ENABLE);
	uart_receive(u, in, 4);
	wr(u, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	assert_false(rd(u, UART_LSR) & UART_LSR_DR);
}

static void test_iir_priorities(void **state)
{
	(void)state;
	struct uart *u = fresh();
	uint8_t c = 'x';
	wr(u, UART_MCR, UART_MCR_OUT2);
	assert_int_equal(rd(u, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	assert_int_equal(irq_level, 0);
	/* enabling THRI with an empty THR raises THRE at once */
	wr(u, UART_IER, UART_IER_THRI);
	assert_int_equal(irq_level, 1);
	/* received data outranks THRE */
	wr(u, UART_IER, UART_IER_THRI | UART_IER_RDI);
	uart_receive(u, &c, 1);
	assert_int_equal(rd(u, UART_IIR) & 0x0f, UART_IIR_RDI);
	assert_int_equal(rd(u, UART_RBR), 'x');
	/* then THRE; reading IIR clears it */
	assert_int_equal(rd(u, UART_IIR) & 0x0f, UART_IIR_THRI);
	assert_int_equal(rd(u, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	assert_int_equal(irq_level, 0);
	/* a THR write makes a fresh THRE edge */
	int edges = irq_edges;
	wr(u, UART_THR, 'y');
	assert_int_equal(irq_level, 1);
	assert_int_equal(irq_edges, edges + 1);
	/* OUT2 gates the line */
	wr(u, UART_MCR, 0);
	assert_int_equal(irq_level, 0);
	wr(u, UART_MCR, UART_MCR_OUT2);
	assert_int_equal(irq_level, 1);
}

static void test_overrun_line_status(void **state)
{
	(void)state;
	struct uart *u = fresh();
	wr(u, UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);
	wr(u, UART_IER, UART_IER_RLSI | UART_IER_RDI);
	/* FIFO off, loopback: the second byte overruns the first */
	wr(u, UART_THR, 1);
	wr(u, UART_THR, 2);
	assert_int_equal(rd(u, UART_IIR) & 0x0f, UART_IIR_RLSI);
	assert_true(rd(u, UART_LSR) & UART_LSR_OE);
	assert_false(rd(u, UART_LSR) & UART_LSR_OE); /* cleared by the read */
	assert_int_equal(rd(u, UART_IIR) & 0x0f, UART_IIR_RDI);
	assert_int_equal(nout, 0); /* loopback sends nothing out */
}

static void test_loopback_msr(void **state)
{
	(void)state;
	struct uart *u = fresh();
	/* Linux 8250 existence test: MCR = LOOP|OUT2|RTS -> MSR[7:4] = 0x9 */
	wr(u, UART_MCR, UART_MCR_LOOP | 0x0a);
	assert_int_equal(rd(u, UART_MSR) & 0xf0, 0x90);
	wr(u, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_OUT1);
	assert_int_equal(rd(u, UART_MSR) & 0xf0, UART_MSR_DSR | UART_MSR_RI);
	/* delta bits are set on change and clear on read */
	wr(u, UART_MCR, UART_MCR_LOOP);
	uint8_t m = rd(u, UART_MSR);
	assert_true(m & UART_MSR_DDSR);
	assert_true(m & UART_MSR_TERI);
	assert_int_equal(rd(u, UART_MSR) & 0x0f, 0);
	/* out of loopback: the line is "connected" */
	wr(u, UART_MCR, 0);
	assert_int_equal(rd(u, UART_MSR) & 0xb0, UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
}

static int rx_ready_calls;
static void rx_ready(void *o)
{
	(void)o;
	rx_ready_calls++;
}

static void test_host_backpressure(void **state)
{
	(void)state;
	struct uart *u = fresh();
	static uint8_t big[UART_RXBUF_SIZE + 100];
	u->rx_ready = rx_ready;
	rx_ready_calls = 0;
	memset(big, 'z', sizeof(big));
	wr(u, UART_FCR, UART_FCR_ENABLE);
	unsigned n = uart_receive(u, big, sizeof(big));
	/* the host buffer fills up; the FIFO takes 16 of it at once */
	assert_int_equal(n, UART_RXBUF_SIZE);
	n += uart_receive(u, big + n, sizeof(big) - n);
	assert_int_equal(n, UART_RXBUF_SIZE + UART_FIFO_SIZE);
	assert_int_equal(uart_rx_room(u), 0);
	for (unsigned i = 0; i < UART_RXBUF_SIZE; i++)
		rd(u, UART_RBR);
	assert_int_equal(rx_ready_calls, 1);
	assert_true(uart_rx_room(u) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dlab_and_scratch),
		cmocka_unit_test(test_transmit_and_lsr),
		cmocka_unit_test(test_receive_fifo),
		cmocka_unit_test(test_iir_priorities),
		cmocka_unit_test(test_overrun_line_status),
		cmocka_unit_test(test_loopback_msr),
		cmocka_unit_test(test_host_backpressure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
