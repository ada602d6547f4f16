#!/usr/bin/env bash
# Runs every test of kvmemu on a Debian 12 machine, as root (what .ci/run runs):
#   1. installs the packages it needs;
#   2. builds (debugoptimized) and runs the unit tests, the conformance tests against the host's
#      real /dev/kvm, and the CUSE integration tests inside User-Mode Linux (never skipped: a
#      skipped UML test fails the run);
#   3. rebuilds with ASan+UBSan and with TSan and runs the unit tests again;
#   4. runs the benchmarks once, for their figures (they report, they do not pass or fail).
# Ends with the line "N passed, N failed" (meson tests; a gtest binary counts as one).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc)

scripts/install-deps.sh || { echo "run-tests: dependency installation failed"; exit 1; }

passed=0
failed=0
log_dir="$root/build-logs"
mkdir -p "$log_dir"

# targets_of DIR SUITE: the build outputs the tests of SUITE run (paths relative to DIR).
targets_of() {
  python3 - "$1" "$2" <<'PY'
import json, os, subprocess, sys
build, suite = os.path.abspath(sys.argv[1]), sys.argv[2]
intro = lambda what: json.loads(subprocess.check_output(["meson", "introspect", build, what]))
files = {t["id"]: t["filename"] for t in intro("--targets")}
out = set()
for t in intro("--tests"):
    if not any(s.split(":")[-1] == suite for s in t["suite"]):
        continue
    paths = [t["cmd"][0]] + [f for d in t.get("depends", []) for f in files.get(d, [])]
    out.update(os.path.relpath(p, build) for p in paths if p.startswith(build + "/"))
print(" ".join(sorted(out)))
PY
}

# setup DIR [meson options...]
setup() {
  local dir=$1; shift
  if [[ -d $dir ]]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null || meson setup --wipe "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}

# run_suite NAME DIR [meson test args...]: runs meson test, adds to the totals.
run_suite() {
  local name=$1 dir=$2; shift 2
  local out="$log_dir/$name.txt"
  echo "=== $name"
  meson test -C "$dir" --print-errorlogs --num-processes "$jobs" "$@" 2>&1 | tee "$out" | \
    grep -E "^ *[0-9]+/[0-9]+ |^(Ok|Fail|Skipped|Timeout|Expected Fail|Unexpected Pass):" || true
  local ok fail timeout skipped unexpected
  ok=$(awk '/^Ok:/ {print $2}' "$out" | tail -1)
  fail=$(awk '/^Fail:/ {print $2}' "$out" | tail -1)
  timeout=$(awk '/^Timeout:/ {print $2}' "$out" | tail -1)
  unexpected=$(awk '/^Unexpected Pass:/ {print $3}' "$out" | tail -1)
  skipped=$(awk '/^Skipped:/ {print $2}' "$out" | tail -1)
  if [[ -z $ok ]]; then
    echo "run-tests: $name did not run (see $out)"
    failed=$((failed + 1))
    return
  fi
  passed=$((passed + ok))
  failed=$((failed + ${fail:-0} + ${timeout:-0} + ${unexpected:-0}))
  if [[ ${KVMEMU_NO_SKIP:-0} == 1 && ${skipped:-0} -gt 0 ]]; then
    echo "run-tests: $name skipped ${skipped} test(s), which this suite must run"
    failed=$((failed + skipped))
  fi
}

echo "=== build (debugoptimized)"
setup build -Dbuildtype=debugoptimized
if ! ninja -C build -j "$jobs" > "$log_dir/build.txt" 2>&1; then
  tail -50 "$log_dir/build.txt"; echo "0 passed, 1 failed"; exit 1
fi
run_suite unit build --suite unit
run_suite conformance build --suite conformance
KVMEMU_NO_SKIP=1 run_suite uml build --suite uml

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
for san in asan tsan; do
  case $san in
    asan) opts=(-Db_sanitize=address,undefined -Db_lundef=false) ;;
    tsan) opts=(-Db_sanitize=thread -Db_lundef=false) ;;
  esac
  echo "=== build ($san)"
  setup "build-$san" -Dbuildtype=debugoptimized "${opts[@]}"
  # Only what the unit tests run is built here (the sanitizers' subject is the code under test).
  read -r -a targets <<< "$(targets_of "build-$san" unit)"
  if ! ninja -C "build-$san" -j "$jobs" "${targets[@]}" > "$log_dir/build-$san.txt" 2>&1; then
    tail -50 "$log_dir/build-$san.txt"; failed=$((failed + 1)); continue
  fi
  run_suite "unit-$san" "build-$san" --suite unit --no-rebuild
done

if [[ ${KVMEMU_SKIP_BENCH:-0} != 1 ]]; then
  echo "=== benchmarks (figures only; release build)"
  setup build-release -Dbuildtype=release
  if ninja -C build-release -j "$jobs" bench/mmu/mmu_bench bench/cpu/cpu_bench \
       bench/ioctl/ioctl_bench bench/ioctl/fuse_file_bench daemon/kvmemud launcher/kvmemu-run > "$log_dir/build-release.txt" 2>&1; then
    scripts/run-benchmarks.sh build-release || echo "run-tests: a benchmark did not complete"
  else
    echo "run-tests: release build failed (benchmarks not run)"; failed=$((failed + 1))
  fi
fi

echo "${passed} passed, ${failed} failed"
[[ $failed -eq 0 ]]
