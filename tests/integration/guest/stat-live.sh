# stat-live: keep the virtio-blk disk busy for a while (uncached reads of the whole
# disk, again and again) so that the host can watch the guest with `minivmm stat`.
i=0
while [ ! -b /dev/vda ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
[ -b /dev/vda ] || { echo "STAT-LIVE-NO-DISK"; exit 1; }
echo "STAT-LIVE-READY"
end=$(( $(date +%s) + ${STAT_LIVE_SECONDS:-10} ))
n=0
while [ "$(date +%s)" -lt $end ]; do
  echo 3 > /proc/sys/vm/drop_caches
  dd if=/dev/vda of=/dev/null bs=64k 2>/dev/null || { echo "STAT-LIVE-READ-ERROR"; exit 1; }
  n=$((n + 1))
done
echo "STAT-LIVE-PASSES $n"
exit 0
