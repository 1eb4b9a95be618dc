/* SPDX-License-Identifier: MIT
 * uart16550.c - PC16550D UART (National Semiconductor data sheet, "Register
 * Summary" and "Interrupt Identification Register").
 *
 * Transmission is instantaneous: a byte written to THR goes straight to the
 * tx callback, so THR and the shift register are always empty (LSR.THRE and
 * LSR.TEMT set). Reception fills a 16-byte FIFO from a host-side buffer.
 * Interrupt sources, highest priority first: receiver line status (overrun),
 * received data available, THR empty, modem status. The interrupt reaches
 * the line only while MCR.OUT2 is set, as on PC serial boards.
 */
#include "uart16550.h"

#include <string.h>

static unsigned fifo_depth(const struct uart *u)
{
	return (u->fcr & UART_FCR_ENABLE) ? UART_FIFO_SIZE : 1;
}

/* Move host bytes into the FIFO while there is room. */
static void refill(struct uart *u)
{
	while (u->pend_count && u->rx_count < fifo_depth(u)) {
		u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] =
			u->pending[u->pend_head];
		u->pend_head = (u->pend_head + 1) % UART_RXBUF_SIZE;
		u->pend_count--;
		u->rx_count++;
	}
	if (u->rx_count)
		u->lsr |= UART_LSR_DR;
	else
		u->lsr &= ~UART_LSR_DR;
	if (u->rx_full && u->pend_count < UART_RXBUF_SIZE / 2) {
		u->rx_full = false;
		if (u->rx_ready)
			u->rx_ready(u->rx_opaque);
	}
}

static uint8_t iir(const struct uart *u)
{
	uint8_t fifo = (u->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0;

	if ((u->ier & UART_IER_RLSI) && (u->lsr & UART_LSR_OE))
		return fifo | UART_IIR_RLSI;
	if ((u->ier & UART_IER_RDI) && (u->lsr & UART_LSR_DR))
		return fifo | UART_IIR_RDI;
	if ((u->ier & UART_IER_THRI) && u->thr_ipending)
		return fifo | UART_IIR_THRI;
	if ((u->ier & UART_IER_MSI) && (u->msr & 0x0f))
		return fifo | UART_IIR_MSI;
	return fifo | UART_IIR_NO_INT;
}

static void update_irq(struct uart *u)
{
	bool level = !(iir(u) & UART_IIR_NO_INT) && (u->mcr & UART_MCR_OUT2);

	if (level != u->irq_level) {
		u->irq_level = level;
		if (u->set_irq)
			u->set_irq(u->opaque, level);
	}
}

/* Modem status inputs: in loopback mode they follow the MCR outputs (the
 * 8250 driver's existence test relies on this); otherwise the "cable" is
 * always connected: CTS, DSR and DCD asserted. */
static void update_msr(struct uart *u)
{
	uint8_t old = u->msr, in;

	if (u->mcr & UART_MCR_LOOP)
		in = ((u->mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0) |
		     ((u->mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
		     ((u->mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0) |
		     ((u->mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0);
	else
		in = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	u->msr = (old & 0x0f) | in;
	if ((old ^ in) & UART_MSR_CTS)
		u->msr |= UART_MSR_DCTS;
	if ((old ^ in) & UART_MSR_DSR)
		u->msr |= UART_MSR_DDSR;
	if ((old & UART_MSR_RI) && !(in & UART_MSR_RI))
		u->msr |= UART_MSR_TERI; /* trailing edge of RI */
	if ((old ^ in) & UART_MSR_DCD)
		u->msr |= UART_MSR_DDCD;
}

void uart_init(struct uart *u, void (*set_irq)(void *, bool),
	       void (*tx)(void *, uint8_t), void *opaque)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	u->lsr = UART_LSR_THRE | UART_LSR_TEMT;
	u->msr = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	u->dll = 0x0c; /* 9600 baud, as after a BIOS */
	u->set_irq = set_irq;
	u->tx = tx;
	u->opaque = opaque;
}

static void write_reg(struct uart *u, unsigned reg, uint8_t v)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_THR:
		if (dlab) {
			u->dll = v;
			break;
		}
		/* Writing THR clears the THRE interrupt; drop the line now so
		 * that THRE coming back (the byte is "sent" at once) makes a
		 * new edge for the edge-triggered ISA interrupt. */
		u->thr_ipending = false;
		update_irq(u);
		if (u->mcr & UART_MCR_LOOP) {
			/* loopback: the byte comes back on the receiver */
			if (u->rx_count < fifo_depth(u)) {
				u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = v;
				u->rx_count++;
				u->lsr |= UART_LSR_DR;
			} else {
				u->lsr |= UART_LSR_OE;
			}
		} else if (u->tx) {
			u->tx(u->opaque, v);
		}
		/* sent at once: THR is empty again */
		u->thr_ipending = true;
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = v;
			break;
		}
		/* Enabling THRI while THR is empty raises the interrupt. */
		if ((v & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
			u->thr_ipending = true;
		u->ier = v & 0x0f;
		break;
	case UART_FCR:
		if ((v ^ u->fcr) & UART_FCR_ENABLE) {
			/* switching FIFO mode clears both FIFOs */
			u->rx_count = u->rx_head = 0;
		}
		if (v & UART_FCR_CLEAR_RX)
			u->rx_count = u->rx_head = 0;
		/* TX FIFO is always empty here: CLEAR_TX has nothing to do */
		u->fcr = v & 0xc9; /* enable, DMA mode, trigger level */
		refill(u);
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & 0x1f;
		update_msr(u);
		break;
	case UART_LSR:
		break; /* factory test only: writes ignored */
	case UART_MSR:
		break;
	case UART_SCR:
		u->scr = v;
		break;
	}
}

static uint8_t read_reg(struct uart *u, unsigned reg)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	uint8_t v = 0;

	switch (reg) {
	case UART_RBR:
		if (dlab)
			return u->dll;
		if (u->rx_count) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
			u->rx_count--;
		}
		refill(u);
		return v;
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR:
		v = iir(u);
		/* reading IIR when THRE is the source clears it */
		if ((v & 0x0f) == UART_IIR_THRI)
			u->thr_ipending = false;
		return v;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		v = u->lsr;
		u->lsr &= ~UART_LSR_OE; /* error bits clear on read */
		return v;
	case UART_MSR:
		v = u->msr;
		u->msr &= 0xf0; /* delta bits clear on read */
		return v;
	case UART_SCR:
		return u->scr;
	}
	return 0xff;
}

void uart_io(void *opaque, uint64_t off, void *data, unsigned len,
	     bool is_write)
{
	struct uart *u = opaque;
	uint8_t *p = data;

	if (off > 7 || len != 1) {
		/* the registers are 8 bits wide */
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&u->lock);
	if (is_write)
		write_reg(u, (unsigned)off, *p);
	else
		*p = read_reg(u, (unsigned)off);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

unsigned uart_rx_room(struct uart *u)
{
	unsigned room;

	pthread_mutex_lock(&u->lock);
	room = UART_RXBUF_SIZE - u->pend_count;
	if (!room)
		u->rx_full = true;
	pthread_mutex_unlock(&u->lock);
	return room;
}

unsigned uart_receive(struct uart *u, const uint8_t *buf, unsigned len)
{
	unsigned n = 0;

	pthread_mutex_lock(&u->lock);
	/* In loopback mode the receiver is disconnected from the line. */
	if (!(u->mcr & UART_MCR_LOOP)) {
		while (n < len && u->pend_count < UART_RXBUF_SIZE) {
			u->pending[(u->pend_head + u->pend_count) % UART_RXBUF_SIZE] = buf[n++];
			u->pend_count++;
		}
		if (n < len)
			u->rx_full = true;
		refill(u);
		update_irq(u);
	}
	pthread_mutex_unlock(&u->lock);
	return n;
}
