#!/bin/sh
# Runs inside UML (tests/uml/run-in-uml.sh): starts kvmemud, runs ioctl_bench alone (the CUSE
# path of any program) and under kvmemu-run (the supervised paths).
set -u
B=${BUILD:?}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
"$B/daemon/kvmemud" --log-level=warn > /tmp/kvmemud-bench.log 2>&1 &
daemon=$!
i=0
while [ ! -c /dev/kvm ] || [ ! -S /run/kvmemu/supervisor.sock ]; do
  i=$((i + 1)); [ $i -gt 200 ] && { echo "kvmemud did not start"; cat /tmp/kvmemud-bench.log; exit 1; }
  sleep 0.1
done
echo "-- a plain program (CUSE only):"
"$B/bench/ioctl/ioctl_bench" "${IOCTL_BENCH_ITERS:-2000}" "${IOCTL_BENCH_ROUNDS:-9}"
rc=$?
echo "-- the same under kvmemu-run:"
"$B/launcher/kvmemu-run" -- "$B/bench/ioctl/ioctl_bench" "${IOCTL_BENCH_ITERS:-2000}" "${IOCTL_BENCH_ROUNDS:-9}"
[ $rc = 0 ] && rc=$?
kill -TERM $daemon; wait $daemon
exit $rc
