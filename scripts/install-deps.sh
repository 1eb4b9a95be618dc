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
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
