/* SPDX-License-Identifier: MIT
 * aml.h - a small generator of ACPI Machine Language (ACPI 6.5, chapter 20
 * "ACPI Machine Language Specification", and 6.4 "Resource Data Types").
 *
 * The DSDT is written as AML bytes directly, without an ASL compiler. The
 * encoder appends to a caller-supplied buffer. Objects that carry a
 * PkgLength (Scope, Device, Method, Package, Buffer, ResourceTemplate) are
 * opened with aml_scope()/aml_device()/... and closed with aml_close(): the
 * PkgLength (1 to 4 bytes, 20.2.4) depends on the size of what follows, so
 * it is inserted when the object is closed.
 *
 * Errors are sticky: the first one (-ENOSPC when the buffer is full,
 * -EINVAL for a malformed name or value, or too deep nesting) is kept in
 * a->err and every later call does nothing. aml_finish() reports it, so a
 * table is written with plain calls and checked once.
 *
 *   aml_scope(a, "\\_SB");
 *     aml_device(a, "COM1");
 *       aml_name(a, "_HID"); aml_eisaid(a, "PNP0501");
 *     aml_close(a);
 *   aml_close(a);
 */
#ifndef MINIVMM_X86_AML_H
#define MINIVMM_X86_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 16

struct aml_open {
	size_t start; /* offset just after the opcode: where PkgLength goes */
	int kind;     /* what aml_close() has to add (enum in aml.c) */
};

struct aml {
	uint8_t *buf;
	size_t len, cap;
	int err; /* 0 or the first -errno */
	struct aml_open open[AML_MAX_DEPTH];
	unsigned depth;
};

void aml_init(struct aml *a, void *buf, size_t cap);
/* 0 when everything fit and every object was closed, else -errno. */
int aml_finish(struct aml *a);

/* ---- raw bytes and data objects (20.2.3) ---- */
void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);
/* An Integer in its shortest encoding: ZeroOp, OneOp, BytePrefix,
 * WordPrefix, DWordPrefix or QWordPrefix. */
void aml_integer(struct aml *a, uint64_t v);
/* A String (StringPrefix, ASCII bytes 0x01-0x7f, NUL). */
void aml_string(struct aml *a, const char *s);
/* A NameString (20.2.2): optional '\' or '^' prefixes, then dot-separated
 * segments of 1-4 characters (padded with '_'), e.g. "\\_SB.PCI0". */
void aml_name_string(struct aml *a, const char *path);
/* EisaId("PNP0A03"): the compressed 32-bit EISA ID as a DWord integer. */
void aml_eisaid(struct aml *a, const char *id);
/* The 32-bit value of an EISA ID, or 0 if id is malformed. */
uint32_t aml_eisaid_value(const char *id);

/* ---- named objects and statements ---- */
/* Name (path, ...): NameOp and the name; the caller appends the object. */
void aml_name(struct aml *a, const char *path);
/* Return (...): ReturnOp; the caller appends the operand. */
void aml_return(struct aml *a);

/* ---- objects with a PkgLength: open, fill, aml_close() ---- */
void aml_scope(struct aml *a, const char *path);
void aml_device(struct aml *a, const char *path);
void aml_method(struct aml *a, const char *path, unsigned nargs,
		bool serialized);
/* Package (n) { ... }: the caller appends exactly n elements. */
void aml_package(struct aml *a, unsigned n);
/* Buffer () { bytes }: the size is filled in by aml_close(). */
void aml_buffer(struct aml *a);
/* ResourceTemplate () { descriptors }: a Buffer that aml_close() ends
 * with an End Tag (checksum 0: "treated as valid"). */
void aml_restemplate(struct aml *a);
void aml_close(struct aml *a);

/* ---- resource descriptors (ACPI 6.5, 6.4.2 small, 6.4.3 large) ---- */
/* IO (Decode16, min, max, align, len) */
void aml_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align,
	    uint8_t len);
/* IRQNoFlags () {irq}: edge, active high, exclusive; irq 0-15 */
void aml_irq_noflags(struct aml *a, unsigned irq);
/* Interrupt (ResourceConsumer, Level|Edge, ActiveLow|ActiveHigh,
 * Shared|Exclusive) {gsi} */
void aml_interrupt(struct aml *a, bool level, bool active_low, bool shared,
		   uint32_t gsi);
/* Address space descriptors of a bridge's windows: ResourceProducer,
 * MinFixed, MaxFixed, PosDecode, granularity 0, translation 0, length
 * max - min + 1. */
void aml_word_bus_number(struct aml *a, uint16_t min, uint16_t max);
void aml_word_io(struct aml *a, uint16_t min, uint16_t max); /* EntireRange */
void aml_dword_memory(struct aml *a, uint32_t min, uint32_t max,
		      bool cacheable); /* ReadWrite */
void aml_qword_memory(struct aml *a, uint64_t min, uint64_t max,
		      bool cacheable); /* ReadWrite */

/* Opcodes used by callers and tests */
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_METHOD_OP 0x14
#define AML_DUAL_NAME_PREFIX 0x2e
#define AML_MULTI_NAME_PREFIX 0x2f
#define AML_EXT_OP_PREFIX 0x5b
#define AML_DEVICE_OP 0x82 /* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR 0x5c
#define AML_PARENT_PREFIX 0x5e
#define AML_RETURN_OP 0xa4

#endif
