#!/bin/sh
# boot-inner.sh — the part of tests/bench/boot.sh that runs on the KVM host (busybox sh).
#
#   sh boot-inner.sh MINIVMM RUNS [BASELINE-MINIVMM]
#
# with ./assets (cloud kernel, initramfs) beside it and, when present, QEMU
# (qemu-system-x86_64 on PATH with its firmware in /usr/share/qemu).
# Times come from /proc/uptime (10 ms resolution): the boots take seconds.
# Each setting of kvm_amd's nested paging in $NPT (default "0 1") gets its own table:
# kvm_amd is reloaded with npt=N (vgif=0 as kvm-run loads it) between them.
# BOOT_VMMS picks the rows (default: every one below but minivmm-baseline, which is
# added when a BASELINE-MINIVMM is given: an older build, for before/after figures).
MINIVMM=$1 RUNS=${2:-5} BASE=${3:-}
A=$(pwd)/assets W=$(pwd)/bench-work
mkdir -p "$W"
K=$A/cloud/vmlinuz I=$A/cloud/initramfs.cpio.gz
CL="console=ttyS0 reboot=k panic=-1 minivmm.modules=virtio_pci,virtio_blk,virtio_net,virtio_rng minivmm.run=core-boot"
echo "# bench host: $(uname -r), $(nproc) CPUs; /dev/kvm: $([ -c /dev/kvm ] && echo yes || echo NO)"

# measure NAME CMD...: one boot; appends "NAME ready exit" to $W/results (ready = seconds
# from start to the MINIVMM-GUEST-READY line, exit = to process exit). A boot that has not
# ended after $HANG s is stopped and reported as hung (not counted in the table), with what
# its threads were doing (/proc/PID/task/*: state, wchan, kernel stack) and its last lines.
HANG=${HANG:-240}
measure() {
  name=$1; shift
  rm -f "$W/ready" "$W/fifo" "$W/hung"; mkfifo "$W/fifo"
  read t0 _ < /proc/uptime
  "$@" </dev/null > "$W/fifo" 2>&1 &
  pid=$!
  ( sleep "$HANG"; kill -0 $pid 2>/dev/null || exit 0
    { echo "# $name: hung, no exit after $HANG s; its threads:"
      for t in /proc/$pid/task/*; do
        echo "#   $(cat $t/comm 2>/dev/null) $(cut -d' ' -f3 $t/stat 2>/dev/null) wchan=$(cat $t/wchan 2>/dev/null)" \
          "stack: $(cut -d' ' -f2 $t/stack 2>/dev/null | head -4 | tr '\n' ' ')"
      done; } > "$W/hung"
    kill -9 $pid ) &
  wd=$!
  tee "$W/last.log" < "$W/fifo" | {
    while IFS= read -r l; do
      case $l in *MINIVMM-GUEST-READY*) read t1 _ < /proc/uptime; echo "$t1" > "$W/ready";; esac
    done; }
  wait $pid 2>/dev/null
  read t2 _ < /proc/uptime
  kill $wd 2>/dev/null; wait $wd 2>/dev/null
  if [ -s "$W/hung" ]; then
    cat "$W/hung"; echo "#   last lines:"; tr -d '\r' < "$W/last.log" | tail -8 | sed 's/^/#   | /'
    echo "$name" >> "$W/hangs"
    return
  fi
  t1=$(cat "$W/ready" 2>/dev/null || echo none)
  awk -v n="$name" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
    if (b == "none") r = "nan"; else r = sprintf("%.2f", b - a);
    printf "%s %s %.2f\n", n, r, c - a }' >> "$W/results"
  tail -1 "$W/results"
}

QEMU=$(command -v qemu-system-x86_64 || true)
VMMS=${BOOT_VMMS:-minivmm minivmm-2cpu minivmm-hugepages qemu-microvm qemu-pc}
[ -n "$BASE" ] && [ -z "${BOOT_VMMS:-}" ] && VMMS="minivmm-baseline $VMMS"
[ -n "$QEMU" ] && [ -c /dev/kvm ] || VMMS=$(echo "$VMMS" | tr ' ' '\n' | grep -v '^qemu' | tr '\n' ' ')

# kvm_amd with nested paging on (1) or off (0, kvm-run's default); vgif=0 either way
set_npt() {
  ko=/lib/modules/$(uname -r)/$(sed -n 's/^\([^:]*kvm-amd\.ko\):.*/\1/p; s/^\([^:]*kvm_amd\.ko\):.*/\1/p' /lib/modules/$(uname -r)/modules.dep | head -1)
  [ "$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null)" = "$([ "$1" = 1 ] && echo Y || echo N)" ] && return 0
  rmmod kvm_amd && insmod "$ko" npt="$1" vgif=0 || { echo "# cannot reload kvm_amd with npt=$1"; return 1; }
}

# boot NAME: one boot of that row
boot() {
  case $1 in
  minivmm) measure "$1" "$MINIVMM" run --kernel "$K" --initrd "$I" --memory 256M --cmdline "$CL";;
  minivmm-baseline) measure "$1" "$BASE" run --kernel "$K" --initrd "$I" --memory 256M --cmdline "$CL";;
  # the cost of SMP bring-up with ACPI (target: at most 10% over one vCPU)
  minivmm-2cpu) measure "$1" "$MINIVMM" run --kernel "$K" --initrd "$I" --memory 256M --cpus 2 --cmdline "$CL";;
  # guest RAM in hugetlbfs pages (128 reserved below)
  minivmm-hugepages) measure "$1" "$MINIVMM" run --kernel "$K" --initrd "$I" --memory 256M,hugepages=on --cmdline "$CL";;
  # microvm has no 8042, so reboot=k would spin for minutes in the kernel's fallbacks:
  # it reboots by triple fault instead (with -no-reboot QEMU exits on either)
  qemu-microvm) measure "$1" "$QEMU" -M microvm,acpi=on -accel kvm -cpu host -m 256 -nodefaults -no-user-config \
      -display none -serial stdio -no-reboot -kernel "$K" -initrd "$I" -append "$CL reboot=t";;
  qemu-pc) measure "$1" "$QEMU" -M pc -accel kvm -cpu host -m 256 -nodefaults -no-user-config \
      -display none -serial stdio -no-reboot -kernel "$K" -initrd "$I" -append "$CL";;
  esac
}

echo 128 > /proc/sys/vm/nr_hugepages
echo "# huge pages reserved: $(cat /proc/sys/vm/nr_hugepages) of 2 MiB; rows: $VMMS"
for npt in ${NPT:-0 1}; do
set_npt "$npt" || continue
: > "$W/results"
i=1
while [ $i -le "$RUNS" ]; do
  for v in $VMMS; do boot "$v"; done
  i=$((i + 1))
done

echo
echo "Boot of Debian's cloud kernel, 256 MiB, shared initramfs, kvm_amd npt=$npt: seconds from process start ($RUNS runs)"
awk '
function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t } }
{ n[$1]++; R[$1, n[$1]] = $2; E[$1, n[$1]] = $3; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
END {
  printf "%-18s %-26s %-26s %s\n", "VMM", "to READY min/median/max", "to exit min/median/max", "row/qemu-pc (median READY, exit; min READY)";
  for (v = 1; v <= k; v++) {
    name = order[v]; m = n[name]; delete r; delete e
    for (i = 1; i <= m; i++) { r[i] = R[name, i]; e[i] = E[name, i] }
    sort(r, m); sort(e, m)
    mr[name] = r[int((m + 1) / 2)]; me[name] = e[int((m + 1) / 2)]; lr[name] = r[1]
    line[name] = sprintf("%-18s %-26s %-26s", name, r[1] " / " mr[name] " / " r[m], e[1] " / " me[name] " / " e[m])
  }
  # below 1: faster than QEMU -M pc
  for (v = 1; v <= k; v++) {
    name = order[v]; ratio = "-"
    if (name != "qemu-pc" && ("qemu-pc" in mr) && mr["qemu-pc"] > 0 && me["qemu-pc"] > 0 && lr["qemu-pc"] > 0)
      ratio = sprintf("%.2f, %.2f; %.2f", mr[name] / mr["qemu-pc"], me[name] / me["qemu-pc"], lr[name] / lr["qemu-pc"])
    print line[name], ratio
  }
  if (("minivmm" in mr) && ("minivmm-2cpu" in mr))
    printf "SMP + ACPI cost: --cpus 2 / --cpus 1 = %.2f to READY, %.2f to exit (target <= 1.10: %s)\n",
      mr["minivmm-2cpu"] / mr["minivmm"], me["minivmm-2cpu"] / me["minivmm"],
      mr["minivmm-2cpu"] <= 1.10 * mr["minivmm"] ? "met" : "NOT met"
}' "$W/results"
done

[ -s "$W/hangs" ] && echo "hung boots (stopped after $HANG s, not in the table): $(sort "$W/hangs" | uniq -c | awk '{ printf "%s%s x%s", s, $2, $1; s = ", " }')"
echo "# bench done"
