#!/bin/sh
# test-blk-devmodel.sh - the device-model bench's iodepth mode in a short run
# (tests/bench/blk-devmodel.sh uses it for its table against fio): virtio-blk
# on its own I/O thread with MSI-X, up to 32 requests in flight on one queue
# (io_uring backend; aio=sync once; with the queue's busy-polling on, the
# default, and off; the driver's avail index stored per request, the
# default, and once a batch),
# every request's status and used length checked by the bench, on a small raw
# and qcow2 image; with O_DIRECT too where the temporary directory allows it.
#
#   sh tests/bench/test-blk-devmodel.sh BUILD/tests/blk-devmodel BUILD/minivmm
set -u
bench=$1 minivmm=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0
# run NAME ARGS...: one bench run, its one line of output checked
run() {
	name=$1; shift
	out=$("$bench" --size 16 "$@" 2>&1)
	if echo "$out" | grep -qE "^[a-z0-9-]+ qd=[0-9]+ [0-9]+ ops/s [0-9.]+ MB/s( cpu-us/op [0-9.]+ cs/op [0-9.]+)?$"; then
		echo "ok - $name: $out"
	else
		echo "not ok - $name: $out"; fail=1
	fi
}
run "raw, rand-write-4k, 32 in flight" --image "$T/a.img" --cache writeback \
	--iodepth 32 --test rand-write-4k --ops 2000
run "raw, rand-read-4k, 8 in flight" --image "$T/a.img" --cache writeback \
	--iodepth 8 --test rand-read-4k --ops 2000
run "raw, rand-read-4k, 8 in flight, cost per request" --image "$T/a.img" \
	--cache writeback --iodepth 8 --test rand-read-4k --ops 2000 --cost
run "raw, rand-read-4k, 32 in flight, kicks off while in flight" --image "$T/a.img" \
	--cache writeback --quiet-depth 1 --iodepth 32 --test rand-read-4k --ops 20000
run "raw, rand-write-4k, 32 in flight, kicks off from 16 in flight" --image "$T/a.img" \
	--cache writeback --quiet-depth 16 --iodepth 32 --test rand-write-4k --ops 20000
run "raw, rand-read-4k, 32 in flight, avail index once a batch, polling off" \
	--image "$T/a.img" --cache writeback --publish batch --poll 0 --iodepth 32 \
	--test rand-read-4k --ops 20000
run "raw, rand-write-4k, 32 in flight, polling up to 200 us" --image "$T/a.img" \
	--cache writeback --poll 200 --iodepth 32 --test rand-write-4k --ops 20000
run "raw, aio=sync, rand-read-4k, 8 in flight" --image "$T/a.img" --cache writeback \
	--aio sync --iodepth 8 --test rand-read-4k --ops 2000
run "raw, rand-read-4k, 1 in flight, waited for inline" --image "$T/a.img" --cache writeback \
	--iodepth 1 --test rand-read-4k --ops 2000
run "raw, rand-read-4k, 1 in flight, through the event loop" --image "$T/a.img" --cache writeback \
	--lone async --iodepth 1 --test rand-read-4k --ops 2000
run "raw, seq-read-1m, 1 in flight" --image "$T/a.img" --cache writeback \
	--iodepth 1 --test seq-read-1m --ops 16
"$minivmm" img create -f qcow2 "$T/b.qcow2" 16M >/dev/null
run "qcow2, allocating seq-write-1m, 4 in flight" --format qcow2 --image "$T/b.qcow2" \
	--cache writeback --iodepth 4 --test seq-write-1m --ops 16
run "qcow2, rand-read-4k, 32 in flight" --format qcow2 --image "$T/b.qcow2" \
	--cache writeback --iodepth 32 --test rand-read-4k --ops 2000
if "$minivmm" img check "$T/b.qcow2" >/dev/null 2>&1; then
	echo "ok - qcow2 image consistent afterwards"
else
	echo "not ok - qcow2 image consistent afterwards"; fail=1
fi
# O_DIRECT: not on tmpfs (EINVAL at open)
if dd if=/dev/zero of="$T/d" bs=4096 count=1 oflag=direct 2>/dev/null; then
	run "raw, cache=none, rand-read-4k, 32 in flight" --image "$T/a.img" \
		--cache none --iodepth 32 --test rand-read-4k --ops 500
	run "qcow2, cache=none, rand-write-4k, 8 in flight" --format qcow2 \
		--image "$T/b.qcow2" --cache none --iodepth 8 --test rand-write-4k --ops 500
else
	echo "ok - # SKIP cache=none: no O_DIRECT in $T"
fi
exit $fail
