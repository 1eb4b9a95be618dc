#!/usr/bin/env bash
# fw-boot.sh — firmware boot time: the disk of scripts/mkbootdisk.sh (GRUB, Debian's cloud
# kernel, the test initramfs) booted through SeaBIOS by minivmm (--firmware seabios) and by
# QEMU (-M pc -accel kvm, its own SeaBIOS), the same disk, RUNS times each (default 3), in
# ONE tests/harness/kvm-run session (the emulated KVM host). Prints each boot's seconds to
# the guest's MINIVMM-GUEST-READY line and to the VMM's exit, and the medians.
#
#   tests/bench/fw-boot.sh [RUNS]
set -euo pipefail
{
. "$(dirname "$0")/lib.sh"
RUNS=${1:-3}
bench_prepare fwboot cloud
mkdir -p "$T/assets"
"$REPO/guests/mkinitramfs.sh" -k "$KC/modules" -o "$T/initrd.cpio.gz" 2>/dev/null
bash "$REPO/scripts/mkbootdisk.sh" -k "$KC/vmlinuz" -i "$T/initrd.cpio.gz" -o "$T/assets/disk.img" \
  -a "console=ttyS0 reboot=k panic=-1 minivmm.run=core-boot minivmm.modules=virtio_pci,virtio_blk" >/dev/null
cat > "$T/inner.sh" <<'INNER'
MINIVMM=$1 RUNS=$2 W=$(pwd)/w
mkdir -p "$W"
one() { # NAME CMD...: seconds to READY and to exit
  name=$1; shift
  read t0 _ < /proc/uptime
  "$@" </dev/null 2>&1 | tr -d '\r' | while IFS= read -r l; do
    case $l in *MINIVMM-GUEST-READY*) read t1 _ < /proc/uptime; echo $t1 > "$W/ready";; esac
    echo "$l" >> "$W/$name.log"
  done
  read t2 _ < /proc/uptime
  r=$(cat "$W/ready" 2>/dev/null || echo nan); rm -f "$W/ready"
  awk -v n="$name" -v a=$t0 -v b=$r -v c=$t2 'BEGIN { printf "%s %s %.2f\n", n, (b == "nan" ? "nan" : sprintf("%.2f", b - a)), c - a }' | tee -a "$W/res"
}
for i in $(seq "$RUNS"); do
  cp assets/disk.img "$W/d.img"
  one minivmm timeout 600 "$MINIVMM" run --firmware seabios --disk "$W/d.img,format=raw" --memory 512M
  cp assets/disk.img "$W/d.img"
  command -v qemu-system-x86_64 >/dev/null &&
    one qemu-pc timeout 600 qemu-system-x86_64 -M pc -accel kvm -m 512 -nographic -no-reboot \
      -nodefaults -serial stdio -drive file="$W/d.img",format=raw,if=virtio
done
echo "# medians (seconds to READY, to exit):"
for n in minivmm qemu-pc; do
  grep "^$n " "$W/res" | sort -k2 -n | awk -v n=$n '{ r[NR]=$2; e[NR]=$3 } END { if (NR) printf "# %s %s %s (%d runs)\n", n, r[int((NR+1)/2)], e[int((NR+1)/2)], NR }'
done
INNER
ARGS=(-b "$BUILD/minivmm" -f "$T/assets:/vm/assets" -f "$T/inner.sh:/vm/inner.sh" -f /usr/share/seabios)
command -v qemu-system-x86_64 >/dev/null &&
  ARGS+=(-b "$(command -v qemu-system-x86_64)" -f /usr/share/qemu)
"$REPO/tests/harness/kvm-run" -m 4096 -t "${BENCH_TIMEOUT:-2400}" -s 300 "${ARGS[@]}" \
  -- "sh inner.sh '$BUILD/minivmm' $RUNS" 2>&1 | sed -u 's/\r$//' | grep --line-buffered -E '^(minivmm|qemu-pc|#) |^kvm-run:'
exit
}
