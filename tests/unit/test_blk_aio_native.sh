#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_blk_aio_native.sh MINIVMM VIRTIO_BLK_BZIMAGE - the tiny virtio-blk guest on THIS
# machine's /dev/kvm reads sector 0 of a raw disk with --disk ...,aio=io_uring (the
# default: no notice), aio=sync, and with io_uring_setup failing (ENOSYS, then EPERM,
# injected by strace): one notice line, the same read through the synchronous path.
# A bad aio= value is one error line. Exits 77 (skip) without a usable /dev/kvm (1 if
# CI=true); without strace the injected cases are left out.
set -u
MINIVMM=$1 GUEST=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
printf 'hello from sector 0 of the disk' > "$T/s0.img"
WANT='^virtio-blk: read sector 0, the device wrote 0x201 bytes: hello from sector 0'
"$MINIVMM" run --kernel "$GUEST" </dev/null >"$T/probe" 2>&1; rc=$?
if [ $rc != 0 ] && grep -q '/dev/kvm' "$T/probe"; then
	if [ "${CI:-}" = true ]; then
		echo "not ok 1 - CI=true but no usable /dev/kvm: $(head -1 "$T/probe")"; exit 1
	fi
	echo "1..0 # SKIP no usable /dev/kvm: $(head -1 "$T/probe")"; exit 77
fi
n=0 fail=0
check() { # NAME NOTICES(0|1) CMD...: the guest read sector 0; NOTICES notice lines
	name=$1 notices=$2; shift 2
	n=$((n + 1))
	timeout 60 "$@" </dev/null >"$T/out" 2>"$T/err"; rc=$?
	got=$(grep -c 'io_uring unavailable' "$T/err")
	if [ $rc = 0 ] && grep -q "$WANT" "$T/out" && [ "$got" = "$notices" ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name: status $rc, $got notice lines: $(head -3 "$T/err" | tr '\n' ' ')"
		fail=1
	fi
}
DISK="$T/s0.img,format=raw,readonly=on"
check "aio=io_uring (default)" 0 "$MINIVMM" run --kernel "$GUEST" --disk "$DISK"
check "aio=sync" 0 "$MINIVMM" run --kernel "$GUEST" --disk "$DISK,aio=sync"
if command -v strace >/dev/null 2>&1; then
	# under strace, a sanitizer build's leak check cannot stop the traced
	# threads (it dies with a fatal error): leaks are checked by the runs above
	for e in ENOSYS EPERM; do
		check "io_uring_setup fails with $e: synchronous, one notice" 1 \
			env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
			strace -f -o /dev/null -e inject=io_uring_setup:error=$e \
			"$MINIVMM" run --kernel "$GUEST" --disk "$DISK" --cpus 2
	done
else
	echo "# strace missing: the fallback cases are not run"
fi
n=$((n + 1))
"$MINIVMM" run --kernel "$GUEST" --disk "$DISK,aio=posix" </dev/null >"$T/out" 2>"$T/err"; rc=$?
if [ $rc != 0 ] && [ "$(wc -l < "$T/err")" = 1 ] && grep -q "aio='posix' is not io_uring or sync" "$T/err"; then
	echo "ok $n - aio=posix: one error line"
else
	echo "not ok $n - aio=posix: status $rc: $(head -3 "$T/err" | tr '\n' ' ')"; fail=1
fi
echo "1..$n"
exit $fail
