#!/bin/sh
# blk-devmodel.sh - run the virtio-blk device-model bench (no guest, no KVM)
# and count instructions per 4 KiB request with callgrind.
#
#   tests/bench/blk-devmodel.sh [BUILD_DIR] [IMAGE]
#
# BUILD_DIR defaults to ./build (target tests/blk-devmodel is built if
# needed); IMAGE defaults to /tmp/blk-devmodel.img (256 MiB, created).
# Then the same device model over a qcow2 image (64 KiB clusters, made by
# `minivmm img create`): first-write (allocating) throughput on the fresh
# image, then the table on the now fully allocated image, and qcow2 / raw.
set -eu
build=${1:-build}
image=${2:-/tmp/blk-devmodel.img}
ninja -C "$build" tests/blk-devmodel minivmm >/dev/null
bench=$build/tests/blk-devmodel
qimg=${image%.img}.qcow2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== throughput, cache=writeback (page cache: measures the model's overhead)"
"$bench" --image "$image" --cache writeback --seconds 1 | tee "$tmp/raw"
echo
echo "== qcow2, cache=writeback: first write of every cluster (one pass, wall time)"
rm -f "$qimg"
"$build/minivmm" img create -f qcow2 "$qimg" 256M >/dev/null
"$bench" --format qcow2 --image "$qimg" --ceiling-image "$image" \
	--only seq-write-1m:dev --ops 256 --clock wall |
	awk '{ printf "allocating seq-write-1m  %.0f MB/s\n", $(NF - 1) * 1048576 / 1e6 }'
echo "== qcow2 (fully allocated now), cache=writeback; ceiling = direct I/O on the raw image"
"$bench" --format qcow2 --image "$qimg" --ceiling-image "$image" --cache writeback \
	--seconds 1 | tee "$tmp/qcow2"
echo "== qcow2 / raw through the device model (targets: 1 MiB >= 90%, 4 KiB random >= 80%)"
awk 'FNR == 1 { f++ } $1 ~ /^(seq|rand)-/ { v[f, $1] = $2; if (f == 1) order[++n] = $1 }
	END { for (i = 1; i <= n; i++) { t = order[i]
		printf "%-22s %7.1f%%\n", t, 100 * v[2, t] / v[1, t] } }' "$tmp/raw" "$tmp/qcow2"
rm -f "$qimg"
echo
echo "== throughput, cache=none (O_DIRECT)"
"$bench" --image "$image" --cache none --seconds 1 || echo "(cache=none not supported here)"

if command -v valgrind >/dev/null 2>&1; then
	echo
	echo "== instructions per 4 KiB random read (callgrind, user space only)"
	ops=20000
	for side in dev ceil; do
		fn=dev_batch
		[ $side = ceil ] && fn=ceil_batch
		valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$side" \
			--toggle-collect=$fn "$bench" --image "$image" \
			--only rand-read-4k:$side --ops $ops >/dev/null 2>&1
		# with --toggle-collect, the total is exactly the cost inside fn
		ir=$(callgrind_annotate "$tmp/cg.$side" 2>/dev/null |
			awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
		echo "$side $ir" >>"$tmp/ir"
	done
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.model" \
		--toggle-collect=blk_queue_notify "$bench" --image "$image" \
		--only rand-read-4k:dev --ops $ops >/dev/null 2>&1
	model=$(callgrind_annotate "$tmp/cg.model" 2>/dev/null |
		awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
	awk -v ops=$ops -v model="$model" '
		{ ir[$1] = $2 }
		END {
			printf "%-44s %8.0f\n", "driver + device, per request (dev_batch):", ir["dev"] / ops
			printf "%-44s %8.0f\n", "device model only (blk_queue_notify):", model / ops
			printf "%-44s %8.0f\n", "direct preadv, per request (ceil_batch):", ir["ceil"] / ops
		}' "$tmp/ir"
fi
