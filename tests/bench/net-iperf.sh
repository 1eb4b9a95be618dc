#!/bin/sh
# SPDX-License-Identifier: MIT
# net-iperf.sh - iperf3 throughput of a guest's virtio-net: minivmm versus
# qemu-system-x86_64 -netdev tap,vhost=off -device virtio-net-pci, on the
# same KVM host, same kernel/initramfs, same bridge in a private namespace.
#
# Runs where a Linux-capable /dev/kvm exists (inside the emulated KVM host:
#   tests/harness/kvm-run -m 4096 -t 1200 -b build/minivmm -b /usr/sbin/ip \
#     -b "$(command -v iperf3)" -b "$(command -v qemu-system-x86_64)" \
#     -f /usr/share/qemu -f /usr/share/seabios \
#     -f tests -f "$ASSETS" -- \
#     'MINIVMM=$PWD/build/minivmm ASSETS=... sh tests/bench/net-iperf.sh'
# ), with MINIVMM, KERNEL (default $ASSETS/cloud/vmlinuz) and INITRD (an
# initramfs made by guests/mkinitramfs.sh with -b iperf3, holding
# /tests/net-iperf.sh) in the environment. Prints one line per VMM.
set -u
: "${MINIVMM:?set MINIVMM}"
KERNEL=${KERNEL:-$ASSETS/cloud/vmlinuz}
INITRD=${INITRD:-$ASSETS/cloud/initramfs.cpio.gz}
MEM=${MEM:-512}
SECS=${SECS:-10}
NS=mvnet-iperf
# iproute2's ip, not the busybox applet that busybox sh would prefer
IP=/usr/sbin/ip
[ -x "$IP" ] || IP=/sbin/ip
ip() { "$IP" "$@"; }
QEMU=${QEMU:-qemu-system-x86_64}
CMDLINE="console=ttyS0 reboot=k panic=-1 minivmm.modules=virtio_pci,virtio_net minivmm.run=net-iperf minivmm.net_ip=10.77.0.2/24 minivmm.net_peer=10.77.0.1 minivmm.net_secs=$SECS"
W=$(mktemp -d)

ip netns del $NS 2>/dev/null
ip netns add $NS
ip -n $NS link set lo up
ip -n $NS link add mvbr0 type bridge
ip -n $NS addr add 10.77.0.1/24 dev mvbr0
ip -n $NS link set mvbr0 up
ip netns exec $NS iperf3 -s -D --logfile "$W/iperf3.log"
sleep 1

result() { # result NAME LOG
	tx=$(tr -d '\r' < "$2" | sed -n 's/^NET-IPERF-TX //p')
	rx=$(tr -d '\r' < "$2" | sed -n 's/^NET-IPERF-RX //p')
	echo "$1: guest->host ${tx:-?} Mbit/s, host->guest ${rx:-?} Mbit/s"
	# no figure: show why (the lines carry the VMM's name, which net.sh's filter keeps)
	[ -n "$tx" ] && [ -n "$rx" ] || tr -d '\r' < "$2" | grep -v '^\[ *[0-9]' | tail -8 | sed "s/^/$1 log: /"
	# minivmm --stats: VM exits per MiB moved in both directions
	exits=$(sed -n 's/^ *vm exits *\([0-9]*\)/\1/p' "$2")
	if [ -n "$exits" ] && [ -n "$tx" ] && [ -n "$rx" ]; then
		echo "$1: $exits VM exits in all, $(echo "$exits $tx $rx $SECS" |
			awk '{ mib = ($2 + $3) * $4 / 8 * 1e6 / 1048576; printf "%.0f", mib ? $1 / mib : 0 }') per MiB moved (boot included)"
	fi
}

timeout $((SECS * 2 + 240)) "$IP" netns exec $NS "$MINIVMM" run --kernel "$KERNEL" \
	--initrd "$INITRD" --memory "${MEM}M" --cmdline "$CMDLINE" \
	--net tap=mvtapi,bridge=mvbr0 --stats > "$W/minivmm.log" 2>&1
result minivmm "$W/minivmm.log"

ip -n $NS tuntap add dev mvtapq mode tap vnet_hdr
ip -n $NS link set mvtapq master mvbr0 up
timeout $((SECS * 2 + 240)) "$IP" netns exec $NS "$QEMU" -accel kvm -cpu host \
	-m "$MEM" -nographic -no-reboot -kernel "$KERNEL" -initrd "$INITRD" \
	-append "$CMDLINE" \
	-netdev tap,id=n0,ifname=mvtapq,script=no,downscript=no,vhost=off \
	-device virtio-net-pci,netdev=n0,disable-legacy=on,romfile= > "$W/qemu.log" 2>&1
result "qemu (vhost=off)" "$W/qemu.log"

for p in $(ip netns pids $NS); do kill "$p"; done
ip netns del $NS
rm -rf "$W"
