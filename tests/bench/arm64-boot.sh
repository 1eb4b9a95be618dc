#!/usr/bin/env bash
# arm64-boot.sh — arm64 boot time: minivmm against QEMU -M virt (-accel kvm), both booting
# Debian's linux-image-arm64 with 512 MiB and the shared test initramfs to the guest's
# power-off, with 1 and 2 vCPUs, RUNS rounds (default 3) with the rows interleaved, all in
# ONE emulated arm64 KVM host session (tests/harness/kvm-run -a arm64). QEMU is Debian's
# own arm64 build (qemu-system-arm:arm64 and the arm64 libraries it needs, fetched with
# apt-get download into ~/.cache/minivmm/qemu-arm64 and carried in), run twice a round:
# with -M virt's default devices and with -nodefaults.
#
#   tests/bench/arm64-boot.sh [RUNS] [CPUS]      (CPUS default "1 2")
#   tests/bench/arm64-boot.sh --self-check       (no KVM, no download: the script's own check)
#
# Prints min/median/max seconds to the guest's MINIVMM-GUEST-READY line and to the VMM's
# exit, and minivmm's medians over each QEMU row's. Everything in the emulated host is
# TCG-emulated: compare the VMMs side by side, not with real hardware. It holds the
# emulated host for about half an hour: run it under flock /tmp/minivmm-kvm.lock.
set -euo pipefail
# The whole script is one { } block: bash reads it completely before running it, so
# editing this file while a run is in progress cannot derail that run.
{
. "$(dirname "$0")/lib.sh"

# --self-check: the inner script's loop, measurement and table, with a fake VMM in place
# of minivmm and QEMU (it prints what a good boot prints), on this machine, in seconds
if [ "${1:-}" = --self-check ]; then
  T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
  mkdir -p "$T/assets" && : > "$T/assets/vmlinuz" && : > "$T/assets/initramfs.cpio.gz"
  cat > "$T/fake" <<'FAKE'
#!/bin/sh
# fake ROW ARGS...: record the command line, print a good boot's lines, exit 0
row=$1; shift; echo "$row $*" >> "$(dirname "$0")/cmds"
n=$(echo " $* " | sed -n 's/.* --cpus \([0-9]*\) .*/\1/p; s/.* -smp \([0-9]*\) .*/\1/p')
echo "MINIVMM-GUEST-READY"; sleep 0.1
printf 'GUEST-ARCH aarch64\r\nGUEST-KERNEL 6.1.0-fake-arm64\nGUEST-NPROC %s\n' "$n"
echo "[    1.000000] reboot: Power down"
FAKE
  chmod +x "$T/fake"
  fail=0
  check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fail=1; fi; }
  (cd "$T" && ARM64_BOOT_FAKE=$T/fake HANG=20 sh "$HERE/arm64-boot-inner.sh" /x/minivmm /x/qemu 2 "1 2") > "$T/out" 2>&1; rc=$?
  check "inner script runs" '[ $rc = 0 ]'
  check "12 boots, alternated" '[ "$(wc -l < "$T/cmds")" = 12 ] && [ "$(head -3 "$T/cmds" | cut -d" " -f1 | tr "\n" " ")" = "minivmm qemu-virt qemu-virt-nodefaults " ]'
  check "minivmm command line" 'grep -q "^minivmm /x/minivmm run --kernel .*/vmlinuz --initrd .*/initramfs.cpio.gz --memory 512M --cpus 2 --cmdline console=ttyS0 panic=-1 .*minivmm.run=arm64-boot" "$T/cmds"'
  check "QEMU command line" 'grep -q "^qemu-virt /x/qemu/lib/ld-linux-aarch64.so.1 --library-path /x/qemu/lib /x/qemu/qemu-system-aarch64 -L /x/qemu/share -M virt,gic-version=3 -accel kvm -cpu host -smp 1 -m 512 -nographic" "$T/cmds"'
  check "QEMU without defaults" 'grep -q "^qemu-virt-nodefaults .* -nodefaults -no-user-config .*-append console=ttyAMA0 panic=-1 " "$T/cmds"'
  for n in 1 2; do
    for r in minivmm qemu-virt qemu-virt-nodefaults; do
      check "$n vCPU row $r" "grep -qE '^$r +2 +[0-9.]+ / [0-9.]+ / [0-9.]+ +[0-9.]+ / [0-9.]+ / [0-9.]+' '$T/out'"
    done
  done
  check "table titles" 'grep -q "^1 vCPU:" "$T/out" && grep -q "^2 vCPUs:" "$T/out" && grep -q "(6.1.0-fake-arm64)" "$T/out"'
  check "every boot counted" '! grep -q "not counted" "$T/out"'
  # the report alone, on known figures: the ratios are minivmm's medians over the row's
  printf '%s\n' "minivmm 1 10.00 20.00" "minivmm 1 12.00 22.00" "minivmm 1 30.00 40.00" \
    "qemu-virt 1 20.00 25.00" "qemu-virt 1 24.00 44.00" "qemu-virt 1 21.00 30.00" > "$T/res"
  sh "$HERE/arm64-boot-inner.sh" --report "$T/res" > "$T/rep"
  check "report: medians and ratios" 'grep -qE "^minivmm +3 +10.00 / 12.00 / 30.00 +20.00 / 22.00 / 40.00 +-$" "$T/rep" && grep -qE "^qemu-virt +3 +20.00 / 21.00 / 24.00 +25.00 / 30.00 / 44.00 +0.57, 0.73$" "$T/rep"'
  # a failed boot is reported and left out
  printf '#!/bin/sh\necho MINIVMM-GUEST-READY; exit 1\n' > "$T/bad"; chmod +x "$T/bad"
  (cd "$T" && ARM64_BOOT_FAKE=$T/bad ARM64_BOOT_ROWS=minivmm sh "$HERE/arm64-boot-inner.sh" /x/minivmm /x/qemu 1 1) > "$T/out2" 2>&1
  check "a failed boot is not counted" 'grep -q "^# minivmm 1 vCPU: boot not counted: status 1" "$T/out2" && grep -q "^boots not counted: minivmm-1 x1" "$T/out2"'
  [ $fail = 0 ] || { echo "--- inner script:"; cat "$T/out"; }
  exit $fail
fi

RUNS=${1:-3} CPUS=${2:-1 2}
# the cross-built arm64 minivmm (MINIVMM_BUILD_ARM64, as tests/integration/run.sh)
BUILD=${MINIVMM_BUILD_ARM64:-$REPO/build-arm64}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$REPO" --cross-file "$REPO/scripts/arm64-cross.ini" >/dev/null

# fetch_qemu: Debian's arm64 QEMU in a folder that runs on its own: qemu-system-aarch64,
# lib/ (its dynamic loader and the shared libraries it needs, found by DT_NEEDED in the
# unpacked packages) and share/efi-virtio.rom (the option ROM of -M virt's default NIC).
# Sets QDIR. Cached per QEMU version.
fetch_qemu() {
  local ver base root l d f
  ver=$(apt-cache policy qemu-system-arm:arm64 | sed -n 's/^ *Candidate: //p')
  [ -n "$ver" ] && [ "$ver" != "(none)" ] || { echo "arm64-boot: no qemu-system-arm:arm64 in apt (dpkg --add-architecture arm64; apt-get update)" >&2; exit 1; }
  base=${XDG_CACHE_HOME:-$HOME/.cache}/minivmm/qemu-arm64/${ver//[:+~]/_}
  QDIR=$base/stage
  [ -x "$QDIR/qemu-system-aarch64" ] && return 0
  echo "arm64-boot: fetching Debian's arm64 QEMU $ver into $base" >&2
  rm -rf "$base"; mkdir -p "$base/debs" "$base/root"
  # the arm64 packages of its dependency closure that hold libraries, and the option ROMs
  (cd "$base/debs" && apt-get download -q $(apt-cache depends --recurse --no-recommends --no-suggests \
      --no-conflicts --no-breaks --no-replaces --no-enhances qemu-system-arm:arm64 |
      grep -E '^(lib|zlib|qemu-system-(arm|common)).*:arm64$' | sort -u) ipxe-qemu >/dev/null 2>"$base/download.log") ||
    { cat "$base/download.log" >&2; exit 1; }
  for f in "$base"/debs/*.deb; do dpkg-deb -x "$f" "$base/root"; done
  root=$base/root
  mkdir -p "$base/stage.tmp/lib" "$base/stage.tmp/share"
  cp "$root/usr/bin/qemu-system-aarch64" "$base/stage.tmp/"
  cp -L "$root/lib/ld-linux-aarch64.so.1" "$base/stage.tmp/lib/"
  cp -L "$root/usr/lib/ipxe/qemu/efi-virtio.rom" "$base/stage.tmp/share/"
  local -A seen=()
  local queue=("$root/usr/bin/qemu-system-aarch64")
  while [ ${#queue[@]} -gt 0 ]; do
    f=${queue[0]}; queue=("${queue[@]:1}")
    for l in $(aarch64-linux-gnu-readelf -d "$f" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
      [ -n "${seen[$l]:-}" ] && continue
      seen[$l]=1
      for d in lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu; do
        [ -e "$root/$d/$l" ] || continue
        cp -L "$root/$d/$l" "$base/stage.tmp/lib/"; queue+=("$root/$d/$l"); continue 2
      done
      echo "arm64-boot: $l (needed by $(basename "$f")) is in none of the packages" >&2; exit 1
    done
  done
  mv "$base/stage.tmp" "$QDIR"
  rm -rf "$base/debs" "$base/root"
}
fetch_qemu

bench_prepare arm64-boot arm64
mkdir -p "$T/assets"
cp -L "$KC/vmlinuz" "$T/assets/vmlinuz"
"$REPO/guests/mkinitramfs.sh" -A arm64 -k "$KC/modules" -o "$T/assets/initramfs.cpio.gz" 2>/dev/null
"$REPO/tests/harness/kvm-run" -a arm64 -m 4096 -t "${BENCH_TIMEOUT:-3600}" -s 300 -b "$BUILD/minivmm" \
  -f "$T/assets:/vm/assets" -f "$QDIR:/vm/qemu" -f "$HERE/arm64-boot-inner.sh:/vm/arm64-boot-inner.sh" \
  -- "sh arm64-boot-inner.sh '$BUILD/minivmm' \"\$KVMRUN_ROOT/qemu\" $RUNS '$CPUS'" 2>&1 |
  sed -u 's/\r$//' | grep --line-buffered -E '^(#|[a-zA-Z0-9 ]*vCPU|VMM|minivmm|qemu|Boot|boots|kvm-run:)'
exit
}
