# arm64-boot: Debian's arm64 kernel (linux-image-arm64, unmodified) boots to the initramfs
# with 1 and 2 vCPUs, sees that many CPUs (nproc), and its `poweroff -f` (PSCI SYSTEM_OFF)
# ends minivmm with status 0. Prints how long each boot took (minivmm start to exit).
. "$TESTS/lib.sh"
field() { tr -d '\r' < "$1" | sed -n "s/^$2 //p" | tail -1; }
for n in 1 2; do
  name=arm64-boot-$n log=$WORK/boot-$n.log
  t0=$(cut -d' ' -f1 /proc/uptime)
  boot_linux "$log" arm64 arm64-boot --cpus $n --memory 512M; rc=$?
  t1=$(cut -d' ' -f1 /proc/uptime)
  cp "$log" "$OUT/"
  echo "# $name: $(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}') s from start to exit, guest uptime at its script $(field "$log" GUEST-UPTIME) s"
  if [ $rc = 0 ] && expect_line "$log" MINIVMM-GUEST-READY && expect_line "$log" 'reboot: Power down' &&
     [ "$(field "$log" GUEST-ARCH)" = aarch64 ] && ! expect_line "$log" 'ARM64-STILL-RUNNING'; then
    ok "$name"
  else
    not_ok "$name" "minivmm status $rc (want 0 after 'reboot: Power down'), arch '$(field "$log" GUEST-ARCH)'"
    show_tail "$log" 25
  fi
  np=$(field "$log" GUEST-NPROC)
  if [ "$np" = $n ]; then ok "$name-nproc"; else not_ok "$name-nproc" "nproc '$np', want $n"; fi
done
