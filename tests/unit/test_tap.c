/* SPDX-License-Identifier: MIT
 * test_tap.c - helper for test_tap.sh: drives devices/tap.c from the shell.
 *
 *   test_tap NAME [BRIDGE [create]]
 *
 * Opens the tap (attaching it to BRIDGE, creating the bridge with "create"),
 * prints one line "open ifname=.. created=0|1 offload_ok=0x.. sndbuf=N
 * bridge=..",
 * then waits until stdin reaches EOF, closes the tap and prints "closed".
 * On failure tap.c's error message goes to stderr and the exit status is the
 * errno value. The script runs it inside a private network namespace.
 */
#include "devices/tap.h"

#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct tap t;
	char buf[64];
	int r, sndbuf = -1;

	if (argc < 2) {
		fprintf(stderr, "usage: %s NAME [BRIDGE [create]]\n", argv[0]);
		return 2;
	}
	r = tap_open(&t, argv[1], argc > 2 ? argv[2] : NULL,
		     argc > 3 && !strcmp(argv[3], "create"));
	if (r) {
		fprintf(stderr, "%s\n", t.err);
		return -r;
	}
	/* offloads the way a guest accepting everything would set them */
	r = tap_set_offloads(&t, t.offload_ok);
	if (ioctl(t.fd, TUNGETSNDBUF, &sndbuf) < 0)
		sndbuf = -1;
	printf("open ifname=%s created=%d offload_ok=0x%x offloads=0x%x "
	       "set=%d sndbuf=%d bridge=%s\n", t.ifname, t.created,
	       t.offload_ok, t.offloads, r, sndbuf,
	       t.bridge[0] ? t.bridge : "-");
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	tap_close(&t);
	printf("closed\n");
	return 0;
}
