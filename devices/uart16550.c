/* SPDX-License-Identifier: MIT
 * uart16550.c - National Semiconductor (now TI) PC16550D UART, the
 * "16550A" of PC serial ports, after its data sheet ("Register Summary",
 * "FIFO Interrupt Mode Operation", "Line Status Register").
 *
 * Transmission is instantaneous: a byte written to THR goes straight to the
 * tx callback, so THR and the shift register are always empty (LSR.THRE and
 * LSR.TEMT set). Host bytes wait in a buffer and enter the receiver (the
 * 16-byte FIFO, or the 1-byte RBR with FIFOs off) as soon as it has room:
 * with the owner's backpressure (uart_rx_room) the host never overruns it.
 *
 * Interrupt sources, highest priority first (IIR bits 3:0):
 *   0x6 receiver line status  LSR OE/PE/FE/BI set; cleared by reading LSR
 *   0x4 received data         FIFO at or above the trigger level (RBR full
 *                             with FIFOs off); cleared below it
 *   0xc character timeout     FIFO below the trigger level: see iir()
 *   0x2 THR empty             cleared by writing THR, or by reading IIR
 *                             while it is the source reported
 *   0x0 modem status          MSR delta bits; cleared by reading MSR
 * The interrupt reaches the line only while MCR.OUT2 is set, as on PC
 * serial boards.
 *
 * Line errors: each received byte carries its own PE/FE/BI bits, which
 * reach LSR when the byte comes to the top of the FIFO; LSR bit 7 is set
 * while the FIFO holds such a byte. What can happen here: OE in loopback
 * (a byte looped back into a full receiver: the host side is refused, never
 * overrun) and BI from uart_break(). PE and FE never: host bytes have no
 * parity or stop bits to get wrong.
 */
#include "uart16550.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/bus.h"
#include "vmm/vm.h"

#define LSR_ERRORS (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)
#define BYTE_ERRORS (UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)

static bool fifo_on(const struct uart *u)
{
	return u->fcr & UART_FCR_ENABLE;
}

static unsigned fifo_depth(const struct uart *u)
{
	return fifo_on(u) ? UART_FIFO_SIZE : 1;
}

/* FCR bits 7:6 select 1, 4, 8 or 14 bytes. */
static unsigned rx_trigger(const struct uart *u)
{
	static const unsigned level[4] = { 1, 4, 8, 14 };

	return fifo_on(u) ? level[u->fcr >> 6] : 1;
}

/* A character is complete in the receiver's shift register: into the
 * FIFO, else it is lost and OE set (FIFOs off: it overwrites the unread
 * RBR). The top byte's error bits show in LSR. */
static void rx_push(struct uart *u, uint16_t c)
{
	if (u->rx_count == fifo_depth(u)) {
		u->lsr |= UART_LSR_OE;
		if (fifo_on(u))
			return;
		u->rx_count = 0;
	}
	u->rx[(u->rx_head + u->rx_count++) % UART_FIFO_SIZE] = c;
	if (u->rx_count == 1)
		u->lsr |= (c >> 8) & BYTE_ERRORS;
}

static uint8_t rx_pop(struct uart *u)
{
	uint8_t c;

	if (!u->rx_count)
		return 0;
	c = (uint8_t)u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	if (--u->rx_count)
		u->lsr |= (u->rx[u->rx_head] >> 8) & BYTE_ERRORS;
	return c;
}

/* Move host bytes into the receiver while it has room. In loopback mode
 * the receiver is cut off from the line: host bytes wait. */
static void refill(struct uart *u)
{
	while (!(u->mcr & UART_MCR_LOOP) && u->pend_count &&
	       u->rx_count < fifo_depth(u)) {
		rx_push(u, u->pending[u->pend_head]);
		u->pend_head = (u->pend_head + 1) % UART_RXBUF_SIZE;
		u->pend_count--;
	}
	if (u->rx_full && u->pend_count < UART_RXBUF_SIZE / 2) {
		u->rx_full = false;
		if (u->rx_ready)
			u->rx_ready(u->rx_opaque);
	}
}

static uint8_t lsr(const struct uart *u)
{
	uint8_t v = u->lsr;

	if (u->rx_count)
		v |= UART_LSR_DR;
	for (unsigned i = 0; fifo_on(u) && i < u->rx_count; i++)
		if (u->rx[(u->rx_head + i) % UART_FIFO_SIZE] >> 8)
			v |= UART_LSR_FIFOE;
	return v;
}

/* Character timeout: the chip indicates it when the FIFO holds data below
 * the trigger level and for four character times nothing was received or
 * read. There is no character clock here, so the rule is: the timeout is
 * indicated whenever the FIFO holds 1 to trigger-1 bytes. That is exactly
 * "no more input immediately pending": refill() keeps the FIFO full while
 * host bytes wait, so below the trigger the host has nothing more to push
 * right now (in loopback nothing more can arrive either). Reading RBR
 * clears the indication, and it comes back at once if data remains below
 * the trigger. A driver that empties the FIFO on LSR.DR upon either
 * indication (Linux's 8250) gets every byte without delay. */
static uint8_t iir(const struct uart *u)
{
	uint8_t fifo = fifo_on(u) ? UART_IIR_FIFO : 0;

	if ((u->ier & UART_IER_RLSI) && (u->lsr & LSR_ERRORS))
		return fifo | UART_IIR_RLSI;
	if ((u->ier & UART_IER_RDI) && u->rx_count)
		return fifo | (u->rx_count >= rx_trigger(u) ? UART_IIR_RDI
							    : UART_IIR_TIMEOUT);
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
			u->set_irq(u->irq_opaque, level);
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
	u->irq_opaque = opaque;
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
		if (u->mcr & UART_MCR_LOOP)
			rx_push(u, v); /* loopback: back on the receiver */
		else if (u->tx)
			u->tx(u->opaque, v);
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
		/* the other bits are written only along with bit 0 */
		if (!(v & UART_FCR_ENABLE))
			v = 0;
		/* switching FIFO mode clears both FIFOs; the TX FIFO is
		 * always empty here, CLEAR_TX has nothing to do */
		if (((v ^ u->fcr) & UART_FCR_ENABLE) || (v & UART_FCR_CLEAR_RX))
			u->rx_count = u->rx_head = 0;
		u->fcr = v & 0xc9; /* enable, DMA mode, trigger level */
		refill(u);
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & 0x1f;
		update_msr(u);
		refill(u); /* out of loopback: the line is back */
		break;
	case UART_SCR:
		u->scr = v;
		break;
	default:
		break; /* LSR, MSR: factory test only, writes ignored */
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
		v = rx_pop(u);
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
		v = lsr(u);
		u->lsr &= ~LSR_ERRORS; /* error bits clear on read */
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

/* Queue received characters (byte | error bits << 8) behind the waiting
 * ones. In loopback mode the receiver is disconnected from the line: none
 * is accepted. */
static unsigned receive(struct uart *u, const uint8_t *buf, unsigned len,
			uint16_t errors)
{
	unsigned n = 0;

	pthread_mutex_lock(&u->lock);
	if (!(u->mcr & UART_MCR_LOOP)) {
		while (n < len && u->pend_count < UART_RXBUF_SIZE) {
			u->pending[(u->pend_head + u->pend_count) % UART_RXBUF_SIZE] =
				buf[n++] | errors;
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

unsigned uart_receive(struct uart *u, const uint8_t *buf, unsigned len)
{
	return receive(u, buf, len, 0);
}

/* A break loads a single zero character, flagged BI, into the FIFO. */
bool uart_break(struct uart *u)
{
	return receive(u, &(uint8_t){ 0 }, 1, UART_LSR_BI << 8);
}

/* The register names of the data sheet's Register Summary; offsets 0 and
 * 1 are the divisor latch while LCR.DLAB is set. */
unsigned uart_reg_name(void *opaque, uint64_t off, unsigned len,
		       bool is_write, char *buf, size_t size)
{
	static const char *const rd[8] = { "RBR", "IER", "IIR", "LCR",
					   "MCR", "LSR", "MSR", "SCR" };
	static const char *const wr[8] = { "THR", "IER", "FCR", "LCR",
					   "MCR", "LSR", "MSR", "SCR" };
	struct uart *u = opaque;
	bool dlab;

	(void)len;
	if (off > 7)
		return 0;
	pthread_mutex_lock(&u->lock);
	dlab = u->lcr & UART_LCR_DLAB;
	pthread_mutex_unlock(&u->lock);
	if (dlab && off < 2) {
		snprintf(buf, size, "%s", off ? "DLM" : "DLL");
		return 0;
	}
	snprintf(buf, size, "%s", is_write ? wr[off] : rd[off]);
	return off == UART_THR ? BUS_REG_CHAR : 0;
}

/* ---- the UART as a device of a VM ---- */

static struct uart *of(struct device *dev)
{
	return container_of(dev, struct uart, dev);
}

static void uart_irq(void *opaque, bool level)
{
	struct uart *u = opaque;

	vm_irq_line(u->dev.vm, u->irq, level);
}

/* Its registers' bus and address: ports, or MMIO. */
static struct bus *uart_bus(struct uart *u, uint64_t *addr)
{
	*addr = u->mmio ? u->mmio : u->port;
	return u->mmio ? &u->dev.vm->mmio : &u->dev.vm->pio;
}

static int uart_attach(struct device *dev)
{
	struct uart *u = of(dev);
	uint64_t addr;
	struct bus *bus = uart_bus(u, &addr);
	int ret = bus_add(bus, addr, 8, uart_io, uart_reg_name, u, dev->name);

	u->attached = ret == 0;
	return ret;
}

static void uart_free(struct device *dev)
{
	struct uart *u = of(dev);
	uint64_t addr;
	struct bus *bus = uart_bus(u, &addr);

	if (u->attached)
		bus_remove(bus, addr);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

static const struct device_ops uart_ops = {
	.attach = uart_attach,
	.free = uart_free,
};

int uart_create(struct vm *vm, const struct uart_cfg *cfg, struct uart **out)
{
	struct uart *u = malloc(sizeof(*u));

	if (!u)
		return -ENOMEM;
	uart_init(u, uart_irq, cfg->tx, cfg->tx_opaque);
	device_init(&u->dev, &uart_ops, "uart16550", vm, cfg->name);
	u->irq_opaque = u;
	u->port = cfg->port;
	u->mmio = cfg->mmio;
	u->irq = cfg->irq;
	*out = u;
	return 0;
}
