#!/bin/sh
# ladder.sh — run the ladder of tiny guests (guests/tiny/README.md) with --trace --stats
# and check each rung: minivmm exits 0; the console output equals guests/tiny/expected/
# RUNG.out; the trace, times removed (norm below), equals expected/RUNG.trace line by line;
# the --stats exit totals equal the trace's counts (port I/O = "io" lines, MMIO = "mmio"
# lines, all exits but signals = io + mmio + the other exits' lines: hlt, system_event...).
#
#   tests/tiny/ladder.sh [--update] [--minivmm PATH] [--guests DIR] [--expected DIR] [RUNG...]
#
#   --update    write what this run produced as the new expected files (after a change
#               to the --trace format: then review `git diff guests/tiny/expected`)
#   --minivmm   default build/minivmm; --guests: the built guests, default build/guests;
#   --expected  default guests/tiny/expected
#   RUNG        hello16 protected longmode mmio timer uart-rx virtio-blk (default: all)
# Prints "ok ladder-RUNG" / "not ok ladder-RUNG - why" lines. Exit status 0 when all pass,
# 1 on a failure, 77 (meson's "skipped") when /dev/kvm is unusable and $CI is unset: in CI
# a ladder that cannot run is a failure. POSIX sh: it also runs in the emulated KVM host.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
MINIVMM=$REPO/build/minivmm GUESTS=$REPO/build/guests EXPECTED=$REPO/guests/tiny/expected
UPDATE=0
while [ $# -gt 0 ]; do
	case $1 in
	--update) UPDATE=1 ;;
	--minivmm) MINIVMM=$2; shift ;;
	--guests) GUESTS=$2; shift ;;
	--expected) EXPECTED=$2; shift ;;
	-h|--help) sed -n '2,20p' "$0"; exit 0 ;;
	-*) echo "ladder.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
RUNGS=${*:-hello16 protected longmode mmio timer uart-rx virtio-blk}

if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
	if [ -n "${CI:-}" ]; then
		echo "not ok ladder - /dev/kvm is missing or not usable (CI is set: the ladder must run)"
		exit 1
	fi
	echo "# skip ladder: /dev/kvm is missing or not usable"
	exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/ladder.XXXXXX")
trap 'rm -rf "$T"' EXIT
# rung 7's disk: a raw image whose sector 0 starts with a known string
printf 'hello from sector 0 of the disk' > "$T/s0.img"

# The minivmm arguments and the console input of each rung.
args() {
	case $1 in
	hello16|protected|longmode) echo "--firmware $GUESTS/$1.bin" ;;
	virtio-blk) echo "--kernel $GUESTS/$1.bzimage --disk $T/s0.img,format=raw,readonly=on" ;;
	*) echo "--kernel $GUESTS/$1.bzimage" ;;
	esac
}
input() {
	case $1 in
	uart-rx) printf x ;;
	esac
}

# norm: the trace lines without their prefix and without times, the part that is the same
# on every run. An exit's line opens with the microseconds since the start ("  1234.567
# vcpu0 ...") and ends with the handler's time ("(812ns)", "(12.5us)"); device events
# ("pci 00:01.0 ...") have neither.
norm() {
	sed -n 's/^minivmm: trace: //p' |
		sed -E -e 's/^ *[0-9]+\.[0-9]+ (vcpu[0-9]+ )/\1/' \
			-e 's/ \([0-9]+(\.[0-9]+)?(ns|us)\)$//'
}

# same RUNG A B: the traces A and B are the same. For uart-rx, the data-ready bit of the
# LSR reads while the guest prints its first line is the one difference allowed: it tells
# whether minivmm's I/O thread had taken the piped byte from stdin yet, which depends on
# the host's scheduling, not on the model.
same() {
	if [ "$1" = uart-rx ]; then
		m='s/(com1 LSR -> 0x6)[01]$/\1?/'
		[ "$(sed -E "$m" "$2")" = "$(sed -E "$m" "$3")" ]
	else
		cmp -s "$2" "$3"
	fi
}

# stat NAME: the value of the "  NAME   N" line of the --stats table in $T/err
stat() {
	awk -v k="$1" '{ v = $NF; $NF = ""; sub(/^ +/, ""); sub(/ +$/, ""); if ($0 == k) { print v; exit } }' "$T/err"
}

TIMEOUT=
command -v timeout >/dev/null && TIMEOUT="timeout 60"
fail=0
for r in $RUNGS; do
	input "$r" | $TIMEOUT "$MINIVMM" run $(args "$r") --trace --stats >"$T/out" 2>"$T/err"
	rc=$?
	tr -d '\r' <"$T/out" >"$T/console"
	norm <"$T/err" >"$T/trace"
	if [ $UPDATE = 1 ] && [ $rc = 0 ]; then
		cp "$T/console" "$EXPECTED/$r.out"
		cp "$T/trace" "$EXPECTED/$r.trace"
		echo "# updated $EXPECTED/$r.out and $r.trace"
	fi
	io=$(grep -c '^vcpu[0-9]* io ' "$T/trace")
	mmio=$(grep -c '^vcpu[0-9]* mmio ' "$T/trace")
	# every other exit but a signal's (--stats counts those apart)
	other=$(grep -Ec '^vcpu[0-9]* (hlt|shutdown|system_event|error|other)( |$)' "$T/trace")
	s_all=$(stat "vm exits") s_io=$(stat "port I/O") s_mmio=$(stat MMIO) s_sig=$(stat signal)
	why=
	if [ $rc != 0 ]; then
		why="minivmm exit status $rc: $(grep -v 'trace:' "$T/err" | head -3 | tr '\n' ' ')"
	elif ! [ -f "$EXPECTED/$r.trace" ] || ! [ -f "$EXPECTED/$r.out" ]; then
		why="no $EXPECTED/$r.trace or $r.out (tests/tiny/ladder.sh --update $r writes them)"
	elif ! cmp -s "$T/console" "$EXPECTED/$r.out"; then
		why="the console output differs from $r.out: $(diff "$EXPECTED/$r.out" "$T/console" | head -5 | tr '\n' ' ')"
	elif ! same "$r" "$T/trace" "$EXPECTED/$r.trace"; then
		why="the trace differs from $r.trace: $(diff "$EXPECTED/$r.trace" "$T/trace" | head -5 | tr '\n' ' ')"
	elif [ -z "$s_all" ] || [ -z "$s_io" ] || [ -z "$s_mmio" ] || [ -z "$s_sig" ]; then
		why="no --stats table on stderr"
	elif [ "$s_io" != "$io" ] || [ "$s_mmio" != "$mmio" ] ||
		[ $((s_all - s_sig)) != $((io + mmio + other)) ]; then
		why="--stats says $s_all exits ($s_io port I/O, $s_mmio MMIO, $s_sig signal), the trace has $io io, $mmio mmio, $other other"
	fi
	if [ -n "$why" ]; then
		echo "not ok ladder-$r - $why"
		fail=1
	else
		echo "ok ladder-$r ($io io, $mmio mmio exits)"
	fi
done
exit $fail
