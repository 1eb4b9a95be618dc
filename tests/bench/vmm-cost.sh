#!/bin/sh
# vmm-cost.sh — minivmm's own cost, natively on this machine's /dev/kvm (no Linux guest
# needed: the hello64 tiny guest prints two lines and resets through the 8042, and runs on
# any KVM, PVM included):
#   - exec -> the first KVM_RUN, and the reset exit -> process exit (strace -f -ttt
#     --seccomp-bpf, tracing only execve and ioctl, which it slows: upper bounds), split into
#     the time inside KVM's ioctls and the rest; and exec -> exit without strace;
#   - resident memory beyond guest RAM, from /proc/PID/smaps of a guest that idles (hello64
#     with the command line "halt" stops in cli; hlt): every mapping except the guest RAM one.
# Targets: start-up under 10 ms, memory under 5 MiB.
#
#   sh tests/bench/vmm-cost.sh MINIVMM HELLO64-BZIMAGE [RUNS]
MINIVMM=$1 T=$2 RUNS=${3:-10}
W=$(mktemp -d "${TMPDIR:-/tmp}/vmm-cost.XXXXXX"); trap 'rm -rf "$W"' EXIT
med() { sort -n | awk '{ a[NR] = $1 } END { printf "%.2f ms median (min %.2f, max %.2f)", a[int((NR + 1) / 2)], a[1], a[NR] }'; }
echo "minivmm's own cost, native /dev/kvm ($(uname -r); $RUNS runs; hello64 tiny guest, --memory 256M):"
if command -v strace >/dev/null; then
  # --seccomp-bpf: only the traced syscalls (execve, ioctl) stop in strace; without it every
  # syscall does, which on this PVM host tripled the start-up
  SBPF=
  strace -f --seccomp-bpf -e trace=ioctl -o /dev/null true 2>/dev/null && SBPF=--seccomp-bpf
  : > "$W/cost"
  i=1
  while [ $i -le "$RUNS" ]; do
    strace -f $SBPF -ttt -T -e trace=execve,ioctl -e signal=none -o "$W/st" "$MINIVMM" run --kernel "$T" --memory 256M >/dev/null 2>&1 </dev/null
    # exec -> first KVM_RUN entered; last KVM_RUN returned (the 8042 reset) -> process exit;
    # and the time spent inside KVM's own ioctls before the first KVM_RUN (-T: the kernel's
    # work, e.g. registering guest RAM, not minivmm's)
    awk '
      NR == 1 { exec = $2 }
      /KVM_RUN/ && first == "" { first = $2 }
      first == "" && /ioctl/ && /<[0-9.]+>$/ { d = $NF; gsub(/[<>]/, "", d); kvm += d }
      /KVM_RUN/ && /resumed>/ { lastret = $2 }
      /KVM_RUN/ && !/unfinished/ && !/resumed>/ { lastret = $2 }
      /\+\+\+ exited/ { ex = $2 }
      END { printf "%.3f %.3f %.3f\n", (first - exec) * 1000, (ex - lastret) * 1000, kvm * 1000 }' "$W/st" >> "$W/cost"
    i=$((i + 1))
  done
  start=$(cut -d' ' -f1 "$W/cost" | med)
  stop=$(cut -d' ' -f2 "$W/cost" | med)
  echo "  exec -> first KVM_RUN        $start   (strace)"
  echo "  reset exit -> process exit   $stop   (strace)"
  inkvm=$(cut -d' ' -f3 "$W/cost" | med)
  own=$(awk '{ print $1 - $3 }' "$W/cost" | med)
  echo "    of the start-up, in KVM's ioctls $inkvm"
  echo "    the rest (minivmm's own work, strace-slowed) $own"
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
