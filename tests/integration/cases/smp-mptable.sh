# smp-mptable: the MP table alone. The generic kernel (CONFIG_X86_MPPARSE=y) with acpi=off
# finds its 2 CPUs through the MP floating pointer in the EBDA.
. "$TESTS/cases/smp.inc"
name=smp-mptable
log=$WORK/$name.log
GUEST_CMDLINE="acpi=off"
boot_linux "$log" generic smp-check --cpus 2; rc=$?
cp "$log" "$OUT/" 2>/dev/null
if boot_ok "$name-boot" "$log" $rc; then
  np=$(field "$log" SMP-NPROC) ran=$(field "$log" SMP-RAN)
  if [ "$np" = 2 ] && [ "$ran" = 2 ] && expect_line "$log" 'Intel MultiProcessor Specification v1\.4'; then
    ok "$name"
  else
    not_ok "$name" "nproc '$np', CPUs that ran the job '$ran' (want 2, and the MP table found)"
  fi
else
  not_ok "$name" "no boot"
fi
