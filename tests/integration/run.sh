#!/usr/bin/env bash
# run.sh — build everything and run minivmm's integration tests (see README.md here).
#
#   tests/integration/run.sh [-k] [FILTER]
#
#   FILTER  extended regex on case names (e.g. "blk", "core-(tiny|time)")
#           cases named arm64-* run in their own session on an arm64 KVM, with the
#           cross-built minivmm (build-arm64, or $MINIVMM_BUILD_ARM64)
#   -k      keep the run folder (assets, logs, returned outputs) and print its path
# Prints every ok / not ok line and, last, exactly "N passed, N failed".
# Exit status: 0 only when something ran and nothing failed.
set -uo pipefail
# The whole script is one { } block: bash reads it completely before running it, so
# editing this file while a run is in progress cannot derail that run.
{
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
KEEP=0
while getopts "kh" o; do
  case $o in k) KEEP=1;; *) sed -n '2,12p' "$0"; exit 2;; esac
done
shift $((OPTIND-1))
FILTER=${1:-.}
BUILD=${MINIVMM_BUILD:-$REPO/build}
CASE_TIMEOUT=${MINIVMM_CASE_TIMEOUT:-300}
SESSION_TIMEOUT=${MINIVMM_SESSION_TIMEOUT:-3600}
# MINIVMM_DEADLINE (seconds since the epoch; tests/run-all.sh sets it from CI's budget): no
# session runs past it, and cases not run by then are failures that say so
DEADLINE=${MINIVMM_DEADLINE:-}
say() { echo "run.sh: $*" >&2; }

# --- build --------------------------------------------------------------------------------
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" "$REPO" >/dev/null || { say "meson setup $BUILD failed"; exit 1; }
fi
# only what the tests need (a unit test someone is editing must not stop the integration run)
TARGETS=(minivmm guests/hello16.bin guests/hello64.bzimage guests/triplefault64.bzimage guests/hello-pvh.elf)
LADDER=(protected.bin longmode.bin mmio.bzimage timer.bzimage uart-rx.bzimage virtio-blk.bzimage)
TARGETS+=("${LADDER[@]/#/guests/}")
ninja -C "$BUILD" "${TARGETS[@]}" >/dev/null || { ninja -C "$BUILD" "${TARGETS[@]}" 2>&1 | tail -30; say "build failed"; exit 1; }
MINIVMM=$BUILD/minivmm
[ -x "$MINIVMM" ] || { say "no $MINIVMM after the build"; exit 1; }

# --- assets ---------------------------------------------------------------------------------
KCACHE=$("$REPO/guests/fetch-kernels.sh" --print-dir)
"$REPO/guests/fetch-kernels.sh" >/dev/null || { say "fetching the Debian kernels failed"; exit 1; }
RUN=$(mktemp -d "${TMPDIR:-/tmp}/minivmm-it.XXXXXX")
[ $KEEP = 1 ] || trap 'rm -rf "$RUN"' EXIT
ASSETS=$RUN/assets RESULTS=$RUN/results.txt
mkdir -p "$ASSETS/tiny" "$RUN/out"
: > "$RESULTS"
for g in hello16.bin hello64.bzimage triplefault64.bzimage hello-pvh.elf; do
  cp "$BUILD/guests/$g" "$ASSETS/tiny/" || { say "tiny guest $g missing"; exit 1; }
done
EXTRA_BINS=()
for p in iperf3 ethtool; do command -v $p >/dev/null && EXTRA_BINS+=(-b "$(command -v $p)"); done
for fl in generic cloud; do
  mkdir -p "$ASSETS/$fl"
  cp -L "$KCACHE/$fl/vmlinuz" "$ASSETS/$fl/vmlinuz"
  [ $fl = cloud ] && cp "$KCACHE/cloud/vmlinux" "$ASSETS/cloud/vmlinux"
  "$REPO/guests/mkinitramfs.sh" -k "$KCACHE/$fl/modules" -o "$ASSETS/$fl/initramfs.cpio.gz" \
    ${EXTRA_BINS[@]+"${EXTRA_BINS[@]}"} 2>/dev/null || { say "mkinitramfs ($fl) failed"; exit 1; }
  # a bigger variant with fio (its libraries are ~90 MiB unpacked: boot it with >= 1G)
  if command -v fio >/dev/null && grep -lqs initramfs-tools "$HERE"/cases/*.sh; then
    "$REPO/guests/mkinitramfs.sh" -k "$KCACHE/$fl/modules" -o "$ASSETS/$fl/initramfs-tools.cpio.gz" \
      ${EXTRA_BINS[@]+"${EXTRA_BINS[@]}"} -b "$(command -v fio)" 2>/dev/null
  fi
done

# --- cases ------------------------------------------------------------------------------------
CASES=() ARM64_CASES=()
for f in "$HERE"/cases/*.sh; do
  [ -e "$f" ] || continue
  c=$(basename "$f" .sh)
  echo "$c" | grep -Eq -- "$FILTER" || continue
  case $c in arm64-*) ARM64_CASES+=("$c");; *) CASES+=("$c");; esac
done
export ASSETS TESTS=$HERE REPO MINIVMM HOST_TIME=$(date +%s)

# --- arm64 --------------------------------------------------------------------------------
# The arm64-* cases: minivmm cross-built (scripts/arm64-cross.ini), Debian's arm64 kernel
# and an arm64 initramfs in their own assets folder ($ASSETS_ARM64: arm64/vmlinuz,
# arm64/initramfs.cpio.gz, tiny/hello-arm64.img), one session of their own (kvm-run -a arm64).
ASSETS_ARM64=$RUN/assets-arm64 MINIVMM_ARM64=
if [ ${#ARM64_CASES[@]} -gt 0 ]; then
  BUILD_ARM64=${MINIVMM_BUILD_ARM64:-$REPO/build-arm64}
  if [ ! -f "$BUILD_ARM64/build.ninja" ]; then
    meson setup "$BUILD_ARM64" "$REPO" --cross-file "$REPO/scripts/arm64-cross.ini" >/dev/null ||
      { say "meson setup $BUILD_ARM64 (arm64 cross build) failed"; exit 1; }
  fi
  ARM64_TARGETS=(tests/arm64/vm-smoke guests/tiny/arm64/hello-arm64.img)
  ninja -C "$BUILD_ARM64" "${ARM64_TARGETS[@]}" >/dev/null ||
    { ninja -C "$BUILD_ARM64" "${ARM64_TARGETS[@]}" 2>&1 | tail -30; say "arm64 build failed"; exit 1; }
  MINIVMM_ARM64=$BUILD_ARM64/minivmm
  # minivmm itself: the cases that run it fail without it, vm-smoke still runs
  if ! ninja -C "$BUILD_ARM64" minivmm >"$RUN/arm64-build.log" 2>&1; then
    say "the arm64 minivmm does not build (the last lines of its build follow)"
    grep -E 'error|FAILED' "$RUN/arm64-build.log" | head -5 | sed 's/^/    | /' >&2
    rm -f "$MINIVMM_ARM64"
  fi
  "$REPO/guests/fetch-kernels.sh" arm64 >/dev/null || { say "fetching the arm64 kernel failed"; exit 1; }
  mkdir -p "$ASSETS_ARM64/arm64" "$ASSETS_ARM64/tiny"
  cp -L "$KCACHE/arm64/vmlinuz" "$ASSETS_ARM64/arm64/vmlinuz"
  cp "$BUILD_ARM64/guests/tiny/arm64/hello-arm64.img" "$ASSETS_ARM64/tiny/"
  "$REPO/guests/mkinitramfs.sh" -A arm64 -k "$KCACHE/arm64/modules" -o "$ASSETS_ARM64/arm64/initramfs.cpio.gz" \
    2>/dev/null || { say "mkinitramfs (arm64) failed"; exit 1; }
fi

# bad command-line input: needs no KVM, runs here
if echo cli-errors | grep -Eq -- "$FILTER"; then
  bash "$HERE/cli-errors.sh" 2>&1 | tee -a "$RESULTS"
fi

# the ladder of tiny guests (guests/tiny/README.md, tests/tiny/ladder.sh): here when this
# machine's /dev/kvm can run them (PVM's can), else (or with MINIVMM_KVM=emulated) as the
# case core-ladder in the KVM session
if echo core-ladder | grep -Eq -- "$FILTER"; then
  mkdir -p "$ASSETS/ladder/guests"
  cp "$REPO/tests/tiny/ladder.sh" "$ASSETS/ladder/" && cp -r "$REPO/guests/tiny/expected" "$ASSETS/ladder/" &&
    for g in hello16.bin "${LADDER[@]}"; do cp "$BUILD/guests/$g" "$ASSETS/ladder/guests/"; done ||
    { say "copying the ladder failed"; exit 1; }
  if [ "${MINIVMM_KVM:-}" != emulated ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    sh "$REPO/tests/tiny/ladder.sh" --minivmm "$MINIVMM" --guests "$BUILD/guests" 2>&1 | tee -a "$RESULTS"
    CASES=($(printf '%s\n' ${CASES[@]+"${CASES[@]}"} | grep -vx core-ladder))
  fi
fi

# the tiny bzImage guests' boot-protocol header fields (the loader itself is tested by core-tiny)
if echo core-tiny | grep -Eq -- "$FILTER"; then
  for g in hello64 triplefault64 mmio timer uart-rx virtio-blk; do
    if out=$(sh "$REPO/guests/tiny/check-bzimage.sh" "$BUILD/guests/$g.bzimage"); then
      echo "ok core-tiny-$g-header" | tee -a "$RESULTS"
    else
      echo "not ok core-tiny-$g-header - $(echo "$out" | grep '^not ok' | head -3 | tr '\n' ';')" | tee -a "$RESULTS"
    fi
  done
fi

RUNCASES=() RUN_ARM64=()
for c in ${CASES[@]+"${CASES[@]}"} ${ARM64_CASES[@]+"${ARM64_CASES[@]}"}; do
  a=$ASSETS; case $c in arm64-*) a=$ASSETS_ARM64;; esac
  if [ -f "$HERE/cases/$c.prep" ]; then
    ASSETS=$a CASE=$c OUT=$RUN/out/$c bash "$HERE/cases/$c.prep" > "$RUN/$c.prep.log" 2>&1
    rc=$?
    grep -E '^(ok|not ok) ' "$RUN/$c.prep.log" | tee -a "$RESULTS"
    if [ $rc != 0 ]; then
      echo "not ok $c - .prep failed with status $rc" | tee -a "$RESULTS"
      sed 's/^/    | /' "$RUN/$c.prep.log" | tail -10
      continue
    fi
  fi
  case $c in arm64-*) RUN_ARM64+=("$c");; *) RUNCASES+=("$c");; esac
done

# run_batch ARCH CASE...: the cases in kvm-run sessions on a KVM of that architecture
# (x86_64 or arm64), their results into $RESULTS, then their .post scripts
run_batch() {
  local BATCH_ARCH=$1; shift
  local RUNCASES=("$@") MINIVMM=$MINIVMM BASSETS=$ASSETS BINS=()
  if [ "$BATCH_ARCH" = arm64 ]; then
    # arm64 programs only: the x86 tools (ip, qemu-img, fio...) cannot run there
    MINIVMM=$MINIVMM_ARM64 BASSETS=$ASSETS_ARM64
    BINS=(-b "$BUILD_ARM64/tests/arm64/vm-smoke")
    [ -x "$MINIVMM" ] && BINS+=(-b "$MINIVMM")
  else
    BINS=(-b "$MINIVMM")
    for p in /usr/sbin/ip /usr/bin/qemu-img /usr/bin/socat; do [ -x "$p" ] && BINS+=(-b "$p"); done
    for p in fio iperf3 ethtool; do command -v $p >/dev/null && BINS+=(-b "$(command -v $p)"); done
    # Debian's SeaBIOS, where `--firmware seabios` looks for it (fw-* cases)
    [ -d /usr/share/seabios ] && BINS+=(-f /usr/share/seabios)
  fi
  say "running ${#RUNCASES[@]} case(s) in one kvm-run session ($BATCH_ARCH): ${RUNCASES[*]}"
  # assets ride in the RAM cpio unless big (prepared disk images...): then on an ext4 disk
  if [ "$(du -sm "$BASSETS" | cut -f1)" -gt "${KVMRUN_CPIO_MAX_MB:-200}" ]; then
    BINS+=(-d "$BASSETS:/vm/assets")
  else
    BINS+=(-f "$BASSETS:/vm/assets")
  fi
  mkdir -p "$RUN/res"
  # sessions CASE...: run the cases in as few kvm-run sessions as it takes and leave each
  # case's result lines in $RUN/res/<case>. One session normally. If the KVM host wedges
  # (kvm-run -s: console silent for MINIVMM_STALL_TIMEOUT s; session.sh prints a heartbeat
  # every 30 s) or dies, the case that was running gets one more try in a fresh session
  # (its partial results are dropped; a second death counts as a failure), and a new
  # session runs the cases that had not started yet.
  attempt=0
  # set_aside CASE: a case that runs again starts from an empty out/CASE, so that its .post
  # never reads what the failed run left; the failed run's files stay in out/CASE.first-run
  set_aside() {
    rm -rf "$RUN/out/$1.first-run"; mkdir -p "$RUN/out/$1.first-run"
    [ -e "$RUN/out/$1" ] && mv "$RUN/out/$1" "$RUN/out/$1.first-run/out"
    [ -e "$RUN/out/$1.log" ] && mv "$RUN/out/$1.log" "$RUN/out/$1.first-run/"
    return 0
  }
  sessions() {
    local REMAIN=("$@") NEXT dead retrying c src SLOG
    local -A RETRIED=()
    local now limit
    while [ ${#REMAIN[@]} -gt 0 ]; do
      # a session's limit: what its cases may take (each its watchdog's time, plus the
      # host's start), at most MINIVMM_SESSION_TIMEOUT, and never past the deadline
      now=$(date +%s) limit=$((240 + ${#REMAIN[@]} * CASE_TIMEOUT))
      [ $limit -le "$SESSION_TIMEOUT" ] || limit=$SESSION_TIMEOUT
      if [ -n "$DEADLINE" ] && [ $((DEADLINE - now)) -lt $limit ]; then
        limit=$((DEADLINE - now))
        if [ $limit -lt 120 ]; then
          say "the run's deadline (MINIVMM_DEADLINE) is reached: ${REMAIN[*]} not run"
          for c in "${REMAIN[@]}"; do echo "not ok $c - not run: the test run's time budget ran out" | tee "$RUN/res/$c"; done
          break
        fi
      fi
      attempt=$((attempt + 1)); SLOG=$RUN/session.$attempt.log
      [ $attempt = 1 ] || say "starting session $attempt (limit ${limit}s) for: ${REMAIN[*]}"
      # vhost_net: /dev/vhost-net for the net-* cases' vhost=on
      KVMRUN_MODULES="vhost_net ${KVMRUN_MODULES:-}" \
      "$REPO/tests/harness/kvm-run" -a "$BATCH_ARCH" -m "${KVMRUN_MEM:-6144}" -t "$limit" -o "$RUN/out" \
        -s "${MINIVMM_STALL_TIMEOUT:-150}" \
        "${BINS[@]}" -f "$HERE:/vm/tests" -f "$REPO/tests/harness/session.sh:/vm/session.sh" \
        -- "HOST_TIME=$HOST_TIME sh session.sh '$MINIVMM' $CASE_TIMEOUT ${REMAIN[*]}" 2>&1 \
        | sed -u 's/\r$//' | tee "$SLOG" | grep --line-buffered -E '^(ok|not ok|#) |^    \||^kvm-run:'
      src=${PIPESTATUS[0]}
      cat "$SLOG" >> "$RUN/session.log"
      grep -q '^kvm-run: using emulated' "$SLOG" && EMULATED=1
      [ "$src" = 0 ] || { say "kvm-run exited with status $src; its last output:"; tail -8 "$SLOG" | sed 's/^/    | /'; }
      dead= NEXT=()
      for c in "${REMAIN[@]}"; do
        if grep -q "^# case $c: status" "$SLOG"; then
          sed -n "/^# case $c\$/,/^# case $c: status/p" "$SLOG" | grep -E '^(ok|not ok) ' > "$RUN/res/$c"
        elif grep -q "^# case $c\$" "$SLOG"; then
          dead=$c
        else
          NEXT+=("$c")
        fi
      done
      retrying=0
      if [ -n "$dead" ] && [ -z "${RETRIED[$dead]:-}" ]; then
        RETRIED[$dead]=1 retrying=1
        set_aside "$dead"
        say "the KVM session died during $dead (kvm-run status $src): running it again"
        NEXT=("$dead" ${NEXT[@]+"${NEXT[@]}"})
      elif [ -n "$dead" ]; then
        echo "not ok $dead - never finished: the KVM session died during it twice (kvm-run status $src)" | tee "$RUN/res/$dead"
      fi
      if [ ${#NEXT[@]} = ${#REMAIN[@]} ] && [ $retrying = 0 ]; then   # no progress at all: give up
        for c in "${NEXT[@]}"; do echo "not ok $c - never ran (kvm-run status $src)" | tee "$RUN/res/$c"; done
        break
      fi
      REMAIN=(${NEXT[@]+"${NEXT[@]}"})
    done
  }
  EMULATED=0
  sessions "${RUNCASES[@]}"

  # The emulated KVM host (QEMU's TCG emulating nested SVM) is not perfectly reliable:
  # now and then a guest there triple-faults, oopses or hangs where the same run on hardware
  # KVM does not (see docs/harness.md). So there, and only there, the cases that failed get
  # one more run in a fresh session, and that run's results count; every such retry is
  # listed, with the first run's failures, so that a flaky VMM bug stays visible.
  # MINIVMM_RETRY=0 turns this off; at most MINIVMM_RETRY_MAX (default 4) cases are retried.
  FAILED=()
  for c in "${RUNCASES[@]}"; do grep -q '^not ok ' "$RUN/res/$c" 2>/dev/null && FAILED+=("$c"); done
  if [ $EMULATED = 1 ] && [ "${MINIVMM_RETRY:-1}" != 0 ] && [ ${#FAILED[@]} -gt 0 ] &&
     [ ${#FAILED[@]} -le "${MINIVMM_RETRY_MAX:-4}" ]; then
    for c in "${FAILED[@]}"; do
      mv "$RUN/res/$c" "$RUN/res/$c.first"
      set_aside "$c"
      echo "# retry: $c failed in the emulated KVM host; its first run said:"
      sed 's/^/#   /' "$RUN/res/$c.first"
    done | tee -a "$RUN/retries.txt"
    say "running the failed case(s) once more in a fresh session: ${FAILED[*]}"
    sessions "${FAILED[@]}"
    for c in "${FAILED[@]}"; do
      if grep -q '^not ok ' "$RUN/res/$c" 2>/dev/null; then r="failed again"; else r="passed on the retry"; fi
      echo "# retry: $c $r" | tee -a "$RUN/retries.txt"
    done
  fi
  for c in "${RUNCASES[@]}"; do cat "$RUN/res/$c" >> "$RESULTS" 2>/dev/null; done

  for c in "${RUNCASES[@]}"; do
    [ -f "$HERE/cases/$c.post" ] || continue
    ASSETS=$BASSETS CASE=$c OUT=$RUN/out/$c bash "$HERE/cases/$c.post" > "$RUN/$c.post.log" 2>&1
    rc=$?
    grep -E '^(ok|not ok) ' "$RUN/$c.post.log" | tee -a "$RESULTS"
    [ $rc = 0 ] || grep -q '^not ok ' "$RUN/$c.post.log" ||
      echo "not ok $c - .post failed with status $rc" | tee -a "$RESULTS"
  done
}
[ ${#RUNCASES[@]} -gt 0 ] && run_batch x86_64 "${RUNCASES[@]}"
[ ${#RUN_ARM64[@]} -gt 0 ] && run_batch arm64 "${RUN_ARM64[@]}"

pass=$(grep -c '^ok ' "$RESULTS"); fail=$(grep -c '^not ok ' "$RESULTS")
[ $KEEP = 1 ] && say "run folder kept: $RUN"
[ -s "$RUN/retries.txt" ] && grep '^# retry: .* \(failed again\|passed on the retry\)$' "$RUN/retries.txt"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
exit
}
