#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_seccomp.sh MINIVMM HELLO64 - the seccomp sandbox on this host's /dev/kvm with
# the tiny hello64 guest: it boots and stops under the filters (with a disk, a
# virtio-rng I/O thread, the control socket and a restart); the test hook
# MINIVMM_SECCOMP_TEST=CLASS makes the first thread of that class call socket(AF_INET),
# which must end minivmm with SIGSYS (status 159) and one line naming the call and the
# thread class; --seccomp=off lets the same hook pass. Prints TAP lines; exits 77
# (skip) without a usable /dev/kvm, or 1 then if CI=true; 1 if any check failed.
set -u
MINIVMM=${1:?usage: test_seccomp.sh MINIVMM HELLO64}
HELLO=${2:?usage: test_seccomp.sh MINIVMM HELLO64}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ulimit -c 0
fails=0 n=0
ok() { n=$((n+1)); echo "ok $n - $1"; }
nok() { n=$((n+1)); fails=$((fails+1)); echo "not ok $n - $1"; sed 's/^/# /' "$2" | tail -5; }

if "$MINIVMM" --help | grep -q 'off in this sanitizer build'; then
	echo "1..0 # SKIP the seccomp sandbox is off in sanitizer builds"; exit 77
fi
"$MINIVMM" run --kernel "$HELLO" </dev/null >"$T/probe" 2>&1; rc=$?
if [ $rc != 0 ] && grep -q '/dev/kvm' "$T/probe"; then
	if [ "${CI:-}" = true ]; then
		echo "not ok 1 - CI=true but no usable /dev/kvm: $(head -1 "$T/probe")"; exit 1
	fi
	echo "1..0 # SKIP no usable /dev/kvm: $(head -1 "$T/probe")"; exit 77
fi
truncate -s 8M "$T/disk.raw"
VM=(run --kernel "$HELLO" --rng --disk "$T/disk.raw,format=raw" --api-socket "$T/api.sock")

# the guest boots and stops with every thread under its filter (the default)
timeout 60 "$MINIVMM" "${VM[@]}" </dev/null >"$T/on.log" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q 'hello from long mode' "$T/on.log" && ! grep -q seccomp "$T/on.log"; then
	ok "boots and stops under seccomp"
else nok "boots and stops under seccomp (status $rc)" "$T/on.log"; fi

# a guest reset with --on-reboot=restart: the machine is built again under the main
# thread's filter; SIGINT ends it
timeout 60 "$MINIVMM" "${VM[@]}" --on-reboot=restart </dev/null >"$T/rs.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	[ "$(grep -c 'hello from long mode' "$T/rs.log")" -ge 3 ] && break
	sleep 0.1
done
kill -INT $pid 2>/dev/null; wait $pid; rc=$?
if [ "$(grep -c 'hello from long mode' "$T/rs.log")" -ge 3 ] && [ $rc = 6 ] &&
   ! grep -q seccomp "$T/rs.log"; then
	ok "restarts under seccomp"
else nok "restarts under seccomp (status $rc)" "$T/rs.log"; fi

# a forbidden call in each thread class
for class in vcpu io api main; do
	# stderr apart from the console: the guest's output and the error line may
	# otherwise share a line
	MINIVMM_SECCOMP_TEST=$class timeout 60 "$MINIVMM" "${VM[@]}" </dev/null >"$T/$class.out" 2>"$T/$class.log"
	rc=$?
	want="minivmm: seccomp: forbidden system call socket (41) in $class thread"
	if [ $rc = 159 ] && [ "$(grep -c 'seccomp' "$T/$class.log")" = 1 ] &&
	   grep -qxF "$want" "$T/$class.log"; then
		ok "forbidden call in the $class thread: SIGSYS and one line"
	else nok "forbidden call in the $class thread (status $rc, want 159 and '$want')" "$T/$class.log"; fi
done

# --seccomp=off: the hook's call goes through
MINIVMM_SECCOMP_TEST=io timeout 60 "$MINIVMM" "${VM[@]}" --seccomp=off </dev/null >"$T/off.log" 2>&1; rc=$?
if [ $rc = 0 ] && ! grep -q seccomp "$T/off.log"; then ok "--seccomp=off"
else nok "--seccomp=off (status $rc)" "$T/off.log"; fi

"$MINIVMM" run --kernel "$HELLO" --seccomp=maybe >"$T/bad.log" 2>&1; rc=$?
if [ $rc = 2 ] && grep -q -- "--seccomp: 'maybe' is not on or off" "$T/bad.log"; then ok "--seccomp=maybe refused"
else nok "--seccomp=maybe refused (status $rc)" "$T/bad.log"; fi
echo "1..$n"
[ $fails = 0 ]
