#!/usr/bin/env python3
"""check-excerpts.py - the --trace excerpts of the teaching pages are still
what minivmm prints.

    tests/docs/check-excerpts.py MINIVMM GUEST...

GUEST: the built tiny guests (build/guests/*.bin, *.bzimage). Runs the ladder
of guests/tiny/README.md on this machine's /dev/kvm with --trace, plus the
two other runs the pages show (hello64.bzimage with --rng; the virtio-blk
rung with --ioeventfd=off --trace=mmio), and checks that every
"minivmm: trace:" line quoted in an indented block of DOCS appears in the
output of one of them. Times are left out of the comparison (the time since
the trace started, the handler's time in parentheses), and so is anything the
guest printed on the same line before it. A change to the --trace format then
fails here until the excerpts are refreshed from new runs.

Prints one "ok" / "not ok" line per document; exits 0 when all lines were
found, 1 otherwise, 77 (skipped) without a usable /dev/kvm unless CI=true.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

DOCS = ["docs/walkthrough.md", "docs/adding-a-device.md", "guests/tiny/README.md"]


def norm(line):
    line = line[line.find("minivmm: trace:"):]
    line = re.sub(r"^minivmm: trace:\s+\d+\.\d+\s", "minivmm: trace: ", line)
    return re.sub(r"\s\(\d+(\.\d+)?(ns|us|ms|s)\)\s*$", "", line).rstrip()


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    minivmm = sys.argv[1]
    guests = {os.path.basename(p): p for p in sys.argv[2:]}
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    tmp = tempfile.mkdtemp(prefix="check-excerpts.")
    try:
        return check(minivmm, guests, repo, tmp)
    finally:
        shutil.rmtree(tmp)


def check(minivmm, guests, repo, tmp):
    disk = os.path.join(tmp, "s0.img")
    with open(disk, "w") as f:
        f.write("hello from sector 0 of the disk")
    blk = ["--kernel", guests.get("virtio-blk.bzimage", "?"),
           "--disk", disk + ",format=raw,readonly=on"]
    runs = [(["--firmware", guests.get(g + ".bin", "?")], b"")
            for g in ("hello16", "protected", "longmode")]
    runs += [(["--kernel", guests.get(g + ".bzimage", "?")], b"")
             for g in ("mmio", "timer", "hello64")]
    runs += [(["--kernel", guests.get("uart-rx.bzimage", "?")], b"x"),
             (blk + ["--stats"], b""),
             (["--kernel", guests.get("hello64.bzimage", "?"), "--rng"], b""),
             (blk + ["--ioeventfd=off"], b"")]
    seen = set()
    for args, stdin in runs:
        trace = ["--trace=mmio"] if "--ioeventfd=off" in args else ["--trace"]
        r = subprocess.run([minivmm, "run"] + args + trace, input=stdin,
                           capture_output=True, timeout=60)
        err = r.stderr.decode(errors="replace")
        if r.returncode != 0:
            if "/dev/kvm" in err and os.environ.get("CI") != "true":
                print("1..0 # SKIP no usable /dev/kvm: " + err.splitlines()[0])
                return 77
            print("not ok excerpts - minivmm run %s exited %d: %s" %
                  (" ".join(args), r.returncode, err.strip().splitlines()[-1:]))
            return 1
        seen.update(norm(l) for l in err.splitlines() if "minivmm: trace:" in l)

    bad = 0
    for doc in DOCS:
        missing = []
        for line in open(os.path.join(repo, doc)).read().splitlines():
            if line.startswith("    ") and "minivmm: trace:" in line:
                if norm(line[4:]) not in seen:
                    missing.append(line.strip())
        for m in missing:
            print("not ok excerpts %s quotes a --trace line no run printed: %s" % (doc, m))
        if not missing:
            print("ok excerpts %s" % doc)
        bad += len(missing)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
