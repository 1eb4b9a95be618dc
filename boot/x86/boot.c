/* SPDX-License-Identifier: MIT
 * boot.c - picks the loader for a kernel image (bzImage, PVH ELF, or a flat
 * firmware image), the file and placement helpers the loaders share, and the
 * KVM ioctls that put the boot vCPU into the entry state computed by entry.c.
 *
 * Everything read from the image files is untrusted: sizes and offsets are
 * checked before use, and all writes to the guest go through guest_mem.
 */
#include "boot/x86/boot_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/x86/layout.h"

int boot_open(const char *path, int *fd, uint64_t *size, char *err,
	      size_t errlen)
{
	struct stat st;
	int f, ret;

	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0) {
		ret = -errno;
		boot_err(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(f, &st) < 0) {
		ret = -errno;
		boot_err(err, errlen, "%s: %s", path, strerror(-ret));
		close(f);
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		boot_err(err, errlen, "%s: not a regular file", path);
		close(f);
		return -EINVAL;
	}
	*fd = f;
	*size = (uint64_t)st.st_size;
	return 0;
}

int boot_pread(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO; /* the file is shorter than it claimed */
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int boot_read_to_guest(struct guest_mem *gm, int fd, uint64_t off,
		       uint64_t len, uint64_t gpa)
{
	void *dst;

	if (len > SIZE_MAX)
		return -EFAULT;
	dst = gm_ptr(gm, gpa, len);
	if (!dst)
		return -EFAULT;
	return boot_pread(fd, dst, (size_t)len, off);
}

int boot_put_cmdline(struct guest_mem *gm, const char *cmdline,
		     uint64_t max_len, const char *kernel, char *err,
		     size_t errlen)
{
	size_t len;

	if (!cmdline)
		cmdline = "";
	len = strlen(cmdline);
	if (max_len > X86_CMDLINE_MAX - 1)
		max_len = X86_CMDLINE_MAX - 1;
	if (len > max_len) {
		boot_err(err, errlen,
			 "%s: command line is %zu bytes, the kernel accepts at most %llu",
			 kernel, len, (unsigned long long)max_len);
		return -E2BIG;
	}
	if (gm_write(gm, X86_CMDLINE, cmdline, len + 1) < 0) {
		boot_err(err, errlen, "command line address 0x%llx is not RAM",
			 (unsigned long long)X86_CMDLINE);
		return -EFAULT;
	}
	return 0;
}

int boot_load_initrd(struct guest_mem *gm, const char *path, uint64_t low,
		     uint64_t high, uint64_t *addr, uint64_t *size, char *err,
		     size_t errlen)
{
	uint64_t fsize, at;
	int fd, ret;

	*addr = *size = 0;
	if (!path)
		return 0;
	ret = boot_open(path, &fd, &fsize, err, errlen);
	if (ret < 0)
		return ret;
	/* Highest page-aligned start that still ends at or below high, and
	 * not below low (the end of the kernel, page-aligned up). */
	if (!fsize) {
		boot_err(err, errlen, "%s: initrd is empty", path);
		close(fd);
		return -EINVAL;
	}
	low = (low + 0xfff) & ~0xfffULL;
	if (fsize > high || ((high - fsize) & ~0xfffULL) < low) {
		boot_err(err, errlen,
			 "%s: initrd of %llu bytes does not fit in guest RAM between 0x%llx and 0x%llx",
			 path, (unsigned long long)fsize,
			 (unsigned long long)low, (unsigned long long)high);
		close(fd);
		return -ENOMEM;
	}
	at = (high - fsize) & ~0xfffULL;
	ret = boot_read_to_guest(gm, fd, 0, fsize, at);
	close(fd);
	if (ret < 0) {
		boot_err(err, errlen, "%s: cannot load initrd at 0x%llx: %s",
			 path, (unsigned long long)at, strerror(-ret));
		return ret;
	}
	*addr = at;
	*size = fsize;
	return 0;
}

int x86_kernel_kind(const char *path)
{
	uint8_t hdr[0x206];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do
		n = pread(fd, hdr, sizeof(hdr), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int ret = -errno;
		close(fd);
		return ret;
	}
	close(fd);
	if (n >= 4 && !memcmp(hdr, "\177ELF", 4))
		return 1;
	if ((size_t)n == sizeof(hdr) && !memcmp(hdr + 0x202, "HdrS", 4))
		return 0;
	return -ENOEXEC;
}

/* A flat real-mode image, like a BIOS: copied so that it ends at 1 MiB, its
 * last 16 bytes (at 0xffff0) holding the reset-vector jump. */
int x86_firmware_load(struct guest_mem *gm, const struct x86_boot_cfg *cfg,
		      struct x86_boot_entry *entry, char *err, size_t errlen)
{
	uint64_t size, at;
	int fd, ret;

	ret = boot_open(cfg->firmware, &fd, &size, err, errlen);
	if (ret < 0)
		return ret;
	if (size < 16 || size > X86_FIRMWARE_MAX) {
		boot_err(err, errlen,
			 "%s: firmware image is %llu bytes, must be 16 bytes to %u KiB",
			 cfg->firmware, (unsigned long long)size,
			 X86_FIRMWARE_MAX / 1024);
		close(fd);
		return -EINVAL;
	}
	at = X86_HIMEM_START - size;
	ret = boot_read_to_guest(gm, fd, 0, size, at);
	close(fd);
	if (ret < 0) {
		boot_err(err, errlen, "%s: cannot load at 0x%llx: %s",
			 cfg->firmware, (unsigned long long)at, strerror(-ret));
		return ret;
	}
	entry->mode = X86_ENTRY_REAL16;
	entry->rip = 0xfff0; /* with CS = F000 (base 0xf0000): 0xffff0 */
	entry->kernel_end = X86_HIMEM_START;
	return 0;
}

int x86_boot_load(struct guest_mem *gm, const struct x86_boot_cfg *cfg,
		  struct x86_boot_entry *entry, char *err, size_t errlen)
{
	int kind;

	memset(entry, 0, sizeof(*entry));
	boot_err(err, errlen, "%s", "");
	if (cfg->low_size < 2 * X86_HIMEM_START ||
	    cfg->low_size > X86_PCI_HOLE_START ||
	    !gm_valid(gm, 0, cfg->low_size) ||
	    (cfg->high_size && !gm_valid(gm, X86_HIGH_RAM_START,
					 cfg->high_size))) {
		boot_err(err, errlen,
			 "bad guest RAM layout (low 0x%llx, high 0x%llx bytes)",
			 (unsigned long long)cfg->low_size,
			 (unsigned long long)cfg->high_size);
		return -EINVAL;
	}
	if (cfg->firmware) {
		if (cfg->kernel) {
			boot_err(err, errlen,
				 "%s: a kernel and --firmware cannot be used together",
				 cfg->kernel);
			return -EINVAL;
		}
		return x86_firmware_load(gm, cfg, entry, err, errlen);
	}
	if (!cfg->kernel) {
		boot_err(err, errlen, "no kernel or firmware to boot");
		return -EINVAL;
	}
	kind = x86_kernel_kind(cfg->kernel);
	if (kind == -ENOEXEC) {
		boot_err(err, errlen,
			 "%s: not a kernel (neither a bzImage nor an ELF file)",
			 cfg->kernel);
		return kind;
	}
	if (kind < 0) {
		boot_err(err, errlen, "%s: %s", cfg->kernel, strerror(-kind));
		return kind;
	}
	if (kind == 0)
		return x86_bzimage_load(gm, cfg, entry, err, errlen);
	return x86_pvh_load(gm, cfg, entry, err, errlen);
}

int x86_boot_setup_vcpu(int vcpu_fd, struct guest_mem *gm,
			const struct x86_boot_entry *entry)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int ret;

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	ret = x86_boot_entry_state(gm, entry, &sregs, &regs);
	if (ret < 0)
		return ret;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}
