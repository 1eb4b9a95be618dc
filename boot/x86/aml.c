/* SPDX-License-Identifier: MIT
 * aml.c - ACPI Machine Language encoder (ACPI 6.5 chapter 20; resource
 * descriptors from 6.4). See aml.h for the model: append to a buffer,
 * insert each PkgLength when its object is closed.
 */
#include "aml.h"

#include <errno.h>
#include <string.h>

enum { K_PLAIN, K_BUFFER, K_RESTEMPLATE };

void aml_init(struct aml *a, void *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = cap;
}

int aml_finish(struct aml *a)
{
	if (a->err)
		return a->err;
	return a->depth ? -EINVAL : 0;
}

static void fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->err)
		return;
	if (n > a->cap - a->len) {
		fail(a, -ENOSPC);
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

/* n little-endian bytes of v */
static void le(struct aml *a, uint64_t v, unsigned n)
{
	uint8_t b[8];

	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, b, n);
}

/* Insert n bytes at offset off (which is <= a->len). */
static void insert(struct aml *a, size_t off, const uint8_t *p, size_t n)
{
	if (a->err)
		return;
	if (n > a->cap - a->len) {
		fail(a, -ENOSPC);
		return;
	}
	memmove(a->buf + off + n, a->buf + off, a->len - off);
	memcpy(a->buf + off, p, n);
	a->len += n;
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0) {
		aml_byte(a, AML_ZERO_OP);
	} else if (v == 1) {
		aml_byte(a, AML_ONE_OP);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE_PREFIX);
		le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD_PREFIX);
		le(a, v, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, AML_DWORD_PREFIX);
		le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	for (const char *c = s; *c; c++) {
		if ((unsigned char)*c > 0x7f) {
			fail(a, -EINVAL);
			return;
		}
	}
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static bool lead_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
	return lead_char(c) || (c >= '0' && c <= '9');
}

/* NameString := <RootChar NamePath> | <PrefixPath NamePath>;
 * NamePath := NameSeg | DualNamePath | MultiNamePath | NullName. */
void aml_name_string(struct aml *a, const char *path)
{
	uint8_t segs[255][4];
	unsigned nseg = 0;
	const char *p = path;

	if (*p == '\\') {
		aml_byte(a, AML_ROOT_CHAR);
		p++;
	} else {
		while (*p == '^') {
			aml_byte(a, AML_PARENT_PREFIX);
			p++;
		}
	}
	while (*p) {
		unsigned n = 0;

		if (nseg == 255 || !lead_char(*p)) {
			fail(a, -EINVAL);
			return;
		}
		memset(segs[nseg], '_', 4);
		while (name_char(*p)) {
			if (n == 4) {
				fail(a, -EINVAL);
				return;
			}
			segs[nseg][n++] = (uint8_t)*p++;
		}
		nseg++;
		if (*p == '.') {
			p++;
			if (!*p) { /* trailing dot */
				fail(a, -EINVAL);
				return;
			}
		} else if (*p) {
			fail(a, -EINVAL);
			return;
		}
	}
	if (nseg == 0) {
		aml_byte(a, 0x00); /* NullName */
		return;
	}
	if (nseg == 2) {
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	} else if (nseg > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)nseg);
	}
	aml_bytes(a, segs, 4 * (size_t)nseg);
}

/* EISA ID (ACPI 6.5, 6.1.5 _HID): three letters 'A'-'Z' compressed to 5
 * bits each, then four hex digits; stored so that the bytes in memory read
 * letter-word (big-endian) then product-word (big-endian). */
uint32_t aml_eisaid_value(const char *id)
{
	uint32_t v = 0;

	if (strlen(id) != 7)
		return 0;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return 0;
		v = (v << 5) | (uint32_t)(id[i] - 0x40);
	}
	for (int i = 3; i < 7; i++) {
		char c = id[i];
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = (uint32_t)(c - '0');
		else if (c >= 'A' && c <= 'F')
			d = (uint32_t)(c - 'A' + 10);
		else
			return 0;
		v = (v << 4) | d;
	}
	/* v now holds the 32 bits most-significant first; AML stores the
	 * first byte of that sequence lowest. */
	return __builtin_bswap32(v);
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = aml_eisaid_value(id);

	if (!v) {
		fail(a, -EINVAL);
		return;
	}
	aml_byte(a, AML_DWORD_PREFIX); /* always a DWord, as ASL compilers do */
	le(a, v, 4);
}

void aml_name(struct aml *a, const char *path)
{
	aml_byte(a, AML_NAME_OP);
	aml_name_string(a, path);
}

void aml_return(struct aml *a)
{
	aml_byte(a, AML_RETURN_OP);
}

/* ---- PkgLength objects ---- */

static void open_obj(struct aml *a, int kind)
{
	if (a->err)
		return;
	if (a->depth == AML_MAX_DEPTH) {
		fail(a, -EINVAL);
		return;
	}
	a->open[a->depth].start = a->len;
	a->open[a->depth].kind = kind;
	a->depth++;
}

void aml_scope(struct aml *a, const char *path)
{
	aml_byte(a, AML_SCOPE_OP);
	open_obj(a, K_PLAIN);
	aml_name_string(a, path);
}

void aml_device(struct aml *a, const char *path)
{
	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	open_obj(a, K_PLAIN);
	aml_name_string(a, path);
}

void aml_method(struct aml *a, const char *path, unsigned nargs,
		bool serialized)
{
	if (nargs > 7)
		fail(a, -EINVAL);
	aml_byte(a, AML_METHOD_OP);
	open_obj(a, K_PLAIN);
	aml_name_string(a, path);
	/* MethodFlags: bits 0-2 ArgCount, bit 3 SerializeFlag, 4-7 SyncLevel */
	aml_byte(a, (uint8_t)((nargs & 7) | (serialized ? 0x08 : 0)));
}

void aml_package(struct aml *a, unsigned n)
{
	if (n > 255)
		fail(a, -EINVAL); /* VarPackageOp would be needed */
	aml_byte(a, AML_PACKAGE_OP);
	open_obj(a, K_PLAIN);
	aml_byte(a, (uint8_t)n);
}

void aml_buffer(struct aml *a)
{
	aml_byte(a, AML_BUFFER_OP);
	open_obj(a, K_BUFFER);
}

void aml_restemplate(struct aml *a)
{
	aml_byte(a, AML_BUFFER_OP);
	open_obj(a, K_RESTEMPLATE);
}

/* PkgLength (20.2.4): the length counts itself. Up to 63 in one byte;
 * otherwise the lead byte holds the count of following bytes in bits 7-6
 * and the low 4 bits of the length in bits 3-0, the following bytes the
 * rest, least significant first. Returns the encoded size or 0 if too
 * large (>= 2^28). */
static unsigned pkglength(size_t body, uint8_t out[4])
{
	for (unsigned extra = 0; extra < 4; extra++) {
		size_t total = body + 1 + extra;

		if (extra == 0 && total <= 0x3f) {
			out[0] = (uint8_t)total;
			return 1;
		}
		if (extra > 0 && total < ((size_t)1 << (4 + 8 * extra))) {
			out[0] = (uint8_t)((extra << 6) | (total & 0x0f));
			for (unsigned i = 1; i <= extra; i++)
				out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
			return 1 + extra;
		}
	}
	return 0;
}

void aml_close(struct aml *a)
{
	struct aml_open *o;
	uint8_t pl[4];
	unsigned n;

	if (a->err)
		return;
	if (a->depth == 0) {
		fail(a, -EINVAL);
		return;
	}
	o = &a->open[--a->depth];
	if (o->kind == K_RESTEMPLATE) {
		aml_byte(a, 0x79); /* End Tag */
		aml_byte(a, 0x00); /* checksum 0: treated as valid */
	}
	if (o->kind == K_BUFFER || o->kind == K_RESTEMPLATE) {
		/* BufferSize (a TermArg Integer) goes before the bytes */
		struct aml tmp;
		uint8_t ib[9];

		aml_init(&tmp, ib, sizeof(ib));
		aml_integer(&tmp, a->len - o->start);
		insert(a, o->start, ib, tmp.len);
	}
	n = pkglength(a->len - o->start, pl);
	if (!n) {
		fail(a, -ENOSPC);
		return;
	}
	insert(a, o->start, pl, n);
}

/* ---- resource descriptors ---- */

void aml_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align,
	    uint8_t len)
{
	aml_byte(a, 0x47); /* small item 0x08, length 7 */
	aml_byte(a, 0x01); /* Decode16 */
	le(a, min, 2);
	le(a, max, 2);
	aml_byte(a, align);
	aml_byte(a, len);
}

void aml_irq_noflags(struct aml *a, unsigned irq)
{
	if (irq > 15) {
		fail(a, -EINVAL);
		return;
	}
	aml_byte(a, 0x22); /* small item 0x04, length 2: no flags byte */
	le(a, 1u << irq, 2);
}

void aml_interrupt(struct aml *a, bool level, bool active_low, bool shared,
		   uint32_t gsi)
{
	aml_byte(a, 0x89); /* Extended Interrupt Descriptor */
	le(a, 6, 2);       /* flags, count, one DWord */
	/* bit 0 consumer, 1 edge, 2 active low, 3 shared */
	aml_byte(a, (uint8_t)(0x01 | (level ? 0 : 0x02) |
			      (active_low ? 0x04 : 0) | (shared ? 0x08 : 0)));
	aml_byte(a, 1);
	le(a, gsi, 4);
}

/* Address space descriptors (6.4.3.5): general flags for a bridge window:
 * bit 0 = 0 ResourceProducer, bit 1 = 0 PosDecode, bit 2 MinFixed,
 * bit 3 MaxFixed. */
#define ADDR_GEN_FLAGS 0x0c

static void addr_desc(struct aml *a, uint8_t tag, uint8_t rtype,
		      uint8_t tflags, uint64_t min, uint64_t max,
		      unsigned width)
{
	aml_byte(a, tag);
	le(a, 3 + 5 * width, 2); /* bytes after the length field */
	aml_byte(a, rtype);
	aml_byte(a, ADDR_GEN_FLAGS);
	aml_byte(a, tflags);
	le(a, 0, width);   /* granularity */
	le(a, min, width);
	le(a, max, width);
	le(a, 0, width);   /* translation offset */
	le(a, max - min + 1, width);
}

void aml_word_bus_number(struct aml *a, uint16_t min, uint16_t max)
{
	if (max < min)
		fail(a, -EINVAL);
	addr_desc(a, 0x88, 2, 0, min, max, 2);
}

void aml_word_io(struct aml *a, uint16_t min, uint16_t max)
{
	if (max < min)
		fail(a, -EINVAL);
	addr_desc(a, 0x88, 1, 0x03 /* EntireRange */, min, max, 2);
}

/* Memory type-specific flags: bit 0 ReadWrite, bits 2-1 0 NonCacheable,
 * 1 Cacheable. */
void aml_dword_memory(struct aml *a, uint32_t min, uint32_t max,
		      bool cacheable)
{
	if (max < min)
		fail(a, -EINVAL);
	addr_desc(a, 0x87, 0, (uint8_t)(0x01 | (cacheable ? 0x02 : 0)), min,
		  max, 4);
}

void aml_qword_memory(struct aml *a, uint64_t min, uint64_t max,
		      bool cacheable)
{
	if (max < min || (min == 0 && max == UINT64_MAX))
		fail(a, -EINVAL); /* length would not fit */
	addr_desc(a, 0x8a, 0, (uint8_t)(0x01 | (cacheable ? 0x02 : 0)), min,
		  max, 8);
}
