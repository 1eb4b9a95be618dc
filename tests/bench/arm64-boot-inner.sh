#!/bin/sh
# arm64-boot-inner.sh — the part of tests/bench/arm64-boot.sh that runs on the arm64 KVM
# host (busybox sh): boots the same arm64 kernel and initramfs with minivmm and with QEMU
# -M virt, alternately, and prints the table.
#
#   sh arm64-boot-inner.sh MINIVMM QEMU-DIR RUNS "CPUS..."
#   sh arm64-boot-inner.sh --report RESULTS     (the table of a results file)
#
# ./assets/vmlinuz and ./assets/initramfs.cpio.gz beside it; QEMU-DIR holds
# qemu-system-aarch64, its libraries and dynamic loader in lib/, its option ROM in share/.
# ARM64_BOOT_ROWS picks the rows (default "minivmm qemu-virt qemu-virt-nodefaults").
# ARM64_BOOT_FAKE=PROGRAM runs PROGRAM ROW ARGS... instead of each VMM (the self-check).
# Times come from /proc/uptime (10 ms resolution): the boots take tens of seconds.

# report RESULTS: per vCPU count, min/median/max seconds to the guest's READY line and to
# the VMM's exit, and the ratio of each row's medians to the QEMU rows'
report() {
  awk '
  function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t } }
  # lines: ROW CPUS READY EXIT
  { key = $1 SUBSEP $2; n[key]++; R[key, n[key]] = $3; E[key, n[key]] = $4
    if (!($1 in seen)) { seen[$1] = 1; rows[++nr] = $1 }
    if (!($2 in cseen)) { cseen[$2] = 1; cpus[++nc] = $2 } }
  END {
    for (c = 1; c <= nc; c++) {
      cp = cpus[c]
      printf "\n%d vCPU%s: seconds from the VMM'"'"'s start (min / median / max of the boots)\n", cp, cp == 1 ? "" : "s"
      printf "%-22s %-5s %-22s %-22s %s\n", "VMM", "boots", "to READY", "to exit", "minivmm/row (median READY, exit)"
      for (v = 1; v <= nr; v++) {
        key = rows[v] SUBSEP cp; m = n[key]
        if (!m) continue
        delete r; delete e
        for (i = 1; i <= m; i++) { r[i] = R[key, i]; e[i] = E[key, i] }
        sort(r, m); sort(e, m)
        mr[rows[v]] = r[int((m + 1) / 2)]; me[rows[v]] = e[int((m + 1) / 2)]
        line[rows[v]] = sprintf("%-22s %-5d %-22s %-22s", rows[v], m, r[1] " / " mr[rows[v]] " / " r[m], e[1] " / " me[rows[v]] " / " e[m])
      }
      for (v = 1; v <= nr; v++) {
        name = rows[v]; if (!((name SUBSEP cp) in n)) continue
        ratio = "-"
        if (name != "minivmm" && ("minivmm" in mr) && mr[name] > 0 && me[name] > 0)
          ratio = sprintf("%.2f, %.2f", mr["minivmm"] / mr[name], me["minivmm"] / me[name])
        print line[name], ratio
      }
      delete mr; delete me; delete line
    }
  }' "$1"
}

if [ "${1:-}" = --report ]; then report "$2"; exit; fi

MINIVMM=$1 QDIR=$2 RUNS=${3:-3} CPUS=${4:-1 2}
A=$(pwd)/assets W=$(pwd)/arm64-boot-work
mkdir -p "$W"; : > "$W/results"
K=$A/vmlinuz I=$A/initramfs.cpio.gz
# the same kernel command line for both but the console: minivmm's 16550 is ttyS0, QEMU
# virt's PL011 ttyAMA0; the guest script (tests/integration/guest/arm64-boot.sh) says
# what it runs on and powers off (PSCI SYSTEM_OFF), which ends either VMM
CL="panic=-1 minivmm.modules=virtio_pci,virtio_blk,virtio_net,virtio_rng minivmm.run=arm64-boot"
ROWS=${ARM64_BOOT_ROWS:-minivmm qemu-virt qemu-virt-nodefaults}
echo "# bench host: $(uname -m) $(uname -r), $(nproc) CPUs; /dev/kvm: $([ -c /dev/kvm ] && echo yes || echo NO); rows: $ROWS"

# measure ROW CPUS CMD...: one boot. Appends "ROW CPUS READY EXIT" to $W/results (seconds
# from the start to the MINIVMM-GUEST-READY line and to the process exit) when the guest
# reached READY, said it is aarch64 with CPUS CPUs, powered off and the VMM exited 0;
# otherwise prints why with the boot's last lines and counts nothing. A boot that has not
# ended after $HANG s is killed.
HANG=${HANG:-400}
measure() {
  row=$1 n=$2; shift 2
  rm -f "$W/ready" "$W/fifo" "$W/killed"; mkfifo "$W/fifo"
  read t0 _ < /proc/uptime
  "$@" </dev/null > "$W/fifo" 2>&1 &
  pid=$!
  ( sleep "$HANG"; kill -0 $pid 2>/dev/null && : > "$W/killed" && kill -9 $pid ) >/dev/null 2>&1 &
  wd=$!
  tr -d '\r' < "$W/fifo" | while IFS= read -r l; do
    case $l in *MINIVMM-GUEST-READY*) read t1 _ < /proc/uptime; echo "$t1" > "$W/ready";; esac
    echo "$l"
  done > "$W/last.log"
  wait $pid; rc=$?
  read t2 _ < /proc/uptime
  kill $wd 2>/dev/null; wait $wd 2>/dev/null
  [ -e "$W/killed" ] && rc="killed after $HANG s"
  t1=$(cat "$W/ready" 2>/dev/null || echo none)
  why=
  [ "$rc" = 0 ] || why="status $rc"
  [ "$t1" != none ] || why="$why, no MINIVMM-GUEST-READY"
  grep -q '^GUEST-ARCH aarch64' "$W/last.log" || why="$why, no GUEST-ARCH aarch64"
  grep -q "^GUEST-NPROC $n\$" "$W/last.log" || why="$why, nproc not $n"
  grep -q 'reboot: Power down' "$W/last.log" || why="$why, no 'reboot: Power down'"
  if [ -n "$why" ]; then
    echo "# $row $n vCPU: boot not counted: ${why#, }; its last lines:"
    tail -8 "$W/last.log" | sed 's/^/#   | /'
    echo "$row-$n" >> "$W/failed"
    return
  fi
  awk -v r="$row" -v n="$n" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "%s %s %.2f %.2f\n", r, n, b - a, c - a }' >> "$W/results"
  echo "# $(tail -1 "$W/results")"
}

# QEMU as Debian builds it, run through its own dynamic loader and libraries
QEMU="$QDIR/lib/ld-linux-aarch64.so.1 --library-path $QDIR/lib $QDIR/qemu-system-aarch64 -L $QDIR/share"
# boot ROW CPUS: one boot of that row
boot() {
  row=$1 n=$2
  case $row in
  minivmm) set -- "$MINIVMM" run --kernel "$K" --initrd "$I" --memory 512M --cpus "$n" \
      --cmdline "console=ttyS0 $CL";;
  # QEMU's -M virt as a user starts it: its default devices (a virtio-net NIC on user
  # networking, its monitor on the serial mux, a parallel port...)
  qemu-virt) set -- $QEMU -M virt,gic-version=3 -accel kvm -cpu host -smp "$n" -m 512 \
      -nographic -no-reboot -kernel "$K" -initrd "$I" -append "console=ttyAMA0 $CL";;
  # at its best for a boot: no default devices and no configuration files, only the UART
  qemu-virt-nodefaults) set -- $QEMU -M virt,gic-version=3 -accel kvm -cpu host -smp "$n" -m 512 \
      -nodefaults -no-user-config -display none -serial stdio -no-reboot \
      -kernel "$K" -initrd "$I" -append "console=ttyAMA0 $CL";;
  *) echo "# unknown row $row"; return;;
  esac
  [ -n "${ARM64_BOOT_FAKE:-}" ] && set -- "$ARM64_BOOT_FAKE" "$row" "$@"
  measure "$row" "$n" "$@"
}

i=1
while [ $i -le "$RUNS" ]; do
  for n in $CPUS; do
    for v in $ROWS; do boot "$v" "$n"; done
  done
  i=$((i + 1))
done
echo
echo "Boot of Debian's arm64 kernel ($(sed -n 's/^GUEST-KERNEL //p' "$W/last.log")), 512 MiB, shared initramfs, to its power-off ($RUNS rounds, rows interleaved)"
report "$W/results"
[ -s "$W/failed" ] && echo "boots not counted: $(sort "$W/failed" | uniq -c | awk '{ printf "%s%s x%s", s, $2, $1; s = ", " }')"
echo "# bench done"
