#!/usr/bin/env bash
# Runs the benchmarks of a release build and prints their figures (see README "Performance").
#   scripts/run-benchmarks.sh [BUILD]   (default build-release)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-release}
status=0
if [[ -x $build/bench/mmu/mmu_bench ]]; then
  echo "--- bench/mmu/mmu_bench (Google Benchmark)"
  "$build/bench/mmu/mmu_bench" --benchmark_min_time=0.2 2>&1 || status=1
fi
if [[ -x $build/bench/cpu/cpu_bench ]]; then
  echo "--- bench/cpu/cpu_bench (guest vs native, same run)"
  "$build/bench/cpu/cpu_bench" 2>&1 || status=1
fi
if [[ -x $build/bench/ioctl/ioctl_bench && -x tests/uml/run-in-uml.sh ]]; then
  # UML on one host CPU: unpinned, its processes' host threads wake each other across CPUs and
  # every system call pays for it; the ratios then swing 10x between runs (getppid itself from
  # 8 to 100 us). Pinned, runs agree within about 10%.
  echo "--- bench/ioctl (inside UML, pinned to host CPU 0)"
  taskset -c 0 env BUILD="$build" tests/uml/run-in-uml.sh bench/ioctl/ioctl-bench-in-uml.sh || status=1
fi
exit $status
