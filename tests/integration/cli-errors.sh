#!/usr/bin/env bash
# cli-errors.sh — bad command-line input needs no KVM: run on the build host by run.sh.
# Needs $MINIVMM (run.sh sets it; default build/minivmm). Prints ok / not ok lines.
MINIVMM=${MINIVMM:-$(cd "$(dirname "$0")/../.." && pwd)/build/minivmm}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

# expect NAME WANT-STATUS STDERR-REGEX -- minivmm arguments...
#   ONE_LINE=1 expect ...: stderr must also be exactly one line
#   RUNAS="setpriv ..." expect ...: run minivmm under that command
expect() {
  local name=$1 want=$2 re=$3; shift 4
  local rc=0
  timeout 20 ${RUNAS:-} "$MINIVMM" "$@" </dev/null >"$T/out" 2>"$T/err" || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "not ok $name - exit status $rc, want $want ($(head -c 200 "$T/err" | tr '\n' ' '))"
  elif [ -n "$re" ] && ! grep -Eq -- "$re" "$T/err"; then
    echo "not ok $name - stderr does not match /$re/: $(head -c 200 "$T/err" | tr '\n' ' ')"
  elif [ -n "${ONE_LINE:-}" ] && [ "$(wc -l <"$T/err")" != 1 ]; then
    echo "not ok $name - $(wc -l <"$T/err") lines on stderr, want one: $(head -c 300 "$T/err" | tr '\n' ' ')"
  else
    echo "ok $name"
  fi
}

expect cli-missing-kernel 1 "$T/no-such-vmlinuz" -- run --kernel "$T/no-such-vmlinuz"
head -c 65536 /dev/urandom > "$T/junk"
printf 'this is a text file, not a kernel\n' > "$T/text"
expect cli-junk-kernel 1 'not a kernel' -- run --kernel "$T/junk"
expect cli-text-kernel 1 'not a kernel' -- run --kernel "$T/text"
expect cli-bad-memory 2 'memory' -- run --kernel "$T/junk" --memory 12XB
expect cli-bad-memory-word 2 'memory' -- run --kernel "$T/junk" --memory banana
expect cli-zero-memory 2 'memory' -- run --kernel "$T/junk" --memory 0
expect cli-unknown-option 2 '' -- run --kernel "$T/junk" --no-such-option
expect cli-no-kernel 2 '' -- run

# Input errors found before /dev/kvm is opened: one line naming the problem,
# status 1 for a bad file, 2 for a bad command line (minivmm --help).
KERNEL=$(dirname "$MINIVMM")/guests/hello64.bzimage
[ -f "$KERNEL" ] || KERNEL=$T/junk # the input checks below still apply
one() { ONE_LINE=1 expect "$@"; }
# an unreadable kernel (root reads anything: run as nobody then)
cp "$T/junk" "$T/locked"; chmod 000 "$T/locked"; chmod 755 "$T"
if [ "$(id -u)" != 0 ]; then
  one cli-unreadable-kernel 1 'locked: Permission denied' -- run --kernel "$T/locked"
elif command -v setpriv >/dev/null &&
     setpriv --reuid=65534 --regid=65534 --clear-groups "$MINIVMM" --version >/dev/null 2>&1; then
  RUNAS="setpriv --reuid=65534 --regid=65534 --clear-groups" \
    one cli-unreadable-kernel 1 'locked: Permission denied' -- run --kernel "$T/locked"
else
  echo "ok cli-unreadable-kernel # SKIP root, and nobody cannot run $MINIVMM"
fi
mkdir "$T/dir"
one cli-kernel-is-directory 1 'dir: Is a directory' -- run --kernel "$T/dir"
# a (sparse) 100 MiB bzImage in 64 MiB of RAM; a 300 MiB initrd
cp "$KERNEL" "$T/huge.bzimage"; truncate -s 100M "$T/huge.bzimage"
truncate -s 300M "$T/huge.initrd"
if [ "$KERNEL" != "$T/junk" ]; then
  one cli-kernel-too-big 1 'kernel needs 100 MiB of RAM' -- run --kernel "$T/huge.bzimage" --memory 64M
  one cli-initrd-too-big 1 'huge.initrd: initrd of 314572800 bytes does not fit' -- \
    run --kernel "$KERNEL" --initrd "$T/huge.initrd" --memory 64M
else
  echo "ok cli-kernel-too-big # SKIP no tiny guest next to $MINIVMM"
  echo "ok cli-initrd-too-big # SKIP no tiny guest next to $MINIVMM"
fi
one cli-memory-too-small 2 '^minivmm: error: --memory: 16M is too small' -- run --kernel "$KERNEL" --memory 16M
one cli-memory-bad-key 2 "^minivmm: error: --memory: 'hugepages=yes' is not hugepages=on" -- run --kernel "$KERNEL" --memory 64M,hugepages=yes
one cli-memory-hugepages-odd 2 '^minivmm: error: --memory: 33M is not a multiple of 2M' -- run --kernel "$KERNEL" --memory 33M,hugepages=on
# disks (format=raw: an image of unknown format also gets a warning line)
one cli-disk-missing 1 'nope.img: no such file' -- run --kernel "$KERNEL" --disk "$T/nope.img"
one cli-disk-directory 1 'dir: is a directory' -- run --kernel "$KERNEL" --disk "$T/dir"
head -c 1000 /dev/zero > "$T/odd.img"
one cli-disk-not-512 1 'size 1000 is not a multiple of 512' -- run --kernel "$KERNEL" --disk "$T/odd.img,format=raw"
truncate -s 1M "$T/ide.img"
one cli-disk-fifth-ide 2 "^minivmm: error: --disk $T/ide.img: at most 4 IDE disks" -- run --kernel "$KERNEL" \
  --disk "$T/ide.img,if=ide" --disk "$T/ide.img,if=ide" --disk "$T/ide.img,if=ide" \
  --disk "$T/ide.img,if=ide" --disk "$T/ide.img,if=ide"
one cli-disk-bad-if 2 "if='scsi' is not virtio or ide" -- run --kernel "$KERNEL" --disk "$T/ide.img,if=scsi"
# a qcow2 image naming a host file as its backing file (absolute path, a
# ".." escape, a device): refused before the guest starts, naming the file;
# its format must be recorded or given, never detected
printf 'HOST-SECRET-%s\n' $$ > "$T/host-secret"
mkdir -p "$T/vm"
qemu-img create -q -f qcow2 -b "$T/host-secret" -F raw "$T/vm/abs.qcow2" 1M
qemu-img create -q -f qcow2 -b ../host-secret -F raw "$T/vm/dotdot.qcow2" 1M
qemu-img create -q -f qcow2 -u -b /dev/zero -F raw "$T/vm/dev.qcow2" 1M
one cli-disk-backing-absolute 1 "abs.qcow2: backing file $T/host-secret .*outside the allowed directories" -- \
  run --kernel "$KERNEL" --disk "$T/vm/abs.qcow2,format=qcow2"
one cli-disk-backing-dotdot 1 "dotdot.qcow2: backing file ../host-secret .*outside" -- \
  run --kernel "$KERNEL" --disk "$T/vm/dotdot.qcow2,format=qcow2"
one cli-disk-backing-device 1 "dev.qcow2: backing file /dev/zero .*a character device" -- \
  run --kernel "$KERNEL" --disk "$T/vm/dev.qcow2,format=qcow2,backing-dir=/dev"
one cli-disk-backing-bad-format 2 "backing-format 'vmdk' is not raw or qcow2" -- \
  run --kernel "$KERNEL" --disk "$T/vm/abs.qcow2,backing-format=vmdk"
one cli-net-bad-mac 2 "malformed MAC '52:54:00:12:34'" -- run --kernel "$KERNEL" --net tap=mvbad0,mac=52:54:00:12:34
one cli-net-bad-mac-hex 2 "malformed MAC 'zz:54:00:12:34:56'" -- run --kernel "$KERNEL" --net tap=mvbad0,mac=zz:54:00:12:34:56
one cli-net-bad-model 2 "--net model='foo': use virtio or e1000" -- run --kernel "$KERNEL" --net tap=mvbad0,model=foo
one cli-cpus-zero 2 "^minivmm: error: --cpus: '0' is not a number from 1 to" -- run --kernel "$KERNEL" --cpus 0
one cli-cpus-1000 2 "^minivmm: error: --cpus: '1000' is not a number from 1 to" -- run --kernel "$KERNEL" --cpus 1000

# minivmm stat: one line and a non-zero status (2: the command line, 1: the socket)
one cli-stat-no-socket-option 2 '^minivmm: error: stat: --api-socket PATH is required' -- stat --once
one cli-stat-missing 1 "^minivmm: error: stat: --api-socket $T/no.sock: No such file or directory" -- \
  stat --api-socket "$T/no.sock" --once
one cli-stat-not-a-socket 1 "^minivmm: error: stat: --api-socket $T/text: Connection refused" -- \
  stat --api-socket "$T/text" --json
one cli-stat-bad-interval 2 "^minivmm: error: stat: --interval: 'fast' is not a number of seconds from 0.1 to 3600" -- \
  stat --api-socket "$T/no.sock" --interval fast
one cli-stat-zero-interval 2 "--interval: '0' is not a number of seconds" -- stat --api-socket "$T/no.sock" --interval 0
one cli-stat-unknown-option 2 "^minivmm: error: stat: unknown or incomplete option '--bogus'" -- \
  stat --api-socket "$T/no.sock" --bogus
one cli-stat-extra-argument 2 "^minivmm: error: stat: unexpected argument 'extra'" -- stat --api-socket "$T/no.sock" extra
# --trace filters: a word that is no reason, vcpuN or device name; --trace-file: a path
# that cannot be written; --ioeventfd / --irqfd: on or off
one cli-trace-bad-word 2 "^minivmm: error: --trace: 'mmio;io' is not a filter word" -- run --kernel "$KERNEL" --trace='mmio;io'
one cli-trace-empty-word 2 "^minivmm: error: --trace: '' in 'io,,mmio' is not a filter word" -- run --kernel "$KERNEL" --trace=io,,mmio
one cli-trace-bad-vcpu 2 "^minivmm: error: --trace: 'vcpu64' is not a vCPU" -- run --kernel "$KERNEL" --trace=vcpu64
one cli-trace-file-bad-path 1 "^minivmm: error: --trace-file $T/no/such/dir/trace: No such file or directory" -- \
  run --kernel "$KERNEL" --trace-file "$T/no/such/dir/trace"
one cli-trace-file-directory 1 "^minivmm: error: --trace-file $T/dir: Is a directory" -- run --kernel "$KERNEL" --trace-file "$T/dir"
one cli-ioeventfd-bad 2 "^minivmm: error: --ioeventfd: 'maybe' is not on or off" -- run --kernel "$KERNEL" --ioeventfd=maybe
one cli-irqfd-bad 2 "^minivmm: error: --irqfd: '1' is not on or off" -- run --kernel "$KERNEL" --irqfd=1
# --firmware: a missing image; --boot: disk or cdrom, and only with a firmware;
# --debugcon only with a firmware
one cli-firmware-missing 1 "^minivmm: error: $T/no-bios.bin: No such file or directory" -- run --firmware "$T/no-bios.bin"
one cli-boot-bad 2 "^minivmm: error: --boot: 'floppy' is not disk or cdrom" -- run --firmware seabios --boot floppy
one cli-boot-no-firmware 2 "^minivmm: error: run: --boot needs --firmware" -- run --kernel "$KERNEL" --boot disk
one cli-debugcon-no-firmware 2 "^minivmm: error: run: --debugcon needs --firmware" -- run --kernel "$KERNEL" --debugcon "$T/dc"
