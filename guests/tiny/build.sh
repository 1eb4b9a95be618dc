#!/bin/sh
# build.sh CC OUT SRC LDSCRIPT elf|bin — assemble and link one tiny guest.
# Called by guests/meson.build (OBJCOPY: the objcopy for the guest's architecture,
# default objcopy); usable by hand: sh build.sh gcc hello16.bin hello16.S flat.ld bin
set -e
CC=$1 OUT=$2 SRC=$3 LDS=$4 KIND=$5
$CC -c -ffreestanding -fno-pic -o "$OUT.o" "$SRC"
$CC -nostdlib -static -no-pie -Wl,--build-id=none -Wl,--no-warn-rwx-segments -Wl,-T,"$LDS" -o "$OUT.elf" "$OUT.o"
if [ "$KIND" = bin ]; then
	${OBJCOPY:-objcopy} -O binary "$OUT.elf" "$OUT"
	rm -f "$OUT.elf"
else
	mv "$OUT.elf" "$OUT"
fi
rm -f "$OUT.o"
