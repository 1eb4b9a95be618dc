/* SPDX-License-Identifier: MIT
 * uart16550.h - a National Semiconductor PC16550D UART (the "16550A" of PC
 * serial ports): DLAB, IER/IIR with interrupt priorities, 16-byte receive
 * FIFO with trigger levels and character timeout, LSR errors, MSR. The
 * model is independent of KVM: the owner supplies callbacks for the
 * interrupt line and for transmitted bytes, and feeds received bytes with
 * uart_receive().
 */
#ifndef MINIVMM_UART16550_H
#define MINIVMM_UART16550_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/device.h"

struct vm;

#define UART_FIFO_SIZE 16
#define UART_RXBUF_SIZE 4096 /* host input waiting to enter the FIFO */

struct uart {
	struct device dev; /* as a device of a VM: uart_create() */
	uint16_t port;     /* its 8 ports, or */
	uint64_t mmio;     /* nonzero: its 8 byte-wide registers here on MMIO */
	unsigned irq;      /* its interrupt (GSI: x86 ISA IRQ, arm64 SPI) */
	bool attached;
	pthread_mutex_t lock;
	/* registers */
	uint8_t ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
	bool thr_ipending; /* THR-empty interrupt latched (cleared by IIR read / THR write) */
	/* lsr holds THRE, TEMT and the sticky error bits 1-4; DR and bit 7
	 * follow the FIFO. Receive FIFO (16 bytes in FIFO mode, 1 byte
	 * otherwise) and host bytes: each a byte | its PE/FE/BI bits << 8. */
	uint16_t rx[UART_FIFO_SIZE];
	unsigned rx_head, rx_count;
	/* host bytes not yet in the FIFO */
	uint16_t pending[UART_RXBUF_SIZE];
	unsigned pend_head, pend_count;
	bool irq_level;
	/* owner's callbacks */
	void (*set_irq)(void *opaque, bool level);
	void (*tx)(void *opaque, uint8_t byte);
	/* called (lock held: must not call back into the UART) when host
	 * input room reopens after uart_receive() found the buffer full */
	void (*rx_ready)(void *rx_opaque);
	void *rx_opaque;
	bool rx_full;
	void *opaque;      /* tx's */
	void *irq_opaque;  /* set_irq's: opaque, or the UART for uart_create */
};

/* A UART of a VM (device.h): 8 ports at cfg->port (x86), or 8 byte-wide
 * registers at guest-physical cfg->mmio when that is nonzero (arm64: the
 * device tree's ns16550a, reg-shift 0), interrupt cfg->irq, transmitted
 * bytes to cfg->tx(cfg->tx_opaque, byte). Its handle is what
 * feeds it received bytes (uart_receive). 0 or -errno. */
struct uart_cfg {
	const char *name;   /* instance name ("com1") */
	uint16_t port;
	uint64_t mmio;      /* nonzero: on MMIO at this address, not ports */
	unsigned irq;
	void (*tx)(void *opaque, uint8_t byte);
	void *tx_opaque;
};
int uart_create(struct vm *vm, const struct uart_cfg *cfg, struct uart **out);

/* The model alone (the owner calls uart_io and supplies the interrupt line
 * and transmit callbacks; opaque is passed to both). */
void uart_init(struct uart *u, void (*set_irq)(void *, bool),
	       void (*tx)(void *, uint8_t), void *opaque);
/* Bus handler for the 8 registers (offset 0-7). */
void uart_io(void *opaque, uint64_t off, void *data, unsigned len,
	     bool is_write);
/* Its register names for --trace (a bus_reg_fn, vmm/bus.h): "THR",
 * "LSR", "DLL" while LCR.DLAB is set... */
unsigned uart_reg_name(void *opaque, uint64_t off, unsigned len,
		       bool is_write, char *buf, size_t size);
/* Bytes typed on the host side. Returns how many were accepted. */
unsigned uart_receive(struct uart *u, const uint8_t *buf, unsigned len);
/* Room left for host input. When it is 0, rx_ready will be called once
 * room reopens. */
unsigned uart_rx_room(struct uart *u);
/* A break on the host side of the line, after the bytes already accepted:
 * a zero byte with LSR.BI. False when there is no room (or in loopback). */
bool uart_break(struct uart *u);

/* Register offsets and bits (PC16550D data sheet). */
#define UART_RBR 0 /* DLAB=0 read */
#define UART_THR 0 /* DLAB=0 write */
#define UART_IER 1
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_RDI 0x01  /* received data available */
#define UART_IER_THRI 0x02 /* transmitter holding register empty */
#define UART_IER_RLSI 0x04 /* receiver line status */
#define UART_IER_MSI 0x08  /* modem status */

#define UART_IIR_NO_INT 0x01
#define UART_IIR_MSI 0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_TIMEOUT 0x0c /* character timeout (FIFO mode) */
#define UART_IIR_FIFO 0xc0 /* FIFOs enabled */

#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_FCR_CLEAR_TX 0x04
#define UART_FCR_TRIGGER_1 0x00 /* bits 7:6: RX FIFO trigger level */
#define UART_FCR_TRIGGER_4 0x40
#define UART_FCR_TRIGGER_8 0x80
#define UART_FCR_TRIGGER_14 0xc0

#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08 /* gates the interrupt line on PCs */
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR 0x01
#define UART_LSR_OE 0x02
#define UART_LSR_PE 0x04
#define UART_LSR_FE 0x08
#define UART_LSR_BI 0x10
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_LSR_FIFOE 0x80 /* error in RCVR FIFO */

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

#endif
