/* SPDX-License-Identifier: MIT
 * Unit tests: 16550A register semantics (DLAB, IIR priorities, LSR/MSR,
 * FIFO trigger levels and character timeout, line errors, loopback)
 * through the bus handler, as a guest driver sees them. */
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
	/* the new character overwrote the unread RBR */
	assert_int_equal(rd(u, UART_RBR), 2);
	assert_false(rd(u, UART_LSR) & UART_LSR_DR);
}

static void test_overrun_fifo(void **state)
{
	(void)state;
	struct uart *u = fresh();
	wr(u, UART_FCR, UART_FCR_ENABLE | UART_FCR_TRIGGER_14);
	wr(u, UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);
	wr(u, UART_IER, UART_IER_RLSI | UART_IER_RDI);
	for (unsigned i = 0; i < UART_FIFO_SIZE; i++)
		wr(u, UART_THR, (uint8_t)i);
	/* full, but no overrun yet */
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_RDI);
	wr(u, UART_THR, 0xee); /* lost: the FIFO is not overwritten */
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_RLSI);
	assert_int_equal(irq_level, 1);
	uint8_t l = rd(u, UART_LSR);
	assert_true(l & UART_LSR_OE);
	assert_false(l & UART_LSR_FIFOE); /* OE is no error of a FIFO byte */
	/* the LSR read cleared OE and the line-status interrupt */
	assert_false(rd(u, UART_LSR) & UART_LSR_OE);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_RDI);
	for (unsigned i = 0; i < UART_FIFO_SIZE; i++)
		assert_int_equal(rd(u, UART_RBR), i);
	assert_false(rd(u, UART_LSR) & UART_LSR_DR);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
	/* the host side is refused, never overrun */
	static uint8_t big[UART_RXBUF_SIZE + 64];
	wr(u, UART_MCR, UART_MCR_OUT2);
	assert_int_equal(uart_receive(u, big, sizeof(big)), UART_RXBUF_SIZE);
	assert_int_equal(uart_receive(u, big, 64), UART_FIFO_SIZE);
	assert_int_equal(uart_receive(u, big, 1), 0);
	assert_false(rd(u, UART_LSR) & UART_LSR_OE);
}

/* Drain like Linux's 8250 driver: read RBR while LSR.DR is set. */
static unsigned drain(struct uart *u, uint8_t *buf, unsigned max)
{
	unsigned n = 0;
	while ((rd(u, UART_LSR) & UART_LSR_DR) && n < max)
		buf[n++] = rd(u, UART_RBR);
	return n;
}

static void test_trigger_levels(void **state)
{
	(void)state;
	static const struct { uint8_t fcr; unsigned level; } t[] = {
		{ UART_FCR_TRIGGER_1, 1 },
		{ UART_FCR_TRIGGER_4, 4 },
		{ UART_FCR_TRIGGER_8, 8 },
		{ UART_FCR_TRIGGER_14, 14 },
	};
	uint8_t in[UART_FIFO_SIZE], got[UART_FIFO_SIZE];
	for (unsigned i = 0; i < UART_FIFO_SIZE; i++)
		in[i] = (uint8_t)('A' + i);
	for (unsigned k = 0; k < 4; k++) {
		struct uart *u = fresh();
		wr(u, UART_FCR, UART_FCR_ENABLE | t[k].fcr);
		wr(u, UART_MCR, UART_MCR_OUT2);
		wr(u, UART_IER, UART_IER_RDI);
		/* below the trigger: the character timeout */
		for (unsigned n = 1; n < t[k].level; n++) {
			uart_receive(u, in + n - 1, 1);
			assert_int_equal(rd(u, UART_IIR),
					 UART_IIR_FIFO | UART_IIR_TIMEOUT);
			assert_int_equal(irq_level, 1);
		}
		/* at the trigger: received data available */
		uart_receive(u, in + t[k].level - 1, 1);
		assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_RDI);
		assert_int_equal(irq_level, 1);
		/* above it too */
		uart_receive(u, in + t[k].level, UART_FIFO_SIZE - t[k].level);
		assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_RDI);
		/* reading below the trigger turns RDA into the timeout */
		for (unsigned n = UART_FIFO_SIZE; n > 0; n--) {
			uint8_t want = n >= t[k].level ? UART_IIR_RDI
						       : UART_IIR_TIMEOUT;
			assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | want);
			assert_int_equal(rd(u, UART_RBR),
					 'A' + UART_FIFO_SIZE - n);
		}
		assert_int_equal(rd(u, UART_IIR),
				 UART_IIR_FIFO | UART_IIR_NO_INT);
		assert_int_equal(irq_level, 0);
		/* the trigger does not hold back a few bytes from a driver
		 * that drains on either indication */
		uart_receive(u, in, 3);
		assert_int_equal(irq_level, 1);
		assert_int_equal(drain(u, got, sizeof(got)), 3);
		assert_memory_equal(got, in, 3);
		assert_int_equal(irq_level, 0);
	}
}

static void test_timeout_indication(void **state)
{
	(void)state;
	struct uart *u = fresh();
	uint8_t in[40], got[40];
	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	wr(u, UART_FCR, UART_FCR_ENABLE | UART_FCR_TRIGGER_8);
	wr(u, UART_MCR, UART_MCR_OUT2);
	wr(u, UART_IER, UART_IER_RDI);
	/* 40 bytes: the FIFO stays full while host bytes wait, so RDA
	 * until the last 7, then the timeout, then nothing */
	assert_int_equal(uart_receive(u, in, 40), 40);
	for (unsigned k = 0; k < 40; k++) {
		uint8_t want = 40 - k >= 8 ? UART_IIR_RDI : UART_IIR_TIMEOUT;
		assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | want);
		assert_true(rd(u, UART_LSR) & UART_LSR_DR);
		assert_int_equal(rd(u, UART_RBR), k);
	}
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
	/* a drain on the timeout gets everything at once */
	uart_receive(u, in, 5);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_TIMEOUT);
	assert_int_equal(drain(u, got, sizeof(got)), 5);
	assert_memory_equal(got, in, 5);
	/* RDI disabled: neither indication */
	wr(u, UART_IER, 0);
	uart_receive(u, in, 2);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
	assert_int_equal(irq_level, 0);
	/* FIFOs off: one byte is "data available", never a timeout */
	wr(u, UART_FCR, 0);
	wr(u, UART_IER, UART_IER_RDI);
	uart_receive(u, in, 3);
	for (unsigned k = 0; k < 3; k++) {
		assert_int_equal(rd(u, UART_IIR), UART_IIR_RDI);
		assert_int_equal(rd(u, UART_RBR), k);
	}
	assert_int_equal(rd(u, UART_IIR), UART_IIR_NO_INT);
}

static void test_iir_fifo_bits(void **state)
{
	(void)state;
	struct uart *u = fresh();
	uint8_t c = 'q';
	assert_int_equal(rd(u, UART_IIR), UART_IIR_NO_INT);
	wr(u, UART_FCR, UART_FCR_ENABLE);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
	/* with FIFOs on the bits stay 11 whatever the source */
	wr(u, UART_IER, UART_IER_RDI | UART_IER_THRI);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_THRI);
	uart_receive(u, &c, 1);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_RDI);
	/* trigger bits are written only along with the enable bit */
	wr(u, UART_FCR, UART_FCR_TRIGGER_14);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_NO_INT); /* FIFO cleared */
	wr(u, UART_FCR, UART_FCR_ENABLE);
	uart_receive(u, &c, 1);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_RDI);
	/* DMA mode bit changes nothing visible */
	wr(u, UART_FCR, UART_FCR_ENABLE | 0x08 | UART_FCR_TRIGGER_4);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_TIMEOUT);
}

static void test_all_priorities(void **state)
{
	(void)state;
	struct uart *u = fresh();
	wr(u, UART_FCR, UART_FCR_ENABLE | UART_FCR_TRIGGER_4);
	wr(u, UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);
	rd(u, UART_MSR);
	wr(u, UART_IER, 0x0f);
	/* every source at once: overrun, data, THRE, a modem delta (RTS
	 * drives CTS in loopback) */
	for (unsigned i = 0; i <= UART_FIFO_SIZE; i++)
		wr(u, UART_THR, (uint8_t)i);
	wr(u, UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP | UART_MCR_RTS);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_RLSI);
	/* reading IIR does not clear a source that it does not report */
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_RLSI);
	rd(u, UART_LSR);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_RDI);
	for (unsigned i = 0; i < UART_FIFO_SIZE - 1; i++)
		rd(u, UART_RBR);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_TIMEOUT);
	rd(u, UART_RBR);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_THRI);
	assert_int_equal(irq_level, 1);
	/* that read cleared THRE: the modem status shows */
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_MSI);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_MSI);
	assert_true(rd(u, UART_MSR) & UART_MSR_DCTS);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
	assert_int_equal(irq_level, 0);
}

static void test_clear_on_read(void **state)
{
	(void)state;
	struct uart *u = fresh();
	uint8_t c = 'k';
	wr(u, UART_MCR, UART_MCR_OUT2);
	wr(u, UART_IER, UART_IER_THRI | UART_IER_RDI);
	/* THRE stays latched while RDA hides it from IIR */
	uart_receive(u, &c, 1);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_RDI);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_RDI);
	rd(u, UART_RBR);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_THRI);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_NO_INT);
	/* the LSR read clears line status; MSR reads clear modem status */
	wr(u, UART_IER, UART_IER_RLSI | UART_IER_MSI);
	wr(u, UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);
	wr(u, UART_THR, 1);
	wr(u, UART_THR, 2);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_RLSI);
	rd(u, UART_RBR); /* reading data leaves the error reported */
	assert_int_equal(rd(u, UART_IIR), UART_IIR_RLSI);
	assert_true(rd(u, UART_LSR) & UART_LSR_OE);
	/* entering loopback changed the modem inputs */
	assert_int_equal(rd(u, UART_IIR), UART_IIR_MSI);
	assert_int_equal(irq_level, 1);
	assert_true(rd(u, UART_MSR) & 0x0f);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(irq_level, 0);
}

static void test_break(void **state)
{
	(void)state;
	struct uart *u = fresh();
	uint8_t l;
	wr(u, UART_FCR, UART_FCR_ENABLE | UART_FCR_TRIGGER_14);
	wr(u, UART_MCR, UART_MCR_OUT2);
	wr(u, UART_IER, UART_IER_RLSI | UART_IER_RDI);
	uart_receive(u, &(uint8_t){ 'a' }, 1);
	assert_true(uart_break(u));
	uart_receive(u, &(uint8_t){ 'b' }, 1);
	/* the break is in the FIFO (bit 7), not at its top yet */
	l = rd(u, UART_LSR);
	assert_int_equal(l & (UART_LSR_FIFOE | UART_LSR_BI | UART_LSR_DR),
			 UART_LSR_FIFOE | UART_LSR_DR);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_TIMEOUT);
	assert_int_equal(rd(u, UART_RBR), 'a');
	/* now it is: BI and the line-status interrupt */
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_RLSI);
	l = rd(u, UART_LSR);
	assert_int_equal(l & 0x9f, UART_LSR_FIFOE | UART_LSR_BI | UART_LSR_DR);
	l = rd(u, UART_LSR); /* BI cleared by the read, the byte still there */
	assert_int_equal(l & 0x9f, UART_LSR_FIFOE | UART_LSR_DR);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_TIMEOUT);
	assert_int_equal(rd(u, UART_RBR), 0); /* a break is one zero byte */
	l = rd(u, UART_LSR);
	assert_int_equal(l & 0x9f, UART_LSR_DR);
	assert_int_equal(rd(u, UART_RBR), 'b');
	assert_int_equal(rd(u, UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
	/* FIFOs off: BI on the RBR byte, bit 7 stays 0 */
	wr(u, UART_FCR, 0);
	assert_true(uart_break(u));
	assert_int_equal(rd(u, UART_IIR), UART_IIR_RLSI);
	l = rd(u, UART_LSR);
	assert_int_equal(l & 0x9f, UART_LSR_BI | UART_LSR_DR);
	assert_int_equal(rd(u, UART_IIR), UART_IIR_RDI);
	assert_int_equal(rd(u, UART_RBR), 0);
	/* no parity or framing errors from the host, ever */
	assert_int_equal(rd(u, UART_LSR) & (UART_LSR_PE | UART_LSR_FE), 0);
	/* in loopback the line is cut off */
	wr(u, UART_MCR, UART_MCR_LOOP);
	assert_false(uart_break(u));
}

static void test_loopback_holds_host_input(void **state)
{
	(void)state;
	struct uart *u = fresh();
	uint8_t in[20];
	memset(in, 'h', sizeof(in));
	wr(u, UART_FCR, UART_FCR_ENABLE);
	uart_receive(u, in, 20); /* 16 in the FIFO, 4 waiting */
	wr(u, UART_MCR, UART_MCR_LOOP);
	for (int i = 0; i < 16; i++)
		assert_int_equal(rd(u, UART_RBR), 'h');
	/* the waiting bytes do not come in while the line is cut off */
	assert_false(rd(u, UART_LSR) & UART_LSR_DR);
	wr(u, UART_THR, 'L');
	assert_int_equal(rd(u, UART_RBR), 'L');
	wr(u, UART_MCR, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(rd(u, UART_RBR), 'h');
	assert_false(rd(u, UART_LSR) & UART_LSR_DR);
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
		cmocka_unit_test(test_overrun_fifo),
		cmocka_unit_test(test_trigger_levels),
		cmocka_unit_test(test_timeout_indication),
		cmocka_unit_test(test_iir_fifo_bits),
		cmocka_unit_test(test_all_priorities),
		cmocka_unit_test(test_clear_on_read),
		cmocka_unit_test(test_break),
		cmocka_unit_test(test_loopback_holds_host_input),
		cmocka_unit_test(test_loopback_msr),
		cmocka_unit_test(test_host_backpressure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
