#!/bin/sh
# SPDX-License-Identifier: MIT
# test-net-iperf.sh - the summary half of tests/bench/net-iperf.sh on canned
# figures: min / median / max per configuration over the runs that gave a
# figure (odd and even counts, a failed run), the ratios of the medians and
# QEMU at its best. (The benchmark itself needs the emulated KVM host and
# stays out of the suite.)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0
check() { if grep -qF "$2" "$T/out"; then echo "ok - $1"; else echo "not ok - $1: no '$2'"; fail=1; fi; }
# three rounds; minivmm vhost=on lost its host->guest figure once
printf '580 870\n605 913\n300 700\n' > "$T/moff"
printf '572 953\n449 435\n500 600\n' > "$T/qoff"
printf '404 930\n605 -\n700 778\n' > "$T/mon"
printf '798 889\n669 625\n700 700\n' > "$T/qon"
sh "$HERE/net-iperf.sh" --summary "$T" > "$T/out" 2>&1
[ $? = 0 ] && echo "ok - summary runs" || { echo "not ok - summary runs"; fail=1; }
check "rounds counted" "over 3 round(s)"
check "minivmm vhost=off: min / median / max" "minivmm (vhost=off): guest->host 300 / 580 / 605 (3), host->guest 700 / 870 / 913 (3)"
check "qemu vhost=on" "qemu (vhost=on): guest->host 669 / 700 / 798 (3), host->guest 625 / 700 / 889 (3)"
check "a missing figure is left out (even count: mean of the middle two)" "minivmm (vhost=on): guest->host 404 / 605 / 700 (3), host->guest 778 / 854 / 930 (2)"
check "median ratio at vhost=on" "minivmm/qemu at vhost=on (medians): guest->host 0.86, host->guest 1.22"
check "median ratio at vhost=off" "minivmm/qemu at vhost=off (medians): guest->host 1.16, host->guest 1.45"
check "vhost=on/off" "minivmm vhost=on/off (medians): guest->host 1.04, host->guest 0.98"
# QEMU at its best: guest->host 700 (vhost=on), host->guest 700 (vhost=on)
check "against QEMU at its best" "minivmm (vhost=on)/qemu at its best (medians): guest->host 0.86, host->guest 1.22"
check "best against best" "minivmm at its best/qemu at its best (medians): guest->host 0.86, host->guest 1.24"
# without vhost (no /dev/vhost-net): the vhost=off pair alone
rm "$T/mon" "$T/qon"
sh "$HERE/net-iperf.sh" --summary "$T" > "$T/out" 2>&1
check "vhost=off alone" "minivmm/qemu at vhost=off (medians): guest->host 1.16, host->guest 1.45"
if grep -q "vhost=on" "$T/out"; then echo "not ok - no vhost=on line without its figures"; fail=1; else echo "ok - no vhost=on line without its figures"; fi
[ $fail = 0 ] || { echo "--- summary:"; cat "$T/out"; }
exit $fail
