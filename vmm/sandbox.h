/* SPDX-License-Identifier: MIT
 * sandbox.h - per-thread seccomp allow-lists (seccomp(2), built with
 * libseccomp).
 *
 * Once set up, every thread runs under the allow-list of its class: the
 * vCPU threads, the device I/O threads, the API thread (the VM's "io" loop:
 * control socket and console input) and the main thread. A thread installs
 * its own filter as the last step of its set-up, before it handles guest
 * input; the filter binds that thread and the threads it creates later. A
 * system call outside the list makes the process print one line naming the
 * call and the thread class, then die of SIGSYS (a shell shows status 159).
 */
#ifndef MINIVMM_SANDBOX_H
#define MINIVMM_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

enum sandbox_class {
	SANDBOX_VCPU,
	SANDBOX_IO,
	SANDBOX_API,
	SANDBOX_MAIN,
	SANDBOX_NR_CLASSES,
};

/* Sanitizer runtimes (ASan, UBSan, LeakSanitizer) make system calls no
 * allow-list names (LeakSanitizer ptraces the process at exit): in builds
 * with them the sandbox is off unless asked for. */
#ifdef MINIVMM_SANITIZERS
#define SANDBOX_DEFAULT_ON false
#else
#define SANDBOX_DEFAULT_ON true
#endif

/* "vcpu", "io", "api", "main". */
const char *sandbox_class_name(enum sandbox_class c);

/* Build the filter of every class (the main thread's also allows setting
 * the machine up again when restart is true: --on-reboot=restart) and the
 * SIGSYS reporter. Until it succeeds, sandbox_enter() does nothing.
 * 0 or -errno. */
int sandbox_prepare(bool restart);

/* Put the calling thread under its class's filter (a no-op when the
 * sandbox is not prepared, and for the main thread after its first call).
 * 0 or -errno. */
int sandbox_enter(enum sandbox_class c);

/* The BPF program of class c, as sandbox_prepare() built it (for tests):
 * its number of instructions, 0 when not built. */
size_t sandbox_filter_len(enum sandbox_class c);

/* Free the filters; sandbox_enter() does nothing after this. */
void sandbox_release(void);

#endif
