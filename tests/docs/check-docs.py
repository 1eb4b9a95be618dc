#!/usr/bin/env python3
"""check-docs.py - what README.md and docs/ name must exist in the tree.

    tests/docs/check-docs.py [--minivmm BUILD/minivmm]

For README.md, docs/*.md, tests/integration/README.md and guests/tiny/README.md
it checks that
  - every file or folder of the repository they name (in `code` or as a link)
    exists: a path from the top (`vmm/cli.c`, `tests/bench/boot.sh 5`), a path
    relative to the document, or a shorter name that ends a tracked path
    (`blk.c`, `x86/layout.h`); globs such as `virtio/blk.[ch]` must match;
  - every minivmm function they name (`cli_parse_run()`, `vm_irqfd`, ...) is
    still defined or used in the C sources, and so is every name written as a
    call (`handle_exit()`, `open()`), whatever its prefix;
  - every option row of the README's options table (`| --disk ...`), every
    option named on its own in `code` (`--trace`, `--on-reboot=restart`) and
    every option of a minivmm command line they show (`minivmm run ... --rng`)
    is in `minivmm --help` (FOREIGN lists the other programs' options the
    documents quote), and every `minivmm img VERB` they show is in
    `minivmm img --help`;
  - every script a README code block starts is there and executable.
Prints one "ok" / "not ok" line per document and per problem, and exits 1 if
anything is missing.
"""
import argparse
import fnmatch
import glob
import os
import re
import subprocess
import sys

TOP = ("vmm/", "boot/", "devices/", "virtio/", "guests/", "tests/", "docs/", "scripts/", ".ci/")
PATH_END = re.compile(r"\.(c|h|sh|md|py|build|inc|prep|post|S|ld)$")
# minivmm's own function prefixes: a name with one of these is ours, not the kernel's
# options of other programs that the documents quote on their own (fio,
# libseccomp, util-linux) and of the benchmark programs: not minivmm's
FOREIGN = {"--lat_percentiles", "--seccomp-bpf", "--user", "--chroot",
           "--quiet-depth", "--cost", "--publish", "--poll",  # tests/bench/blk-devmodel.c
           "--iodepth_batch_submit", "--iodepth_batch_complete_min"}  # fio
# a minivmm command line in a document: its options are minivmm's
MINIVMM_CMD = re.compile(r"(?:^|[\s/`])minivmm\s+(?:run|img)\b(.*)$", re.M)
OPTION = re.compile(r"--[a-z][a-z_-]*")
OURS = re.compile(r"^(vm|vcpu|pci|msix|virtio_pci|virtio_blk|virtio_net|virtio_rng|virtq|x86|gm|bus|"
                  r"blockdev|qcow2|raw|net|evloop|console|api|machine|cli|uart|i8042|rtc|acpi|"
                  r"acpi_pm|tap|stats|mptable|aml|device|ide|ata|e1000|iov)_[a-z0-9_]+$")


def tracked(repo):
    out = subprocess.run(["git", "-C", repo, "ls-files"], capture_output=True, text=True)
    files = out.stdout.split()
    if not files:   # not a git checkout: walk the tree
        for d, _, fs in os.walk(repo):
            if "/." in d or "/build" in d:
                continue
            files += [os.path.relpath(os.path.join(d, f), repo) for f in fs]
    dirs = {os.path.dirname(f) + "/" for f in files}
    for f in list(dirs):
        while f.count("/") > 1:
            f = f[: f.rstrip("/").rfind("/") + 1]
            dirs.add(f)
    return files, dirs


def expand(pat):
    """virtio/blk.[ch] and qcow2-clone.{prep,sh} into fnmatch patterns"""
    m = re.fullmatch(r"(.*)\.c/\.h", pat)    # "x.c/.h": both files
    if m:
        return [m.group(1) + ".c", m.group(1) + ".h"]
    m = re.search(r"\{([^}]*)\}", pat)
    if m:
        return [p for alt in m.group(1).split(",")
                for p in expand(pat[: m.start()] + alt + pat[m.end():])]
    return [pat]


def path_exists(tok, doc_dir, repo, files, dirs):
    for pat in expand(tok):
        # a program the build makes is named by its source (tests/disk/blkdump)
        cands = [pat, os.path.normpath(os.path.join(doc_dir, pat)), pat + ".c"]
        for c in cands:
            if any(ch in c for ch in "*?["):
                if [f for f in files if fnmatch.fnmatch(f, c)] or glob.glob(os.path.join(repo, c)):
                    break
            elif c in files or (c.rstrip("/") + "/") in dirs or os.path.exists(os.path.join(repo, c)):
                break
        else:
            if pat.startswith(TOP) or pat.startswith("../"):
                return False
            # a short name: it must end some tracked path
            suffix = "/" + pat.lstrip("./")
            if not any(fnmatch.fnmatch("/" + f, "*" + suffix) for f in files) and \
               not any(("/" + d).endswith(suffix.rstrip("/") + "/") for d in dirs):
                return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minivmm", default=None)
    a = ap.parse_args()
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    files, dirs = tracked(repo)
    sources = [os.path.join(repo, f) for f in files if f.endswith((".c", ".h"))]
    code = "".join(open(f, errors="replace").read() for f in sources)
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", code))
    helps = ""
    if a.minivmm:
        for args in (["--help"], ["img", "--help"]):
            r = subprocess.run([a.minivmm] + args, capture_output=True, text=True)
            helps += r.stdout + r.stderr

    docs = ["README.md", "tests/integration/README.md", "guests/tiny/README.md"] + sorted(
        os.path.relpath(p, repo) for p in glob.glob(os.path.join(repo, "docs", "*.md")))
    bad_total = 0
    for doc in docs:
        text = open(os.path.join(repo, doc)).read()
        doc_dir = os.path.dirname(doc)
        bad = []
        toks = re.findall(r"`([^`\n]+)`", text)
        links = [l for l in re.findall(r"\]\(([^)#\s]+)", text) if "://" not in l]
        for t in toks + links:
            first = t.split()[0] if t.split() else t
            if first in ("bash", "sh", "python3") and len(t.split()) > 1:
                first = t.split()[1]
            if "<" in first or first.startswith(("/", "$", "~", "-", "linux/", "sys/")):
                continue    # placeholders, host paths, system headers
            if re.fullmatch(r"\.[a-z]+", first):
                continue    # a file ending (".prep"), not a file
            if first.startswith(TOP) or first.startswith("../") or PATH_END.search(first):
                if not path_exists(first, doc_dir, repo, files, dirs):
                    bad.append("names %s, which is not in the tree" % first)
                continue
            m = re.fullmatch(r"([a-z_][a-z0-9_]*)\(.*\)", t)
            name = m.group(1) if m else (t if OURS.match(t) else None)
            if name and name not in words and (m or OURS.match(name)):
                bad.append("names the function %s, which no C source defines or uses" % name)
        if a.minivmm:
            for opt in re.findall(r"^\| `(--[a-z-]+)", text, re.M):
                if opt not in helps:
                    bad.append("lists the option %s, which minivmm --help does not" % opt)
            opts = [OPTION.match(t).group(0) for t in toks if OPTION.match(t)]
            for line in MINIVMM_CMD.findall(text):
                opts += OPTION.findall(line.split("`")[0])
            for opt in opts:
                if opt not in FOREIGN and not re.search(re.escape(opt) + r"\b", helps):
                    bad.append("names the option %s, which minivmm --help does not" % opt)
            for verb in re.findall(r"^\s+minivmm img ([a-z]+)", text, re.M):
                if "img " + verb not in helps and verb not in helps:
                    bad.append("shows 'minivmm img %s', which minivmm img --help does not" % verb)
        for line in re.findall(r"^    (\S.*)$", text, re.M):
            w = line.split()
            if w[0] in ("bash", "sh") and len(w) > 1:
                script, direct = w[1], False
            else:
                script, direct = w[0], True
            if not script.startswith(("scripts/", "tests/", "guests/")):
                continue
            p = os.path.join(repo, script)
            if not os.path.isfile(p):
                bad.append("runs %s, which is not in the tree" % script)
            elif direct and not os.access(p, os.X_OK):
                bad.append("runs %s directly, but it is not executable" % script)
        for b in sorted(set(bad)):
            print("not ok docs %s %s" % (doc, b))
        if not bad:
            print("ok docs %s (%d names checked)" % (doc, len(toks) + len(links)))
        bad_total += len(set(bad))
    return 1 if bad_total else 0


if __name__ == "__main__":
    sys.exit(main())
