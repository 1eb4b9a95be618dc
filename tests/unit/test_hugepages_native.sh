#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_hugepages_native.sh MINIVMM HELLO64 - guest RAM and huge pages, on THIS machine's
# /dev/kvm with the hello64 tiny guest (its command line "halt" keeps it halted):
#   1. by default the RAM mapping starts on a 2 MiB boundary and carries the
#      MADV_HUGEPAGE advice (VmFlags "hg" in /proc/PID/smaps); whether the kernel then
#      gives it huge pages (AnonHugePages) is the kernel's choice and only printed;
#   2. --memory 64M,hugepages=on with 2 MiB pages reserved first (nr_hugepages raised by
#      32, put back afterwards): the guest runs, its RAM is 2048 kB pages;
#   3. more huge pages asked than are free: one error line naming nr_hugepages, status 1.
# 2 and 3 need root (they change /proc/sys/vm/nr_hugepages) and are skipped without it.
# Exits 77 (skip) without a usable /dev/kvm, or 1 then if CI=true.
set -u
MINIVMM=$1 GUEST=$2
T=$(mktemp -d)
pid= old_nr=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	[ -n "$old_nr" ] && echo "$old_nr" > /proc/sys/vm/nr_hugepages
	rm -rf "$T"
}
trap cleanup EXIT
skip() {
	if [ "${CI:-}" = true ]; then echo "not ok 1 - CI=true but $1"; exit 1; fi
	echo "1..0 # SKIP $1"; exit 77
}
fail=0
ok() { echo "ok $1"; }
nok() { echo "not ok $1"; [ -n "${2:-}" ] && sed 's/^/# /' "$2" | head -20; fail=1; }

# start_halted ARGS...: minivmm with the halted hello64 in the background ($pid), or 1
start_halted() {
	"$MINIVMM" run --kernel "$GUEST" --cmdline halt "$@" </dev/null >"$T/out" 2>"$T/err" &
	pid=$!
	for _ in $(seq 100); do grep -q halted "$T/out" && return 0; kill -0 $pid 2>/dev/null || break; sleep 0.05; done
	return 1
}
stop() { kill -INT "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=; }
# ram_smaps SIZE_KB: the smaps block of the mapping of exactly that size (guest RAM)
ram_smaps() {
	awk -v want="$1" '
		/^[0-9a-f]+-[0-9a-f]+ / { if (keep) exit; block = $0 "\n"; next }
		{ block = block $0 "\n" }
		/^Size:/ { if ($2 == want) keep = 1 }
		END { if (keep) printf "%s", block }' "/proc/$pid/smaps"
}

if ! start_halted --memory 64M; then
	stop
	grep -q '/dev/kvm' "$T/err" && skip "no usable /dev/kvm: $(head -1 "$T/err")"
	echo "not ok 1 - minivmm did not reach the halted guest"; cat "$T/err"; exit 1
fi
echo "1..3"

# 1: the default mapping: 2 MiB-aligned, advised for THP
ram_smaps 65536 > "$T/smaps1"
start=$(head -1 "$T/smaps1" | cut -d- -f1)
if [ -z "$start" ]; then
	nok "1 - no 64 MiB guest RAM mapping in /proc/$pid/smaps"
elif [ $(( 0x$start % (2 * 1024 * 1024) )) != 0 ]; then
	nok "1 - guest RAM at 0x$start is not 2 MiB-aligned" "$T/smaps1"
elif ! grep -q '^VmFlags:.* hg' "$T/smaps1"; then
	nok "1 - guest RAM has no MADV_HUGEPAGE advice (VmFlags hg)" "$T/smaps1"
else
	ok "1 - guest RAM at 0x$start, 2 MiB-aligned, VmFlags hg (THP $(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null); the kernel gave $(sed -n 's/^AnonHugePages: *//p' "$T/smaps1") of huge pages)"
fi
stop

if [ "$(id -u)" != 0 ] || ! [ -w /proc/sys/vm/nr_hugepages ]; then
	echo "ok 2 # SKIP not root: /proc/sys/vm/nr_hugepages cannot be raised"
	echo "ok 3 # SKIP not root"
	exit $fail
fi
old_nr=$(cat /proc/sys/vm/nr_hugepages)

# 2: hugetlbfs-backed RAM with 32 pages reserved for it
echo $((old_nr + 32)) > /proc/sys/vm/nr_hugepages
free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
if [ "${free:-0}" -lt 32 ]; then
	echo "ok 2 # SKIP the kernel found only ${free:-0} free 2 MiB pages"
elif ! start_halted --memory 64M,hugepages=on; then
	nok "2 - minivmm with --memory 64M,hugepages=on did not reach the halted guest" "$T/err"
else
	ram_smaps 65536 > "$T/smaps2"
	if grep -q '^KernelPageSize: *2048 kB' "$T/smaps2"; then
		ok "2 - hugepages=on: guest RAM in 2048 kB pages"
	else
		nok "2 - hugepages=on: guest RAM is not in 2048 kB pages" "$T/smaps2"
	fi
fi
stop

# 3: more pages than are free: one line, status 1
free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
"$MINIVMM" run --kernel "$GUEST" --memory "$(( (free + 16) * 2 ))M,hugepages=on" </dev/null >"$T/out" 2>"$T/err"
rc=$?
if [ $rc = 1 ] && [ "$(wc -l < "$T/err")" = 1 ] && grep -q 'nr_hugepages' "$T/err" && ! [ -s "$T/out" ]; then
	ok "3 - too few free huge pages: status 1, $(cat "$T/err")"
else
	nok "3 - too few free huge pages: status $rc (want 1 and one line)" "$T/err"
fi
exit $fail
