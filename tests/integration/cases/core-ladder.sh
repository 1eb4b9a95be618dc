# core-ladder: the ladder of tiny guests (guests/tiny/README.md) in the KVM session, for a
# machine whose own /dev/kvm cannot run them (run.sh runs them natively otherwise).
# run.sh copies tests/tiny/ladder.sh, the guests and the expected traces to $ASSETS/ladder.
L=$ASSETS/ladder
TMPDIR=${WORK:-/tmp} sh "$L/ladder.sh" --minivmm "$MINIVMM" --guests "$L/guests" --expected "$L/expected"
