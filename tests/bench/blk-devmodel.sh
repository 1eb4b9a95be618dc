#!/bin/sh
# blk-devmodel.sh - run the virtio-blk device-model bench (no guest, no KVM):
# requests kept in flight against fio on the same file, the model's overhead
# per request, and instructions per 4 KiB request with callgrind.
#
#   tests/bench/blk-devmodel.sh [BUILD_DIR] [IMAGE]
#
# BUILD_DIR defaults to ./build (target tests/blk-devmodel is built if
# needed); IMAGE defaults to /tmp/blk-devmodel.img (256 MiB, created).
#
# Part "iodepth" (first): the device as minivmm runs it (its I/O thread,
# MSI-X through an irqfd) with cache=none (O_DIRECT), the bench driver
# keeping N requests in flight, against fio (io_uring engine, O_DIRECT) with
# the same block size and iodepth on the same file: 4 KiB random read and
# write at iodepth 1, 8, 32 and 128, 1 MiB sequential read and write at 1
# and 8, on a raw image and a fully allocated qcow2 image (64 KiB clusters,
# written once through the device model; fio runs on a copy of it, since
# its writes would overwrite the image's metadata), each QD_SECONDS long.
# Targets (wanted at iodepth 32): raw >= 90% of fio, qcow2 >= 80%.
# Each cell runs REPS rounds, every round the device's columns then fio,
# so that a neighbour's load hits both sides alike: the table gives the
# median of each column, the median of the per-round ratios and their
# spread (lowest-highest) for the first column; then what a request cost
# the whole process (CPU time and context switches, medians; the device's
# from --cost, fio's from its usr_cpu, sys_cpu and ctx): on a shared
# machine those move far less than the rates.
# Part "overhead": the same device model run synchronously on the bench's
# thread (8 requests per kick, aio=sync: one at a time, like the preadv it is
# compared with) against preadv/pwritev on the file, with the page cache
# (thread CPU time) and O_DIRECT, then qcow2 against raw.
# Part "callgrind": instructions per 4 KiB random read (aio=sync; needs
# valgrind).
#
# Environment: PARTS (default "iodepth overhead callgrind"), QD_SECONDS
# (default 2), REPS (interleaved rounds, default 5), AIOS (the device's
# configurations, one column each, the first is the one the targets are
# for; default "io_uring sync": aio=io_uring and aio=sync; also
# "lone-async", io_uring with a request alone in flight sent through the
# event loop instead of waited for inline, "no-poll", io_uring with the
# queue's busy-polling off (--poll 0), and "old", io_uring in the
# bench binary OLD, e.g. one built from an earlier commit), QDS (random iodepths, default
# "1 8 32 128"), SEQ_QDS (default "1 8"), QD_SIZE (MiB, default 1024;
# images IMAGE-qd.img and .qcow2 beside IMAGE), FMTS (default "raw qcow2").
set -eu
build=${1:-build}
image=${2:-/tmp/blk-devmodel.img}
PARTS=${PARTS:-iodepth overhead callgrind}
ninja -C "$build" tests/blk-devmodel minivmm >/dev/null
bench=$build/tests/blk-devmodel
qimg=${image%.img}.qcow2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
part() { case " $PARTS " in *" $1 "*) return 0;; esac; return 1; }

if part iodepth; then
	sec=${QD_SECONDS:-2}
	size=${QD_SIZE:-1024}
	qraw=${image%.img}-qd.img
	qq=${image%.img}-qd.qcow2
	fio_ok=1
	command -v fio >/dev/null 2>&1 || fio_ok=0
	reps=${REPS:-5}
	# fio TEST QD FILE: "ops/s cpu-us/op cs/op" of fio on FILE,
	# io_uring, O_DIRECT
	fio_run() {
		case $1 in
		rand-read-4k) a="--rw=randread --bs=4k";;
		rand-write-4k) a="--rw=randwrite --bs=4k";;
		seq-read-1m) a="--rw=read --bs=1M";;
		seq-write-1m) a="--rw=write --bs=1M";;
		esac
		# shellcheck disable=SC2086
		fio --name=ceiling --filename="$3" --direct=1 --ioengine=io_uring \
			$a --iodepth="$2" --size="${size}M" --time_based \
			--runtime="$sec" --norandommap --randrepeat=0 \
			--output-format=terse --terse-version=3 2>/dev/null |
			awk -F';' -v w="${1#*-}" 'END { o = (w ~ /^write/) ? $49 : $8
				rt = ((w ~ /^write/) ? $50 : $9) / 1000
				if (o <= 0 || rt <= 0) { print "0 0 0"; exit }
				printf "%s %.2f %.3f\n", o, ($88 + $89) / 100 * 1e6 / o,
					$90 / (o * rt) }'
	}
	# the raw image (the bench creates and fills it), then the qcow2 one
	# written once through the device model: every cluster allocated
	"$bench" --image "$qraw" --size "$size" --cache none --iodepth 1 \
		--test rand-read-4k --ops 1 >/dev/null
	case " ${FMTS:-raw qcow2} " in *" qcow2 "*)
		rm -f "$qq"
		"$build/minivmm" img create -f qcow2 "$qq" "${size}M" >/dev/null
		"$bench" --format qcow2 --image "$qq" --size "$size" --cache none \
			--iodepth 8 --test seq-write-1m --ops "$size" >/dev/null
		# fio's copy with O_DIRECT on both sides: no holes, and none of
		# it in the page cache (fio's O_DIRECT writes would first have
		# to write back and drop the cached pages a plain copy leaves)
		dd if="$qq" of="$tmp/fio.qcow2" bs=1M iflag=direct oflag=direct \
			conv=fsync status=none;;
	esac
	AIOS=${AIOS:-io_uring sync}
	# one cell's rounds ("device... fio-ops fio-cpu fio-cs dev-cpu
	# dev-cs" a line) -> "medians... fio ratio-medians... lo hi" of the
	# first column's ratio, and the cost medians into $tmp/cost
	# shellcheck disable=SC2016
	cell='function med(a, n,   i, j, t) {
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
					t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
		{ n = NF - 5; r++
		  for (i = 1; i <= n + 1; i++) v[i, r] = $i
		  for (i = 1; i <= n; i++) q[i, r] = ($(n + 1) > 0) ? $i / $(n + 1) : 0
		  for (i = 2; i <= 5; i++) c[i, r] = $(n + i) }
		END { line = ""
		  for (i = 1; i <= n + 1; i++) {
			for (k = 1; k <= r; k++) a[k] = v[i, k]
			line = line " " med(a, r) }
		  for (i = 1; i <= n; i++) {
			for (k = 1; k <= r; k++) a[k] = q[i, k]
			line = line " " med(a, r) }
		  lo = hi = q[1, 1]
		  for (k = 2; k <= r; k++) {
			lo = (q[1, k] < lo) ? q[1, k] : lo; hi = (q[1, k] > hi) ? q[1, k] : hi }
		  print substr(line, 2), lo, hi
		  cost = ""
		  for (i = 2; i <= 5; i++) {
			for (k = 1; k <= r; k++) a[k] = c[i, k]
			cost = cost " " med(a, r) }
		  print substr(cost, 2) > costf }'
	# one table row from "fmt test qd medians... fio ratios... lo hi"
	# shellcheck disable=SC2016
	row='{ n = (NF - 6) / 2; u = ($2 ~ /^seq/) ? 1.048576 : 1
		printf "%-6s %-14s %4s", $1, $2, $3
		for (i = 4; i <= 4 + n; i++)
			printf(u == 1 ? " %10.0f/s" : " %7.0f MB/s", $i * u)
		for (i = 5 + n; i <= 4 + 2 * n; i++)
			printf($(4 + n) > 0 ? " %8.1f%%" : " %9s", $(4 + n) > 0 ? 100 * $i : "-")
		printf($(4 + n) > 0 ? "  %.0f-%.0f%%\n" : "  -\n", 100 * $(NF - 1), 100 * $NF) }'
	echo "== cache=none (O_DIRECT), N requests in flight: the device model (its I/O"
	echo "   thread, MSI-X; aio=$(echo "$AIOS" | sed 's/ /, aio=/g')) against fio (io_uring) on the"
	echo "   same file; ${size} MiB, ${sec} s a point, medians of ${reps} interleaved rounds;"
	echo "   ratio = device / fio in the same round (median), spread = its lowest-highest"
	printf "%-6s %-14s %4s" format test qd
	for aio in $AIOS; do printf " %12s" "$aio"; done
	printf " %12s" fio
	for aio in $AIOS; do printf " %9s" "$aio"; done
	echo "  spread"
	: >"$tmp/costs"
	for fmt in ${FMTS:-raw qcow2}; do
		if [ "$fmt" = raw ]; then img=$qraw fimg=$qraw; else img=$qq fimg=$tmp/fio.qcow2; fi
		for t in rand-read-4k rand-write-4k seq-read-1m seq-write-1m; do
			case $t in
			rand-*) qds=${QDS:-1 8 32 128};;
			*) qds=${SEQ_QDS:-1 8};;
			esac
			for qd in $qds; do
				: >"$tmp/cell"
				rep=0
				while [ $rep -lt "$reps" ]; do
					cur='' dc=''
					for aio in $AIOS; do
						b=$bench a="--aio $aio --cost"
						case $aio in
						# a bench from before --cost
						old) b=${OLD:?AIOS has old: OLD=BENCH-BINARY} a="--aio io_uring";;
						lone-async) a="--aio io_uring --lone async --cost";;
						no-poll) a="--aio io_uring --poll 0 --cost";;
						esac
						# shellcheck disable=SC2086
						out=$("$b" --format "$fmt" --image "$img" \
							--size "$size" --cache none $a \
							--iodepth "$qd" --test $t --seconds "$sec")
						y=$(echo "$out" | awk '{ print $3 }')
						# the first column's cost (an OLD binary may
						# not print it)
						[ -n "$dc" ] || dc=$(echo "$out" |
							awk '{ print (NF >= 10) ? $8 " " $10 : "0 0" }')
						cur="$cur ${y:-0}"
					done
					x="0 0 0"
					[ $fio_ok = 1 ] && x=$(fio_run $t "$qd" "$fimg")
					echo "$cur $x $dc" >>"$tmp/cell"
					rep=$((rep + 1))
				done
				m=$(awk -v costf="$tmp/cost" "$cell" "$tmp/cell")
				echo "$fmt $t $qd $(cat "$tmp/cost")" >>"$tmp/costs"
				echo "$fmt $t $qd $m" | tee -a "$tmp/qd" | awk "$row"
			done
		done
	done
	# the targets, for the first backend of AIOS
	n=$(echo "$AIOS" | wc -w)
	awk -v n="$n" '$3 == 32 && $2 ~ /^rand/ && $(4 + n) > 0 {
		want = ($1 == "raw") ? 90 : 80; r = 100 * $(5 + n)
		v = (r >= want) ? "(met)" : sprintf("(missed by %.1f points)", want - r)
		printf "target: %s %s at iodepth 32 >= %d%% of fio: %.1f%% %s, rounds %.0f-%.0f%%\n",
			$1, $2, want, r, v, 100 * $(NF - 1), 100 * $NF }' "$tmp/qd"
	echo "== per request, whole process, medians: CPU time (user + system) and"
	echo "   context switches; device = aio=${AIOS%% *} (driver and device threads), fio = its job"
	printf "%-6s %-14s %4s %12s %12s %10s %10s\n" format test qd "dev cpu-us" "fio cpu-us" \
		"dev cs" "fio cs"
	awk '{ printf "%-6s %-14s %4s %12.2f %12.2f %10.3f %10.3f\n", $1, $2, $3, $6, $4, $7, $5 }' \
		"$tmp/costs"
	rm -f "$qq"
	echo
fi

if part overhead; then
	echo "== throughput, cache=writeback (page cache: measures the model's overhead)"
	"$bench" --aio sync --image "$image" --cache writeback --seconds 1 | tee "$tmp/raw"
	echo
	echo "== qcow2, cache=writeback: first write of every cluster (one pass, wall time)"
	rm -f "$qimg"
	"$build/minivmm" img create -f qcow2 "$qimg" 256M >/dev/null
	"$bench" --aio sync --format qcow2 --image "$qimg" --ceiling-image "$image" \
		--only seq-write-1m:dev --ops 256 --clock wall |
		awk '{ printf "allocating seq-write-1m  %.0f MB/s\n", $(NF - 1) * 1048576 / 1e6 }'
	echo "== qcow2 (fully allocated now), cache=writeback; ceiling = direct I/O on the raw image"
	"$bench" --aio sync --format qcow2 --image "$qimg" --ceiling-image "$image" --cache writeback \
		--seconds 1 | tee "$tmp/qcow2"
	echo "== qcow2 / raw through the device model (targets: 1 MiB >= 90%, 4 KiB random >= 80%)"
	awk 'FNR == 1 { f++ } $1 ~ /^(seq|rand)-/ { v[f, $1] = $2; if (f == 1) order[++n] = $1 }
		END { for (i = 1; i <= n; i++) { t = order[i]
			printf "%-22s %7.1f%%\n", t, 100 * v[2, t] / v[1, t] } }' "$tmp/raw" "$tmp/qcow2"
	rm -f "$qimg"
	echo
	echo "== throughput, cache=none (O_DIRECT)"
	"$bench" --aio sync --image "$image" --cache none --seconds 1 || echo "(cache=none not supported here)"
fi

if part callgrind && command -v valgrind >/dev/null 2>&1; then
	echo
	echo "== instructions per 4 KiB random read (callgrind, user space only)"
	ops=20000
	for side in dev ceil; do
		fn=dev_batch
		[ $side = ceil ] && fn=ceil_batch
		valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$side" \
			--toggle-collect=$fn "$bench" --aio sync --image "$image" \
			--only rand-read-4k:$side --ops $ops >/dev/null 2>&1
		# with --toggle-collect, the total is exactly the cost inside fn
		ir=$(callgrind_annotate "$tmp/cg.$side" 2>/dev/null |
			awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
		echo "$side $ir" >>"$tmp/ir"
	done
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.model" \
		--toggle-collect=blk_queue_notify "$bench" --aio sync --image "$image" \
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
