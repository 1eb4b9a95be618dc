#!/bin/sh
# vmm-cost.sh — minivmm's own cost, natively on this machine's /dev/kvm (no Linux guest
# needed: the hello64 tiny guest prints two lines and resets through the 8042, and runs on
# any KVM, PVM included):
#   - exec -> the first KVM_RUN, and the reset exit -> process exit (strace -f -ttt
#     --seccomp-bpf, tracing only execve and ioctl, which it slows: upper bounds), split into
#     the time inside KVM's ioctls (the slowest ones named) and the rest; and exec -> exit
#     without strace;
#   - the same exec -> first KVM_RUN for QEMU (-M microvm and -M pc, -accel kvm, the same
#     hello64 as -kernel), interleaved run by run with minivmm's, when qemu-system-x86_64 is
#     installed (QEMU is stopped after 2 s: only its start-up is timed), and for BASELINE, an
#     older minivmm binary, when given (before/after figures);
#   - resident memory beyond guest RAM, from /proc/PID/smaps of a guest that idles (hello64
#     with the command line "halt" stops in cli; hlt): every mapping except the guest RAM one.
# Targets: start-up under 10 ms, memory under 5 MiB.
#
#   sh tests/bench/vmm-cost.sh MINIVMM HELLO64-BZIMAGE [RUNS [BASELINE]]
MINIVMM=$1 T=$2 RUNS=${3:-10} BASE=${4:-}
W=$(mktemp -d "${TMPDIR:-/tmp}/vmm-cost.XXXXXX"); trap 'rm -rf "$W"' EXIT
med() { sort -n | awk '{ a[NR] = $1 } END { printf "%.2f ms median (min %.2f, max %.2f)", a[int((NR + 1) / 2)], a[1], a[NR] }'; }
echo "minivmm's own cost, native /dev/kvm ($(uname -r); $RUNS runs; hello64 tiny guest, --memory 256M):"
# st NAME CMD...: one start-up under strace; appends "exec->first-KVM_RUN reset->exit
# in-KVM-ioctls" to $W/NAME.cost and each ioctl's time before the first KVM_RUN to $W/NAME.ioc
st() {
  name=$1; shift
  case $name in qemu*) to="timeout -s KILL 2";; *) to=;; esac
  $to strace -f $SBPF -ttt -T -e trace=execve,ioctl -e signal=none -o "$W/st" "$@" >/dev/null 2>"$W/$name.err" </dev/null
  # exec -> first KVM_RUN entered; last KVM_RUN returned (the 8042 reset) -> process exit;
  # and the time spent inside KVM's own ioctls before the first KVM_RUN (-T: the kernel's
  # work, e.g. registering guest RAM, not the VMM's)
  awk -v ioc="$W/$name.ioc" '
    NR == 1 { exec = $2 }
    /KVM_RUN/ && first == "" { first = $2 }
    # the request is named on the call line; a call other threads interrupted ends on a
    # "<... ioctl resumed>" line of the same pid (strace -f), with the time
    /ioctl\(/ { n = $0; sub(/.*ioctl\([0-9]+, /, "", n); sub(/[ ,)].*/, "", n); name[$1] = n }
    first == "" && /ioctl/ && /<[0-9.]+>$/ { d = $NF; gsub(/[<>]/, "", d); kvm += d; t[name[$1]] += d }
    /KVM_RUN/ && /resumed>/ { lastret = $2 }
    /KVM_RUN/ && !/unfinished/ && !/resumed>/ { lastret = $2 }
    /\+\+\+ (exited|killed)/ { ex = $2 }
    END { for (n in t) printf "%s %.3f\n", n, t[n] * 1000 >> ioc
          # a VMM that never entered KVM_RUN (it failed first) has no start-up time
          if (first == "") { print "- - -"; exit }
          printf "%.3f %.3f %.3f\n", (first - exec) * 1000, (ex - lastret) * 1000, kvm * 1000 }' "$W/st" >> "$W/$name.cost"
}
QEMU=$(command -v qemu-system-x86_64 || true)
if command -v strace >/dev/null; then
  # --seccomp-bpf: only the traced syscalls (execve, ioctl) stop in strace; without it every
  # syscall does, which on this PVM host tripled the start-up
  SBPF=
  strace -f --seccomp-bpf -e trace=ioctl -o /dev/null true 2>/dev/null && SBPF=--seccomp-bpf
  NAMES=minivmm
  [ -n "$BASE" ] && NAMES="$NAMES baseline"
  [ -n "$QEMU" ] && NAMES="$NAMES qemu-microvm qemu-pc"
  i=1
  while [ $i -le "$RUNS" ]; do
    st minivmm "$MINIVMM" run --kernel "$T" --memory 256M
    [ -n "$BASE" ] && st baseline "$BASE" run --kernel "$T" --memory 256M
    if [ -n "$QEMU" ]; then
      st qemu-microvm "$QEMU" -M microvm -accel kvm -cpu host -m 256 -nodefaults -no-user-config \
        -display none -serial stdio -no-reboot -kernel "$T"
      st qemu-pc "$QEMU" -M pc -accel kvm -cpu host -m 256 -nodefaults -no-user-config \
        -display none -serial stdio -no-reboot -kernel "$T"
    fi
    i=$((i + 1))
  done
  for n in $NAMES; do
    if ! grep -q '^[0-9]' "$W/$n.cost"; then
      printf "  %-13s never reached KVM_RUN (%s runs): %s\n" "$n" "$RUNS" \
        "$(grep -v '^+++\|^---' "$W/$n.err" | grep . | head -1)"
      continue
    fi
    s=$(grep '^[0-9]' "$W/$n.cost" | cut -d' ' -f1 | med)
    k=$(grep '^[0-9]' "$W/$n.cost" | cut -d' ' -f3 | med)
    # the three slowest ioctls by median
    top=$(awk '{ v[$1] = v[$1] " " $2 } END { for (k in v) print k, v[k] }' "$W/$n.ioc" | while read -r k vals; do
      echo "$k $(echo $vals | tr ' ' '\n' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"; done |
      sort -k2 -rn | head -3 | awk '{ printf "%s%s %.2f", s, $1, $2; s = ", " }')
    printf "  %-13s exec -> first KVM_RUN  %s   (strace)\n" "$n" "$s"
    printf "  %-13s   of which in KVM's ioctls %s; slowest (median ms): %s\n" "" "$k" "$top"
    [ "$n" = minivmm ] && { start=$s; own=$(awk '/^[0-9]/ { print $1 - $3 }' "$W/$n.cost" | med); }
  done
  stop=$(grep '^[0-9]' "$W/minivmm.cost" | cut -d' ' -f2 | med)
  echo "  minivmm       reset exit -> process exit   $stop   (strace)"
  echo "  minivmm       start-up less the time inside KVM's ioctls $own"
else
  echo "  (no strace: the start-up split is skipped)"
fi
: > "$W/plain"
i=1
while [ $i -le "$RUNS" ]; do
  t0=$(date +%s%N)
  "$MINIVMM" run --kernel "$T" --memory 256M >/dev/null 2>&1 </dev/null
  t1=$(date +%s%N)
  echo "$(( (t1 - t0) / 1000 ))" | awk '{ printf "%.3f\n", $1 / 1000 }' >> "$W/plain"
  i=$((i + 1))
done
echo "  exec -> exit, whole run      $(med < "$W/plain")   (includes the guest's own run)"

"$MINIVMM" run --kernel "$T" --memory 256M --cmdline halt > "$W/halt.out" 2>&1 </dev/null &
pid=$!
n=0
while ! grep -q halted "$W/halt.out" 2>/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
if grep -q halted "$W/halt.out" && [ -r /proc/$pid/smaps ]; then
  # the guest RAM mapping is the one anonymous mapping of exactly --memory (256 MiB)
  awk '
    /^[0-9a-f]+-[0-9a-f]+ / { name = $6 }
    /^Size:/ { size = $2 }
    /^Rss:/ { total += $2; if (size == 262144 && name == "") guest += $2; else other += $2 }
    END { printf "  RSS %d KiB in all: guest RAM %d KiB, everything else %d KiB (%.2f MiB; target < 5 MiB: %s)\n",
                 total, guest, other, other / 1024, other < 5120 ? "met" : "NOT met" }' /proc/$pid/smaps
  echo "  threads: $(sed -n 's/^Threads:[[:space:]]*//p' /proc/$pid/status)"
else
  echo "  (minivmm did not reach the halted guest: $(head -3 "$W/halt.out"))"
fi
kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null
awk -v s="${start:-}" -v o="${own:-}" 'BEGIN { split(s, a, " "); split(o, b, " "); if (a[1] != "")
  printf "  start-up target < 10 ms: %s (%.2f ms under strace; %.2f ms without the time inside KVM ioctls)\n",
    a[1] < 10 ? "met" : "NOT met", a[1], b[1] }'
