# arm64-smoke: the arm64 tiny guest (guests/tiny/arm64/hello.S) on an arm64 KVM, first on
# the VM and vCPU code alone (tests/arm64/vm-smoke: GICv3 + ITS, vGIC init, PSCI CPU_ON of
# vCPU 1, SYSTEM_OFF), then through minivmm run (the Image loader, the UART on MMIO, the
# device tree's address in x0): with 1 and 2 vCPUs each, status 0 after its last line.
. "$TESTS/lib.sh"
img=$ASSETS/tiny/hello-arm64.img
smoke=$(dirname "$MINIVMM")/tests/arm64/vm-smoke
# hello_ok NAME LOG RC NCPUS: status 0, the greeting, "cpu1 up" exactly when 2 vCPUs, "bye"
hello_ok() {
  _n=$1 _log=$2 _rc=$3 _cpus=$4
  _want1=0; [ "$_cpus" = 2 ] && _want1=1
  _got1=0; expect_line "$_log" '^cpu1 up' && _got1=1
  if [ "$_rc" = 0 ] && expect_line "$_log" '^hello from arm64, x0=[0-9a-f]{16}' &&
     expect_line "$_log" '^bye' && [ $_got1 = $_want1 ]; then
    ok "$_n"
  else
    not_ok "$_n" "status $_rc, cpu1 line $_got1 (want $_want1)"; show_tail "$_log"
  fi
}
for n in 1 2; do
  log=$WORK/smoke-$n.log
  with_timeout 60 "$smoke" "$img" $n > "$log" 2>&1; rc=$?
  cp "$log" "$OUT/"
  hello_ok "arm64-smoke-vm-$n" "$log" $rc $n
done
for n in 1 2; do
  log=$WORK/run-$n.log
  run_vmm "$log" --kernel "$img" --cpus $n --memory 128M; rc=$?
  cp "$log" "$OUT/"
  hello_ok "arm64-smoke-run-$n" "$log" $rc $n
done
