#!/usr/bin/env bash
# mkinitramfs.sh — build the shared busybox initramfs that minivmm's test guests boot.
#
#   guests/mkinitramfs.sh -k MODULES-DIR -o OUT.cpio.gz [-m MODULE]... [-b PROGRAM]...
#                         [-f HOST:GUEST]... [-t TESTS-DIR] [-i INIT] [-z gzip|none] [-A arm64]
#
#   -k  the kernel's lib/modules/<version> folder (fetch-kernels.sh: CACHE/<flavour>/modules)
#   -m  extra module to include (with its dependencies); the defaults are always included
#   -b  an ELF program to include with the shared libraries ldd lists (same absolute path)
#   -f  copy a host file or folder to GUEST path in the image
#   -t  folder of guest scripts, packed as /tests/<name>.sh (default tests/integration/guest)
#   -i  use this file as /init instead of the test-guest init (tests/harness/kvm-run does)
#   -z  compression of the cpio (default gzip; "none" is faster for big images under TCG)
#   -A  arm64: an image for an arm64 kernel (fetch-kernels.sh arm64): busybox-static:arm64
#       from fetch-kernels.sh's cache, -b programs are arm64 ELFs whose libraries are found
#       with aarch64-linux-gnu-readelf in Debian's arm64 multiarch folders
#
# The result is a gzip'd newc cpio: busybox-static with all its applets, the modules
# (decompressed if shipped as .ko.xz/.ko.zst) with a modules.dep trimmed to them, and /init
# (see the heredoc below and tests/integration/README.md for the contract).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
MODDIR= OUT= TESTS=$REPO/tests/integration/guest
MODS=(virtio_pci virtio_blk virtio_net virtio_rng virtio_console ext4 pvpanic_pci pvpanic
      ata_piix sd_mod sr_mod cdrom isofs e1000 af_packet crc32c_generic crc32c_intel)
BINS=() FILES=() INIT= COMP=gzip ARCH=
while getopts "k:o:m:b:f:t:i:z:A:h" o; do
  case $o in
    k) MODDIR=$OPTARG;; o) OUT=$OPTARG;; m) MODS+=("$OPTARG");; b) BINS+=("$OPTARG");;
    f) FILES+=("$OPTARG");; t) TESTS=$OPTARG;; i) INIT=$OPTARG;; z) COMP=$OPTARG;;
    A) ARCH=$OPTARG;;
    *) sed -n '2,21p' "$0"; exit 2;;
  esac
done
[ -n "$MODDIR" ] && [ -n "$OUT" ] || { sed -n '2,21p' "$0"; exit 2; }
[ -z "$ARCH" ] || [ "$ARCH" = arm64 ] || { echo "mkinitramfs: -A arm64 is the only other architecture" >&2; exit 2; }
[ -f "$MODDIR/modules.dep" ] || { echo "mkinitramfs: no modules.dep in $MODDIR" >&2; exit 1; }
# busybox-static's /bin/busybox is statically linked: it works with no libraries in the image
BUSYBOX=/bin/busybox
if [ "$ARCH" = arm64 ]; then
  BUSYBOX=$("$HERE/fetch-kernels.sh" --print-dir)/arm64/busybox
  [ -f "$BUSYBOX" ] || { echo "mkinitramfs: no $BUSYBOX (run guests/fetch-kernels.sh arm64)" >&2; exit 1; }
elif [ ! -x "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
  echo "mkinitramfs: need a static /bin/busybox (apt-get install busybox-static)" >&2; exit 1
fi
VER=$(basename "$(cd "$MODDIR" && pwd -P)")

ROOT=$(mktemp -d); trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc,tests,lib/modules/"$VER"}
cp "$BUSYBOX" "$ROOT/bin/busybox"
if [ "$ARCH" = arm64 ]; then
  # an arm64 busybox cannot run here to list its applets: the image's first command
  # (/bin/minivmm-applets, run by both /init scripts) makes their links at boot
  ln -s busybox "$ROOT/bin/sh"
  printf '#!/bin/busybox sh\n[ -e /bin/mount ] || /bin/busybox --install -s /bin\n' > "$ROOT/bin/minivmm-applets"
else
  for a in $("$ROOT/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$ROOT/bin/$a"; done
  printf '#!/bin/sh\n' > "$ROOT/bin/minivmm-applets"
fi
chmod +x "$ROOT/bin/minivmm-applets"
echo "root:x:0:0:root:/root:/bin/sh" > "$ROOT/etc/passwd"
echo "root:x:0:" > "$ROOT/etc/group"

# --- modules: resolve dependencies from modules.dep -------------------------------------
# modules.dep lines look like "kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko kernel/...".
# Module names treat '-' and '_' as the same character.
declare -A PATHOF=() DEPS=() WANT=()
while IFS= read -r line; do
  p=${line%%:*}; d=${line#*:}
  n=${p##*/}; n=${n%%.ko*}; n=${n//-/_}
  PATHOF[$n]=$p; DEPS[$n]=$d
done < "$MODDIR/modules.dep"
want() {
  local n=${1//-/_} d dn
  [ -n "${WANT[$n]:-}" ] && return 0
  [ -n "${PATHOF[$n]:-}" ] || return 0          # built in, or not built: nothing to copy
  WANT[$n]=1
  for d in ${DEPS[$n]}; do dn=${d##*/}; want "${dn%%.ko*}"; done
}
for m in "${MODS[@]}"; do want "$m"; done
: > "$ROOT/lib/modules/$VER/modules.dep"
for n in "${!WANT[@]}"; do
  p=${PATHOF[$n]}; dst=${p%.xz}; dst=${dst%.zst}; dst=${dst%.gz}
  mkdir -p "$ROOT/lib/modules/$VER/$(dirname "$dst")"
  case $p in
    *.xz) xz -dc "$MODDIR/$p" > "$ROOT/lib/modules/$VER/$dst";;
    *.zst) zstd -qdc "$MODDIR/$p" > "$ROOT/lib/modules/$VER/$dst";;
    *.gz) gzip -dc "$MODDIR/$p" > "$ROOT/lib/modules/$VER/$dst";;
    *) cp "$MODDIR/$p" "$ROOT/lib/modules/$VER/$dst";;
  esac
  deps=""
  for d in ${DEPS[$n]}; do d=${d%.xz}; d=${d%.zst}; d=${d%.gz}; deps="$deps $d"; done
  echo "$dst:$deps" >> "$ROOT/lib/modules/$VER/modules.dep"
done
for f in modules.builtin modules.order; do [ -f "$MODDIR/$f" ] && cp "$MODDIR/$f" "$ROOT/lib/modules/$VER/"; done

# --- extra programs, files, guest scripts -------------------------------------------------
# arm64_libs ELF: the arm64 program's interpreter and the shared libraries it needs, and
# theirs (DT_NEEDED, looked up in Debian's arm64 multiarch folders)
arm64_libs() {
  local f=$1 l d
  aarch64-linux-gnu-readelf -l "$f" 2>/dev/null | sed -n 's/.*interpreter: \(.*\)\]/\1/p'
  for l in $(aarch64-linux-gnu-readelf -d "$f" 2>/dev/null | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
    for d in /lib/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu; do
      [ -e "$d/$l" ] || continue
      echo "$d/$l"; arm64_libs "$d/$l"; break
    done
  done
}
for b in ${BINS[@]+"${BINS[@]}"}; do
  b=$(command -v "$b" || echo "$b")
  if [ "$ARCH" = arm64 ]; then libs=$(arm64_libs "$b" | sort -u)
  else libs=$(ldd "$b" 2>/dev/null | grep -o '/[^ ]*'); fi
  for f in "$b" $libs; do
    mkdir -p "$ROOT/$(dirname "$f")"; cp -L "$f" "$ROOT/$f"
  done
done
for f in ${FILES[@]+"${FILES[@]}"}; do
  src=${f%%:*}; dst=${f#*:}; [ "$dst" = "$f" ] && dst=$src
  # -L: links are resolved, since a relative link (the kernel cache's vmlinuz, modules)
  # would dangle inside the image
  mkdir -p "$ROOT/$(dirname "$dst")"; cp -aL "$src" "$ROOT/$dst"
done
if [ -d "$TESTS" ]; then
  for s in "$TESTS"/*.sh; do [ -e "$s" ] && cp "$s" "$ROOT/tests/"; done
fi

# --- /bin/minivmm-modprobe: load modules with their dependencies ------------------------
# (busybox's modprobe wants the full modules.* index set; this needs only modules.dep)
cat > "$ROOT/bin/minivmm-modprobe" <<'MODPROBE'
#!/bin/sh
# minivmm-modprobe NAME... — insmod each module after the modules modules.dep says it
# needs. '-' and '_' are the same in names. Modules not in the image (built in, or not
# built for this kernel) are skipped silently; a failed insmod prints
# "MINIVMM-MODPROBE-FAIL name" and the error, and the status is 1. Parameters come from
# the kernel command line (NAME.PARAM=VALUE), as modprobe takes them.
MD=/lib/modules/$(uname -r)
LOADED=" $(cut -d' ' -f1 /proc/modules 2>/dev/null | tr '\n' ' ') "
rc=0
load() {
  local n line alt d b params  # busybox sh has 'local'; load() recurses
  n=$(echo "$1" | tr - _)
  case "$LOADED" in *" $n "*) return 0;; esac
  LOADED="$LOADED $n "
  line=$(grep -E "(^|/)$n\.ko:" "$MD/modules.dep" 2>/dev/null)
  if [ -z "$line" ]; then      # the file name may use '-' where the module name has '_'
    alt=$(echo "$n" | tr _ -)
    line=$(grep -E "(^|/)$alt\.ko:" "$MD/modules.dep" 2>/dev/null)
  fi
  [ -n "$line" ] || return 0
  for d in ${line#*:}; do b=${d##*/}; load "${b%.ko}"; done
  # like modprobe: "NAME.PARAM=VALUE" words of the kernel command line are its parameters
  params=$(tr ' ' '\n' < /proc/cmdline | sed -n "s/^$n\.//p" | tr '\n' ' ')
  if ! insmod "$MD/${line%%:*}" $params 2>/tmp/.insmod.err; then
    grep -q 'File exists' /tmp/.insmod.err || { echo "MINIVMM-MODPROBE-FAIL $n"; cat /tmp/.insmod.err; rc=1; }
  fi
}
for m in $(echo "$*" | tr ',' ' '); do load "$m"; done
exit $rc
MODPROBE
chmod +x "$ROOT/bin/minivmm-modprobe"

# --- /init ---------------------------------------------------------------------------------
if [ -n "$INIT" ]; then
  cp "$INIT" "$ROOT/init"
else
cat > "$ROOT/init" <<'INIT'
#!/bin/sh
# minivmm test guest init (guests/mkinitramfs.sh; contract in tests/integration/README.md)
# programs added with -b (in /usr/...) win over the busybox applets in /bin
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=${TERM:-linux}
minivmm-applets
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
exec </dev/console >/dev/console 2>&1

# every minivmm.KEY=VALUE parameter becomes $MINIVMM_KEY
for p in $(cat /proc/cmdline); do
  case $p in
    minivmm.*=*)
      k=${p%%=*}; k=${k#minivmm.}; v=${p#*=}
      k=$(echo "$k" | tr 'a-z.-' 'A-Z__')
      export "MINIVMM_$k=$v";;
  esac
done
RUN=${MINIVMM_RUN:-}
minivmm-modprobe "${MINIVMM_MODULES:-}"
ip link set lo up 2>/dev/null
echo "MINIVMM-GUEST-READY"

if [ -n "$RUN" ]; then
  if [ -f "/tests/$RUN.sh" ]; then
    sh "/tests/$RUN.sh"; rc=$?
  else
    echo "minivmm init: no /tests/$RUN.sh"; rc=127
  fi
else
  # an interactive shell with a controlling terminal, so job control and ^C work
  setsid cttyhack sh -l; rc=$?
fi
echo "MINIVMM-GUEST-EXIT $rc"
sync
reboot -f
INIT
fi
chmod +x "$ROOT/init"

mkdir -p "$(dirname "$OUT")"
case $COMP in
  gzip) (cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -6) > "$OUT.tmp";;
  none) (cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$OUT.tmp";;
  *) echo "mkinitramfs: -z gzip|none" >&2; exit 2;;
esac
mv "$OUT.tmp" "$OUT"
echo "mkinitramfs: $OUT ($(du -k "$OUT" | cut -f1) KiB, ${#WANT[@]} modules, kernel $VER)" >&2
