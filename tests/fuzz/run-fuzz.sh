#!/bin/bash
# SPDX-License-Identifier: MIT
# Build every libFuzzer target of tests/fuzz/ (clang,
# -fsanitize=fuzzer,address,undefined; one compile step per target, the
# sources of each listed below) and run each for a bounded time on its
# committed seed corpus tests/fuzz/seeds-NAME/ (qcow2 also gets images made
# here by minivmm's `img create` and qemu-img when present).
# Usage: tests/fuzz/run-fuzz.sh [SECONDS_EACH] [TARGET...]
#   SECONDS_EACH defaults to 25; TARGETs default to all of them (names as
#   in the list below, e.g. qcow2 virtio_blk). Prints one line a target:
#   executions, coverage, then "no crash in Ns" or where the input that
#   failed was kept. Exit 0 = no finding; a crash, sanitizer report, hang,
#   leak or out-of-memory in any target exits 1.
#   FUZZ_OUT=DIR builds (and keeps the corpora) in DIR instead of a
#   temporary directory.
set -eu
secs=${1:-25}
shift || true
src=$(cd "$(dirname "$0")/../.." && pwd)

# ---- sources of each target ----
# NAME = files(...) of a meson.build, as paths from the top: the disk and
# virtio-net and loader lists stay what the build uses
meson_list() { # DIR NAME
	sed -n "/^$2 = files(/,/)/p" "$src/$1/meson.build" |
		grep -o "'[^']*\.c'" | tr -d "'" | sed "s|^|$1/|"
}
disk="$(meson_list devices/disk disk_src)"
# sandbox.c: evloop.c and vcpu.c put their threads under seccomp (never
# prepared here, so a no-op)
core="vmm/log.c vmm/iov.c vmm/guest_mem.c vmm/sandbox.c"
# the hostile PCI driver: machine, buses, PCI bus, the fake KVM side
pci="tests/fuzz/fuzz_pci.c tests/unit/fake_vm.c vmm/bus.c devices/pci.c
 devices/msix.c vmm/evloop.c vmm/stats.c"
virtio="$pci tests/fuzz/fuzz_virtio.c virtio/virtqueue.c virtio/virtio_pci.c"
declare -A SRC=(
	[virtqueue]="virtio/virtqueue.c"
	[virtio_blk]="$virtio virtio/blk.c tests/fuzz/fuzz_disk.c $disk"
	[virtio_net]="$virtio tests/fuzz/fuzz_tap.c $(meson_list virtio virtio_net_src)"
	[virtio_rng]="$virtio virtio/rng.c"
	[ide]="$pci devices/ata.c devices/atapi.c devices/piix_ide.c tests/fuzz/fuzz_disk.c $disk"
	[e1000]="$pci tests/fuzz/fuzz_tap.c devices/e1000.c virtio/net_cfg.c"
	[boot]="tests/unit/boot_test_util.c $(meson_list boot boot_common_src) $(meson_list boot/x86 boot_src)"
	[arm64_boot]="$(meson_list boot boot_common_src) $(meson_list boot boot_arm64_src)"
	[fw_cfg]="devices/fw_cfg.c boot/x86/fw_cfg_x86.c boot/x86/acpi.c boot/x86/aml.c vmm/bus.c vmm/trace.c"
	[qcow2]="$disk"
	[cli]="vmm/cli.c vmm/trace.c vmm/bus.c virtio/net_cfg.c"
	[api]="vmm/api.c vmm/kvm.c vmm/vcpu.c vmm/trace.c vmm/stats.c vmm/x86/vm_x86.c
	 vmm/x86/vcpu_x86.c vmm/x86/cpuid.c vmm/evloop.c vmm/bus.c"
)
ALL="virtqueue virtio_blk virtio_net virtio_rng ide e1000 boot arm64_boot qcow2 cli api fw_cfg"
# boot_test_util.c reports set-up failures through cmocka's asserts
declare -A LIBS=([boot]=-lcmocka [arm64_boot]=-lfdt)
# largest input of each (a program, an image, a command line)
declare -A MAXLEN=([qcow2]=65536 [boot]=65536 [arm64_boot]=65536)

targets=${*:-$ALL}
for t in $targets; do
	[ -n "${SRC[$t]+x}" ] || { echo "run-fuzz.sh: no target '$t' (have: $ALL)" >&2; exit 2; }
done
if [ -n "${FUZZ_OUT:-}" ]; then
	out=$FUZZ_OUT; mkdir -p "$out"
else
	out=$(mktemp -d /tmp/minivmm-fuzz.XXXXXX)
	trap 'rm -rf "$out"' EXIT
fi

build() { # target
	local files=() f
	for f in tests/fuzz/fuzz_$1.c $core ${SRC[$1]}; do files+=("$src/$f"); done
	clang -g -O1 -std=gnu11 -D_GNU_SOURCE -DMINIVMM_VERSION='"fuzz"' \
		-I"$src" -I"$src/tests/unit" \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-o "$out/fuzz_$1" "${files[@]}" -lz -lzstd -luring -lpthread -lseccomp ${LIBS[$1]:-}
}

qcow2_images() { # dir: images made by minivmm's img and by qemu-img
	clang -O1 -std=gnu11 -D_GNU_SOURCE -I"$src" -o "$out/img" \
		"$src/tests/disk/img-tool.c" \
		$(for f in $disk vmm/log.c vmm/iov.c; do echo "$src/$f"; done) \
		-lz -lzstd -luring -lpthread
	"$out/img" create -o cluster_size=512 "$1/c512.qcow2" 64K >/dev/null
	"$out/img" create -o cluster_size=4096,refcount_bits=1 "$1/rc1.qcow2" 1M >/dev/null
	"$out/img" create -o cluster_size=1024 -b c512.qcow2 -F qcow2 "$1/back.qcow2" >/dev/null
	if command -v qemu-img >/dev/null; then
		head -c 8192 /dev/urandom > "$out/d.raw"
		qemu-img convert -c -O qcow2 -o cluster_size=512 "$out/d.raw" "$1/comp.qcow2"
		qemu-img convert -c -O qcow2 -o cluster_size=512,compression_type=zstd "$out/d.raw" "$1/zstd.qcow2"
		qemu-img convert -O qcow2 -o cluster_size=512,compat=0.10 "$out/d.raw" "$1/v2.qcow2"
		qemu-img snapshot -c s "$1/v2.qcow2"
	fi
}

fail=0
for t in $targets; do
	if ! build "$t" > "$out/build-$t.log" 2>&1; then
		sed 's/^/  /' "$out/build-$t.log"
		echo "fuzz_$t: FAILED to build"
		fail=1
		continue
	fi
	corpus=$out/corpus-$t
	mkdir -p "$corpus"
	cp "$src"/tests/fuzz/seeds-"$t"/* "$corpus"/ 2>/dev/null || true
	[ "$t" != qcow2 ] || qcow2_images "$corpus"
	rc=0
	(cd "$out" && ./fuzz_"$t" -max_total_time="$secs" \
		-max_len="${MAXLEN[$t]:-4096}" -timeout=10 -rss_limit_mb=2048 \
		-close_fd_mask=3 -print_final_stats=1 -artifact_prefix="$out/$t-" \
		"$corpus") > "$out/fuzz-$t.log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz-$t.log" | tail -1)
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$out/fuzz-$t.log" | tail -1)
	if [ $rc = 0 ]; then
		echo "fuzz_$t: ${runs:-?} executions, ${cov:-cov: ?}; no crash in ${secs}s"
	else
		keep=$(mktemp -d /tmp/minivmm-fuzz-$t-crash.XXXXXX)
		cp "$out/$t"-* "$out/fuzz-$t.log" "$keep"/ 2>/dev/null || true
		tail -40 "$out/fuzz-$t.log" | sed 's/^/  /'
		kept=$(ls "$keep/$t"-* 2>/dev/null | tr '\n' ' ')
		echo "fuzz_$t: FAILED (exit $rc) after ${runs:-?} executions; input kept: ${kept:-none}(log $keep/fuzz-$t.log)"
		fail=1
	fi
done
exit $fail
