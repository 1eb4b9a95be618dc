#!/bin/sh
# check-bzimage.sh IMAGE — check the boot-protocol header fields of a tiny bzImage guest
# (what a 64-bit loader relies on). Prints "ok ..." / "not ok ..." lines; status 1 on failure.
IMG=${1:?usage: check-bzimage.sh IMAGE}
fail=0
u() { od -An -tu"$2" -j "$1" -N "$2" "$IMG" | tr -d ' '; }
chk() { if [ "$2" = "$3" ]; then echo "ok $IMG $1 = $2"; else echo "not ok $IMG $1 = $2, want $3"; fail=1; fi; }
chk boot_flag "$(u 0x1fe 2)" 43605                              # 0xaa55
chk magic "$(od -An -c -j 0x202 -N 4 "$IMG" | tr -d ' ')" HdrS
chk version "$(u 0x206 2)" 527                                  # 0x020f
chk loadflags.LOADED_HIGH "$(( $(u 0x211 1) & 1 ))" 1
chk xloadflags.XLF_KERNEL_64 "$(( $(u 0x236 2) & 1 ))" 1
chk relocatable_kernel "$(u 0x234 1)" 1
chk kernel_alignment "$(u 0x230 4)" 2097152
chk pref_address "$(u 0x258 8)" 1048576
ss=$(u 0x1f1 1); pm=$(( (ss + 1) * 512 )); size=$(wc -c < "$IMG")
chk header_end "$(( 0x202 + $(u 0x201 1) ))" 620                # 0x26c: through kernel_info_offset
chk syssize "$(( $(u 0x1f4 4) * 16 ))" "$(( size - pm ))"
init=$(u 0x260 4)
if [ "$init" -ge $(( size - pm )) ]; then echo "ok $IMG init_size $init covers the image"; else echo "not ok $IMG init_size $init"; fail=1; fi
# the 64-bit entry (pm + 0x200) must start with cli (0xfa)
chk entry64.first_byte "$(u $(( pm + 0x200 )) 1)" 250
exit $fail
