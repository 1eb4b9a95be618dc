#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_trace_native.sh MINIVMM VIRTIO-BLK - the ladder's hand-built virtio-blk request
# (guests/tiny/virtio-blk.S) on THIS machine's /dev/kvm, with --ioeventfd=off --irqfd=off
# and --trace=mmio,virtio-blk --trace-file: the request still completes, the kick is an
# MMIO exit the trace shows ("virtio-blk0 notify q0 <- 0x0") and --stats counts no kick
# through an ioeventfd; with the defaults the kick costs no exit and --stats counts it as
# one through an ioeventfd. Also: the filters (vcpu1 shows no exit of a one-vCPU guest; with
# two disks, virtio-blk1 shows none of the first disk's exits, virtio-blk2 is no device),
# and --stats' exits by register (the notify register among virtio-blk0's).
# Exits 77 (skip) without a usable /dev/kvm, or 1 then if CI=true; 1 if a check failed.
set -u
MINIVMM=$1 GUEST=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
printf 'hello from sector 0 of the disk' > "$T/s0.img"
DISK="$T/s0.img,format=raw,readonly=on"
# stat NAME FILE: the value of the "  NAME   N" line of the --stats table
stat() {
	awk -v k="$1" '{ v = $NF; $NF = ""; sub(/^ +/, ""); sub(/ +$/, ""); if ($0 == k) { print v; exit } }' "$2"
}
timeout 60 "$MINIVMM" run --kernel "$GUEST" --disk "$DISK" --ioeventfd=off --irqfd=off \
	--trace=mmio,virtio-blk --trace-file "$T/trace" --stats </dev/null >"$T/out" 2>"$T/err"; rc=$?
if [ $rc != 0 ] && grep -q '/dev/kvm' "$T/err"; then
	if [ "${CI:-}" = true ]; then
		echo "not ok 1 - CI=true but no usable /dev/kvm: $(head -1 "$T/err")"; exit 1
	fi
	echo "1..0 # SKIP no usable /dev/kvm: $(head -1 "$T/err")"; exit 77
fi
fail=0
check() { # check N DESCRIPTION COMMAND...
	local n=$1 what=$2; shift 2
	if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; fail=1; fi
}
echo "1..13"
check 1 "--ioeventfd=off --irqfd=off: exit 0 (status $rc)" [ $rc = 0 ]
check 2 "the request completed: the guest read sector 0" \
	grep -q 'hello from sector 0 of the disk' "$T/out"
check 3 "the kick is an MMIO exit in the trace file" \
	grep -Eq '^ *[0-9]+\.[0-9]+ vcpu0 mmio write 0xc0003000 2 virtio-blk0 notify q0 <- 0x0 \(' "$T/trace"
check 4 "the filter kept only MMIO exits of virtio-blk" \
	sh -c "! grep -E 'vcpu0 (io |mmio .* (pvpanic|com1) )' '$T/trace'"
check 5 "no trace line on stderr with --trace-file" sh -c "! grep -q 'trace:' '$T/err'"
check 6 "--stats: no kick through an ioeventfd ($(stat 'kicks via ioeventfd' "$T/err"))" \
	[ "$(stat 'kicks via ioeventfd' "$T/err")" = 0 ]

timeout 60 "$MINIVMM" run --kernel "$GUEST" --disk "$DISK" --trace=mmio --stats \
	</dev/null >"$T/out2" 2>"$T/err2"; rc=$?
check 7 "defaults: exit 0, the request completed, no notify exit" \
	sh -c "[ $rc = 0 ] && grep -q 'hello from sector 0' '$T/out2' && ! grep -q 'notify q0' '$T/err2'"
check 8 "defaults: --stats counts the kick through an ioeventfd ($(stat 'kicks via ioeventfd' "$T/err2"))" \
	[ "$(stat 'kicks via ioeventfd' "$T/err2")" = 1 ]

timeout 60 "$MINIVMM" run --kernel "$GUEST" --disk "$DISK" --trace=vcpu1 \
	</dev/null >"$T/out3" 2>"$T/err3"; rc=$?
check 9 "--trace=vcpu1 on one vCPU: exit 0 and no exit line" \
	sh -c "[ $rc = 0 ] && ! grep -q 'trace: .* vcpu0 ' '$T/err3'"
check 10 "--stats: virtio-blk0's device_status accesses counted by register" \
	grep -Eq '^ +common.device_status +6$' "$T/err"

# two disks: instance names, and a filter for one instance
timeout 60 "$MINIVMM" run --kernel "$GUEST" --disk "$DISK" --disk "$DISK" \
	--trace=mmio,virtio-blk1 --stats </dev/null >"$T/out4" 2>"$T/err4"; rc=$?
check 11 "two disks, --trace=mmio,virtio-blk1: exit 0, no exit of virtio-blk0 traced" \
	sh -c "[ $rc = 0 ] && grep -q 'hello from sector 0' '$T/out4' && ! grep -q 'trace: .* vcpu0 mmio' '$T/err4'"
check 12 "two disks: --stats counts the first disk's exits as virtio-blk0" \
	grep -Eq '^  mmio virtio-blk0 +[1-9][0-9]*$' "$T/err4"
timeout 60 "$MINIVMM" run --kernel "$GUEST" --disk "$DISK" --trace=virtio-blk1 \
	</dev/null >"$T/out5" 2>"$T/err5"; rc=$?
check 13 "one disk, --trace=virtio-blk1: no such device, status 2 ($rc)" \
	sh -c "[ $rc = 2 ] && grep -q \"no device 'virtio-blk1'\" '$T/err5'"
exit $fail
