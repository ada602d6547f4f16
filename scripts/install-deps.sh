#!/usr/bin/env bash
# Installs every Debian 12 package kvmemu needs to build, test and run (as root).
set -euo pipefail
packages=(
  g++ gcc binutils pkg-config meson ninja-build python3
  libfuse3-dev fuse3 liburing-dev libboost-dev libboost-program-options-dev libcap-dev libcap2-bin
  libspdlog-dev libfmt-dev libseccomp-dev libsystemd-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev libzydis-dev
  user-mode-linux kmod util-linux procps
  make xz-utils linux-source-6.1  # tests/external: the kernel's own KVM selftests, built unmodified
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#packages[@]} packages present"
fi
