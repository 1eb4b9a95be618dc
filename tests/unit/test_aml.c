/* SPDX-License-Identifier: MIT
 * Unit tests: the AML encoder against bytes produced by the reference ASL
 * compiler (iasl 20200925, from ASL snippets quoted with each test), the
 * PkgLength boundaries, and error handling. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot/x86/aml.h"

static uint8_t buf[8192];

/* Scope (\_SB) { Device (COM1) { Name (_HID, EisaId ("PNP0501"))
 *   Name (_UID, 1) Name (_CRS, ResourceTemplate () {
 *   IO (Decode16, 0x03F8, 0x03F8, 0x08, 0x08) IRQNoFlags () {4} }) } }
 * Name (\_S5, Package (4) {5, 5, 0, 0}) */
static const uint8_t iasl_com1[] = {
	0x10, 0x32, 0x5f, 0x53, 0x42, 0x5f, 0x5b, 0x82, 0x2b, 0x43, 0x4f,
	0x4d, 0x31, 0x08, 0x5f, 0x48, 0x49, 0x44, 0x0c, 0x41, 0xd0, 0x05,
	0x01, 0x08, 0x5f, 0x55, 0x49, 0x44, 0x01, 0x08, 0x5f, 0x43, 0x52,
	0x53, 0x11, 0x10, 0x0a, 0x0d, 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03,
	0x08, 0x08, 0x22, 0x10, 0x00, 0x79, 0x00, 0x08, 0x5f, 0x53, 0x35,
	0x5f, 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
};

static void test_device_and_package(void **state)
{
	(void)state;
	struct aml a;

	aml_init(&a, buf, sizeof(buf));
	aml_scope(&a, "_SB");
	aml_device(&a, "COM1");
	aml_name(&a, "_HID");
	aml_eisaid(&a, "PNP0501");
	aml_name(&a, "_UID");
	aml_integer(&a, 1);
	aml_name(&a, "_CRS");
	aml_restemplate(&a);
	aml_io(&a, 0x3f8, 0x3f8, 8, 8);
	aml_irq_noflags(&a, 4);
	aml_close(&a);
	aml_close(&a);
	aml_close(&a);
	aml_name(&a, "_S5");
	aml_package(&a, 4);
	aml_integer(&a, 5);
	aml_integer(&a, 5);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_close(&a);
	assert_int_equal(aml_finish(&a), 0);
	assert_int_equal(a.len, sizeof(iasl_com1));
	assert_memory_equal(buf, iasl_com1, sizeof(iasl_com1));
}

/* Name (\CRS0, ResourceTemplate () {
 *  WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
 *                 0, 0, 0xFF, 0, 0x100)
 *  WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
 *          0, 0x0D00, 0xFFFF, 0, 0xF300)
 *  DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
 *   NonCacheable, ReadWrite, 0, 0xC0000000, 0xFBFFFFFF, 0, 0x3C000000)
 *  QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
 *   Cacheable, ReadWrite, 0, 0x100000000, 0x1FFFFFFFF, 0, 0x100000000)
 *  Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) {9} })
 * Method (\_SB.FOO, 1, Serialized) { Return (0x12345678) }
 * Name (\BIG, Package (3) { 0x123456789A, "ACPI0007", 0xFFFF }) */
static const uint8_t iasl_res[] = {
	0x08, 0x43, 0x52, 0x53, 0x30, 0x11, 0x47, 0x07, 0x0a, 0x73, 0x88,
	0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00,
	0x00, 0x00, 0x0d, 0xff, 0xff, 0x00, 0x00, 0x00, 0xf3, 0x87, 0x17,
	0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xc0, 0xff, 0xff, 0xff, 0xfb, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x3c, 0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x03, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
	0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x89, 0x06, 0x00, 0x09, 0x01, 0x09, 0x00,
	0x00, 0x00, 0x79, 0x00, 0x14, 0x11, 0x2e, 0x5f, 0x53, 0x42, 0x5f,
	0x46, 0x4f, 0x4f, 0x5f, 0x09, 0xa4, 0x0c, 0x78, 0x56, 0x34, 0x12,
	0x08, 0x42, 0x49, 0x47, 0x5f, 0x12, 0x18, 0x03, 0x0e, 0x9a, 0x78,
	0x56, 0x34, 0x12, 0x00, 0x00, 0x00, 0x0d, 0x41, 0x43, 0x50, 0x49,
	0x30, 0x30, 0x30, 0x37, 0x00, 0x0b, 0xff, 0xff,
};

static void test_resources_method(void **state)
{
	(void)state;
	struct aml a;

	aml_init(&a, buf, sizeof(buf));
	aml_name(&a, "CRS0");
	aml_restemplate(&a);
	aml_word_bus_number(&a, 0, 0xff);
	aml_word_io(&a, 0x0d00, 0xffff);
	aml_dword_memory(&a, 0xc0000000, 0xfbffffff, false);
	aml_qword_memory(&a, 0x100000000ULL, 0x1ffffffffULL, true);
	aml_interrupt(&a, true, false, true, 9);
	aml_close(&a);
	aml_method(&a, "_SB.FOO", 1, true);
	aml_return(&a);
	aml_integer(&a, 0x12345678);
	aml_close(&a);
	aml_name(&a, "BIG");
	aml_package(&a, 3);
	aml_integer(&a, 0x123456789aULL);
	aml_string(&a, "ACPI0007");
	aml_integer(&a, 0xffff);
	aml_close(&a);
	assert_int_equal(aml_finish(&a), 0);
	assert_int_equal(a.len, sizeof(iasl_res));
	assert_memory_equal(buf, iasl_res, sizeof(iasl_res));
}

/* Buffer with n zero bytes; returns the encoded length and copies the
 * bytes after BufferOp into out. */
static size_t buffer_of(size_t n, uint8_t *out, size_t outlen)
{
	static uint8_t zeros[8192];
	struct aml a;

	aml_init(&a, buf, sizeof(buf));
	aml_buffer(&a);
	aml_bytes(&a, zeros, n);
	aml_close(&a);
	assert_int_equal(aml_finish(&a), 0);
	assert_int_equal(buf[0], AML_BUFFER_OP);
	memcpy(out, buf + 1, outlen);
	return a.len;
}

static void test_pkglength_boundaries(void **state)
{
	(void)state;
	uint8_t o[6];

	/* 60 bytes: size 0x0a 0x3c, body 62, PkgLength 63 in one byte */
	assert_int_equal(buffer_of(60, o, 3), 1 + 1 + 2 + 60);
	assert_int_equal(o[0], 0x3f);
	assert_int_equal(o[1], 0x0a);
	assert_int_equal(o[2], 60);
	/* 61 bytes: body 63 needs two bytes: 65 = 0x41 -> 0x41 0x04 */
	assert_int_equal(buffer_of(61, o, 4), 1 + 2 + 2 + 61);
	assert_int_equal(o[0], 0x41);
	assert_int_equal(o[1], 0x04);
	assert_int_equal(o[2], 0x0a);
	/* 4000 bytes: size 0x0b a0 0f, body 4003, total 4005 = 0xfa5 */
	assert_int_equal(buffer_of(4000, o, 5), 1 + 2 + 3 + 4000);
	assert_int_equal(o[0], 0x45);
	assert_int_equal(o[1], 0xfa);
	assert_int_equal(o[2], 0x0b);
	/* 4092 bytes: body 4095, two bytes would make 4097 > 4095, so
	 * three: 4098 = 0x1002 -> 0x82 0x00 0x01 */
	assert_int_equal(buffer_of(4092, o, 6), 1 + 3 + 3 + 4092);
	assert_int_equal(o[0], 0x82);
	assert_int_equal(o[1], 0x00);
	assert_int_equal(o[2], 0x01);
	assert_int_equal(o[3], 0x0b);
	assert_int_equal(o[4], 0xfc);
	assert_int_equal(o[5], 0x0f);
}

static void test_integers_names(void **state)
{
	(void)state;
	struct aml a;
	static const uint8_t want[] = {
		0x00, 0x01, 0x0a, 0x02, 0x0a, 0xff, 0x0b, 0x00, 0x01,
		0x0c, 0x00, 0x00, 0x01, 0x00, 0x0e, 0, 0, 0, 0, 1, 0, 0, 0,
		/* \_SB.PCI0.S08 */
		0x5c, 0x2f, 0x03, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
		'S', '0', '8', '_',
		/* ^^X */
		0x5e, 0x5e, 'X', '_', '_', '_',
		/* \ alone: root, NullName */
		0x5c, 0x00,
	};

	aml_init(&a, buf, sizeof(buf));
	aml_integer(&a, 0);
	aml_integer(&a, 1);
	aml_integer(&a, 2);
	aml_integer(&a, 0xff);
	aml_integer(&a, 0x100);
	aml_integer(&a, 0x10000);
	aml_integer(&a, 0x100000000ULL);
	aml_name_string(&a, "\\_SB.PCI0.S08");
	aml_name_string(&a, "^^X");
	aml_name_string(&a, "\\");
	assert_int_equal(aml_finish(&a), 0);
	assert_int_equal(a.len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));

	assert_int_equal(aml_eisaid_value("PNP0A03"), 0x030ad041);
	assert_int_equal(aml_eisaid_value("PNP0C0C"), 0x0c0cd041);
	assert_int_equal(aml_eisaid_value("pnp0a03"), 0);
	assert_int_equal(aml_eisaid_value("PNP0A0"), 0);
	assert_int_equal(aml_eisaid_value("PNP0G03"), 0);
}

static void test_errors(void **state)
{
	(void)state;
	struct aml a;
	uint8_t small[8];
	static const char *bad[] = { "TOOLONG", "1ABC", "A.B.", "a", "A..B",
				     "AB-C", "\\^A" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_name_string(&a, bad[i]);
		assert_int_equal(aml_finish(&a), -EINVAL);
	}
	/* full buffer: sticky -ENOSPC and nothing written past the end */
	aml_init(&a, small, sizeof(small));
	aml_scope(&a, "_SB");
	aml_device(&a, "DEV0");
	aml_close(&a);
	aml_close(&a);
	assert_int_equal(aml_finish(&a), -ENOSPC);
	assert_true(a.len <= sizeof(small));
	/* unclosed object, close without open, bad IRQ, bad EISA ID */
	aml_init(&a, buf, sizeof(buf));
	aml_package(&a, 1);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_close(&a);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_irq_noflags(&a, 16);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_eisaid(&a, "XYZ");
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_package(&a, 256);
	assert_int_equal(aml_finish(&a), -EINVAL);
	/* nesting deeper than AML_MAX_DEPTH */
	aml_init(&a, buf, sizeof(buf));
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_package(&a, 1);
	assert_int_equal(aml_finish(&a), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_and_package),
		cmocka_unit_test(test_resources_method),
		cmocka_unit_test(test_pkglength_boundaries),
		cmocka_unit_test(test_integers_names),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
