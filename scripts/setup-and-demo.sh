#!/usr/bin/env bash
# Sets kvmemu up on a Debian 12 machine (as root) and runs the demo:
#   1. installs the packages (scripts/install-deps.sh), builds, and installs kvmemud, kvmemu-run,
#      kvmemuctl, the systemd unit, the udev rule and the modules-load.d entry (meson install);
#   2. if the kernel has CUSE (modprobe cuse) and no real /dev/kvm: starts kvmemud.service and runs
#      demo/nx-demo.sh against it; otherwise runs the demo inside User-Mode Linux, a real kernel
#      with CUSE that runs as a process (the case on machines whose kernel lacks CUSE).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [[ -d build ]]; then meson setup --reconfigure build --prefix=/usr >/dev/null; else meson setup build --prefix=/usr >/dev/null; fi
ninja -C build
meson install -C build --quiet
systemctl daemon-reload 2>/dev/null || true

if modprobe cuse 2>/dev/null && [[ -c /dev/cuse && ! -e /dev/kvm ]] && systemctl start kvmemud 2>/dev/null; then
  echo "kvmemud.service started (systemctl status kvmemud)"
  BUILD=build demo/nx-demo.sh
else
  echo "This kernel cannot serve CUSE here (no cuse module, or a real /dev/kvm is present):"
  echo "running the demo inside User-Mode Linux."
  BUILD=build tests/uml/run-in-uml.sh demo/nx-demo.sh
fi
