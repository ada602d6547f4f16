#!/usr/bin/env bash
# Runs the benchmarks of a release build and prints their figures (see README "Performance").
#   scripts/run-benchmarks.sh [BUILD]   (default build-release)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-release}
status=0
for b in bench/mmu/mmu_bench bench/cpu/cpu_bench; do
  if [[ -x $build/$b ]]; then
    echo "--- $b"
    "$build/$b" --benchmark_min_time=0.2 2>&1 || status=1
  fi
done
if [[ -x $build/bench/ioctl/ioctl_bench && -x tests/uml/run-in-uml.sh ]]; then
  echo "--- bench/ioctl (inside UML)"
  BUILD=$build tests/uml/run-in-uml.sh bench/ioctl/ioctl-bench-in-uml.sh || status=1
fi
exit $status
