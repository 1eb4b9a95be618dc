#!/usr/bin/env bash
# demo.sh - from a fresh Debian 12 machine to a Linux shell inside minivmm, in
# one command: install what is missing, build, fetch Debian's cloud kernel,
# build a busybox initramfs, and boot it with a serial console on this
# terminal. Where the local /dev/kvm cannot run Linux (missing, or PVM), the
# boot happens inside an emulated KVM host (tests/harness/kvm-run).
#
#   scripts/demo.sh [cloud|generic] [--run 'CMDS'] [-- extra minivmm run options]
#
# At the guest's prompt: `poweroff -f` (or Ctrl-A x) ends it.
# --run 'CMDS' is the same boot without a person at the keyboard: at the
# guest's prompt scripts/console-drive.py types CMDS, then `poweroff -f`; the
# status is 0 only when the guest got there and CMDS succeeded in it (the test
# suite runs `scripts/demo.sh --run 'uname -r'` for both kernels).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
FLAVOUR=cloud RUN=
usage() { sed -n '8,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
		cloud|generic) FLAVOUR=$1; shift;;
		--run) [ $# -ge 2 ] || usage; RUN=$2; shift 2;;
		--) shift; break;;
		*) usage;;
	esac
done

bash scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build minivmm >/dev/null
KDIR=$(guests/fetch-kernels.sh "$FLAVOUR" | tail -1)
mkdir -p build/demo
guests/mkinitramfs.sh -k "$KDIR/modules" -o "build/demo/initramfs-$FLAVOUR.cpio.gz" 2>/dev/null

CMD="$REPO/build/minivmm run --kernel vmlinuz --initrd initramfs.cpio.gz --memory 512M --cpus 2 --rng"
CMD="$CMD --cmdline 'console=ttyS0 reboot=k panic=-1 quiet minivmm.modules=virtio_pci,virtio_rng,virtio_blk,virtio_net' $*"
BOOT=(tests/harness/kvm-run -i -m 2048 -t 7200 -b "$REPO/build/minivmm"
	-f "$KDIR/vmlinuz:/vm/vmlinuz" -f "build/demo/initramfs-$FLAVOUR.cpio.gz:/vm/initramfs.cpio.gz"
	-- "$CMD")
if [ -n "$RUN" ]; then
	echo "demo: booting Debian's $FLAVOUR kernel in minivmm; at its prompt: $RUN"
	exec python3 scripts/console-drive.py --timeout "${DEMO_TIMEOUT:-900}" --run "$RUN" -- "${BOOT[@]}"
fi
echo "demo: booting Debian's $FLAVOUR kernel in minivmm (Ctrl-A x quits)"
exec "${BOOT[@]}"
