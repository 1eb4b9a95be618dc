#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_stat_native.sh MINIVMM SPIN_IO - `minivmm stat` on a running guest, on THIS machine's
# /dev/kvm: guests/tiny/spin-io.S writes to port 0x80 until stopped, minivmm runs it with
# --api-socket and --stats; `stat --json` twice must show the exit counters non-zero and
# growing, `stat --once` a table with a rate for port80 and the io handler histogram, the
# live view redraws until the VM stops and then ends with status 0; a socket that is not
# minivmm's is one error line and status 1; the --stats table at exit has the new figures.
# Exits 77 (skip) without a usable /dev/kvm, socat or python3, or 1 then if CI=true.
set -u
MINIVMM=$1 GUEST=$2
T=$(mktemp -d)
pid= fake=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	[ -n "$fake" ] && kill "$fake" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
skip() {
	if [ "${CI:-}" = true ]; then echo "not ok 1 - CI=true but $1"; exit 1; fi
	echo "1..0 # SKIP $1"; exit 77
}
command -v socat >/dev/null && command -v python3 >/dev/null || skip "no socat or python3"
S=$T/api.sock
"$MINIVMM" run --kernel "$GUEST" --api-socket "$S" --stats </dev/null >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 100); do [ -S "$S" ] && grep -q spin-io "$T/out" && break; sleep 0.1; done
if ! [ -S "$S" ]; then
	grep -q '/dev/kvm' "$T/err" && skip "no usable /dev/kvm: $(head -1 "$T/err")"
	echo "not ok 1 - minivmm did not come up"; cat "$T/err"; exit 1
fi
fail=0
ok() { echo "ok $1"; }
nok() { echo "not ok $1"; [ -n "${2:-}" ] && sed 's/^/# /' "$2" | head -40; fail=1; }
echo "1..7"

# 1: --json twice, the counters grow
"$MINIVMM" stat --api-socket "$S" --json >"$T/j1" 2>"$T/j1.err"; r1=$?
sleep 0.3
"$MINIVMM" stat --api-socket "$S" --json >"$T/j2" 2>"$T/j2.err"; r2=$?
if [ $r1 = 0 ] && [ $r2 = 0 ] && python3 - "$T/j1" "$T/j2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["ok"] and a["minivmm"] == "stats", a
for k in ("all", "io"):
    assert 0 < a["exits"][k] < b["exits"][k], (k, a["exits"], b["exits"])
assert 0 < a["bus_exits"]["pio:port80"] < b["bus_exits"]["pio:port80"]
assert 0 < a["handler"]["io"]["count"] < b["handler"]["io"]["count"]
# read while the vCPU runs: the buckets and the count may differ by an exit or two
assert abs(sum(n for _, n in b["handler"]["io"]["hist"]) - b["handler"]["io"]["count"]) <= 2
# exits by register (watched from the start: --stats): port 0x80's one register
(ra, na), = a["bus_regs"]["pio:port80"]
(rb, nb), = b["bus_regs"]["pio:port80"]
assert ra == rb == "POST" and 0 < na < nb, (a["bus_regs"], b["bus_regs"])
assert b["bus_regs_left_out"] == 0
v = b["vcpu_time"][0]
assert v["id"] == 0 and v["tid"] > 0 and v["run_ns"] > 0 and v["handler_ns"] > 0, v
PY
then ok "1 - stat --json: exits, port80 and its POST register, io handler histogram and vCPU times non-zero and growing"
else nok "1 - stat --json (status $r1 $r2)" "$T/j2"; cat "$T/j1.err" "$T/j2.err"; fi

# 2: --once: one table with rates
"$MINIVMM" stat --api-socket "$S" --once --interval 0.3 >"$T/once" 2>"$T/once.err"; rc=$?
rate=$(awk '$1 == "pio:port80" { print $2; exit }' "$T/once")
rrate=$(awk '$1 == "pio:port80" && $2 == "POST" { print $3; exit }' "$T/once")
if [ $rc = 0 ] && [ "${rate:-0}" -gt 0 ] 2>/dev/null && [ "${rrate:-0}" -gt 0 ] 2>/dev/null &&
   grep -q 'interval 0\.[0-9][0-9] s' "$T/once" &&
   grep -Eq '^  io +[0-9]+ exits, mean ' "$T/once" &&
   grep -Eq '^  vcpu0 +[0-9.]+%' "$T/once" && ! grep -q $'\033' "$T/once"; then
	ok "2 - stat --once: port80 at $rate exits/s (its POST register at $rrate), the io histogram, vCPU shares"
else nok "2 - stat --once (status $rc, port80 rate '${rate:-}', POST '${rrate:-}')" "$T/once"; cat "$T/once.err"; fi

# 3: the live view redraws (ANSI clear and home) until told to stop
timeout 3 "$MINIVMM" stat --api-socket "$S" --interval 0.2 >"$T/live" 2>&1; rc=$?
n=$(grep -o $'\033\\[H\033\\[2J' "$T/live" | wc -l)
if [ $rc = 124 ] && [ "$n" -ge 3 ]; then ok "3 - live view: $n redraws in 3 s"
else nok "3 - live view (status $rc, $n redraws)" "$T/live"; fi

# 4: a socket that is not minivmm's
python3 - "$T/fake.sock" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(4); s.settimeout(20)
for _ in range(2):
    c, _ = s.accept()
    c.recv(100); c.sendall(b"220 hello, this is not minivmm\n"); c.close()
PY
fake=$!
for _ in $(seq 50); do [ -S "$T/fake.sock" ] && break; sleep 0.1; done
"$MINIVMM" stat --api-socket "$T/fake.sock" --once >"$T/fake.out" 2>"$T/fake.err"; rc=$?
if [ $rc = 1 ] && [ "$(wc -l <"$T/fake.err")" = 1 ] &&
   grep -q 'not a minivmm control socket' "$T/fake.err" && ! [ -s "$T/fake.out" ]; then
	ok "4 - a socket that is not minivmm's: one line, status 1"
else nok "4 - foreign socket (status $rc)" "$T/fake.err"; fi

# 5: the live view ends with status 0 when the VM stops
"$MINIVMM" stat --api-socket "$S" --interval 0.2 >"$T/end" 2>"$T/end.err" &
st=$!
sleep 0.5
printf 'stop\n' | timeout 10 socat -t 5 - "UNIX-CONNECT:$S" >/dev/null
wait "$pid"; vmrc=$?; pid=
wait "$st"; rc=$?
if [ $rc = 0 ] && grep -q 'the VM stopped' "$T/end.err"; then ok "5 - live view ends when the VM stops"
else nok "5 - live view at the VM's end (status $rc)" "$T/end.err"; fi

# 6, 7: minivmm's own end, and its --stats table with the time figures
if [ $vmrc = 0 ]; then ok "6 - minivmm stopped with status 0"
else nok "6 - minivmm exit status $vmrc" "$T/err"; fi
if grep -Eq '^    vcpu0 +KVM_RUN .* handlers ' "$T/err" &&
   grep -Eq '^    io +[0-9]+ +[0-9.]+ [mun]?s +\[[0-9]+, [0-9]+\) ns: [0-9]+%' "$T/err"; then
	ok "7 - --stats at exit: vCPU times and the io handler latency"
else nok "7 - --stats at exit lacks the time figures" "$T/err"; fi
exit $fail
