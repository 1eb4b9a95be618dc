#!/usr/bin/env bash
# extract-vmlinux.sh — turn a Linux x86 bzImage back into its uncompressed ELF vmlinux.
#
#   guests/extract-vmlinux.sh BZIMAGE OUT-ELF
#
# A bzImage is: real-mode setup sectors ((setup_sects+1)*512 bytes, setup_sects at 0x1f1)
# followed by the protected-mode "decompressor" program, which carries the compressed
# vmlinux as a payload. Boot protocol 2.08+ records where: payload_offset (u32 at 0x248,
# counted from the start of the protected-mode part) and payload_length (u32 at 0x24c).
# We read those, identify the compressor from the payload's magic bytes and decompress
# it with Debian's tool. If the header fields look wrong we fall back to scanning the
# file for the magic of each known format (what the kernel's own scripts/extract-vmlinux
# does, though this is our own code). The result must be an ELF file; for the PVH loader
# we also check that it carries the Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY = 18).
set -euo pipefail
IN=${1:?usage: extract-vmlinux.sh BZIMAGE OUT-ELF}
OUT=${2:?usage: extract-vmlinux.sh BZIMAGE OUT-ELF}
die() { echo "extract-vmlinux: $*" >&2; exit 1; }

u8()  { od -An -tu1 -j "$1" -N1 "$IN" | tr -d ' '; }
u32() { od -An -tu4 -j "$1" -N4 "$IN" | tr -d ' '; }
hexat() { od -An -tx1 -j "$1" -N "$2" "$IN" | tr -d ' \n'; }

# decompressor for a payload whose first bytes are $1 (hex); prints a command or nothing
tool_for() {
  case $1 in
    fd377a585a00*) echo "xz -dc";;           # xz:   FD '7zXZ' 00
    28b52ffd*)     echo "zstd -dc";;         # zstd: 28 B5 2F FD
    1f8b08*|1f8b09*) echo "gzip -dc";;       # gzip: 1F 8B + deflate
    02214c18*)     echo "lz4 -dc -l";;       # lz4 legacy frame (what Linux uses)
    425a68*)       echo "bzip2 -dc";;        # bzip2: 'BZh'
    5d000000*)     echo "xz -dc --format=lzma";;  # lzma alone
    894c5a4f*)     echo "lzop -dc";;         # lzo
  esac
}

try() {  # try OFFSET LENGTH(0 = to the end)
  local off=$1 len=$2 tool
  tool=$(tool_for "$(hexat "$off" 6)")
  [ -n "$tool" ] || return 1
  command -v "${tool%% *}" >/dev/null || { echo "extract-vmlinux: need ${tool%% *}" >&2; return 1; }
  if [ "$len" -gt 0 ]; then
    tail -c +$((off + 1)) "$IN" | head -c "$len" | $tool > "$OUT.tmp" 2>/dev/null || true
  else
    tail -c +$((off + 1)) "$IN" | $tool > "$OUT.tmp" 2>/dev/null || true
  fi
  # trailing bytes after the stream make the tools complain; the ELF check decides
  [ "$(od -An -tx1 -N4 "$OUT.tmp" | tr -d ' \n')" = 7f454c46 ] || return 1
  echo "extract-vmlinux: ${tool%% *} payload at offset $off" >&2
}

[ "$(hexat 0x202 4)" = 48647253 ] || die "$IN: no 'HdrS' magic at 0x202, not a bzImage"
setup_sects=$(u8 0x1f1); [ "$setup_sects" -eq 0 ] && setup_sects=4
pm=$(( (setup_sects + 1) * 512 ))
poff=$(u32 0x248); plen=$(u32 0x24c)
if ! try $((pm + poff)) "$plen"; then
  echo "extract-vmlinux: header payload fields did not work, scanning for magic" >&2
  found=0
  for magic in 'fd377a585a00' '28b52ffd' '1f8b0800' '02214c18' '425a6839' '894c5a4f'; do
    # grep -b on a hex dump would be slow; use perl's index on the raw bytes instead
    for off in $(perl -0777 -ne 'my $m=pack("H*",$ARGV[0]//""); BEGIN{$m=pack("H*",shift @ARGV)} my $p=-1; while(($p=index($_,$m,$p+1))>=0){print "$p\n"}' "$magic" "$IN" | head -20); do
      if try "$off" 0; then found=1; break 2; fi
    done
  done
  [ $found = 1 ] || die "$IN: no compressed ELF payload found"
fi
mv "$OUT.tmp" "$OUT"
if readelf -n "$OUT" 2>/dev/null | grep -Eq '^ *Xen[[:space:]].*(\(0x00000012\)|PHYS32_ENTRY)'; then
  echo "extract-vmlinux: $OUT is ELF with the Xen PVH entry note (type 0x12)" >&2
else
  echo "extract-vmlinux: warning: $OUT has no Xen PVH note (kernel built without CONFIG_PVH?)" >&2
fi
