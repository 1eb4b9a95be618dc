#!/usr/bin/env bash
# tests/demo.sh FLAVOUR - the README's first command, checked: runs
# `scripts/demo.sh FLAVOUR --run 'uname -r'` exactly as a user would start it
# (install, build, fetch the kernel, initramfs, kvm-run, minivmm, the guest's
# shell on the console) and passes when it ends with status 0 and the guest
# printed the release of the kernel it was given. In the emulated KVM host,
# which now and then wedges (docs/harness.md), a failed run is tried once more
# and says so on a "# retry:" line.
set -uo pipefail
cd "$(dirname "$0")/.."
FL=${1:-cloud}
say() { echo "demo-test: $*"; }
try() {
	local out rc ver
	out=$(mktemp)
	DEMO_TIMEOUT=${DEMO_TIMEOUT:-600} scripts/demo.sh "$FL" --run 'uname -r' </dev/null >"$out" 2>&1
	rc=$?
	cat "$out"
	ver=$(cat "$(guests/fetch-kernels.sh --print-dir)/$FL/version" 2>/dev/null)
	if [ $rc != 0 ]; then
		say "scripts/demo.sh $FL --run 'uname -r' ended with status $rc"
	elif [ -z "$ver" ] || ! tr -d '\r' <"$out" | grep -qx -- "$ver"; then
		say "the guest did not print its kernel release '${ver:-?}'"; rc=1
	else
		say "ok: the $FL guest ran 'uname -r' at its prompt: $ver"
	fi
	rm -f "$out"
	return $rc
}
try && exit 0
if [ -d /sys/module/kvm_pvm ] || [ ! -e /dev/kvm ] || [ "${MINIVMM_KVM:-}" = emulated ]; then
	echo "# retry: demo ($FL) failed in the emulated KVM host; running it once more"
	try && { echo "# retry: demo ($FL) passed on the retry"; exit 0; }
	echo "# retry: demo ($FL) failed again"
fi
exit 1
