/* SPDX-License-Identifier: MIT
 * Unit tests: size parsing and `minivmm run` option checks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "virtio/net.h"
#include "virtio/blk.h"
#include "vmm/cli.h"
#include "vmm/log.h"

static void test_sizes(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(parse_size("256M", 1, &v), 0);
	assert_int_equal(v, 256ULL << 20);
	assert_int_equal(parse_size("4G", 1, &v), 0);
	assert_int_equal(v, 4ULL << 30);
	assert_int_equal(parse_size("4g", 1, &v), 0);
	assert_int_equal(v, 4ULL << 30);
	assert_int_equal(parse_size("1024K", 1, &v), 0);
	assert_int_equal(v, 1ULL << 20);
	assert_int_equal(parse_size("512MiB", 1, &v), 0);
	assert_int_equal(v, 512ULL << 20);
	assert_int_equal(parse_size("512MB", 1, &v), 0);
	assert_int_equal(v, 512ULL << 20);
	assert_int_equal(parse_size("2T", 1, &v), 0);
	assert_int_equal(v, 2ULL << 40);
	/* a bare number takes the default unit */
	assert_int_equal(parse_size("512", 1ULL << 20, &v), 0);
	assert_int_equal(v, 512ULL << 20);
	assert_int_equal(parse_size("4096", 1, &v), 0);
	assert_int_equal(v, 4096);
	/* junk */
	assert_int_equal(parse_size("", 1, &v), -EINVAL);
	assert_int_equal(parse_size("M", 1, &v), -EINVAL);
	assert_int_equal(parse_size("-5M", 1, &v), -EINVAL);
	assert_int_equal(parse_size("12Q", 1, &v), -EINVAL);
	assert_int_equal(parse_size("1.5G", 1, &v), -EINVAL);
	assert_int_equal(parse_size("0", 1, &v), -EINVAL);
	assert_int_equal(parse_size("5MX", 1, &v), -EINVAL);
	/* overflow */
	assert_int_equal(parse_size("99999999999999999999", 1, &v), -EINVAL);
	assert_int_equal(parse_size("20000000T", 1, &v), -EINVAL);
}

static int parse(struct machine_cfg *cfg, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, cfg);
	argv[argc++] = "run";
	for (char *a; (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return cli_parse_run(argc, argv, cfg);
}

static void test_run_options(void **state)
{
	(void)state;
	struct machine_cfg c;
	char d1[] = "disk.img,format=raw,readonly=on,cache=none,serial=abc";
	char n1[] = "tap=tap0,bridge=br0,mac=52:54:00:12:34:56";
	log_quiet = true;
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "1G", "--cpus", "4",
			       "--disk", d1, "--net", n1, "--rng", NULL), 0);
	assert_string_equal(c.kernel, "k");
	assert_int_equal(c.mem_size, 1ULL << 30);
	assert_int_equal(c.nr_cpus, 4);
	assert_string_equal(c.cmdline, "console=ttyS0");
	assert_int_equal(c.nr_disks, 1);
	assert_string_equal(c.disks[0].path, "disk.img");
	assert_string_equal(c.disks[0].format, "raw");
	assert_true(c.disks[0].readonly);
	assert_int_equal(c.disks[0].cache, BLOCKDEV_CACHE_NONE);
	assert_string_equal(c.disks[0].serial, "abc");
	assert_int_equal(c.disks[0].num_queues, 0); /* one per vCPU */
	assert_int_equal(c.disks[0].poll_us, VIRTIO_BLK_POLL_US);
	{
		char nq[] = "d.img,num-queues=3";
		char p0[] = "d.img,poll=0", p100[] = "d.img,poll=100";

		assert_int_equal(parse(&c, "--kernel", "k", "--disk", nq, NULL), 0);
		assert_int_equal(c.disks[0].num_queues, 3);
		assert_int_equal(parse(&c, "--kernel", "k", "--disk", p0, NULL), 0);
		assert_int_equal(c.disks[0].poll_us, 0);
		assert_int_equal(parse(&c, "--kernel", "k", "--disk", p100, NULL), 0);
		assert_int_equal(c.disks[0].poll_us, 100);
		assert_int_equal(parse(&c, "--kernel", "k", "--disk", d1, "--net",
				       n1, "--rng", NULL), 0);
	}
	assert_int_equal(c.nr_nets, 1);
	assert_string_equal(c.nets[0].tap, "tap0");
	assert_false(c.nets[0].bridge_create);
	assert_string_equal(c.nets[0].bridge, "br0");
	assert_true(c.nets[0].mac_set);
	assert_int_equal(c.nets[0].mac[5], 0x56);
	assert_false(c.nets[0].vhost); /* the default */
	assert_true(c.rng);
	{
		char on[] = "tap=tap0,vhost=on", off[] = "tap=tap0,vhost=off";

		assert_int_equal(parse(&c, "--kernel", "k", "--net", on, NULL), 0);
		assert_true(c.nets[0].vhost);
		assert_int_equal(parse(&c, "--kernel", "k", "--net", off, NULL), 0);
		assert_false(c.nets[0].vhost);
	}
	/* defaults */
	assert_int_equal(parse(&c, "--kernel", "k", NULL), 0);
	assert_int_equal(c.mem_size, 256ULL << 20);
	assert_int_equal(c.nr_cpus, 1);
	/* a bare --memory number is MiB, like QEMU's -m */
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "512", NULL), 0);
	assert_int_equal(c.mem_size, 512ULL << 20);
	log_quiet = false;
}

static void test_run_errors(void **state)
{
	(void)state;
	struct machine_cfg c;
	char bad_fmt[] = "d.img,format=vmdk";
	char bad_key[] = "d.img,colour=red";
	char bad_mac[] = "tap=t0,mac=01:02:03:04:05:06"; /* multicast */
	char bad_mac2[] = "tap=t0,mac=zz:02:03:04:05:06";
	char no_tap[] = "bridge=br0";
	char bad_vhost[] = "tap=t0,vhost=yes";
	char vhost_e1000[] = "tap=t0,model=e1000,vhost=on";
	char long_serial[] = "d.img,serial=012345678901234567890";
	char nq0[] = "d.img,num-queues=0", nq17[] = "d.img,num-queues=17";
	char nqx[] = "d.img,num-queues=2x", nq_ide[] = "d.img,if=ide,num-queues=2";
	char poll_neg[] = "d.img,poll=-1", poll_big[] = "d.img,poll=1000001";
	char poll_x[] = "d.img,poll=5us";
	log_quiet = true;
	assert_int_equal(parse(&c, NULL), VM_EXIT_USAGE); /* no kernel */
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "12Q", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "1M", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "2000T", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--cpus", "0", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--cpus", "x", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--cpus", "1000", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--bogus", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "extra", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--firmware", "f", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--disk", bad_fmt, NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--disk", bad_key, NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--disk", long_serial, NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--disk", nq0, NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--disk", poll_neg, NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--disk", poll_big, NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--disk", poll_x, NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--disk", nq17, NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--disk", nqx, NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--disk", nq_ide, NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--net", bad_mac, NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--net", bad_mac2, NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--net", no_tap, NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--net", bad_vhost, NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--net", vhost_e1000, NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--on-reboot=maybe", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--dump-dtb", "", NULL), VM_EXIT_USAGE);
	/* --boot and --debugcon are for firmware boots */
	assert_int_equal(parse(&c, "--kernel", "k", "--boot", "disk", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--debugcon", "f", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--firmware", "seabios", "--boot", "floppy", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--firmware", "seabios", "--debugcon", "", NULL), VM_EXIT_USAGE);
	log_quiet = false;
	/* --firmware seabios names Debian's SeaBIOS; a path is taken as is */
	assert_int_equal(parse(&c, "--firmware", "seabios", "--boot", "cdrom",
			       "--debugcon", "dc.log", NULL), 0);
	assert_string_equal(c.firmware, MACHINE_SEABIOS_PATH);
	assert_true(c.boot_cdrom);
	assert_string_equal(c.debugcon, "dc.log");
	assert_int_equal(parse(&c, "--firmware", "bios.bin", NULL), 0);
	assert_string_equal(c.firmware, "bios.bin");
	assert_false(c.boot_cdrom);
	assert_null(c.debugcon);
}

/* --dump-dtb: accepted by arm64 builds, refused with one line on x86. */
static void test_dump_dtb(void **state)
{
	(void)state;
	struct machine_cfg c;

	log_quiet = true;
#ifdef __aarch64__
	assert_int_equal(parse(&c, "--kernel", "k", "--dump-dtb", "t.dtb", NULL), 0);
	assert_string_equal(c.dump_dtb, "t.dtb");
#else
	assert_int_equal(parse(&c, "--kernel", "k", "--dump-dtb", "t.dtb", NULL),
			 VM_EXIT_USAGE);
#endif
	assert_int_equal(parse(&c, "--kernel", "k", NULL), 0);
	assert_null(c.dump_dtb);
	log_quiet = false;
}

/* if=ide: up to four IDE disks, mixed with virtio ones; a fifth is refused */
static void test_disk_if(void **state)
{
	(void)state;
	struct machine_cfg c;
	char d[6][32], bad_if[] = "d.img,if=scsi";
	log_quiet = true;
	for (unsigned i = 0; i < 6; i++)
		snprintf(d[i], sizeof(d[i]), "d%u.img,if=%s", i, i == 1 ? "virtio" : "ide");
	assert_int_equal(parse(&c, "--kernel", "k", "--disk", d[0], "--disk", d[1],
			       "--disk", d[2], "--disk", d[3], "--disk", d[4], NULL), 0);
	assert_int_equal(c.nr_disks, 5);
	assert_true(c.disks[0].ide);
	assert_false(c.disks[1].ide);
	assert_true(c.disks[4].ide);
	for (unsigned i = 0; i < 6; i++)
		snprintf(d[i], sizeof(d[i]), "d%u.img,if=%s", i, i == 1 ? "virtio" : "ide");
	assert_int_equal(parse(&c, "--kernel", "k", "--disk", d[0], "--disk", d[1],
			       "--disk", d[2], "--disk", d[3], "--disk", d[4],
			       "--disk", d[5], NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--disk", bad_if, NULL), VM_EXIT_USAGE);
	log_quiet = false;
}

/* --cdrom: one, at the first free IDE position (none with four IDE disks) */
static void test_cdrom(void **state)
{
	(void)state;
	struct machine_cfg c;
	char d[4][32];
	log_quiet = true;
	assert_int_equal(parse(&c, "--kernel", "k", "--cdrom", "a.iso", NULL), 0);
	assert_string_equal(c.cdrom, "a.iso");
	assert_int_equal(parse(&c, "--kernel", "k", "--cdrom", "a.iso",
			       "--cdrom", "b.iso", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--cdrom", "", NULL), VM_EXIT_USAGE);
	for (unsigned i = 0; i < 4; i++)
		snprintf(d[i], sizeof(d[i]), "d%u.img,if=ide", i);
	assert_int_equal(parse(&c, "--kernel", "k", "--disk", d[0], "--disk", d[1],
			       "--disk", d[2], "--cdrom", "a.iso", NULL), 0);
	for (unsigned i = 0; i < 4; i++)
		snprintf(d[i], sizeof(d[i]), "d%u.img,if=ide", i);
	assert_int_equal(parse(&c, "--kernel", "k", "--disk", d[0], "--disk", d[1],
			       "--disk", d[2], "--disk", d[3], "--cdrom", "a.iso",
			       NULL), VM_EXIT_USAGE);
	log_quiet = false;
}

/* backing-format= and backing-dir= (repeatable, or a colon list) */
static void test_disk_backing(void **state)
{
	(void)state;
	struct machine_cfg c;
	char d[] = "top.qcow2,backing-format=raw,backing-dir=/a:/b,backing-dir=/c";
	char bad_fmt[] = "top.qcow2,backing-format=vmdk";
	char empty[] = "top.qcow2,backing-dir=";
	char many[] = "t,backing-dir=1:2:3:4:5:6:7:8:9";
	log_quiet = true;
	assert_int_equal(parse(&c, "--kernel", "k", "--disk", d, NULL), 0);
	assert_string_equal(c.disks[0].backing_format, "raw");
	assert_int_equal(c.disks[0].nr_backing_dirs, 3);
	assert_string_equal(c.disks[0].backing_dirs[0], "/a");
	assert_string_equal(c.disks[0].backing_dirs[1], "/b");
	assert_string_equal(c.disks[0].backing_dirs[2], "/c");
	assert_int_equal(parse(&c, "--kernel", "k", "--disk", bad_fmt, NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--disk", empty, NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--disk", many, NULL), VM_EXIT_USAGE);
	log_quiet = false;
}

/* The default MAC depends on the tap name and the device's place on the
 * command line only: the same command line (and each --on-reboot=restart
 * boot of it) gets the same MAC. */
static void test_default_mac(void **state)
{
	uint8_t a[6], b[6], c[6], d[6];

	(void)state;
	net_default_mac("tap0", 0, a);
	net_default_mac("tap0", 0, b);
	net_default_mac("tap0", 1, c);
	net_default_mac("tap1", 0, d);
	assert_memory_equal(a, b, 6);
	assert_memory_not_equal(a, c, 6);
	assert_memory_not_equal(a, d, 6);
	assert_int_equal(a[0] & 0x03, 0x02); /* locally administered unicast */
	assert_int_equal(c[0] & 0x03, 0x02);
}

/* --memory SIZE[,hugepages=on|off]: the bare size stays what it was */
static void test_memory_options(void **state)
{
	(void)state;
	struct machine_cfg c;
	log_quiet = true;
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "1G", NULL), 0);
	assert_int_equal(c.mem_size, 1ULL << 30);
	assert_false(c.mem_hugetlb);
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "512M,hugepages=on", NULL), 0);
	assert_int_equal(c.mem_size, 512ULL << 20);
	assert_true(c.mem_hugetlb);
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "64,hugepages=off", NULL), 0);
	assert_int_equal(c.mem_size, 64ULL << 20);
	assert_false(c.mem_hugetlb);
	/* the last key wins, and the last --memory */
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "4G,hugepages=off,hugepages=on", NULL), 0);
	assert_int_equal(c.mem_size, 4ULL << 30);
	assert_true(c.mem_hugetlb);
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "2G,hugepages=on", "--memory", "1G", NULL), 0);
	assert_int_equal(c.mem_size, 1ULL << 30);
	assert_false(c.mem_hugetlb);
	/* errors: unknown key or value, empty key, not whole 2 MiB pages,
	 * a bad size before the keys, a size too long to be one */
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "1G,hugepages=yes", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "1G,hugepages", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "1G,huge=on", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "1G,", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "1G,hugepages=onx", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "1G,hugepages=o", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "33M,hugepages=on", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "33M,hugepages=off", NULL), 0);
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", ",hugepages=on", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "1X,hugepages=on", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--memory", "1M,hugepages=on", NULL), VM_EXIT_USAGE);
	assert_int_equal(parse(&c, "--kernel", "k", "--memory",
			       "1000000000000000000000000000000000000M,hugepages=on", NULL), VM_EXIT_USAGE);
	log_quiet = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_run_options),
		cmocka_unit_test(test_run_errors),
		cmocka_unit_test(test_dump_dtb),
		cmocka_unit_test(test_memory_options),
		cmocka_unit_test(test_disk_if),
		cmocka_unit_test(test_cdrom),
		cmocka_unit_test(test_disk_backing),
		cmocka_unit_test(test_default_mac),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
