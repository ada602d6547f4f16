#!/bin/sh
# Runs inside UML (tests/uml/run-in-uml.sh): starts kvmemud, runs ioctl_bench alone (the CUSE
# path of any program) and under kvmemu-run (the supervised paths); then once more with the
# daemon reading /dev/cuse with plain system calls (--cuse-io=syscalls), the baseline of the
# io_uring path.
set -u
B=${BUILD:?}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
ITERS=${IOCTL_BENCH_ITERS:-2000}
ROUNDS=${IOCTL_BENCH_ROUNDS:-9}
rc=0

start_daemon() {
  "$B/daemon/kvmemud" --log-level=warn "$@" > /tmp/kvmemud-bench.log 2>&1 &
  daemon=$!
  i=0
  while [ ! -c /dev/kvm ] || [ ! -S /run/kvmemu/supervisor.sock ]; do
    i=$((i + 1)); [ $i -gt 200 ] && { echo "kvmemud did not start"; cat /tmp/kvmemud-bench.log; exit 1; }
    sleep 0.1
  done
}
stop_daemon() {
  kill -TERM $daemon; wait $daemon
  i=0
  while [ -e /dev/kvm ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.05; done
}

if [ -x "$B/bench/ioctl/fuse_file_bench" ]; then
  echo "== the alternative: a vCPU fd as a file of a FUSE mount (no daemon involved)"
  "$B/bench/ioctl/fuse_file_bench" "$ITERS" "$ROUNDS" || rc=1
fi
for mode in ring syscalls; do
  echo "== kvmemud --cuse-io=$mode"
  start_daemon --cuse-io=$mode
  echo "-- a plain program (CUSE only):"
  "$B/bench/ioctl/ioctl_bench" "$ITERS" "$ROUNDS" || rc=1
  echo "-- the same under kvmemu-run:"
  "$B/launcher/kvmemu-run" -- "$B/bench/ioctl/ioctl_bench" "$ITERS" "$ROUNDS" || rc=1
  stop_daemon
done
exit $rc
