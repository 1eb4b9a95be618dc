# smp-cloud: Debian's cloud kernel (no MP table parser: ACPI only) with --cpus 2 and
# --cpus 4 (see smp.inc).
. "$TESTS/cases/smp.inc"
smp_boot cloud 2
smp_boot cloud 4
