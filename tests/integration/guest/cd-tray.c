/* SPDX-License-Identifier: MIT
 * cd-tray.c - a guest helper of ide-cdrom (built static by
 * ide-cdrom.prep, carried on the test ISO itself): the CD-ROM ioctls of
 * Linux's cdrom driver (the tray, the drive status) and packets sent
 * through SG_IO, for the sense data the drive gives back.
 *
 *   cd-tray DEV eject | close | status
 *   cd-tray DEV packet HEX-CDB     prints "SENSE key asc ascq" or "GOOD"
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/cdrom.h>
#include <scsi/sg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int packet(int fd, const char *hex)
{
	unsigned char cdb[16], sense[32], buf[4096];
	struct sg_io_hdr io;
	size_t n = strlen(hex) / 2;

	if (n < 6 || n > sizeof(cdb))
		return 2;
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return 2;
		cdb[i] = (unsigned char)v;
	}
	memset(&io, 0, sizeof(io));
	memset(sense, 0, sizeof(sense));
	io.interface_id = 'S';
	io.dxfer_direction = SG_DXFER_FROM_DEV;
	io.cmd_len = (unsigned char)n;
	io.cmdp = cdb;
	io.dxferp = buf;
	io.dxfer_len = sizeof(buf);
	io.sbp = sense;
	io.mx_sb_len = sizeof(sense);
	io.timeout = 10000;
	if (ioctl(fd, SG_IO, &io) < 0) {
		perror("SG_IO");
		return 1;
	}
	if (io.sb_len_wr >= 14)
		printf("SENSE %x %02x %02x\n", sense[2] & 0x0f, sense[12], sense[13]);
	else
		printf("GOOD %d\n", (int)(sizeof(buf) - io.resid));
	return 0;
}

int main(int argc, char **argv)
{
	int fd, r = 0;

	if (argc < 3)
		return 2;
	fd = open(argv[1], O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	if (!strcmp(argv[2], "eject"))
		r = ioctl(fd, CDROMEJECT, 0);
	else if (!strcmp(argv[2], "close"))
		r = ioctl(fd, CDROMCLOSETRAY, 0);
	else if (!strcmp(argv[2], "status"))
		printf("STATUS %d\n", ioctl(fd, CDROM_DRIVE_STATUS, CDSL_CURRENT));
	else if (!strcmp(argv[2], "packet") && argc == 4)
		r = packet(fd, argv[3]);
	else
		r = 2;
	if (r < 0)
		perror(argv[2]);
	close(fd);
	return r ? 1 : 0;
}
