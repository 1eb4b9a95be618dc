/* SPDX-License-Identifier: MIT
 * fuzz_pci.h - a hostile driver for the libFuzzer targets of the PCI
 * devices (fuzz_virtio_blk.c, fuzz_virtio_net.c, fuzz_virtio_rng.c,
 * fuzz_ide.c, fuzz_e1000.c).
 *
 * The machine is a struct vm with guest RAM, the port and memory buses and
 * a PCI bus (the KVM side is tests/unit/fake_vm.c). The device is plugged
 * into the PCI bus but its I/O threads are never started: the program's
 * RUN operation does their work on the fuzzing thread, so a run is
 * deterministic. The fuzz input is a program of operations, each an opcode
 * byte (modulo FZ_OP_NR) and its little-endian arguments:
 *
 *   CFG_READ   off:u16 len:u8           config space, through 0xCF8/0xCFC
 *   CFG_WRITE  off:u16 len:u8 val:u32
 *   BAR_READ   bar:u8 off:u32 len:u8    at the BAR's current address
 *   BAR_WRITE  bar:u8 off:u32 len:u8 val:u64
 *   PIO_READ   port:u16 len:u8          any I/O port (the IDE legacy ports)
 *   PIO_WRITE  port:u16 len:u8 val:u32
 *   MEM_WRITE  gpa:u32 n:u8 bytes[n]    guest RAM (gpa modulo its size)
 *   RUN                                 the device's I/O threads, until idle
 *   FRAME      n:u16 bytes[n]           a frame arrives on the backend
 *
 * Access sizes are 1 << (len % 4) bytes. A truncated operation ends the
 * program. Seeds: tests/fuzz/make-seeds.py.
 */
#ifndef MINIVMM_FUZZ_PCI_H
#define MINIVMM_FUZZ_PCI_H

#include <stddef.h>
#include <stdint.h>

#include "devices/pci.h"
#include "vmm/vm.h"

enum {
	FZ_CFG_READ,
	FZ_CFG_WRITE,
	FZ_BAR_READ,
	FZ_BAR_WRITE,
	FZ_PIO_READ,
	FZ_PIO_WRITE,
	FZ_MEM_WRITE,
	FZ_RUN,
	FZ_FRAME,
	FZ_OP_NR
};

#define FZ_RAM_SIZE (1u << 20)

struct fz_dev {
	struct pci_dev *pci;
	/* do what the device's I/O threads would do now (may be NULL) */
	void (*run)(void *opaque);
	/* a frame arrives from the network backend (may be NULL) */
	void (*frame)(void *opaque, const uint8_t *p, size_t n);
	void *opaque;
};

/* The machine, set up once: vm->mem is FZ_RAM_SIZE bytes at gpa 0. */
extern struct vm fz_vm;

/* Zero the RAM and set up the buses and the PCI bus for one input. */
void fz_machine_begin(void);
/* Take the PCI bus and the buses down again (after the device was freed
 * or, for a device on the bus, before: see each target). */
void fz_pci_bus_end(void);
void fz_buses_end(void);
/* Run the program in data against dev. */
void fz_run_program(const struct fz_dev *dev, const uint8_t *data,
		    size_t size);

/* Disk i (0 or 1) of fuzz_disk.c: a raw image in a memfd, size bytes of
 * zeroes, opened read-write; the caller owns the blockdev. */
struct blockdev *fz_raw_disk(unsigned i, uint64_t size);

/* The tap stand-in of fuzz_tap.c: tap_open() gives a SOCK_SEQPACKET
 * socketpair instead of a tap. fz_tap_frame (an fz_dev frame hook) writes
 * a frame, vnet header included, for the device to read; fz_tap_drain
 * drops what the device sent. */
void fz_tap_frame(void *opaque, const uint8_t *frame, size_t len);
void fz_tap_drain(void);

#endif
