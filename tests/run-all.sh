#!/usr/bin/env bash
# run-all.sh - minivmm's whole test suite (what CI runs):
#   1. installs missing Debian packages (scripts/install-deps.sh)
#   2. builds build/ (optimised) and build-asan/ (ASan + UBSan)
#   3. unit tests (cmocka) in both builds, the disk-image tests against
#      qemu-img as a peer, and the check that what README.md and docs/ name
#      exists (tests/docs/check-docs.py)
#   4. every libFuzzer target of tests/fuzz/ for a bounded time (25 s each)
#   5. the README's first command (scripts/demo.sh --run, both kernels), and
#      the integration suite: real Debian kernels and tiny guests in a KVM
#      that can run them (tests/harness/kvm-run picks /dev/kvm or the
#      emulated KVM host)
# Ends with one line "N passed, N failed"; exit status 0 only if nothing
# failed. Options: --quick skips steps 4 and 5.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1

pass=0 fail=0 START=$(date +%s)
# CI gives the whole run 90 minutes: the integration suite stops starting KVM sessions
# at MINIVMM_CI_BUDGET seconds (default 80 minutes) after this script began, so a run
# whose emulated host keeps wedging still ends with its results
BUDGET=${MINIVMM_CI_BUDGET:-4800}
LOG=$(mktemp -d /tmp/minivmm-tests.XXXXXX)
count() { # NAME PASSED FAILED
	pass=$((pass + $2)); fail=$((fail + $3))
	printf '== %-28s %4d passed, %4d failed\n' "$1" "$2" "$3"
}
# meson test's summary: "Ok: N", "Fail: N", "Timeout: N", "Unexpected Pass: N"
meson_counts() {
	local ok f t u
	ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$1" | tail -1)
	f=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$1" | tail -1)
	t=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$1" | tail -1)
	u=$(sed -n 's/^Unexpected Pass: *\([0-9]*\).*/\1/p' "$1" | tail -1)
	echo "${ok:-0} $(( ${f:-0} + ${t:-0} + ${u:-0} ))"
}

bash scripts/install-deps.sh || { echo "install-deps failed"; echo "0 passed, 1 failed"; exit 1; }

build() { # DIR [meson options]
	local dir=$1; shift
	{ [ -f "$dir/build.ninja" ] || meson setup "$dir" "$@"; } >"$LOG/setup-$dir.log" 2>&1 &&
		ninja -C "$dir" >"$LOG/ninja-$dir.log" 2>&1
}
if build build; then count "build" 1 0; else count "build" 0 1; tail -30 "$LOG/setup-build.log" "$LOG/ninja-build.log"; fi
if build build-asan -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug; then
	count "build (asan+ubsan)" 1 0
else
	count "build (asan+ubsan)" 0 1; tail -30 "$LOG/ninja-build-asan.log"
fi

meson test -C build --suite unit --suite disk --print-errorlogs >"$LOG/unit.log" 2>&1
grep -E '^ *[0-9]+/[0-9]+ ' "$LOG/unit.log" | grep -v ' OK ' || true
count "unit + disk tests" $(meson_counts "$LOG/unit.log")

ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --suite unit --print-errorlogs >"$LOG/asan.log" 2>&1
grep -E '^ *[0-9]+/[0-9]+ ' "$LOG/asan.log" | grep -v ' OK ' || true
count "unit tests (asan+ubsan)" $(meson_counts "$LOG/asan.log")

# what README.md and docs/ name (files, functions, options, scripts) must exist
python3 tests/docs/check-docs.py --minivmm build/minivmm >"$LOG/docs.log" 2>&1
grep '^not ok' "$LOG/docs.log" || true
count "docs references" "$(grep -c '^ok ' "$LOG/docs.log")" "$(grep -c '^not ok' "$LOG/docs.log")"

if [ $QUICK = 0 ]; then
	# every fuzz target for FUZZ_SECONDS (default 25) each: about 5 minutes
	# in all with the builds; one line a target
	bash tests/fuzz/run-fuzz.sh "${FUZZ_SECONDS:-25}" >"$LOG/fuzz.log" 2>&1
	while read -r t rest; do
		case $rest in
		*"no crash in"*) count "${t%:} (${FUZZ_SECONDS:-25} s)" 1 0 ;;
		*) count "${t%:}" 0 1 # and the log lines the runner printed for it
		   awk -v t="$t" 'index($0, t " FAILED") == 1 { printf "%s", buf; print; exit }
			/^fuzz_/ { buf = "" } /^  / { buf = buf $0 "\n" }' "$LOG/fuzz.log" ;;
		esac
	done < <(grep -E '^fuzz_[a-z0-9_]+: ' "$LOG/fuzz.log")
	grep -q '^fuzz_' "$LOG/fuzz.log" || { count "fuzz" 0 1; tail -30 "$LOG/fuzz.log"; }
	# The README's first command, as a new user runs it, without the person: it must
	# reach the guest's prompt and print the kernel's release there (tests/demo.sh)
	for fl in cloud generic; do
		if bash tests/demo.sh "$fl" >"$LOG/demo-$fl.log" 2>&1; then
			count "demo ($fl)" 1 0
		else
			count "demo ($fl)" 0 1; grep -a '^demo-test:' "$LOG/demo-$fl.log"; tail -15 "$LOG/demo-$fl.log"
		fi
		grep -a '^# retry:' "$LOG/demo-$fl.log" || true
	done
	MINIVMM_BUILD=$REPO/build MINIVMM_DEADLINE=$((START + BUDGET)) bash tests/integration/run.sh 2>&1 | tee "$LOG/integration.log" |
		grep --line-buffered -E '^(not ok|# case|# retry|# stuck)|^run.sh: |^kvm-run: [A-Z]' || true
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOG/integration.log" | tail -1)
	if [ -n "$line" ]; then
		count "integration" "${line%% passed*}" "$(echo "$line" | sed 's/.*passed, \([0-9]*\) failed.*/\1/')"
	else
		count "integration (did not finish)" 0 1; tail -30 "$LOG/integration.log"
	fi
fi
echo "logs: $LOG"
echo "took $(( $(date +%s) - START )) s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
