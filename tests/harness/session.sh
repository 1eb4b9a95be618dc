#!/bin/sh
# session.sh — runs inside the KVM host (kvm-run's working directory, /vm in the emulated
# host), started by tests/integration/run.sh:
#
#   sh session.sh MINIVMM CASE-TIMEOUT CASE...
#
# with ./assets, ./tests (the tests/integration folder) and ./out (returned to the build host)
# beside it. Each case runs as `sh tests/cases/<case>.sh` in its own session (setsid, so a
# timeout kills the whole process group, minivmm included) with MINIVMM ASSETS WORK OUT CASE
# TESTS set; its output goes to out/<case>.log and then to our stdout. The runner adds a
# "not ok" line when a case times out, fails without saying so, or prints no result at all.
MINIVMM=$1 CT=$2; shift 2
ROOT=$(pwd)
export MINIVMM ASSETS=$ROOT/assets TESTS=$ROOT/tests HOST_TIME
mkdir -p "$ROOT/out" "$ROOT/work"
echo "# session: $(uname -r), $(nproc) CPUs, $(sed -n 's/MemTotal: *//p' /proc/meminfo), /dev/kvm: $([ -c /dev/kvm ] && echo yes || echo NO)"
for c in "$@"; do
  export CASE=$c WORK=$ROOT/work/$c OUT=$ROOT/out/$c
  mkdir -p "$WORK" "$OUT"
  log=$ROOT/out/$c.log flag=$ROOT/work/.$c.timedout
  start=$(date +%s)
  echo "# case $c"
  setsid sh "$TESTS/cases/$c.sh" >"$log" 2>&1 </dev/null &
  pid=$!
  ( sleep "$CT"; if kill -TERM -"$pid" 2>/dev/null; then : > "$flag"; sleep 5; kill -KILL -"$pid" 2>/dev/null; fi ) >/dev/null 2>&1 </dev/null &
  wd=$!
  # heartbeat: kvm-run -s stops a host whose console goes silent (a wedged host). It ends
  # 60 s after the watchdog's kill: a case still running then is stuck in the kernel (seen:
  # a case SIGKILLed at 300 s still running an hour later, beside a live heartbeat), and
  # the silence that follows makes kvm-run stop this host, so run.sh starts a fresh one.
  ( n=0; while sleep 30 >/dev/null 2>&1; do
      n=$((n + 30))
      if [ $n -gt $((CT + 60)) ]; then
        echo "# stuck: $c still running ${n}s after its start, past the watchdog's kill: heartbeat stopped"
        exit 0
      fi
      echo "# alive: $c"
    done ) </dev/null &
  hb=$!
  wait "$pid"; rc=$?
  kill "$wd" "$hb" 2>/dev/null; wait "$wd" 2>/dev/null; wait "$hb" 2>/dev/null
  # a case's stray children (another process group member) must not outlive it
  kill -KILL -"$pid" 2>/dev/null
  tr -d '\r' < "$log"
  if [ -e "$flag" ]; then
    echo "not ok $c - timed out after ${CT}s (MINIVMM_CASE_TIMEOUT)"
  elif [ "$rc" != 0 ] && ! grep -q '^not ok ' "$log"; then
    echo "not ok $c - case script exited with status $rc"
  elif ! grep -Eq '^(ok|not ok) ' "$log"; then
    echo "not ok $c - the case printed no ok/not ok line"
  fi
  echo "# case $c: status $rc, $(( $(date +%s) - start )) s"
  rm -rf "$WORK"
  sync   # out/ is a disk in the emulated host: what this case left survives a later wedge
done
