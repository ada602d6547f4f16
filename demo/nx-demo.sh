#!/bin/sh
# The kvmemu demo: kvmemud serving /dev/kvm, and an unmodified-style VMM (tests/harness's
# kvm_harness, plain ioctls) running a guest that reads and executes three 2 MiB regions, once
# with the NX-huge-page mitigation and once with KVM_CAP_VM_DISABLE_NX_HUGE_PAGES, printing the
# VM's pages_2m / nx_lpage_splits stats after each step. Runs as root where /dev/cuse exists
# (inside UML on machines without CUSE; scripts/setup-and-demo.sh decides).
#   BUILD=build demo/nx-demo.sh
set -u
B=${BUILD:?set BUILD to the build directory}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
say() { printf '\n== %s\n' "$*"; }

started=""
if [ ! -c /dev/kvm ] || ! "$B/ctl/kvmemuctl" list >/dev/null 2>&1; then
  if [ -e /dev/kvm ]; then
    echo "a real /dev/kvm exists here: start kvmemud with --device-name=kvmemu to try it beside it"
    exit 1
  fi
  say "starting kvmemud (host pages treated as 2 MiB: --host-mapping-level=2m)"
  "$B/daemon/kvmemud" --host-mapping-level=2m --log-level=warn &
  started=$!
  i=0
  while [ ! -S /run/kvmemu/control.sock ]; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "kvmemud did not start"; exit 1; }
    sleep 0.1
  done
fi
ls -l /dev/kvm

say "a VM with the mitigation on (nx_huge_pages=Y, written by the program at /sys/module/kvm/parameters)"
"$B/launcher/kvmemu-run" -- "$B/tests/harness/kvm_harness" --guest nx --nx-mode mitigation
rc1=$?
say "the same VM with KVM_CAP_VM_DISABLE_NX_HUGE_PAGES enabled before its vCPU"
"$B/launcher/kvmemu-run" -- "$B/tests/harness/kvm_harness" --guest nx --nx-mode cap
rc2=$?
say "without CAP_SYS_BOOT the capability is refused (EPERM) and the mitigation applies"
capsh --drop=cap_sys_boot -- -c "exec \"\$@\"" x "$B/launcher/kvmemu-run" -- \
  "$B/tests/harness/kvm_harness" --guest nx --nx-mode cap --expect-cap eperm
rc3=$?
say "kvmemuctl get nx_huge_pages: $("$B/ctl/kvmemuctl" get nx_huge_pages)"

[ -n "$started" ] && kill -TERM "$started" && wait "$started"
[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ $rc3 -eq 0 ] && { say "demo: all three behaved as real KVM's NX semantics say"; exit 0; }
say "demo: something did not behave as expected (exit codes $rc1 $rc2 $rc3)"
exit 1
