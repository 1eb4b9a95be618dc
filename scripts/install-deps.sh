#!/usr/bin/env bash
# install-deps.sh - install every Debian 12 package minivmm's build, tests,
# demo and benchmarks need. Idempotent: installs only what is missing.
set -euo pipefail
PKGS=(
  # build
  build-essential meson ninja-build pkg-config
  libcmocka-dev zlib1g-dev libzstd-dev libseccomp-dev liburing-dev libfdt-dev
  device-tree-compiler  # dtc: the arm64 device tree tests read the blob back
  # sanitizer and fuzzing builds
  clang libclang-rt-14-dev
  # guests: kernels are unpacked from .debs, initramfs made with busybox
  busybox-static cpio xz-utils zstd lz4 kmod binutils
  # the emulated KVM host and the peers/fixtures used by tests and benches
  qemu-system-x86 qemu-utils ovmf seabios
  # test tools
  e2fsprogs fio iperf3 iproute2 acpica-tools valgrind procps socat strace python3
  gnuplot-nox  # tests/bench/virtio-vs-emulated.sh draws its chart
  ethtool  # net-offload-off: in the guest initramfs and the KVM host
  xorriso  # ISO 9660 images: ide-cdrom's, and the installer CD (scripts/mkinstallcd.sh)
  # the arm64 cross build (scripts/arm64-cross.ini) and the emulated arm64 KVM host
  gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu qemu-system-arm
  # firmware boots: SeaBIOS (above) boots a disk that scripts/mkbootdisk.sh
  # makes with GRUB for BIOS, an MBR partition table and an ext4 partition
  grub-pc-bin fdisk
  # the installer CD (scripts/mkinstallcd.sh): ISOLINUX and Debian's installer
  isolinux syslinux-common debian-installer-12-netboot-amd64
)
# arm64 libraries for the cross build, from Debian's arm64 archive (dpkg's foreign
# architecture arm64). libfdt-dev:arm64 is not among them: it cannot be installed beside
# the x86 libfdt-dev, so scripts/arm64-sysroot.sh unpacks it into a cache instead.
ARM64_PKGS=(libc6-dev:arm64 zlib1g-dev:arm64 libzstd-dev:arm64 libseccomp-dev:arm64
            liburing-dev:arm64 libfdt1:arm64)
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
updated=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "install-deps: adding the arm64 architecture to dpkg"
  $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -qq
  updated=1
fi
PKGS+=("${ARM64_PKGS[@]}")
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  [ $updated = 1 ] || $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# the arm64 libfdt (headers and libfdt.a) in its cache, so a cross build needs no network
"$(dirname "$0")/arm64-sysroot.sh" >/dev/null
