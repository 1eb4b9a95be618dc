#!/bin/sh
# SPDX-License-Identifier: MIT
# net-iperf.sh - iperf3 throughput of a guest's virtio-net: minivmm with
# --net ...,vhost=off and vhost=on versus qemu-system-x86_64 -netdev
# tap,vhost=off|on -device virtio-net-pci, on the same KVM host, same
# kernel/initramfs, same bridge in a private namespace; then per
# configuration the minimum, median and maximum over the rounds and the
# ratios minivmm/QEMU of the medians. vhost=on needs /dev/vhost-net (the
# vhost_net module: net.sh has the emulated host load it); without it only
# the vhost=off pair runs.
#
# ROUNDS rounds (default 3); each round runs every configuration once, in
# the order minivmm vhost=off, QEMU vhost=off, minivmm vhost=on, QEMU
# vhost=on rotated by one more place each round, so that no configuration
# always runs first or last while the host's load drifts.
#
# Runs where a Linux-capable /dev/kvm exists (inside the emulated KVM host:
#   tests/harness/kvm-run -m 4096 -t 2400 -b build/minivmm -b /usr/sbin/ip \
#     -b "$(command -v iperf3)" -b "$(command -v qemu-system-x86_64)" \
#     -f /usr/share/qemu -f /usr/share/seabios \
#     -f tests -f "$ASSETS" -- \
#     'MINIVMM=$PWD/build/minivmm ASSETS=... sh tests/bench/net-iperf.sh'
# ), with MINIVMM, KERNEL (default $ASSETS/cloud/vmlinuz) and INITRD (an
# initramfs made by guests/mkinitramfs.sh with -b iperf3, holding
# /tests/net-iperf.sh), SECS (per direction, default 10), ROUNDS and MEM
# in the environment. Prints one line per run and the summary.
#
#   sh net-iperf.sh --summary DIR   only the summary, of the figures kept
#                                   in DIR (one file per configuration:
#                                   moff qoff mon qon, one "TX RX" line per
#                                   run in Mbit/s, "-" where a run gave none)
set -u

# ---- the summary: min / median / max per configuration, median ratios ----

NAME_moff="minivmm (vhost=off)" NAME_qoff="qemu (vhost=off)"
NAME_mon="minivmm (vhost=on)" NAME_qon="qemu (vhost=on)"

# stats FILE COLUMN WHAT: "min / median / max" of the figures of one
# column (1: guest->host, 2: host->guest) over the runs that gave one;
# WHAT=median prints the median alone; nothing when there is none.
stats() {
	[ -f "$1" ] || return 0
	awk -v c="$2" -v what="$3" '$c != "-" && $c != "" { v[n++] = $c + 0 }
	END {
		if (!n) exit
		for (i = 1; i < n; i++) {
			x = v[i]
			for (j = i - 1; j >= 0 && v[j] > x; j--) v[j + 1] = v[j]
			v[j + 1] = x
		}
		m = n % 2 ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
		if (what == "median") printf "%g\n", m
		else printf "%g / %g / %g (%d)\n", v[0], m, v[n - 1], n
	}' "$1"
}

# ratio A B: A/B to two decimals, "?" when either is missing
ratio() { [ -n "$1" ] && [ -n "$2" ] && echo "$1 $2" | awk '{ printf "%.2f", $2 ? $1 / $2 : 0 }' || echo "?"; }

# the higher of two figures (either may be missing)
best() { echo "$1 $2" | awk '{ b = $1; if ($2 != "" && ($1 == "" || $2 + 0 > $1 + 0)) b = $2; if (b != "") print b }'; }

summary() { # summary DIR
	d=$1 rounds=0
	for k in moff qoff mon qon; do
		[ -f "$d/$k" ] || continue
		r=$(wc -l < "$d/$k")
		[ "$r" -gt "$rounds" ] && rounds=$r
	done
	echo "minivmm and qemu over $rounds round(s), Mbit/s as min / median / max (runs with a figure):"
	for k in moff qoff mon qon; do
		[ -f "$d/$k" ] || continue
		eval "name=\$NAME_$k"
		echo "$name: guest->host $(stats "$d/$k" 1 all || true), host->guest $(stats "$d/$k" 2 all || true)"
		eval "MT_$k=\$(stats \"\$d/\$k\" 1 median) MR_$k=\$(stats \"\$d/\$k\" 2 median)"
	done
	for v in off on; do
		[ -f "$d/m$v" ] && [ -f "$d/q$v" ] || continue
		eval "mt=\$MT_m$v mr=\$MR_m$v qt=\$MT_q$v qr=\$MR_q$v"
		echo "minivmm/qemu at vhost=$v (medians): guest->host $(ratio "$mt" "$qt"), host->guest $(ratio "$mr" "$qr")"
	done
	[ -f "$d/mon" ] && [ -f "$d/moff" ] &&
		echo "minivmm vhost=on/off (medians): guest->host $(ratio "$MT_mon" "$MT_moff"), host->guest $(ratio "$MR_mon" "$MR_moff")"
	# QEMU at its best: the better median of its two configurations,
	# direction by direction, against minivmm's vhost=on (when measured)
	# and minivmm's better configuration
	if [ -f "$d/qoff" ] || [ -f "$d/qon" ]; then
		qt=$(best "${MT_qoff:-}" "${MT_qon:-}") qr=$(best "${MR_qoff:-}" "${MR_qon:-}")
		mt=$(best "${MT_moff:-}" "${MT_mon:-}") mr=$(best "${MR_moff:-}" "${MR_mon:-}")
		[ -f "$d/mon" ] &&
			echo "minivmm (vhost=on)/qemu at its best (medians): guest->host $(ratio "${MT_mon:-}" "$qt"), host->guest $(ratio "${MR_mon:-}" "$qr")"
		echo "minivmm at its best/qemu at its best (medians): guest->host $(ratio "$mt" "$qt"), host->guest $(ratio "$mr" "$qr")"
	fi
}

if [ "${1:-}" = --summary ]; then
	[ -d "${2:-}" ] || { echo "usage: net-iperf.sh --summary DIR" >&2; exit 2; }
	summary "$2"
	exit 0
fi

# ---- the runs ----

: "${MINIVMM:?set MINIVMM}"
KERNEL=${KERNEL:-$ASSETS/cloud/vmlinuz}
INITRD=${INITRD:-$ASSETS/cloud/initramfs.cpio.gz}
MEM=${MEM:-512}
SECS=${SECS:-10}
ROUNDS=${ROUNDS:-3}
NS=mvnet-iperf
# iproute2's ip, not the busybox applet that busybox sh would prefer
IP=/usr/sbin/ip
[ -x "$IP" ] || IP=/sbin/ip
ip() { "$IP" "$@"; }
QEMU=${QEMU:-qemu-system-x86_64}
CMDLINE="console=ttyS0 reboot=k panic=-1 minivmm.modules=virtio_pci,virtio_net minivmm.run=net-iperf minivmm.net_ip=10.77.0.2/24 minivmm.net_peer=10.77.0.1 minivmm.net_secs=$SECS"
W=$(mktemp -d)
mkdir "$W/fig"

ip netns del $NS 2>/dev/null
ip netns add $NS
ip -n $NS link set lo up
ip -n $NS link add mvbr0 type bridge
ip -n $NS addr add 10.77.0.1/24 dev mvbr0
ip -n $NS link set mvbr0 up
ip netns exec $NS iperf3 -s -D --logfile "$W/iperf3.log"
sleep 1

result() { # result NAME LOG KEY (the figures go to $W/fig/KEY)
	tx=$(tr -d '\r' < "$2" | sed -n 's/^NET-IPERF-TX //p')
	rx=$(tr -d '\r' < "$2" | sed -n 's/^NET-IPERF-RX //p')
	echo "$1: guest->host ${tx:-?} Mbit/s, host->guest ${rx:-?} Mbit/s"
	# no figure: show why (the lines carry the VMM's name, which net.sh's filter keeps)
	[ -n "$tx" ] && [ -n "$rx" ] || tr -d '\r' < "$2" | grep -v '^\[ *[0-9]' | tail -8 | sed "s/^/$1 log: /"
	echo "${tx:--} ${rx:--}" >> "$W/fig/$3"
	# minivmm --stats: VM exits per MiB moved in both directions
	exits=$(sed -n 's/^ *vm exits *\([0-9]*\)/\1/p' "$2")
	if [ -n "$exits" ] && [ -n "$tx" ] && [ -n "$rx" ]; then
		echo "$1: $exits VM exits in all, $(echo "$exits $tx $rx $SECS" |
			awk '{ mib = ($2 + $3) * $4 / 8 * 1e6 / 1048576; printf "%.0f", mib ? $1 / mib : 0 }') per MiB moved (boot included)"
		# the interrupts minivmm's threads sent: with vhost=on those of
		# the data path should not be among them (vhost signals the
		# irqfds itself); the kicks are the guest's, counted through the
		# ioeventfds (with vhost=on read back when vhost stops)
		st() { sed -n "s/^ *$1 *\([0-9]*\)\$/\1/p" "$2" | head -1; }
		echo "$1: $(st 'kicks via ioeventfd' "$2") kicks via ioeventfds;" \
			"minivmm sent $(st 'interrupts injected' "$2") interrupts" \
			"($(st 'interrupts via irqfd' "$2") via irqfd; boot included)"
	fi
}

run() { # run KEY ROUND: one guest of one configuration
	v=${1#?}
	eval "name=\$NAME_$1"
	case $1 in
	m*)	timeout $((SECS * 2 + 240)) "$IP" netns exec $NS "$MINIVMM" run --kernel "$KERNEL" \
			--initrd "$INITRD" --memory "${MEM}M" --cmdline "$CMDLINE" \
			--net tap=mvtapi,bridge=mvbr0,vhost=$v --stats > "$W/$1.log" 2>&1 ;;
	q*)	timeout $((SECS * 2 + 240)) "$IP" netns exec $NS "$QEMU" -accel kvm -cpu host \
			-m "$MEM" -nographic -no-reboot -kernel "$KERNEL" -initrd "$INITRD" \
			-append "$CMDLINE" \
			-netdev tap,id=n0,ifname=mvtapq,script=no,downscript=no,vhost=$v \
			-device virtio-net-pci,netdev=n0,disable-legacy=on,romfile= > "$W/$1.log" 2>&1 ;;
	esac
	result "round $2/$ROUNDS $name" "$W/$1.log" "$1"
}

[ -c /dev/vhost-net ] || modprobe vhost_net 2>/dev/null
CFGS="moff qoff"
[ -c /dev/vhost-net ] && CFGS="moff qoff mon qon"
[ -c /dev/vhost-net ] || echo "minivmm: no /dev/vhost-net here: vhost=on not measured"

ip -n $NS tuntap add dev mvtapq mode tap vnet_hdr
ip -n $NS link set mvtapq master mvbr0 up
r=0
while [ $r -lt "$ROUNDS" ]; do
	set -- $CFGS
	i=0
	while [ $i -lt $# ]; do
		k=$(( (i + r) % $# + 1 ))
		eval "run \${$k} $((r + 1))"
		i=$((i + 1))
	done
	r=$((r + 1))
done

summary "$W/fig"

for p in $(ip netns pids $NS); do kill "$p"; done
ip netns del $NS
rm -rf "$W"
