# smp-generic: Debian's generic kernel with --cpus 2 and --cpus 4 (see smp.inc).
. "$TESTS/cases/smp.inc"
smp_boot generic 2
smp_boot generic 4
