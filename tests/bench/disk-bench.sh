#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/bench/disk-bench.sh [BUILD_DIR] - build and run disk-bench (raw vs
# qcow2 through minivmm's block backends, native, no guest) twice: through
# the page cache and with cache=none. Images go to $BENCH_DIR (default a
# temporary folder under /var/tmp, i.e. on a real disk, not tmpfs).
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-disk}
[ -d "$build" ] || meson setup "$build" "$src" >/dev/null
ninja -C "$build" tests/disk/disk-bench >/dev/null
dir=${BENCH_DIR:-$(mktemp -d /var/tmp/disk-bench.XXXXXX)}
trap 'rm -rf "$dir"' EXIT
"$build/tests/disk/disk-bench" -s "${BENCH_MIB:-256}" -t "${BENCH_SECS:-1}" "$dir"
"$build/tests/disk/disk-bench" -n -s "${BENCH_MIB:-256}" -t "${BENCH_SECS:-1}" "$dir"
