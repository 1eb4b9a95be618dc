# qcow2-crash: crash safety of the qcow2 backend. N rounds (CRASH_ROUNDS,
# default 5) boot the cloud kernel with two qcow2 disks made by minivmm (.prep): a
# (standalone, 4 KiB clusters) and b (64 KiB clusters over a compressed backing file).
# The guest (guest/qcow2-crash.sh) writes 16 KiB batches of self-describing records to
# both with O_DIRECT and a flush after each, printing "CRASH-FLUSHED T R S" after the
# flush returned, plus unflushed discard + rewrite noise (so I/O is nearly always in
# flight). A random 2-8 s after the guest started writing, minivmm gets SIGKILL (where
# its two virtio-blk threads were is logged from /proc/TID/wchan). Then, per round:
#   check  qemu-img check of both images: status 0, or 3 (leaked clusters only);
#   data   each image read by qemu-img (convert -O raw) equals the expected content:
#          the backing data (b) or zeros (a), overwritten by every batch any round
#          reported flushed, in order (later rounds reuse slots of earlier ones, so
#          records of round R are checked again after every later crash). Batches
#          after the last reported one may have landed (the guest starts S+1 only once
#          S is flushed, so they are followed in order up to the first one that did
#          not land whole): each 512-byte sector of it must hold the old or the new
#          content (never garbage), and what is there is expected from then on. The
#          noise area is taken as found; every other byte must be as expected.
#   reread (rounds >= 2) the guest's md5 of each whole disk, read by minivmm at boot
#          right after a crash, equals the md5 of what qemu-img read after that crash.
# Then a summary line (rounds done and their seconds, the disk threads at each kill,
# batches verified, leak reports); ok if nothing failed and at least 3 rounds ran (a
# round that might not end within CRASH_BUDGET s, default 280, is not started).
# Odd rounds use the default aio=io_uring, even rounds aio=sync (the synchronous
# path), on the same images.
# The final images go to $OUT for .post (the build host's qemu-img, minivmm img check).
. "$TESTS/lib.sh"
CRASH_LIB=1 . "$TESTS/guest/qcow2-crash.sh"
A=$ASSETS/qcow2-crash
N=${CRASH_ROUNDS:-5}
BUDGET=${CRASH_BUDGET:-280}   # seconds: start no round that may end later (case timeout 300)
t0=$(date +%s)
for f in a.qcow2 b.qcow2 base.qcow2; do
  cp "$A/$f" "$WORK/" || { not_ok qcow2-crash "no $A/$f (qcow2-crash.prep failed?)"; exit 0; }
done
for t in a b; do
  qemu-img convert -O raw "$WORK/$t.qcow2" "$WORK/$t.exp" ||
    { not_ok qcow2-crash "cannot read $t.qcow2 with qemu-img"; exit 0; }
done

# rand LO HI: a number in LO..HI
rand() { echo $(( $1 + $(od -An -N2 -tu2 /dev/urandom) % ($2 - $1 + 1) )); }

# verify T R: bring $WORK/T.exp up to date with round R and compare it with the image
verify() {
  _t=$1 _r=$2 _log=$WORK/round$2.log
  _last=$(tr -d '\r' < "$_log" | sed -n "s/^CRASH-FLUSHED $_t $_r \([0-9]*\)\$/\1/p" | sort -n | tail -1)
  [ -n "$_last" ] || _last=-1
  eval "last_$_t=$_last"
  verified=$((verified + _last + 1))
  _raw=$WORK/$_t.raw _exp=$WORK/$_t.exp
  rm -f "$_raw"
  if ! qemu-img convert -O raw "$WORK/$_t.qcow2" "$_raw" 2> "$WORK/convert.err"; then
    data_why="$data_why $_t: qemu-img convert failed: $(head -1 "$WORK/convert.err");"
    return 1
  fi
  eval "md5_$_t=\$(md5sum < \"\$_raw\" | cut -d' ' -f1)"
  # the flushed batches, in order
  _s=0
  while [ $_s -le $_last ]; do
    crash_slot $_r $_s
    crash_batch $_t $_r $_s $CRASH_SLOT "$WORK/batch"
    dd if="$WORK/batch" of="$_exp" bs=16384 seek=$CRASH_SLOT conv=notrunc 2>/dev/null
    _s=$((_s + 1))
  done
  # the batches after the last reported one: the writer starts batch S+1 only once S
  # is written and flushed, so go on while a batch has fully landed; each sector of a
  # landed or torn batch must be old or new, and what is there is expected from now on
  _rc=0 _s=$((_last + 1))
  while [ $_s -le $((_last + 1000)) ]; do
    crash_slot $_r $_s
    dd if="$_raw" of="$WORK/act" bs=16384 skip=$CRASH_SLOT count=1 2>/dev/null
    dd if="$_exp" of="$WORK/old" bs=16384 skip=$CRASH_SLOT count=1 2>/dev/null
    cmp -s "$WORK/act" "$WORK/old" && break
    crash_batch $_t $_r $_s $CRASH_SLOT "$WORK/new"
    dd if="$WORK/act" of="$_exp" bs=16384 seek=$CRASH_SLOT conv=notrunc 2>/dev/null
    cmp -s "$WORK/act" "$WORK/new" && { inflight=$((inflight + 1)); _s=$((_s + 1)); continue; }
    torn=$((torn + 1))
    _bad=$({ cmp -l "$WORK/act" "$WORK/old" | sed 's/^/o /'; cmp -l "$WORK/act" "$WORK/new" | sed 's/^/n /'; } |
           awk '{ s = int(($2 - 1) / 512); if ($1 == "o") o[s] = 1; else n[s] = 1 }
                END { c = 0; for (s in o) if (s in n) c++; print c }')
    if [ "$_bad" != 0 ]; then
      data_why="$data_why $_t: unflushed batch $_s (slot $CRASH_SLOT) left $_bad sectors that are neither old nor new: '$(head -c 40 "$WORK/act" | tr -c '[:print:]' '?')';"
      _rc=1
    fi
    break
  done
  # the noise area (slots 3072..4095) as found
  dd if="$_raw" of="$_exp" bs=1048576 skip=48 seek=48 count=16 conv=notrunc 2>/dev/null
  # everything else as expected (cmp only to say where, when it is not)
  if [ "$(md5sum < "$_exp" | cut -d' ' -f1)" != "$(eval echo \$md5_$_t)" ]; then
    _rc=1 _n=0
    for _d in $(cmp -l "$_raw" "$_exp" | awk '{ s = int(($1 - 1) / 16384); if (s != p) { if (++n > 3) exit; print s; p = s } }'); do
      dd if="$_raw" of="$WORK/act" bs=16384 skip=$_d count=1 2>/dev/null
      dd if="$_exp" of="$WORK/old" bs=16384 skip=$_d count=1 2>/dev/null
      _o=$(cmp "$WORK/act" "$WORK/old" | sed -n 's/.*differ: char \([0-9]*\).*/\1/p')
      _o=$(( (_o - 1) / 64 * 64 ))
      data_why="$data_why $_t: slot $_d at +$_o has '$(dd if="$WORK/act" bs=1 skip=$_o count=40 2>/dev/null | tr -c '[:print:]' '?')', expected '$(dd if="$WORK/old" bs=1 skip=$_o count=40 2>/dev/null | tr -c '[:print:]' '?')';"
    done
  fi
  # from now on expect what is there (a corruption is reported once, not every round)
  mv -f "$_raw" "$_exp"
  return $_rc
}

verified=0 inflight=0 torn=0 leaks=0 failed=0 done_rounds=0 rtimes= busy= maxr=0
R=1
while [ $R -le $N ]; do
  if [ $(( $(date +%s) - t0 + maxr * 13 / 10 )) -gt "$BUDGET" ]; then
    echo "# qcow2-crash: no time for round $R in ${BUDGET}s (the longest round took ${maxr}s)"; break
  fi
  rs=$(date +%s)
  log=$WORK/round$R.log
  md5=0; [ $R -gt 1 ] && md5=1
  cmd="console=ttyS0 reboot=k panic=-1 quiet minivmm.modules=virtio_pci,virtio_blk minivmm.run=qcow2-crash minivmm.round=$R minivmm.md5=$md5"
  aio=io_uring; [ $((R % 2)) = 0 ] && aio=sync
  echo "+ minivmm run (round $R, aio=$aio) --cmdline '$cmd'" > "$log"
  "$MINIVMM" run --kernel "$ASSETS/cloud/vmlinuz" --initrd "$ASSETS/cloud/initramfs.cpio.gz" \
    --cmdline "$cmd" --disk "$WORK/a.qcow2,format=qcow2,serial=crash-a,aio=$aio" \
    --disk "$WORK/b.qcow2,format=qcow2,serial=crash-b,aio=$aio" >>"$log" 2>&1 </dev/null &
  pid=$!
  t=0
  while [ $t -lt $((BOOT_TIMEOUT * 5)) ] && kill -0 $pid 2>/dev/null && ! expect_line "$log" "^CRASH-WRITING $R"; do
    sleep 0.2; t=$((t + 1))
  done
  if ! expect_line "$log" "^CRASH-WRITING $R" || ! kill -0 $pid 2>/dev/null; then
    kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
    not_ok qcow2-crash-r$R-boot "the guest never started writing (or minivmm exited)"; show_tail "$log"
    failed=1; break
  fi
  d=$(rand 2000 8000)
  sleep $((d / 1000)).$((d % 1000 / 100))$((d % 100 / 10))$((d % 10))
  alive=1; kill -0 $pid 2>/dev/null || alive=0
  # where minivmm's disk threads are at the kill (/proc/TID/wchan: 0 = running, else
  # the function it sleeps in; do_epoll_wait = idle), shell builtins only
  io=
  for tk in /proc/$pid/task/*; do
    read -r cm 2>/dev/null < $tk/comm; [ "$cm" = virtio-blk ] || continue
    read -r wc 2>/dev/null < $tk/wchan
    case $wc in 0) wc=running;; do_epoll_wait|ep_poll) wc=idle;; esac
    io="${io:+$io/}$wc"
  done
  kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null; st=$?
  [ $st = 137 ] || alive=0     # not killed by us: it had ended by itself
  busy="$busy ${io:--}"
  echo "+ SIGKILL after ${d} ms (status $st, disk threads: ${io:-not seen})" >> "$log"
  cp "$log" "$OUT/" 2>/dev/null
  if [ $alive = 0 ] || expect_line "$log" '^CRASH-(WRITE-ERROR|WRITERS-STOPPED)'; then
    not_ok qcow2-crash-r$R-boot "minivmm or the writers stopped before the kill"; show_tail "$log"
    failed=1; break
  fi
  # check
  why=
  for tg in a b; do
    qemu-img check "$WORK/$tg.qcow2" > "$WORK/check.$tg" 2>&1; rc=$?
    case $rc in
      0) ;;
      3) leaks=$((leaks + 1)) ;;
      *) why="$why $tg: qemu-img check status $rc: $(grep -v '^$' "$WORK/check.$tg" | head -4 | tr '\n' ' ');"
         cp "$WORK/$tg.qcow2" "$OUT/$tg-round$R.qcow2" 2>/dev/null ;;
    esac
  done
  if [ -z "$why" ]; then ok qcow2-crash-r$R-check
  else not_ok qcow2-crash-r$R-check "$why"; failed=1; fi
  # reread: what minivmm read at this boot = what qemu-img read after the last crash
  if [ $R -gt 1 ]; then
    why=
    for tg in a b; do
      g=$(tr -d '\r' < "$log" | sed -n "s/^CRASH-MD5 $tg \([0-9a-f]*\)\$/\1/p" | tail -1)
      eval "h=\$md5_$tg"
      [ -n "$g" ] && [ "$g" = "$h" ] || why="$why $tg: guest md5 '$g', qemu-img '$h';"
    done
    if [ -z "$why" ]; then ok qcow2-crash-r$R-reread
    else not_ok qcow2-crash-r$R-reread "$why"; failed=1; fi
  fi
  # data
  data_why=
  verify a $R; va=$?
  verify b $R; vb=$?
  if [ $va = 0 ] && [ $vb = 0 ] && [ -z "$data_why" ]; then
    ok qcow2-crash-r$R-data "aio=$aio, kill after $d ms (disk threads: ${io:-not seen}); flushed batches a=$((last_a + 1)) b=$((last_b + 1))"
  else
    not_ok qcow2-crash-r$R-data "kill after $d ms:$data_why"; failed=1
  fi
  [ $last_a -ge 0 ] && [ $last_b -ge 0 ] ||
    { not_ok qcow2-crash-r$R-writes "no flushed batch on a disk before the kill (a=$((last_a + 1)) b=$((last_b + 1)))"; failed=1; }
  done_rounds=$R
  rt=$(( $(date +%s) - rs )); rtimes="$rtimes $rt"; [ $rt -gt $maxr ] && maxr=$rt
  R=$((R + 1))
done
for tg in a b; do cp "$WORK/$tg.qcow2" "$OUT/" 2>/dev/null; done
cp "$WORK/base.qcow2" "$OUT/" 2>/dev/null
msg="$done_rounds rounds (s:$rtimes), disk threads at the kills:$busy; $verified flushed batches checked, unflushed batches found landed $inflight, torn $torn, $leaks checks with leaks"
if [ $failed = 0 ] && [ $done_rounds -ge 3 ]; then
  ok qcow2-crash-summary "$msg"
else
  not_ok qcow2-crash-summary "$msg"
fi
