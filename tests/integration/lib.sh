# lib.sh — helpers for integration test cases (busybox sh; source with . "$TESTS/lib.sh").
# The contract (variables, helpers, the guest /init) is in tests/integration/README.md.

: "${BOOT_TIMEOUT:=240}"
: "${GUEST_MODULES:=virtio_pci,virtio_blk,virtio_net,virtio_rng}"
: "${GUEST_CMDLINE:=}"
: "${WORK:=${TMPDIR:-/tmp}}"

ok() { echo "ok $*"; }
not_ok() { _n=$1; shift; echo "not ok $_n - $*"; }

# check NAME CMD...: ok if CMD succeeds
check() { _n=$1; shift; if "$@"; then ok "$_n"; else not_ok "$_n" "failed: $*"; fi; }

# with_timeout SECS CMD...: run CMD (stdin from /dev/null); after SECS send it SIGTERM,
# 3 s later SIGKILL; the status is 124 if it had to be stopped, else CMD's. (The watchdog's
# fds point to /dev/null so a leftover sleep never holds a pipe of the caller open.)
with_timeout() {
  _secs=$1; shift
  _flag=$(mktemp "$WORK/.timeout.XXXXXX"); rm -f "$_flag"
  "$@" </dev/null &
  _pid=$!
  ( sleep "$_secs"; if kill -TERM "$_pid" 2>/dev/null; then : > "$_flag"; sleep 3; kill -KILL "$_pid" 2>/dev/null; fi ) >/dev/null 2>&1 </dev/null &
  _wd=$!
  wait "$_pid"; _rc=$?
  kill "$_wd" 2>/dev/null; wait "$_wd" 2>/dev/null
  if [ -e "$_flag" ]; then rm -f "$_flag"; _rc=124; fi
  return $_rc
}

# run_vmm LOG [minivmm run options...]: run minivmm under $BOOT_TIMEOUT, everything it and
# the guest print (stdout+stderr) into LOG (first line: the command); returns its status.
run_vmm() {
  _log=$1; shift
  echo "+ minivmm run $*" > "$_log"
  with_timeout "$BOOT_TIMEOUT" "$MINIVMM" run "$@" >>"$_log" 2>&1
  _rc=$?
  [ $_rc = 124 ] && echo "+ TIMEOUT after ${BOOT_TIMEOUT}s" >> "$_log"
  echo "+ exit status $_rc" >> "$_log"
  return $_rc
}

# boot_linux LOG FLAVOUR GUESTSCRIPT [minivmm options...]
#   FLAVOUR: generic | cloud | cloud-pvh (the cloud kernel as ELF vmlinux through PVH).
#   GUESTSCRIPT: name of tests/integration/guest/<name>.sh, or - for none (a shell).
#   INITRD=path overrides the initramfs (e.g. $ASSETS/cloud/initramfs-tools.cpio.gz).
boot_linux() {
  _log=$1 _fl=$2 _gs=$3; shift 3
  case $_fl in
    cloud-pvh) _k=$ASSETS/cloud/vmlinux; _i=$ASSETS/cloud/initramfs.cpio.gz;;
    *) _k=$ASSETS/$_fl/vmlinuz; _i=$ASSETS/$_fl/initramfs.cpio.gz;;
  esac
  [ -n "${INITRD:-}" ] && _i=$INITRD
  _c="console=ttyS0 reboot=k panic=-1 minivmm.modules=$GUEST_MODULES"
  [ "$_gs" = - ] || _c="$_c minivmm.run=$_gs"
  [ -n "$GUEST_CMDLINE" ] && _c="$_c $GUEST_CMDLINE"
  run_vmm "$_log" --kernel "$_k" --initrd "$_i" --cmdline "$_c" "$@"
}

# expect_line LOG REGEX: a line of LOG (carriage returns removed) matches the extended REGEX
expect_line() { tr -d '\r' < "$1" | grep -Eq -- "$2"; }

# guest_status LOG: the N of the last "MINIVMM-GUEST-EXIT N", or nothing
guest_status() { tr -d '\r' < "$1" | sed -n 's/.*MINIVMM-GUEST-EXIT \([0-9][0-9]*\).*/\1/p' | tail -1; }

# show_tail LOG [N]: the last N lines of LOG, indented (so they never count as results)
show_tail() { tr -d '\r' < "$1" | tail -n "${2:-15}" | sed 's/^/    | /'; }

# boot_ok NAME LOG RC: ok if minivmm exited 0, the guest got ready and its script exited 0
boot_ok() {
  _n=$1 _log=$2 _rc=$3
  if [ "$_rc" != 0 ]; then
    not_ok "$_n" "minivmm exit status $_rc"; show_tail "$_log"; return 1
  elif ! expect_line "$_log" 'MINIVMM-GUEST-READY'; then
    not_ok "$_n" "no MINIVMM-GUEST-READY on the console"; show_tail "$_log"; return 1
  elif [ "$(guest_status "$_log")" != 0 ]; then
    not_ok "$_n" "guest script status '$(guest_status "$_log")'"; show_tail "$_log"; return 1
  fi
  ok "$_n"
}
