#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/disk/run.sh [BUILD_DIR/tests/disk] - minivmm's disk backends against
# qemu-img as a peer (only the tests use qemu-img):
#   - images made by qemu-img (clusters 512 B / 64 KiB / 2 MiB, compat 0.10
#     and 1.1, lazy refcounts, deflate and zstd compressed clusters, zero
#     clusters, backing files, internal snapshots, refcount widths 1..64
#     bits) read byte for byte like `qemu-img convert -O raw`;
#   - random writes/discards/write-zeroes/flushes through the backend leave
#     images that `qemu-img check` finds clean and `qemu-img compare` finds
#     equal to the expected content (also for `minivmm img create` images);
#   - malformed images are refused with an error, never a crash; tables
#     pointing at other metadata are refused, and a write that would land
#     on metadata fails without changing a byte of the image;
#   - crash safety: a writer killed with SIGKILL at random points leaves an
#     image qemu-img check finds uncorrupted (leaks allowed) in which every
#     flushed write reads back intact.
# Prints "ok N - name" / "not ok N - name" lines and "N passed, N failed".
# Env: DISK_CRASH_RUNS (default 20).
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../../build-disk/tests/disk}
bin=$(cd "$bin" && pwd)
BLK=$bin/blkdump
IMG=$bin/minivmm-img
T=$(mktemp -d /tmp/minivmm-disk.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
pass=0 fail=0 n=0
ok() { n=$((n+1)); pass=$((pass+1)); echo "ok $n - $*"; }
nok() { n=$((n+1)); fail=$((fail+1)); echo "not ok $n - $*"; }

command -v qemu-img >/dev/null || { echo "qemu-img not found (apt-get install qemu-utils)"; exit 1; }

# write bytes (hex string "00ff..") at offset into file
poke() { printf "$(echo "$3" | sed 's/\(..\)/\\x\1/g')" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
peek64() { od -A n -t x1 -j "$2" -N 8 "$1" | tr -d ' \n'; }

# source content: random data, a zero hole and a tail
head -c 6M /dev/urandom > src.raw
truncate -s 8M src.raw
head -c 3M /dev/urandom >> src.raw
truncate -s 12M src.raw

same_as_qemu() { # image [label]
	qemu-img convert -O raw "$1" exp.raw 2>/dev/null || { nok "${2:-$1}: qemu-img convert"; return; }
	if "$BLK" ${BLKOPTS:-} -f qcow2 read "$1" got.raw && cmp -s got.raw exp.raw; then
		ok "read ${2:-$1} same as qemu-img"
	else
		nok "read ${2:-$1} differs from qemu-img"
	fi
}

rw_check() { # image seed count [label]
	local f=$1 label=${4:-$1}
	qemu-img convert -O raw "$f" ref.raw
	if ! "$BLK" -f qcow2 rw "$f" ref.raw "$2" "$3"; then nok "rw $label: backend error"; return; fi
	local out rc
	out=$(qemu-img check "$f" 2>&1); rc=$?
	if [ $rc -ne 0 ]; then nok "rw $label: qemu-img check rc=$rc: $(echo "$out" | head -3 | tr '\n' ' ')"; return; fi
	if ! qemu-img compare -q -f qcow2 -F raw "$f" ref.raw; then nok "rw $label: content differs"; return; fi
	"$IMG" check "$f" >/dev/null; rc=$?
	if [ $rc -ne 0 ]; then nok "rw $label: minivmm img check rc=$rc"; return; fi
	ok "rw $label: qemu-img check clean, content equal"
}

# ---- peer images made by qemu-img ----
for cs in 512 64K 2M; do
	for compat in 0.10 1.1; do
		qemu-img convert -O qcow2 -o cluster_size=$cs,compat=$compat src.raw "p-$cs-$compat.qcow2"
		same_as_qemu "p-$cs-$compat.qcow2"
	done
done
qemu-img convert -O qcow2 -o lazy_refcounts=on src.raw lazy.qcow2 && same_as_qemu lazy.qcow2
qemu-img convert -c -O qcow2 src.raw comp.qcow2 && same_as_qemu comp.qcow2 "compressed (deflate)"
qemu-img convert -c -O qcow2 -o compression_type=zstd src.raw zstd.qcow2 && same_as_qemu zstd.qcow2 "compressed (zstd)"
qemu-img convert -c -O qcow2 -o cluster_size=4K,compat=0.10 src.raw comp2.qcow2 && same_as_qemu comp2.qcow2 "compressed v2 4K"
qemu-img convert -O qcow2 src.raw zero.qcow2
qemu-io -f qcow2 -c 'write -z 1M 3M' -c 'write -z -u 4M 1M' -c 'write -z 100k 10k' zero.qcow2 >/dev/null && same_as_qemu zero.qcow2 "zero clusters"
qemu-img convert -O qcow2 src.raw base.qcow2
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 over.qcow2
qemu-io -f qcow2 -c 'write -P 0x11 2M 300k' -c 'write -z 5M 1M' over.qcow2 >/dev/null && same_as_qemu over.qcow2 "backing file (qcow2)"
head -c 5M /dev/urandom > short.raw
qemu-img create -q -f qcow2 -b short.raw -F raw overs.qcow2 12M && same_as_qemu overs.qcow2 "short raw backing"
head -c 1000 /dev/urandom > odd.raw
qemu-img create -q -f qcow2 -b odd.raw -F raw overodd.qcow2 1M && same_as_qemu overodd.qcow2 "raw backing of 1000 bytes"
qemu-img create -q -f qcow2 -b over.qcow2 -F qcow2 over2.qcow2 && same_as_qemu over2.qcow2 "backing chain of 3"
mkdir -p sub && qemu-img create -q -f qcow2 -b ../base.qcow2 -F qcow2 sub/rel.qcow2 && BLKOPTS="-B ." same_as_qemu sub/rel.qcow2 "relative backing path (../, its directory allowed)"
qemu-img convert -O qcow2 src.raw snap.qcow2 && qemu-img snapshot -c s1 snap.qcow2
qemu-io -f qcow2 -c 'write -P 0x22 1M 2M' snap.qcow2 >/dev/null && same_as_qemu snap.qcow2 "internal snapshot"
for rb in 1 2 4 8 32 64; do
	qemu-img create -q -f qcow2 -o refcount_bits=$rb,cluster_size=4K "rb$rb.qcow2" 16M
	qemu-io -f qcow2 -c 'write -P 0x33 0 1M' "rb$rb.qcow2" >/dev/null
	same_as_qemu "rb$rb.qcow2" "refcount_bits=$rb"
done
# raw through the backend
"$BLK" -f raw read src.raw got.raw && cmp -s got.raw src.raw && ok "raw read" || nok "raw read"
"$BLK" -n -f raw read src.raw got.raw && cmp -s got.raw src.raw && ok "raw read cache=none" || nok "raw read cache=none"
"$BLK" -n -f qcow2 read comp.qcow2 got.raw && cmp -s got.raw src.raw && ok "qcow2 read cache=none" || nok "qcow2 read cache=none"

# ---- writes through the backend ----
i=0
for f in p-512-0.10 p-512-1.1 p-64K-0.10 p-64K-1.1 p-2M-0.10 p-2M-1.1 lazy comp zstd comp2 zero over overs overodd over2 snap rb1 rb2 rb4 rb8 rb32 rb64; do
	i=$((i+1))
	rw_check "$f.qcow2" $i 300
done
qemu-img convert -O raw -l snapshot.name=s1 snap.qcow2 s1.raw 2>/dev/null
cmp -s s1.raw src.raw && ok "snapshot s1 unchanged after writes" || nok "snapshot s1 changed by writes"
qemu-img convert -O raw base.qcow2 b.raw; cmp -s b.raw src.raw && ok "backing file unchanged" || nok "backing file changed"

# raw writes through the backend
cp src.raw w.raw; cp src.raw wref.raw
if "$BLK" -f raw rw w.raw wref.raw 99 300 && cmp -s w.raw wref.raw; then ok "raw rw"; else nok "raw rw"; fi
if "$BLK" -n -f raw rw w.raw wref.raw 98 300 && cmp -s w.raw wref.raw; then ok "raw rw cache=none"; else nok "raw rw cache=none"; fi

# ---- images made by minivmm img ----
"$IMG" create own.qcow2 16M >/dev/null && rw_check own.qcow2 50 400 "img create 64K"
"$IMG" create -o cluster_size=512 own512.qcow2 40M >/dev/null && rw_check own512.qcow2 51 400 "img create 512 (refcount table grows)"
"$IMG" create -o cluster_size=2M own2m.qcow2 64M >/dev/null && rw_check own2m.qcow2 52 200 "img create 2M"
"$IMG" create -o refcount_bits=1,cluster_size=4096 own1.qcow2 16M >/dev/null && rw_check own1.qcow2 53 300 "img create refcount_bits=1"
"$IMG" create -b base.qcow2 -F qcow2 ownb.qcow2 >/dev/null && rw_check ownb.qcow2 54 300 "img create -b (size from backing)"
"$IMG" create -b src.raw -F raw ownr.qcow2 20M >/dev/null && rw_check ownr.qcow2 55 300 "img create -b raw, larger than backing"
"$BLK" -n -f qcow2 rw own.qcow2 ref.raw 56 200 2>/dev/null; qemu-img convert -O raw own.qcow2 ref.raw
"$BLK" -n -f qcow2 rw own.qcow2 ref.raw 57 200 && qemu-img check -q own.qcow2 && qemu-img compare -q own.qcow2 ref.raw && ok "qcow2 rw cache=none" || nok "qcow2 rw cache=none"
"$IMG" create -f raw r.img 3M >/dev/null && [ "$(stat -c %s r.img)" = 3145728 ] && ok "img create raw" || nok "img create raw"
out=$("$IMG" info ownb.qcow2) && echo "$out" | grep -q "backing file: base.qcow2" && echo "$out" | grep -q "virtual size: 12 MiB" && ok "img info shows backing and size" || nok "img info: $out"
qemu-img info ownb.qcow2 | grep -q "backing file format: qcow2" && ok "qemu-img reads img create's backing format" || nok "backing format extension"

# ---- backing files: only inside the allowed directories, format known ----
"$BLK" -f qcow2 read sub/rel.qcow2 got.raw 2>err.txt; [ $? = 1 ] && grep -q "outside the allowed directories" err.txt && grep -q sub/rel.qcow2 err.txt &&
	ok "../ backing refused by default: $(cat err.txt)" || nok "../ backing: $(cat err.txt)"
echo "HOST-SECRET-$$" > "$T.secret"
qemu-img create -q -f qcow2 -b "$T.secret" -F raw evil.qcow2 1M
out=$("$IMG" info evil.qcow2 2>/dev/null); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "^backing chain: refused: .*$T.secret.*outside" && echo "$out" | grep -q "^file format: qcow2" &&
	ok "img info shows the refused chain (absolute host path)" || nok "img info evil: rc=$rc $out"
"$BLK" -f qcow2 read evil.qcow2 got.raw 2>err.txt; [ $? = 1 ] && grep -q "$T.secret" err.txt && ! grep -q HOST-SECRET got.raw 2>/dev/null &&
	ok "absolute backing path refused" || nok "absolute backing: $(cat err.txt)"
"$BLK" -B "$(dirname "$T")" -f qcow2 read evil.qcow2 got.raw && grep -q "HOST-SECRET-$$" got.raw && ok "absolute backing path opens in a -B directory" || nok "absolute backing with -B"
rm -f "$T.secret"
ln -s /etc/passwd pw.raw; qemu-img create -q -f qcow2 -b pw.raw -F raw evil2.qcow2 1M
"$BLK" -f qcow2 read evil2.qcow2 got.raw 2>err.txt; [ $? = 1 ] && grep -q "/etc/passwd" err.txt && ok "symlink out refused" || nok "symlink out: $(cat err.txt)"
# the chain img info shows is the one qemu-img opens (paths and formats)
exp=$(qemu-img info --backing-chain over2.qcow2 | sed -n 's/^file format: //p' | tr '\n' ' ')
got=$("$IMG" info over2.qcow2 | sed -n '/^backing chain:/,$p' | sed -n 's/^    .* (\(.*\))$/\1/p' | tr '\n' ' ')
[ -n "$got" ] && [ "$got" = "$exp" ] && ok "img info backing chain formats same as qemu-img: $got" || nok "img info chain: '$got' vs qemu-img '$exp'"
exp=$(qemu-img info --backing-chain over2.qcow2 | sed -n 's/^image: //p' | while read -r f; do realpath "$f"; done | tr '\n' ' ')
got=$("$IMG" info over2.qcow2 | sed -n '/^backing chain:/,$p' | sed -n 's/^    \(.*\) (.*)$/\1/p' | tr '\n' ' ')
[ "$got" = "$exp" ] && ok "img info backing chain paths same as qemu-img" || nok "img info chain paths: '$got' vs '$exp'"
# img create -b: -F needed (as qemu-img), and the same directory rules
"$IMG" create -b base.qcow2 nof.qcow2 2>err.txt >/dev/null; rc=$?
qemu-img create -q -f qcow2 -b base.qcow2 nofq.qcow2 2>/dev/null; qrc=$?
[ $rc = 1 ] && [ $qrc != 0 ] && grep -q -- "-F" err.txt && ok "img create -b without -F refused (qemu-img too)" || nok "img create without -F: rc=$rc qemu-img rc=$qrc $(cat err.txt)"
"$IMG" create -b ../base.qcow2 -F qcow2 sub/c.qcow2 2>err.txt >/dev/null; [ $? = 1 ] && grep -q outside err.txt && ok "img create -b ../ refused" || nok "img create -b ../: $(cat err.txt)"
"$IMG" create -B . -b ../base.qcow2 -F qcow2 sub/c.qcow2 >/dev/null && qemu-img compare -q sub/c.qcow2 base.qcow2 &&
	"$IMG" info -B . sub/c.qcow2 >/dev/null && "$IMG" check -B . sub/c.qcow2 >/dev/null && ok "img create/info/check -B: qemu-img reads the same" || nok "img -B"

# leaks are found (and repaired) by img check: give an unused cluster
# inside the file a refcount by hand
"$IMG" create leak.qcow2 4M >/dev/null
truncate -s 4M leak.qcow2
rt=$((0x$(peek64 leak.qcow2 48)))
rb=$((0x$(peek64 leak.qcow2 $rt)))
poke leak.qcow2 $((rb + 2*40)) 0001   # cluster 40: refcount 1, unused
"$IMG" check leak.qcow2 >/dev/null; rc=$?
[ $rc = 3 ] && ok "img check reports a leak (status 3)" || nok "img check leak status $rc"
qemu-img check leak.qcow2 >/dev/null; [ $? = 3 ] && ok "qemu-img agrees: leak" || nok "qemu-img leak status"
"$IMG" check -r leaks leak.qcow2 >/dev/null; "$IMG" check leak.qcow2 >/dev/null && qemu-img check -q leak.qcow2 && ok "img check -r leaks repairs" || nok "repair leaks"
"$IMG" create cor.qcow2 4M >/dev/null
qemu-io -f qcow2 -c 'write 0 64k' cor.qcow2 >/dev/null
rt=$((0x$(peek64 cor.qcow2 48))); rb=$((0x$(peek64 cor.qcow2 $rt)))
for c in 0 1 2 3 4 5 6 7; do poke cor.qcow2 $((rb + 2*c)) 0000; done
"$IMG" check cor.qcow2 >/dev/null; rc=$?
[ $rc = 2 ] && ok "img check reports corruption (status 2)" || nok "img check corruption status $rc"

# ---- malformed images: an error, never a crash ----
qemu-img convert -O qcow2 src.raw good.qcow2
l1=$((0x$(peek64 good.qcow2 40)))
l2=$((0x$(peek64 good.qcow2 $l1) & 0x00fffffffffffe00))
rt=$((0x$(peek64 good.qcow2 48)))
rb=$((0x$(peek64 good.qcow2 $rt)))
cp good.qcow2 gs.qcow2 && qemu-img snapshot -c s gs.qcow2
st=$((0x$(peek64 gs.qcow2 64)))      # snapshot table
sl1=$((0x$(peek64 gs.qcow2 $st)))    # the snapshot's L1 table
gl1=$((0x$(peek64 gs.qcow2 40)))
gl2=$((0x$(peek64 gs.qcow2 $gl1) & 0x00fffffffffffe00))
h64() { printf %016x "$1"; }         # a table offset
cp64() { printf 80%014x "$1"; }      # an L1/L2 entry with COPIED
same_as_qemu gs.qcow2 "snapshot table ending the file"
bad() { # name hexoffset-bytes pairs... (env: base = image to patch,
	# want = text the error must contain)
	local name=$1; shift
	cp "${base:-good.qcow2}" bad.qcow2
	while [ $# -gt 0 ]; do poke bad.qcow2 "$1" "$2"; shift 2; done
	"$BLK" -f qcow2 read bad.qcow2 got.raw 2>err.txt; local rc=$?
	"$IMG" check bad.qcow2 >/dev/null 2>&1; local rc2=$?
	if [ $rc = 1 ] && [ -s err.txt ] && [ $rc2 -lt 128 ] &&
	   grep -q "${want:-}" err.txt; then
		ok "malformed $name refused: $(head -1 err.txt)"
	else
		nok "malformed $name: read rc=$rc check rc=$rc2 $(head -1 err.txt)"
	fi
}
bad "refcount_order 7" 96 00000007
bad "cluster_bits 30" 20 0000001e
bad "cluster_bits 8" 20 00000008
bad "huge l1_size" 36 ffffffff
bad "l1 table past EOF" 40 0000001000000000
bad "l1 misaligned" 40 0000000000030200
bad "refcount table past EOF" 48 00000000ffff0000
bad "overlapping L1 and refcount table" 40 0000000000010000
bad "L2 entry into the header" $l2 8000000000000000
bad "L1 entry misaligned (into the header)" $l1 8000000000000200
bad "L2 table on the refcount table" $l1 8000000000010000
bad "version 4" 4 00000004
bad "encrypted" 32 00000001
bad "extended L2" 72 0000000000000010
bad "unknown incompatible bit" 72 0000000000000100
bad "external data file" 72 0000000000000004
bad "header_length 100" 100 00000064
bad "backing name too long" 8 00000000000000c8 16 00000800
bad "size not covered by L1" 24 0000100000000000
bad "zstd type without bit" 104 01
want="refcount block on the L1 table" bad "refcount block on the L1 table" $rt "$(h64 $l1)"
want="refcount block on an L2 table" bad "refcount block on an L2 table" $rt "$(h64 $l2)"
want="outside the file" bad "refcount block past EOF" $rt 0000010000000000
want="refcount block on an L2 table" bad "L1 entry on a refcount block" $l1 "$(cp64 $rb)"
want="on the L1 table" bad "L2 entry into the L1 table" $l2 "$(cp64 $l1)"
want="on the refcount table" bad "L2 entry into the refcount table" $l2 "$(cp64 $rt)"
want="on a refcount block" bad "L2 entry on a refcount block" $l2 "$(cp64 $rb)"
want="on an L2 table" bad "L2 entry on its own L2 table" $l2 "$(cp64 $l2)"
want="snapshot's L1" base=gs.qcow2 bad "L2 entry on a snapshot's L1 table" $gl2 "$(cp64 $sl1)"
want="snapshot's L1" base=gs.qcow2 bad "L2 entry on the snapshot table" $gl2 "$(cp64 $st)"
want="L1 table on the L1 table" base=gs.qcow2 bad "snapshot L1 table on the L1 table" $st "$(h64 $gl1)"
name=$(printf 'frobnication' | od -A n -t x1 | tr -d ' \n')00
want="features: frobnication" bad "unknown incompatible bit 9, named in the feature table" 72 0000000000000200 121 09 122 "$name"
# the L1 table's cluster has refcount 0: the first allocation would hand
# it out. The write must fail and change nothing.
cp good.qcow2 z.qcow2; poke z.qcow2 $((rb + 2 * l1 / 65536)) 0000
qemu-img check z.qcow2 > chk0.txt 2>&1; cp z.qcow2 z0.qcow2
"$BLK" -f qcow2 write z.qcow2 $((6 << 20)) 65536 2>err.txt; rc=$?
qemu-img check z.qcow2 > chk1.txt 2>&1
if [ $rc = 1 ] && grep -q "corrupt image" err.txt && cmp -s z.qcow2 z0.qcow2 && cmp -s chk0.txt chk1.txt; then
	ok "write onto an L1 table with refcount 0 refused, image unchanged: $(head -1 err.txt)"
else
	nok "L1 refcount 0: write rc=$rc $(head -1 err.txt); $(cmp z.qcow2 z0.qcow2); $(diff chk0.txt chk1.txt | head -3)"
fi
cp good.qcow2 cb.qcow2; poke cb.qcow2 79 02   # corrupt bit
"$BLK" -f qcow2 read cb.qcow2 got.raw 2>/dev/null && cmp -s got.raw src.raw && ok "corrupt-marked image opens read-only" || nok "corrupt image read-only"
"$BLK" -f qcow2 write cb.qcow2 0 512 2>err.txt; [ $? = 1 ] && grep -q "marked corrupt" err.txt && ok "corrupt-marked image refused read-write: $(cat err.txt)" || nok "corrupt rw: $(cat err.txt)"
cp good.qcow2 t.qcow2 && truncate -s 100 t.qcow2
"$BLK" -f qcow2 read t.qcow2 got.raw 2>err.txt; [ $? = 1 ] && ok "truncated image refused: $(cat err.txt)" || nok "truncated image"
qemu-img create -q -f qcow2 loopa.qcow2 1M; qemu-img create -q -f qcow2 -b loopa.qcow2 -F qcow2 loopb.qcow2
qemu-img rebase -u -b loopb.qcow2 -F qcow2 loopa.qcow2
"$BLK" -f qcow2 read loopa.qcow2 got.raw 2>err.txt; [ $? = 1 ] && grep -q loop err.txt && ok "backing loop refused: $(cat err.txt)" || nok "backing loop: $(cat err.txt)"
qemu-img rebase -u -b loopa.qcow2 -F qcow2 loopa.qcow2
"$BLK" -f qcow2 read loopa.qcow2 got.raw 2>err.txt; [ $? = 1 ] && grep -q loop err.txt && ok "self backing refused" || nok "self backing: $(cat err.txt)"
cp good.qcow2 d.qcow2; poke d.qcow2 79 01   # dirty bit
"$BLK" -f qcow2 read d.qcow2 got.raw 2>/dev/null && cmp -s got.raw src.raw && ok "dirty image opens read-only" || nok "dirty image read-only"
"$BLK" -f qcow2 rw d.qcow2 src.raw 1 1 2>err.txt; [ $? = 1 ] && grep -q "check -r" err.txt && ok "dirty image refused read-write: $(cat err.txt)" || nok "dirty rw: $(cat err.txt)"
chmod 444 src.raw; cp src.raw ro.raw; chmod 444 ro.raw
if [ "$(id -u)" != 0 ]; then
	"$BLK" -f raw rw ro.raw wref.raw 1 1 2>err.txt; grep -q "readonly=on" err.txt && ok "read-only file: clear error" || nok "read-only file: $(cat err.txt)"
fi
chmod 644 src.raw
"$BLK" -f raw read "$T" got.raw 2>err.txt; [ $? = 1 ] && grep -q directory err.txt && ok "directory refused" || nok "directory"
cp odd.raw oddw.raw; "$BLK" -f raw write oddw.raw 0 512 2>err.txt; [ $? = 1 ] && grep -q 512 err.txt && ok "writable raw, size not multiple of 512 refused" || nok "odd size"
"$BLK" -f raw read odd.raw got.raw && [ "$(stat -c %s got.raw)" = 1024 ] && cmp -s -n 1000 got.raw odd.raw && [ "$(tail -c 24 got.raw | tr -d '\0' | wc -c)" = 0 ] && ok "read-only raw of 1000 bytes: 1024, zero tail" || nok "odd size read-only"

# ---- crash safety ----
runs=${DISK_CRASH_RUNS:-20}
cfail=0
for r in $(seq 1 "$runs"); do
	case $((r % 3)) in
	0) "$IMG" create -o cluster_size=4096 c.qcow2 24M >/dev/null ;;
	1) "$IMG" create c.qcow2 24M >/dev/null ;;
	2) "$IMG" create -o cluster_size=512 c.qcow2 8M >/dev/null ;;
	esac
	"$BLK" -f qcow2 crash c.qcow2 $r c.log 2>/dev/null &
	pid=$!
	sleep "0.$(( (RANDOM % 9) + 1 ))$((RANDOM % 10))"
	kill -9 $pid; wait $pid 2>/dev/null
	qemu-img check c.qcow2 > chk.txt 2>&1; rc=$?
	if [ $rc != 0 ] && [ $rc != 3 ]; then cfail=$((cfail+1)); echo "# crash run $r: qemu-img check rc=$rc"; head -5 chk.txt; continue; fi
	if ! "$BLK" -f qcow2 verify c.qcow2 $r c.log > v.txt 2>&1; then cfail=$((cfail+1)); echo "# crash run $r: verify failed"; cat v.txt; continue; fi
	echo "# crash run $r: check rc=$rc, $(cat v.txt)"
done
[ $cfail = 0 ] && ok "crash safety: $runs SIGKILLed writers, no corruption, flushed data intact" || nok "crash safety: $cfail of $runs runs failed"
# the writer dies after a flush, before logging it: verify allows for it
"$IMG" create -o cluster_size=4096 c.qcow2 8M >/dev/null
"$BLK" -f qcow2 crash c.qcow2 7 c.log 40
if [ "$(tail -1 c.log)" -lt 40 ] && "$BLK" -f qcow2 verify c.qcow2 7 c.log > v.txt 2>&1; then ok "crash between a flush and its log line: $(cat v.txt)"; else nok "flush/log window: $(cat v.txt)"; fi

echo "$pass passed, $fail failed"
[ $fail = 0 ]
