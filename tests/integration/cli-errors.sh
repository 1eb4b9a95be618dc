#!/usr/bin/env bash
# cli-errors.sh — bad command-line input needs no KVM: run on the build host by run.sh.
# Needs $MINIVMM (run.sh sets it; default build/minivmm). Prints ok / not ok lines.
MINIVMM=${MINIVMM:-$(cd "$(dirname "$0")/../.." && pwd)/build/minivmm}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

# expect NAME WANT-STATUS STDERR-REGEX -- minivmm arguments...
expect() {
  local name=$1 want=$2 re=$3; shift 4
  local rc=0
  timeout 20 "$MINIVMM" "$@" </dev/null >"$T/out" 2>"$T/err" || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "not ok $name - exit status $rc, want $want ($(head -c 200 "$T/err" | tr '\n' ' '))"
  elif [ -n "$re" ] && ! grep -Eq -- "$re" "$T/err"; then
    echo "not ok $name - stderr does not match /$re/: $(head -c 200 "$T/err" | tr '\n' ' ')"
  else
    echo "ok $name"
  fi
}

expect cli-missing-kernel 1 "$T/no-such-vmlinuz" -- run --kernel "$T/no-such-vmlinuz"
head -c 65536 /dev/urandom > "$T/junk"
printf 'this is a text file, not a kernel\n' > "$T/text"
expect cli-junk-kernel 1 'not a kernel' -- run --kernel "$T/junk"
expect cli-text-kernel 1 'not a kernel' -- run --kernel "$T/text"
expect cli-bad-memory 2 'memory' -- run --kernel "$T/junk" --memory 12XB
expect cli-bad-memory-word 2 'memory' -- run --kernel "$T/junk" --memory banana
expect cli-zero-memory 2 'memory' -- run --kernel "$T/junk" --memory 0
expect cli-unknown-option 2 '' -- run --kernel "$T/junk" --no-such-option
expect cli-no-kernel 2 '' -- run
