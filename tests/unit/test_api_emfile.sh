#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_api_emfile.sh MINIVMM HELLO64 - the control socket when minivmm runs out of file
# descriptors, on THIS machine's /dev/kvm with a halted tiny guest and the seccomp sandbox as
# minivmm sets it up: the descriptor limit is lowered under a running minivmm (prlimit) so
# that accept4() fails with EMFILE while clients wait. minivmm must neither die (the API
# thread's pause before it accepts again must be allowed by its allow-list) nor spin (it
# pauses 100 ms), and must serve the waiting clients once descriptors are back.
# Exits 77 (skip) without a usable /dev/kvm, prlimit or python3, or 1 then if CI=true.
set -u
MINIVMM=$1 GUEST=$2
T=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
skip() {
	if [ "${CI:-}" = true ]; then echo "not ok 1 - CI=true but $1"; exit 1; fi
	echo "1..0 # SKIP $1"; exit 77
}
command -v prlimit >/dev/null && command -v python3 >/dev/null || skip "no prlimit or python3"
S=$T/api.sock
"$MINIVMM" run --kernel "$GUEST" --cmdline halt --api-socket "$S" </dev/null \
	>"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 100); do [ -S "$S" ] && grep -q halted "$T/out" && break; sleep 0.1; done
if ! [ -S "$S" ]; then
	grep -q '/dev/kvm' "$T/err" && skip "no usable /dev/kvm: $(head -1 "$T/err")"
	echo "not ok 1 - minivmm did not come up"; cat "$T/err"; exit 1
fi
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0; } # utime + stime, ticks
nfd=$(ls "/proc/$pid/fd" | wc -l)
old=$(prlimit --pid "$pid" --nofile --output SOFT,HARD --noheadings | awk '{print $1":"$2}')
prlimit --pid "$pid" --nofile=$((nfd + 2)):"${old#*:}"
python3 - "$S" "$T/clients.done" <<'PY' &
import os, socket, sys, time
path, done = sys.argv[1], sys.argv[2]
cs = []
for i in range(5):           # two accepted, then EMFILE: the rest wait in the backlog
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    cs.append(s)
time.sleep(2)
for s in cs:
    s.close()
open(done, "w").close()
PY
py=$!
sleep 0.5
c0=$(cpu); sleep 1; c1=$(cpu)
wait $py
fail=0
echo "1..4"
if kill -0 "$pid" 2>/dev/null; then echo "ok 1 - minivmm alive while out of descriptors"
else echo "not ok 1 - minivmm died: $(tail -1 "$T/err")"; fail=1; pid=; fi
ticks=$((c1 - c0))
if [ -z "$pid" ]; then echo "not ok 2 - # skipped, minivmm died"
elif [ "$ticks" -le 30 ]; then echo "ok 2 - no spin: $ticks ticks of CPU in 1 s"
else echo "not ok 2 - $ticks ticks of CPU in 1 s (spinning on accept4?)"; fail=1; fi
if [ -n "$pid" ]; then
	prlimit --pid "$pid" --nofile="$old"
	ans=$(printf 'info\n' | timeout 10 socat -t 5 - "UNIX-CONNECT:$S")
	case $ans in *'"ok":true'*) echo "ok 3 - served again once descriptors are back";;
	*) echo "not ok 3 - no answer to info: $ans"; fail=1;; esac
	printf 'stop\n' | timeout 10 socat -t 5 - "UNIX-CONNECT:$S" >/dev/null
	wait "$pid"; rc=$?; pid=
	if [ $rc = 0 ]; then echo "ok 4 - stop: exit status 0"
	else echo "not ok 4 - exit status $rc"; cat "$T/err"; fail=1; fi
else
	echo "not ok 3 - # skipped, minivmm died"; echo "not ok 4 - # skipped"
fi
exit $fail
