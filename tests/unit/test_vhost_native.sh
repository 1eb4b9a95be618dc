#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_vhost_native.sh MINIVMM KERNEL - `--net tap=...,vhost=on` where /dev/vhost-net is
# missing: one error line naming it, exit status 1, and no tap left behind (vhost is
# opened before the tap). Exits 77 (skip) with /dev/vhost-net present (the emulated KVM
# host's net-vhost cases test it working) or without a usable /dev/kvm (1 then if CI=true).
set -u
MINIVMM=$1 KERNEL=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
if [ -e /dev/vhost-net ]; then
	echo "1..0 # SKIP /dev/vhost-net exists here"; exit 77
fi
"$MINIVMM" run --kernel "$KERNEL" </dev/null >"$T/probe" 2>&1; rc=$?
if [ $rc != 0 ] && grep -q '/dev/kvm' "$T/probe"; then
	if [ "${CI:-}" = true ]; then
		echo "not ok 1 - CI=true but no usable /dev/kvm: $(head -1 "$T/probe")"; exit 1
	fi
	echo "1..0 # SKIP no usable /dev/kvm: $(head -1 "$T/probe")"; exit 77
fi
echo 1..2
TAP=mvvh$$
rc=0 fail=0
timeout 20 "$MINIVMM" run --kernel "$KERNEL" --net "tap=$TAP,vhost=on" </dev/null \
	>"$T/out" 2>"$T/err" || rc=$?
want="minivmm: error: --net tap=$TAP: vhost=on: /dev/vhost-net: No such file or directory"
if [ $rc = 1 ] && [ "$(wc -l <"$T/err")" = 1 ] && [ "$(cat "$T/err")" = "$want" ]; then
	echo "ok 1 - vhost=on without /dev/vhost-net: one line, exit 1"
else
	fail=1
	echo "not ok 1 - exit $rc, stderr: $(head -c 300 "$T/err" | tr '\n' '|') (want: $want)"
fi
if [ -e "/sys/class/net/$TAP" ]; then
	fail=1
	echo "not ok 2 - tap $TAP was left behind"
else
	echo "ok 2 - no tap left behind"
fi
exit $fail
