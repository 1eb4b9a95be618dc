#!/bin/bash
# SPDX-License-Identifier: MIT
# Build tests/fuzz/fuzz_qcow2.c with clang -fsanitize=fuzzer,address,undefined
# and run it for a bounded time (default 60 s) on a seed corpus: the
# committed seeds in tests/fuzz/seeds-qcow2/ plus images made here by
# minivmm's own `img create` (and qemu-img when present).
# Usage: tests/fuzz/run-fuzz-qcow2.sh [SECONDS]   exit 0 = no crash found;
# a crash, sanitizer report, hang or any other fuzzer failure exits non-zero
# (the crashing input is kept and its path printed).
set -eu
secs=${1:-60}
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d /tmp/fuzz-qcow2.XXXXXX)
trap 'rm -rf "$out"' EXIT
disk="$src/devices/disk"
clang -g -O1 -std=gnu11 -D_GNU_SOURCE -I"$src" \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-o "$out/fuzz_qcow2" "$src/tests/fuzz/fuzz_qcow2.c" \
	"$disk/blockdev.c" "$disk/raw.c" "$disk/qcow2.c" "$disk/qcow2_meta.c" \
	"$disk/qcow2_map.c" "$disk/qcow2_io.c" "$disk/qcow2_refcount.c" \
	"$disk/qcow2_check.c" "$src/vmm/log.c" "$src/vmm/iov.c" -lz -lzstd -lpthread
clang -O1 -std=gnu11 -D_GNU_SOURCE -I"$src" -o "$out/img" \
	"$src/tests/disk/img-tool.c" "$disk"/{blockdev,raw,qcow2,qcow2_meta,qcow2_map,qcow2_io,qcow2_refcount,qcow2_check,img}.c \
	"$src/vmm/log.c" "$src/vmm/iov.c" -lz -lzstd -lpthread
mkdir -p "$out/corpus"
cp "$src"/tests/fuzz/seeds-qcow2/* "$out/corpus/" 2>/dev/null || true
"$out/img" create -o cluster_size=512 "$out/corpus/c512.qcow2" 64K >/dev/null
"$out/img" create -o cluster_size=4096,refcount_bits=1 "$out/corpus/rc1.qcow2" 1M >/dev/null
"$out/img" create -o cluster_size=1024 -b c512.qcow2 "$out/corpus/back.qcow2" >/dev/null
if command -v qemu-img >/dev/null; then
	head -c 8192 /dev/urandom > "$out/d.raw"
	qemu-img convert -c -O qcow2 -o cluster_size=512 "$out/d.raw" "$out/corpus/comp.qcow2"
	qemu-img convert -c -O qcow2 -o cluster_size=512,compression_type=zstd "$out/d.raw" "$out/corpus/zstd.qcow2"
	qemu-img convert -O qcow2 -o cluster_size=512,compat=0.10 "$out/d.raw" "$out/corpus/v2.qcow2"
	qemu-img snapshot -c s "$out/corpus/v2.qcow2"
fi
cd "$out"
rc=0
./fuzz_qcow2 -max_total_time="$secs" -max_len=65536 -timeout=10 \
	-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/" \
	corpus > fuzz.log 2>&1 || rc=$?
tail -20 fuzz.log
if [ $rc != 0 ]; then
	keep=$(mktemp -d /tmp/fuzz-qcow2-crash.XXXXXX)
	cp "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* "$keep"/ 2>/dev/null || true
	cp fuzz.log "$keep"/
	echo "fuzz_qcow2: FAILED (exit $rc); inputs and log in $keep" >&2
	exit 1
fi
echo "fuzz_qcow2: no crash in ${secs}s"
