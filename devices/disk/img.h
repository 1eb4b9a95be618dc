/* SPDX-License-Identifier: MIT
 * img.h - `minivmm img`: create, inspect and check disk images.
 *
 *   minivmm img create [-f raw|qcow2] [-b BACKING [-F FMT]]
 *                      [-o cluster_size=N[,refcount_bits=N]] FILE [SIZE]
 *   minivmm img info [-f FMT] FILE
 *   minivmm img check [-f FMT] [-r leaks|all] FILE
 *
 * argv[0] is "img". Returns the process exit status: 0 success (check:
 * image clean), 1 error (check: could not be completed), 2 check found
 * corruptions, 3 check found only leaked clusters, 63 check is not
 * supported for the format (raw) - the same statuses as qemu-img check.
 */
#ifndef MINIVMM_IMG_H
#define MINIVMM_IMG_H

int img_main(int argc, char **argv);

#endif
