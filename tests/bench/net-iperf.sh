#!/bin/sh
# SPDX-License-Identifier: MIT
# net-iperf.sh - iperf3 throughput of a guest's virtio-net: minivmm with
# --net ...,vhost=off and vhost=on versus qemu-system-x86_64 -netdev
# tap,vhost=off|on -device virtio-net-pci, on the same KVM host, same
# kernel/initramfs, same bridge in a private namespace; then the ratios
# minivmm/QEMU at the same vhost setting. vhost=on needs /dev/vhost-net (the
# vhost_net module: net.sh has the emulated host load it); without it only
# the vhost=off pair runs.
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

result() { # result NAME LOG KEY (the figures are kept as TX_KEY and RX_KEY)
	tx=$(tr -d '\r' < "$2" | sed -n 's/^NET-IPERF-TX //p')
	rx=$(tr -d '\r' < "$2" | sed -n 's/^NET-IPERF-RX //p')
	echo "$1: guest->host ${tx:-?} Mbit/s, host->guest ${rx:-?} Mbit/s"
	# no figure: show why (the lines carry the VMM's name, which net.sh's filter keeps)
	[ -n "$tx" ] && [ -n "$rx" ] || tr -d '\r' < "$2" | grep -v '^\[ *[0-9]' | tail -8 | sed "s/^/$1 log: /"
	eval "TX_$3=\${tx:-}; RX_$3=\${rx:-}"
	# minivmm --stats: VM exits per MiB moved in both directions
	exits=$(sed -n 's/^ *vm exits *\([0-9]*\)/\1/p' "$2")
	if [ -n "$exits" ] && [ -n "$tx" ] && [ -n "$rx" ]; then
		echo "$1: $exits VM exits in all, $(echo "$exits $tx $rx $SECS" |
			awk '{ mib = ($2 + $3) * $4 / 8 * 1e6 / 1048576; printf "%.0f", mib ? $1 / mib : 0 }') per MiB moved (boot included)"
	fi
}

[ -c /dev/vhost-net ] || modprobe vhost_net 2>/dev/null
VHOSTS=off
[ -c /dev/vhost-net ] && VHOSTS="off on"
[ -c /dev/vhost-net ] || echo "minivmm: no /dev/vhost-net here: vhost=on not measured"

ip -n $NS tuntap add dev mvtapq mode tap vnet_hdr
ip -n $NS link set mvtapq master mvbr0 up
for v in $VHOSTS; do
	timeout $((SECS * 2 + 240)) "$IP" netns exec $NS "$MINIVMM" run --kernel "$KERNEL" \
		--initrd "$INITRD" --memory "${MEM}M" --cmdline "$CMDLINE" \
		--net tap=mvtapi,bridge=mvbr0,vhost=$v --stats > "$W/minivmm-$v.log" 2>&1
	result "minivmm (vhost=$v)" "$W/minivmm-$v.log" m$v

	timeout $((SECS * 2 + 240)) "$IP" netns exec $NS "$QEMU" -accel kvm -cpu host \
		-m "$MEM" -nographic -no-reboot -kernel "$KERNEL" -initrd "$INITRD" \
		-append "$CMDLINE" \
		-netdev tap,id=n0,ifname=mvtapq,script=no,downscript=no,vhost=$v \
		-device virtio-net-pci,netdev=n0,disable-legacy=on,romfile= > "$W/qemu-$v.log" 2>&1
	result "qemu (vhost=$v)" "$W/qemu-$v.log" q$v
done

# ratio A B: A/B to two decimals, "?" when either is missing
ratio() { [ -n "$1" ] && [ -n "$2" ] && echo "$1 $2" | awk '{ printf "%.2f", $2 ? $1 / $2 : 0 }' || echo "?"; }
for v in $VHOSTS; do
	eval "mt=\$TX_m$v mr=\$RX_m$v qt=\$TX_q$v qr=\$RX_q$v"
	echo "minivmm/qemu at vhost=$v: guest->host $(ratio "$mt" "$qt"), host->guest $(ratio "$mr" "$qr")"
done
[ "$VHOSTS" = "off on" ] &&
	echo "minivmm vhost=on/off: guest->host $(ratio "$TX_mon" "$TX_moff"), host->guest $(ratio "$RX_mon" "$RX_moff")"

for p in $(ip netns pids $NS); do kill "$p"; done
ip netns del $NS
rm -rf "$W"
