/*
 * bzimage-header.S — the real-mode part of a minimal Linux bzImage (#included by the
 * hello64 and triplefault64 guests). Layout per the Linux x86 boot protocol
 * (/work/shared/specs/linux-x86-boot.rst, "The real-mode kernel header"):
 *
 *   file offset 0      boot sector (unused by a 64-bit loader)
 *   0x1f1..0x26b       setup header, 'HdrS' at 0x202, version 0x020f
 *   0x26c..0x3ff       16-bit setup code (here: just halts: only the 64-bit entry is used)
 *   0x400              protected-mode part = (setup_sects + 1) * 512 with setup_sects = 1;
 *                      its 32-bit entry is at +0 and its 64-bit entry at +0x200.
 * pm_paras and pm_init_size come from bzimage.ld (sizes of the protected-mode part).
 */
	.code16
	.section .setup, "ax"
	.org	0x1f1
	.byte	1			/* 0x1f1 setup_sects: 1 sector after the boot sector */
	.word	0			/* 0x1f2 root_flags */
	.long	pm_paras		/* 0x1f4 syssize: protected-mode size in 16-byte units */
	.word	0			/* 0x1f8 ram_size (obsolete) */
	.word	0xffff			/* 0x1fa vid_mode: "normal" */
	.word	0			/* 0x1fc root_dev */
	.word	0xaa55			/* 0x1fe boot_flag */
	.byte	0xeb			/* 0x200 jump: short jmp over the header; the byte */
	.byte	setup_code - 1f		/* at 0x201 also gives the header's end (0x202 + it) */
1:	.ascii	"HdrS"			/* 0x202 header magic */
	.word	0x020f			/* 0x206 version 2.15 */
	.long	0			/* 0x208 realmode_swtch */
	.word	0			/* 0x20c start_sys_seg */
	.word	0			/* 0x20e kernel_version: no version string */
	.byte	0			/* 0x210 type_of_loader (written by the loader) */
	.byte	0x01			/* 0x211 loadflags: LOADED_HIGH (load at 1 MiB) */
	.word	0			/* 0x212 setup_move_size */
	.long	0x100000		/* 0x214 code32_start */
	.long	0			/* 0x218 ramdisk_image */
	.long	0			/* 0x21c ramdisk_size */
	.long	0			/* 0x220 bootsect_kludge */
	.word	0			/* 0x224 heap_end_ptr */
	.byte	0			/* 0x226 ext_loader_ver */
	.byte	0			/* 0x227 ext_loader_type */
	.long	0			/* 0x228 cmd_line_ptr (written by the loader) */
	.long	0x7fffffff		/* 0x22c initrd_addr_max */
	.long	0x200000		/* 0x230 kernel_alignment: 2 MiB */
	.byte	1			/* 0x234 relocatable_kernel */
	.byte	21			/* 0x235 min_alignment: 2^21 */
	.word	0x0003			/* 0x236 xloadflags: XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G */
	.long	2047			/* 0x238 cmdline_size */
	.long	0			/* 0x23c hardware_subarch: default PC */
	.quad	0			/* 0x240 hardware_subarch_data */
	.long	0			/* 0x248 payload_offset: no compressed payload */
	.long	0			/* 0x24c payload_length */
	.quad	0			/* 0x250 setup_data */
	.quad	0x100000		/* 0x258 pref_address */
	.long	pm_init_size		/* 0x260 init_size: memory needed from the load address */
	.long	0			/* 0x264 handover_offset: no EFI handover */
	.long	0			/* 0x268 kernel_info_offset */
setup_code:				/* 0x26c: 16-bit entry, not supported by these guests */
	cli
2:	hlt
	jmp	2b
	.org	0x400			/* end of the setup sectors */

	/* protected-mode part: 32-bit entry at +0 (not supported: halts) */
	.section .pm, "ax"
	.code32
startup_32:
	cli
3:	hlt
	jmp	3b
	.org	0x200			/* the 64-bit entry follows the #include */
	.code64
