#!/bin/sh
# SPDX-License-Identifier: MIT
# test_tap.sh HELPER - tests of devices/tap.c on the real kernel, inside a
# private network namespace (unshare -n) that disappears with the script.
# Needs root and /dev/net/tun; prints TAP-style lines, exits 77 (skip) when
# those are missing, 1 if any check failed.
set -u
HELPER=${1:?usage: test_tap.sh path/to/test_tap}
if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ] || ! command -v ip >/dev/null; then
	echo "1..0 # SKIP needs root, /dev/net/tun and ip(8)"
	exit 77
fi
if [ -z "${TAP_TEST_IN_NS:-}" ]; then
	TAP_TEST_IN_NS=1 exec unshare -n "$0" "$@"
fi

fails=0 n=0
ok() { n=$((n+1)); echo "ok $n - $1"; }
nok() { n=$((n+1)); fails=$((fails+1)); echo "not ok $n - $1"; }
check() { # check DESC CMD...
	d=$1; shift
	if "$@" >/dev/null 2>&1; then ok "$d"; else nok "$d"; fi
}
exists() { ip link show dev "$1" >/dev/null 2>&1; }
gone() { ! exists "$1"; }
is_up() { ip link show dev "$1" | head -1 | grep -q '[<,]UP[,>]'; }
is_down() { ! is_up "$1"; }
master_of() { ip -o link show dev "$1" | grep -o 'master [^ ]*' | cut -d' ' -f2; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
tunflags() { ip -d link show dev "$1" | grep -o 'tun type tap pi [a-z]* vnet_hdr [a-z]*'; }

# tunctl ACTION TAP [N]: do to a tap what another program might (python3)
#   offload N  attach (tap, no pi, vnet_hdr) and set TUNSETOFFLOAD N
#   link N     attach and set the link type (TUNSETLINK; tap down)
#   hdrsz      attach and print the vnet header size
#   sndbuf [N] attach, set the send buffer to N if given, print it
#   features   print tx-checksumming and TSO as 0/1 (ethtool ioctls)
tunctl() {
	python3 - "$@" <<'EOF'
import array, fcntl, os, socket, struct, sys
act, name = sys.argv[1], sys.argv[2].encode()
if act == 'features':
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    out = []
    for cmd in (0x16, 0x1e):  # ETHTOOL_GTXCSUM, ETHTOOL_GTSO
        v = array.array('I', [cmd, 0])
        fcntl.ioctl(s, 0x8946, struct.pack('16sP16x', name, v.buffer_info()[0]))
        out.append(str(v[1]))
    print(' '.join(out))
    sys.exit(0)
fd = os.open('/dev/net/tun', os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH22x', name, 0x0002 | 0x1000 | 0x4000))
if act == 'offload':
    fcntl.ioctl(fd, 0x400454d0, int(sys.argv[3]))
elif act == 'link':
    fcntl.ioctl(fd, 0x400454cd, int(sys.argv[3]))
elif act == 'hdrsz':
    v = array.array('i', [0])
    fcntl.ioctl(fd, 0x800454d7, v, True)
    print(v[0])
elif act == 'sndbuf':
    if len(sys.argv) > 3:  # TUNSETSNDBUF
        fcntl.ioctl(fd, 0x400454d4, struct.pack('i', int(sys.argv[3])))
    v = array.array('i', [0])
    fcntl.ioctl(fd, 0x800454d3, v, True)  # TUNGETSNDBUF
    print(v[0])
EOF
}

# start HELPER ARGS... in the background, holding the tap until "stop N"
start() { # start ID ARGS...
	id=$1; shift
	mkfifo "$T/in$id"
	: >"$T/out$id"
	"$HELPER" "$@" <"$T/in$id" >"$T/out$id" 2>"$T/err$id" &
	eval "pid$id=$!"
	# a sleeping writer holds the fifo open: the helper waits for EOF
	sleep 600 >"$T/in$id" &
	eval "hold$id=$!"
	# wait until the helper has opened (or failed)
	i=0
	while [ $i -lt 50 ] && ! grep -q '^open' "$T/out$id" && kill -0 "$(eval echo \$pid$id)" 2>/dev/null; do
		sleep 0.1; i=$((i+1))
	done
}
stop() { # stop ID -> waits; status in $rc
	kill "$(eval echo \$hold$1)"
	wait "$(eval echo \$pid$1)"; rc=$?
	rm -f "$T/in$1"
}

# 1. a tap that did not exist is created, up, with the offloads, and vanishes
start 1 mvtap0
check "created tap exists while open" exists mvtap0
check "created tap is up" is_up mvtap0
check "helper reports created=1" grep -q 'created=1' "$T/out1"
check "kernel accepted csum+tso offloads" grep -q 'offload_ok=0x1[fF]\|offload_ok=0xf' "$T/out1"
check "created tap's send buffer unbounded" grep -q 'sndbuf=2147483647 ' "$T/out1"
# 2. a second user of the same tap gets EBUSY with a clear message
"$HELPER" mvtap0 </dev/null >"$T/o" 2>"$T/e"; rc=$?
check "second open of a busy tap fails with EBUSY (16)" [ $rc = 16 ]
check "EBUSY message names the tap" grep -q "tap 'mvtap0' is already in use" "$T/e"
stop 1
check "helper closed cleanly" [ $rc = 0 ]
check "created tap is gone after close" gone mvtap0

# 3. a pre-existing persistent tap is used and left as it was (down, no master)
ip tuntap add dev mvpers mode tap vnet_hdr
start 2 mvpers
check "pre-existing tap reported created=0" grep -q 'created=0' "$T/out2"
check "pre-existing tap up while in use" is_up mvpers
stop 2
check "pre-existing tap still exists after close" exists mvpers
check "pre-existing tap back down after close" is_down mvpers

# 4. a missing bridge is an error unless creation was asked for
"$HELPER" mvtap1 mvbr0 </dev/null >"$T/o" 2>"$T/e"; rc=$?
check "missing bridge fails with ENODEV (19)" [ $rc = 19 ]
check "missing bridge message names it" grep -q "bridge 'mvbr0' does not exist" "$T/e"
check "failed open leaves no tap behind" gone mvtap1

# 5. bridge-create: bridge made and up, tap attached; at exit the tap goes,
#    the bridge stays (other VMs may share it)
start 3 mvtap1 mvbr0 create
check "bridge created" exists mvbr0
check "bridge up" is_up mvbr0
check "tap attached to the bridge" [ "$(master_of mvtap1)" = mvbr0 ]
# 6. a second tap joins the existing bridge without create
start 4 mvtap2 mvbr0
check "second tap attached to existing bridge" [ "$(master_of mvtap2)" = mvbr0 ]
stop 4
stop 3
check "created taps gone after close" gone mvtap1
check "created taps gone after close (2)" gone mvtap2
check "created bridge remains" exists mvbr0

# 7. a pre-existing tap attached to a bridge is detached again at exit
start 5 mvpers mvbr0
check "pre-existing tap attached to bridge" [ "$(master_of mvpers)" = mvbr0 ]
stop 5
check "pre-existing tap detached at exit" [ -z "$(master_of mvpers)" ]
check "pre-existing tap still exists" exists mvpers

# 7b. a pre-existing tap's flags go back as they were (we attach with
#     vnet_hdr on and pi off)
ip tuntap add dev mvpi mode tap pi
before=$(tunflags mvpi)
"$HELPER" mvpi </dev/null >"$T/o" 2>"$T/e"; rc=$?
check "pre-existing tap with pi, no vnet_hdr: used" [ $rc = 0 ]
check "... its flags restored ($before -> $(tunflags mvpi))" [ "$(tunflags mvpi)" = "$before" ]
ip link del mvpi

# 7c. its offloads and vnet header size too (the helper sets every offload,
#     as a guest accepting them all would)
if command -v python3 >/dev/null; then
	ip tuntap add dev mvoff mode tap vnet_hdr
	tunctl offload mvoff 1 # csum only, as another program left it
	before=$(tunctl features mvoff)
	"$HELPER" mvoff </dev/null >"$T/o" 2>"$T/e"; rc=$?
	check "pre-existing tap with csum offload: used" [ $rc = 0 ]
	check "... offloads back to csum only ($before -> $(tunctl features mvoff))" \
		[ "$(tunctl features mvoff)" = "1 0" ]
	check "... vnet header size back to 10" [ "$(tunctl hdrsz mvoff)" = 10 ]
	ip link del mvoff

	# 7c'. a send buffer another program bounded on its fd of a
	#      persistent tap: ours is unbounded all the same (tap.h)
	ip tuntap add dev mvsnd mode tap vnet_hdr
	tunctl sndbuf mvsnd 65536 >/dev/null
	start 6 mvsnd
	check "pre-existing tap bounded by another fd: our send buffer unbounded" \
		grep -q 'sndbuf=2147483647 ' "$T/out6"
	stop 6
	ip link del mvsnd

	# 7d. a failed open leaves no bridge it created: a tap whose link type
	#     is not Ethernet cannot become a bridge port
	ip tuntap add dev mvnoeth mode tap
	tunctl link mvnoeth 65534 # ARPHRD_NONE
	"$HELPER" mvnoeth mvbr9 create </dev/null >"$T/o" 2>"$T/e"; rc=$?
	check "non-Ethernet tap cannot join a bridge" [ $rc != 0 ]
	check "... and the bridge created for it is removed" gone mvbr9
	ip link del mvnoeth
else
	echo "# python3 missing: offload, vnet header and bridge-removal checks skipped"
fi

# 8. bad names and non-tap interfaces
"$HELPER" lo </dev/null >"$T/o" 2>"$T/e"; rc=$?
check "non-tap interface refused (EINVAL)" [ $rc = 22 ]
check "non-tap message" grep -q "not a tap device" "$T/e"
"$HELPER" mvpers mvpers </dev/null >"$T/o" 2>"$T/e"; rc=$?
check "attaching to a non-bridge fails" [ $rc != 0 ]
check "non-bridge message" grep -q "not a bridge" "$T/e"
"$HELPER" averyveryverylongname0 </dev/null >"$T/o" 2>"$T/e"; rc=$?
check "over-long name refused" [ $rc = 22 ]
check "over-long name message" grep -q "not a valid interface name" "$T/e"

# 9. no permission: an unprivileged user cannot create a tap
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$HELPER" mvtap3 </dev/null >"$T/o" 2>"$T/e"; rc=$?
	check "unprivileged open fails" [ $rc != 0 ]
	check "permission message" grep -q "no permission" "$T/e"
fi

ip link del mvbr0 2>/dev/null
ip link del mvbr9 2>/dev/null
ip link del mvpers 2>/dev/null
echo "1..$n"
[ $fails = 0 ]
