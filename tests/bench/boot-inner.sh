#!/bin/sh
# boot-inner.sh — the part of tests/bench/boot.sh that runs on the KVM host (busybox sh).
#
#   sh boot-inner.sh MINIVMM RUNS
#
# with ./assets (cloud kernel, initramfs, tiny guests) beside it and, when present, QEMU
# (qemu-system-x86_64 on PATH with its firmware in /usr/share/qemu) and strace.
# Times come from /proc/uptime (10 ms resolution): the boots take seconds.
MINIVMM=$1 RUNS=${2:-5}
A=$(pwd)/assets W=$(pwd)/bench-work
mkdir -p "$W"
K=$A/cloud/vmlinuz I=$A/cloud/initramfs.cpio.gz
CL="console=ttyS0 reboot=k panic=-1 minivmm.modules=virtio_pci,virtio_blk,virtio_net,virtio_rng minivmm.run=core-boot"
echo "# bench host: $(uname -r), $(nproc) CPUs; /dev/kvm: $([ -c /dev/kvm ] && echo yes || echo NO)"

# measure NAME CMD...: one boot; appends "NAME ready exit status" to $W/results
# (ready = seconds from start to the MINIVMM-GUEST-READY line, exit = to process exit)
measure() {
  name=$1; shift
  rm -f "$W/ready"
  read t0 _ < /proc/uptime
  "$@" </dev/null 2>&1 | {
    while IFS= read -r l; do
      case $l in *MINIVMM-GUEST-READY*) read t1 _ < /proc/uptime; echo "$t1" > "$W/ready";; esac
    done; }
  read t2 _ < /proc/uptime
  t1=$(cat "$W/ready" 2>/dev/null || echo none)
  awk -v n="$name" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
    if (b == "none") r = "nan"; else r = sprintf("%.2f", b - a);
    printf "%s %s %.2f\n", n, r, c - a }' >> "$W/results"
  tail -1 "$W/results"
}

QEMU=$(command -v qemu-system-x86_64 || true)
i=1
while [ $i -le "$RUNS" ]; do
  measure minivmm "$MINIVMM" run --kernel "$K" --initrd "$I" --memory 256M --cmdline "$CL"
  # the cost of SMP bring-up with ACPI (issue: at most 10% over one vCPU)
  measure minivmm-2cpu "$MINIVMM" run --kernel "$K" --initrd "$I" --memory 256M --cpus 2 --cmdline "$CL"
  if [ -n "$QEMU" ] && [ -c /dev/kvm ]; then
    # microvm has no 8042, so reboot=k would spin for minutes in the kernel's fallbacks:
    # it reboots by triple fault instead (with -no-reboot QEMU exits on either)
    measure qemu-microvm "$QEMU" -M microvm -accel kvm -cpu host -m 256 -nodefaults -no-user-config \
      -display none -serial stdio -no-reboot -kernel "$K" -initrd "$I" -append "$CL reboot=t"
    measure qemu-pc "$QEMU" -M pc -accel kvm -cpu host -m 256 -nodefaults -no-user-config \
      -display none -serial stdio -no-reboot -kernel "$K" -initrd "$I" -append "$CL"
  fi
  i=$((i + 1))
done

echo
echo "Boot of Debian's cloud kernel, 256 MiB, shared initramfs: seconds from process start ($RUNS runs)"
awk '
function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t } }
{ n[$1]++; R[$1, n[$1]] = $2; E[$1, n[$1]] = $3; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
END {
  printf "%-14s %-26s %-26s %s\n", "VMM", "to READY min/median/max", "to exit min/median/max", "minivmm/peer (median ready, exit)";
  for (v = 1; v <= k; v++) {
    name = order[v]; m = n[name]; delete r; delete e
    for (i = 1; i <= m; i++) { r[i] = R[name, i]; e[i] = E[name, i] }
    sort(r, m); sort(e, m)
    mr[name] = r[int((m + 1) / 2)]; me[name] = e[int((m + 1) / 2)]
    line[name] = sprintf("%-14s %-26s %-26s", name, r[1] " / " mr[name] " / " r[m], e[1] " / " me[name] " / " e[m])
  }
  for (v = 1; v <= k; v++) {
    name = order[v]; ratio = "-"
    if (name != "minivmm" && ("minivmm" in mr) && mr[name] > 0 && me[name] > 0)
      ratio = sprintf("%.2f, %.2f", mr["minivmm"] / mr[name], me["minivmm"] / me[name])
    print line[name], ratio
  }
}' "$W/results"

# --- the VMM's own cost, with the hello64 tiny guest -----------------------------------------
echo
echo "minivmm's own cost (hello64 tiny guest, --memory 256M):"
T=$A/tiny/hello64.bzimage
if command -v strace >/dev/null; then
  : > "$W/cost"
  i=1
  while [ $i -le "$RUNS" ]; do
    strace -f -ttt -e trace=execve,ioctl -e signal=none -o "$W/st" "$MINIVMM" run --kernel "$T" --memory 256M >/dev/null 2>&1 </dev/null
    # exec -> first KVM_RUN entered; last KVM_RUN returned (the 8042 reset) -> process exit
    awk '
      NR == 1 { exec = $2 }
      /KVM_RUN/ && first == "" { first = $2 }
      /KVM_RUN/ && /resumed>/ { lastret = $2 }
      /KVM_RUN/ && !/unfinished/ && !/resumed>/ { lastret = $2 }
      /\+\+\+ exited/ { ex = $2 }
      END { printf "%.3f %.3f %.3f\n", (first - exec) * 1000, (ex - lastret) * 1000, (ex - exec) * 1000 }' "$W/st" >> "$W/cost"
    i=$((i + 1))
  done
  awk '
  function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t } }
  { n++; a[n] = $1; b[n] = $2; c[n] = $3 }
  END { sort(a, n); sort(b, n); sort(c, n); m = int((n + 1) / 2)
    printf "  exec -> first KVM_RUN   %8.2f ms median (min %.2f, max %.2f)\n", a[m], a[1], a[n]
    printf "  reset exit -> exit      %8.2f ms median (min %.2f, max %.2f)\n", b[m], b[1], b[n]
    printf "  exec -> exit (total)    %8.2f ms median (min %.2f, max %.2f)\n", c[m], c[1], c[n]
    print "  (measured under strace -f, which slows every traced syscall)" }' "$W/cost"
else
  echo "  (no strace: start-up figures skipped)"
fi

# the same without strace (10 ms clock resolution)
: > "$W/plain"
i=1
while [ $i -le "$RUNS" ]; do
  read t0 _ < /proc/uptime
  "$MINIVMM" run --kernel "$T" --memory 256M >/dev/null 2>&1 </dev/null
  read t1 _ < /proc/uptime
  echo "$t0 $t1" | awk '{ printf "%.0f\n", ($2 - $1) * 1000 }' >> "$W/plain"
  i=$((i + 1))
done
sort -n "$W/plain" | awk '{ a[NR] = $1 } END { printf "  exec -> exit without strace %6d ms median (min %d, max %d)\n", a[int((NR + 1) / 2)], a[1], a[NR] }'

# resident memory beyond guest RAM: hello64 with "halt" stops with cli;hlt and minivmm idles
"$MINIVMM" run --kernel "$T" --memory 256M --cmdline halt > "$W/halt.out" 2>&1 </dev/null &
pid=$!
n=0
while ! grep -q halted "$W/halt.out" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
if [ -r /proc/$pid/smaps ]; then
  awk '
    /^[0-9a-f]+-[0-9a-f]+ / { cur = $0 }
    /^Size:/ { size = $2 }
    /^Rss:/ { total += $2; if (size >= 262144) { guest += $2 } else { other += $2 } }
    END { printf "  RSS total %d KiB: guest RAM mapping %d KiB, everything else %d KiB\n", total, guest, other }' /proc/$pid/smaps
  grep -E '^(VmRSS|VmHWM|Threads)' /proc/$pid/status | sed 's/^/  /'
else
  echo "  (minivmm was not running: $(head -3 "$W/halt.out"))"
fi
kill -TERM $pid 2>/dev/null; sleep 1; kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
echo "# bench done"
