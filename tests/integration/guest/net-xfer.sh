# net-xfer: guest side of the net-* integration cases (busybox sh).
# Kernel parameters (exported by /init as MINIVMM_*):
#   minivmm.net_ip=10.77.0.2/24    our address
#   minivmm.net_peer=10.77.0.1     the other end (host bridge or other guest)
#   minivmm.net_mb=64              MiB per transfer
#   minivmm.net_role=host|send|recv|ping
#       host: ping the peer, send MB to peer:5001, receive from peer:5002,
#             wait for the host's ping notice on :5003
#       send: send MB to peer:5004 (guest-to-guest sender)
#       recv: receive on :5004 (guest-to-guest receiver)
#       ping: ping only
#   minivmm.net_reload=1           reload virtio_net (same parameters) first: a
#       device reset and a second probe before any traffic
#   minivmm.net_offload=off        reload virtio_net with csum=0 gso=0 (the
#       transmit offloads), and in role host also switch the receive
#       offloads off at run time: `ethtool -K DEV rx-gro-hw off` makes
#       Linux's virtio_net send VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET without
#       GUEST_TSO4/6, ECN and UFO (minivmm follows with TUNSETOFFLOAD). The
#       host records the tap's offloads (ethtool -k) before and after:
#       we ask on peer:5005 and wait for its "done" on our :5006.
# Prints "KEY value" lines for the case script; exits non-zero on failure.
IP=${MINIVMM_NET_IP:-10.77.0.2/24}
PEER=${MINIVMM_NET_PEER:-10.77.0.1}
MB=${MINIVMM_NET_MB:-64}
ROLE=${MINIVMM_NET_ROLE:-host}
rc=0

netdev() { for d in /sys/class/net/*; do n=${d##*/}; [ "$n" = lo ] || { echo "$n"; return; }; done; }

if [ "${MINIVMM_NET_OFFLOAD:-on}" = off ]; then
  # csum=0 / gso=0: the driver negotiates no checksum or segmentation offload
  if [ -f /sys/module/virtio_net/parameters/csum ] && \
     [ "$(cat /sys/module/virtio_net/parameters/csum)" = Y ]; then
    MD=/lib/modules/$(uname -r)
    ko=$(sed -n 's,^\([^:]*/virtio_net\.ko[^:]*\):.*,\1,p' "$MD/modules.dep" | head -1)
    rmmod virtio_net && insmod "$MD/$ko" csum=0 gso=0 || echo "NET-RELOAD-FAILED"
    sleep 1
  fi
  echo "NET-CSUM-PARAM $(cat /sys/module/virtio_net/parameters/csum 2>/dev/null)"
fi

if [ "${MINIVMM_NET_RELOAD:-0}" = 1 ]; then
  MD=/lib/modules/$(uname -r)
  ko=$(sed -n 's,^\([^:]*/virtio_net\.ko[^:]*\):.*,\1,p' "$MD/modules.dep" | head -1)
  ip link set "$(netdev)" up 2>/dev/null # opened once, so the queues were in use
  if rmmod virtio_net && insmod "$MD/$ko"; then echo "NET-RELOADED yes"
  else echo "NET-RELOADED no"; fi
  sleep 1
fi

dev=$(netdev)
[ -n "$dev" ] || { echo "NET-NO-DEVICE"; exit 1; }
echo "NET-DEV $dev"
echo "NET-FEATURES $(cat /sys/class/net/$dev/device/features 2>/dev/null)"
echo "NET-MAC $(cat /sys/class/net/$dev/address)"
ip addr add "$IP" dev "$dev" && ip link set "$dev" up || exit 1

mkfifo /tmp/hold
blk() { head -c 1048576 /dev/urandom > /tmp/blk; }
stream() { i=0; while [ $i -lt "$MB" ]; do cat /tmp/blk; i=$((i+1)); done; }

# host_snap NAME: have the host record the tap's offloads now (see above)
host_snap() {
  nc -l -p 5006 <>/tmp/hold > "/tmp/snap.$1" &
  i=0
  until echo "$1" | nc "$PEER" 5005; do
    i=$((i+1)); [ $i -lt 30 ] || break; sleep 1
  done
  i=0; while [ $i -lt 60 ] && ! grep -q done "/tmp/snap.$1"; do sleep 1; i=$((i+1)); done
  if grep -q done "/tmp/snap.$1"; then echo "NET-HOST-SNAP $1 ok"
  else echo "NET-HOST-SNAP $1 timeout"; rc=1; fi
}

# gro_hw: the state of the receive offload feature ethtool toggles here
# (rx-gro-hw since Linux 5.x; large-receive-offload before), e.g. "on"
gro_hw() { ethtool -k "$dev" 2>/dev/null | sed -n "s/^$GRO_FEATURE: \([a-z]*\).*/\1/p"; }

# rx_offloads_off: the guest's receive offloads off through the control queue
rx_offloads_off() {
  if ! command -v ethtool >/dev/null; then echo "NET-NO-ETHTOOL"; rc=1; return; fi
  GRO_FEATURE=rx-gro-hw
  ethtool -k "$dev" | grep -q "^rx-gro-hw:" || GRO_FEATURE=large-receive-offload
  echo "NET-GRO-FEATURE $GRO_FEATURE"
  echo "NET-GRO-HW-BEFORE $(gro_hw)"
  host_snap before
  ethtool -K "$dev" "$GRO_FEATURE" off; echo "NET-ETHTOOL-K-STATUS $?"
  echo "NET-GRO-HW-AFTER $(gro_hw)"
  ethtool -k "$dev" | grep -E '^(rx-checksumming|rx-gro-hw|large-receive-offload|generic-receive-offload):' | sed 's/^/NET-GUEST-K /'
  host_snap after
}

ping_peer() {
  i=0
  while [ $i -lt 60 ]; do
    if ping -c 1 -W 2 "$PEER" >/dev/null 2>&1; then
      echo "NET-PING-OK $PEER"; ping -c 3 "$PEER" | tail -1; return 0
    fi
    i=$((i+1))
  done
  echo "NET-PING-FAIL $PEER"; return 1
}

case $ROLE in
host)
  nc -l -p 5003 <>/tmp/hold > /tmp/pinged &
  ping_peer || rc=1
  [ "${MINIVMM_NET_OFFLOAD:-on}" = off ] && rx_offloads_off
  blk
  echo "GUEST-SEND-MD5 $(stream | md5sum | cut -d' ' -f1)"
  t0=$(date +%s)
  stream | nc "$PEER" 5001 || { echo "NET-SEND-FAIL"; rc=1; }
  t1=$(date +%s)
  echo "NET-SEND-SECONDS $((t1 - t0))"
  echo "GUEST-RECV-MD5 $(nc "$PEER" 5002 <>/tmp/hold | md5sum | cut -d' ' -f1)"
  t2=$(date +%s)
  echo "NET-RECV-SECONDS $((t2 - t1))"
  i=0; while [ $i -lt 90 ] && ! grep -q pinged-by-host /tmp/pinged; do sleep 1; i=$((i+1)); done
  if grep -q pinged-by-host /tmp/pinged; then echo "NET-HOST-PINGED yes"; else echo "NET-HOST-PINGED no"; rc=1; fi
  ;;
send)
  ping_peer || rc=1
  blk
  echo "GUEST-SEND-MD5 $(stream | md5sum | cut -d' ' -f1)"
  i=0
  until stream | nc "$PEER" 5004; do
    i=$((i+1)); [ $i -lt 60 ] || { echo "NET-SEND-FAIL"; rc=1; break; }; sleep 1
  done
  ;;
recv)
  # listen first, then ping while the sender is still up (it exits once sent)
  (nc -l -p 5004 <>/tmp/hold | md5sum | cut -d' ' -f1 > /tmp/recv.md5) &
  ping_peer || rc=1
  wait
  echo "GUEST-RECV-MD5 $(cat /tmp/recv.md5)"
  ;;
ping)
  ping_peer || rc=1
  ;;
esac
echo "NET-DONE $rc"
exit $rc
