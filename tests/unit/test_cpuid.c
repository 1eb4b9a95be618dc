/* SPDX-License-Identifier: MIT
 * Unit tests: x86_cpuid_adjust (vmm/x86/cpuid.c), the per-vCPU rewrite of
 * KVM_GET_SUPPORTED_CPUID. The input is a hand-made table shaped like what
 * KVM returns on an 8-core/16-thread Intel host (with AMD's extended leaves
 * added), so every leaf the function touches is there with host values
 * that must not leak into the guest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/x86/cpuid.h"

#define SIG KVM_CPUID_FLAG_SIGNIFCANT_INDEX
#define HOST_APIC_ID 0xab /* the host CPU the table was read on */

/* { function, index, flags, eax, ebx, ecx, edx } */
static const struct kvm_cpuid_entry2 host[] = {
	/* max basic leaf 0x1f, "GenuineIntel" */
	{ 0x0, 0, 0, 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69, { 0 } },
	/* EBX: APIC ID 0xab, 16 logical CPUs, CLFLUSH 8 qwords, brand 0x05;
	 * ECX without the hypervisor bit; EDX with HTT (bit 28) */
	{ 0x1, 0, 0, 0x000906ea, 0xab100805, 0x7ffafbbf, 0xbfebfbff, { 0 } },
	/* caches: L1d, L1i, L2 shared by 2 threads, L3 by 16; 8 cores */
	{ 0x4, 0, SIG, 0x1c004121, 0x01c0003f, 0x0000003f, 0x00000000, { 0 } },
	{ 0x4, 1, SIG, 0x1c004122, 0x01c0003f, 0x0000003f, 0x00000000, { 0 } },
	{ 0x4, 2, SIG, 0x1c004143, 0x00c0003f, 0x000003ff, 0x00000000, { 0 } },
	{ 0x4, 3, SIG, 0x1c03c163, 0x03c0003f, 0x00003fff, 0x00000006, { 0 } },
	{ 0x4, 4, SIG, 0x00000000, 0x00000000, 0x00000000, 0x00000000, { 0 } },
	{ 0x7, 0, SIG, 0x00000000, 0x029c6fbf, 0x40000000, 0xbc000400, { 0 } },
	/* topology: SMT (2 threads, shift 1), core (16, shift 4), end */
	{ 0xb, 0, SIG, 1, 2, 0x100, HOST_APIC_ID, { 0 } },
	{ 0xb, 1, SIG, 4, 16, 0x201, HOST_APIC_ID, { 0 } },
	{ 0xb, 2, SIG, 0, 0, 0x002, HOST_APIC_ID, { 0 } },
	/* v2 topology with a die level (type 5) the guest must not see */
	{ 0x1f, 0, SIG, 1, 2, 0x100, HOST_APIC_ID, { 0 } },
	{ 0x1f, 1, SIG, 4, 16, 0x201, HOST_APIC_ID, { 0 } },
	{ 0x1f, 2, SIG, 5, 32, 0x502, HOST_APIC_ID, { 0 } },
	{ 0x1f, 3, SIG, 0, 0, 0x003, HOST_APIC_ID, { 0 } },
	/* KVM's leaves: "KVMKVMKVM\0\0\0", max 0x40000001; the PV features */
	{ 0x40000000, 0, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x0000004d, { 0 } },
	{ 0x40000001, 0, 0, 0x01007afb, 0, 0, 0, { 0 } },
	{ 0x80000000, 0, 0, 0x80000008, 0, 0, 0, { 0 } },
	/* 39/48-bit addresses; ECX: perf TSC size 3, APIC ID size 7, 8 cores */
	{ 0x80000008, 0, 0, 0x00003027, 0x0100d000, 0x00037007, 0, { 0 } },
	/* AMD: extended APIC ID, 2 threads per core, core 5, node 0 of 4 */
	{ 0x8000001e, 0, 0, HOST_APIC_ID, 0x00000105, 0x00000300, 0, { 0 } },
};
#define NR_HOST (sizeof(host) / sizeof(host[0]))

/* A fresh copy of the host table, as x86_vcpu_init makes for each vCPU. */
static struct kvm_cpuid2 *table(void)
{
	struct kvm_cpuid2 *c = malloc(sizeof(*c) + sizeof(host));

	assert_non_null(c);
	memset(c, 0, sizeof(*c));
	c->nent = NR_HOST;
	memcpy(c->entries, host, sizeof(host));
	return c;
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid2 *c,
					   uint32_t fn, uint32_t index)
{
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == index)
			return &c->entries[i];
	fail_msg("leaf 0x%x.%u missing", fn, index);
	return NULL;
}

static struct kvm_cpuid2 *adjusted(unsigned id, unsigned nr_cpus)
{
	struct kvm_cpuid2 *c = table();

	x86_cpuid_adjust(c, id, nr_cpus);
	/* same leaves in the same order, flags kept */
	assert_int_equal(c->nent, NR_HOST);
	for (unsigned i = 0; i < NR_HOST; i++) {
		assert_int_equal(c->entries[i].function, host[i].function);
		assert_int_equal(c->entries[i].index, host[i].index);
		assert_int_equal(c->entries[i].flags, host[i].flags);
	}
	return c;
}

static bool touched(uint32_t fn)
{
	return fn == 1 || fn == 4 || fn == 0xb || fn == 0x1f ||
	       fn == 0x80000008 || fn == 0x8000001e;
}

/* Every leaf the function has no business with comes out bit for bit. */
static void test_other_leaves_unchanged(void **state)
{
	(void)state;
	struct kvm_cpuid2 *c = adjusted(1, 64);

	for (unsigned i = 0; i < NR_HOST; i++)
		if (!touched(host[i].function))
			assert_memory_equal(&c->entries[i], &host[i],
					    sizeof(host[i]));
	free(c);
}

/* The KVM leaves reach the guest as KVM reported them: the signature the
 * guest's kvm_para_available() looks for, and the PV feature bits. */
static void test_kvm_leaves(void **state)
{
	(void)state;
	struct kvm_cpuid2 *c = adjusted(0, 1);
	const struct kvm_cpuid_entry2 *sig = find(c, 0x40000000, 0);
	const struct kvm_cpuid_entry2 *feat = find(c, 0x40000001, 0);
	char name[13];

	memcpy(name + 0, &sig->ebx, 4);
	memcpy(name + 4, &sig->ecx, 4);
	memcpy(name + 8, &sig->edx, 4);
	name[12] = 0;
	assert_string_equal(name, "KVMKVMKVM");
	assert_memory_equal(name + 9, "\0\0\0", 3);
	assert_int_equal(sig->eax, 0x40000001); /* highest KVM leaf */
	assert_int_equal(feat->eax, 0x01007afb);
	assert_int_equal(feat->edx, 0);
	free(c);
}

/* Leaf 1: hypervisor bit set, initial APIC ID = vCPU id, logical CPU count
 * = nr_cpus; the other bits pass through. */
static void check_leaf1(unsigned id, unsigned nr)
{
	struct kvm_cpuid2 *c = adjusted(id, nr);
	const struct kvm_cpuid_entry2 *e = find(c, 1, 0);

	assert_true(e->ecx & (1u << 31));
	assert_int_equal(e->ecx & ~(1u << 31), host[1].ecx);
	assert_int_equal(e->ebx >> 24, id);
	assert_int_equal((e->ebx >> 16) & 0xff, nr & 0xff);
	assert_int_equal(e->ebx & 0xffff, 0x0805); /* CLFLUSH size, brand */
	assert_int_equal(e->eax, host[1].eax);
	/* HTT says EBX[23:16] is meaningful: only with more than one CPU */
	assert_int_equal(!!(e->edx & (1u << 28)), nr > 1);
	assert_int_equal(e->edx & ~(1u << 28), host[1].edx & ~(1u << 28));
	free(c);
}

static void test_leaf1(void **state)
{
	(void)state;
	check_leaf1(0, 1);
	check_leaf1(0, 64);
	check_leaf1(1, 64);
	check_leaf1(63, 64);
}

/* Leaf 4: cores per package and threads sharing each cache are the
 * guest's, not the host's; cache geometry passes through. */
static void check_leaf4(unsigned id, unsigned nr)
{
	struct kvm_cpuid2 *c = adjusted(id, nr);

	for (unsigned sub = 0; sub < 4; sub++) {
		const struct kvm_cpuid_entry2 *e = find(c, 4, sub);
		const struct kvm_cpuid_entry2 *h = &host[2 + sub];
		unsigned level = (h->eax >> 5) & 7;

		assert_int_equal(e->eax >> 26, nr - 1);
		/* one thread per core: L1/L2 private, the L3 shared by all */
		assert_int_equal((e->eax >> 14) & 0xfff, level == 3 ? nr - 1 : 0);
		assert_int_equal(e->eax & 0x3fff, h->eax & 0x3fff);
		assert_int_equal(e->ebx, h->ebx);
		assert_int_equal(e->ecx, h->ecx);
		assert_int_equal(e->edx, h->edx);
	}
	/* the null subleaf that ends the list stays null */
	assert_memory_equal(find(c, 4, 4), &host[6], sizeof(host[6]));
	free(c);
}

static void test_leaf4(void **state)
{
	(void)state;
	check_leaf4(0, 1);
	check_leaf4(63, 64);
	/* 64 vCPUs: L1d reads 0xfc000121, L3 0xfc0fc163 */
	struct kvm_cpuid2 *c = adjusted(5, 64);
	assert_int_equal(find(c, 4, 0)->eax, 0xfc000121);
	assert_int_equal(find(c, 4, 3)->eax, 0xfc0fc163);
	free(c);
}

/* Leaves 0xB and 0x1F: x2APIC ID = vCPU id in every subleaf; level 0 SMT
 * with one thread, level 1 core with nr_cpus of them and a shift wide
 * enough for the APIC IDs; every further level (the host's die) erased. */
static void check_topology(uint32_t fn, unsigned id, unsigned nr,
			   unsigned shift)
{
	struct kvm_cpuid2 *c = adjusted(id, nr);
	const struct kvm_cpuid_entry2 *smt = find(c, fn, 0);
	const struct kvm_cpuid_entry2 *core = find(c, fn, 1);
	unsigned last = fn == 0x1f ? 3 : 2;

	assert_int_equal(smt->eax, 0);     /* shift: no thread bits */
	assert_int_equal(smt->ebx, 1);     /* one thread per core */
	assert_int_equal(smt->ecx, 0x100); /* type SMT, level 0 */
	assert_int_equal(smt->edx, id);
	assert_int_equal(core->eax, shift);
	assert_int_equal(core->ebx, nr);
	assert_int_equal(core->ecx, 0x201); /* type core, level 1 */
	assert_int_equal(core->edx, id);
	assert_true((1u << shift) >= nr);   /* every APIC ID fits */
	for (unsigned sub = 2; sub <= last; sub++) {
		const struct kvm_cpuid_entry2 *e = find(c, fn, sub);
		assert_int_equal(e->eax, 0);
		assert_int_equal(e->ebx, 0);
		assert_int_equal(e->ecx, sub); /* type 0: invalid, ends the list */
		assert_int_equal(e->edx, id);
	}
	/* the x2APIC ID agrees with leaf 1's initial APIC ID */
	assert_int_equal(find(c, 1, 0)->ebx >> 24, smt->edx);
	free(c);
}

static void test_topology(void **state)
{
	(void)state;
	for (unsigned k = 0; k < 2; k++) {
		uint32_t fn = k ? 0x1f : 0xb;
		check_topology(fn, 0, 1, 0);
		check_topology(fn, 0, 64, 6);
		check_topology(fn, 1, 64, 6);
		check_topology(fn, 63, 64, 6);
		check_topology(fn, 2, 3, 2); /* not a power of two: rounds up */
	}
}

/* AMD's leaves: APIC ID size and core count in 0x80000008 ECX (the perf
 * TSC size bits are masked off; address sizes pass through), and the
 * extended APIC ID / core ID in 0x8000001e. */
static void test_amd_leaves(void **state)
{
	(void)state;
	static const unsigned ids[] = { 0, 1, 63 };

	for (unsigned k = 0; k < 3; k++) {
		struct kvm_cpuid2 *c = adjusted(ids[k], 64);
		const struct kvm_cpuid_entry2 *sz = find(c, 0x80000008, 0);
		const struct kvm_cpuid_entry2 *ext = find(c, 0x8000001e, 0);

		assert_int_equal(sz->ecx, (6u << 12) | 63);
		assert_int_equal(sz->eax, 0x3027);
		assert_int_equal(sz->ebx, 0x0100d000);
		assert_int_equal(ext->eax, ids[k]);
		assert_int_equal(ext->ebx, ids[k]); /* 1 thread/core, core id */
		assert_int_equal(ext->ecx, 0);      /* node 0, one node */
		assert_int_equal(ext->edx, 0);
		free(c);
	}
	struct kvm_cpuid2 *c = adjusted(0, 1);
	assert_int_equal(find(c, 0x80000008, 0)->ecx, 0);
	free(c);
}

/* One vCPU of 64 sees a different APIC ID from its neighbours in every
 * leaf that carries one, and the rest of the table is the same for all. */
static void test_vcpus_differ_only_in_ids(void **state)
{
	(void)state;
	struct kvm_cpuid2 *a = adjusted(1, 64), *b = adjusted(63, 64);

	for (unsigned i = 0; i < NR_HOST; i++) {
		struct kvm_cpuid_entry2 x = a->entries[i], y = b->entries[i];
		uint32_t fn = x.function;

		if (fn == 1) {
			x.ebx &= 0x00ffffff;
			y.ebx &= 0x00ffffff;
		} else if (fn == 0xb || fn == 0x1f) {
			x.edx = y.edx = 0;
		} else if (fn == 0x8000001e) {
			x.eax = y.eax = x.ebx = y.ebx = 0;
		}
		assert_memory_equal(&x, &y, sizeof(x));
	}
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_other_leaves_unchanged),
		cmocka_unit_test(test_kvm_leaves),
		cmocka_unit_test(test_leaf1),
		cmocka_unit_test(test_leaf4),
		cmocka_unit_test(test_topology),
		cmocka_unit_test(test_amd_leaves),
		cmocka_unit_test(test_vcpus_differ_only_in_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
