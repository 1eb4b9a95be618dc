/* SPDX-License-Identifier: MIT
 * img-tool - `minivmm img` as a standalone program for the disk tests
 * (the same img_main the minivmm binary calls). */
#include "devices/disk/img.h"

int main(int argc, char **argv)
{
	argv[0] = "img";
	return img_main(argc, argv);
}
