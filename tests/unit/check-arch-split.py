#!/usr/bin/env python3
"""check-arch-split.py - the shared code includes no architecture's header.

    tests/unit/check-arch-split.py [SOURCE_ROOT]

Every .c and .h file of vmm/, devices/ and virtio/ outside their x86/ and
arm64/ subfolders is followed through its #include "..." lines (resolved
next to the including file, then from the top of the tree, as the build
does); a file reached under an x86/ or arm64/ folder is reported with the
chain of includes that leads to it. Exit 0 when there is none, 1 otherwise.
"""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), '..', '..'))
SHARED = ('vmm', 'devices', 'virtio')
ARCH_DIRS = ('x86', 'arm64')
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def is_arch(rel):
    return any(part in ARCH_DIRS for part in rel.split(os.sep)[:-1])


def resolve(name, from_rel):
    for base in (os.path.dirname(from_rel), ''):
        rel = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(os.path.join(ROOT, rel)):
            return rel
    return None  # a system or generated header: not ours


def first_leak(rel, seen, chain):
    with open(os.path.join(ROOT, rel), encoding='utf-8') as f:
        text = f.read()
    for name in INCLUDE.findall(text):
        inc = resolve(name, rel)
        if inc is None or inc in seen:
            continue
        seen.add(inc)
        if is_arch(inc):
            return chain + [inc]
        leak = first_leak(inc, seen, chain + [inc])
        if leak:
            return leak
    return None


def main():
    bad = 0
    for top in SHARED:
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            for fn in sorted(files):
                rel = os.path.relpath(os.path.join(d, fn), ROOT)
                if not fn.endswith(('.c', '.h')) or is_arch(rel):
                    continue
                leak = first_leak(rel, {rel}, [rel])
                if leak:
                    print('not ok arch-split %s includes %s' %
                          (rel, ' -> '.join(leak[1:])))
                    bad += 1
    if not bad:
        print('ok arch-split vmm/, devices/ and virtio/ include no x86/ or arm64/ header')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
