#!/usr/bin/env bash
# test-vve-report.sh - the report half of tests/bench/virtio-vs-emulated.sh, on the results
# of a real run kept in tests/bench/testdata/vve-results.csv: the tables name every
# configuration, the minivmm/QEMU and virtio/emulated ratios are those of the figures, and
# the chart is a PNG. (The benchmark itself boots 19 guests and stays out of the suite.)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fail=1; fi; }
python3 "$HERE/vve-report.py" --where "test" "$HERE/testdata/vve-results.csv" "$T" > "$T/out" 2>&1
check "report runs" '[ $? = 0 ]'
for h in "DISK: fio" "virtio / emulated" "NETWORK: iperf3"; do
	check "section '$h'" "grep -q '$h' '$T/out'"
done
for d in virtio ide ide-pio; do
	check "raw seqread $d row" "grep -qE '^raw +seqread +$d ' '$T/out'"
done
check "e1000 rows" "grep -qE '^e1000 +(tx|rx|ping) ' '$T/out'"
check "host ceiling row" "grep -qE '^raw +seqread +host ' '$T/out'"
# the m/q column of one row recomputed from the CSV
want=$(awk -F, '$1 == "disk" && $3 == "ide" && $4 == "raw" && $5 == "seqread" { v[$2] = $8 }
	END { printf "%.2f", v["minivmm"] / v["qemu"] }' "$HERE/testdata/vve-results.csv")
got=$(awk '$1 == "raw" && $2 == "seqread" && $3 == "ide" { print $6 }' "$T/out")
check "minivmm/qemu ratio of raw seqread ide ($want)" '[ "$got" = "$want" ]'
if command -v gnuplot >/dev/null; then
	check "chart is a PNG" "head -c 8 '$T/chart.png' | od -An -c | grep -q 'P   N   G'"
fi
[ $fail = 0 ] || { echo "--- report:"; cat "$T/out"; }
exit $fail
