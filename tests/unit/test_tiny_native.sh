#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_tiny_native.sh MINIVMM TESTS HELLO16 HELLO64 TRIPLEFAULT64 HELLO-PVH - the tiny
# bare-metal guests on THIS machine's /dev/kvm (they need no hardware-style KVM, so PVM's
# runs them too): the integration case tests/integration/cases/core-tiny.sh, run here
# with the assets laid out as it expects. Exits 77 (skip) without a usable /dev/kvm, or
# 1 then if CI=true; 1 if any check failed.
set -u
MINIVMM=$1 TESTS=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
mkdir -p "$T/assets/tiny" "$T/work"
cp "$3" "$4" "$5" "$6" "$T/assets/tiny/"
"$MINIVMM" run --kernel "$4" </dev/null >"$T/probe" 2>&1; rc=$?
if [ $rc != 0 ] && grep -q '/dev/kvm' "$T/probe"; then
	if [ "${CI:-}" = true ]; then
		echo "not ok 1 - CI=true but no usable /dev/kvm: $(head -1 "$T/probe")"; exit 1
	fi
	echo "1..0 # SKIP no usable /dev/kvm: $(head -1 "$T/probe")"; exit 77
fi
MINIVMM=$MINIVMM ASSETS=$T/assets WORK=$T/work TESTS=$TESTS \
	sh "$TESTS/cases/core-tiny.sh" > "$T/out" 2>&1
cat "$T/out"
grep -q '^ok ' "$T/out" && ! grep -q '^not ok ' "$T/out"
