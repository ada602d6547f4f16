#!/bin/bash
# differential.sh BUILD: kvm_harness against the host's real /dev/kvm and against kvmemud inside
# UML (through tests/uml/run-in-uml.sh and uml-harness.sh --differential); the transcripts must be
# identical line for line. Runs on the host, as root (real /dev/kvm).
#
# Guests compared: arith; exceptions with --no-soft-int (the real KVM here, PVM backend, fails a
# guest int3 with an emulation internal error); isa with --no-abm (it fails popcnt the same way)
# (known kvmemu defects, if any, are listed in uml-harness.sh as KNOWN_DEFECTS);
# nx with --nx-params none --nx-stats skip (the
# guest's steps only: real KVM here uses shadow paging, its stats show no 2M mappings and its
# module parameters are read-only). All guests are SSE-free (-mgeneral-regs-only).
# Prints PASS/FAIL per comparison and, last, `N passed, N failed`. Exit 77 (SKIP) without a usable
# /dev/kvm on the host or while kvmemud/kvmemu-run/kvm_harness is not built.
set -u
here=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$here/../.." && pwd)
[ $# -ge 1 ] || { echo "usage: differential.sh BUILD" >&2; exit 2; }
BUILD=$(cd "$1" && pwd) || exit 2
OUT=$BUILD/harness-differential
HARNESS=$BUILD/tests/harness/kvm_harness
for b in daemon/kvmemud launcher/kvmemu-run tests/harness/kvm_harness; do
	[ -x "$BUILD/$b" ] || { echo "SKIP: $BUILD/$b is not built (yet)"; exit 77; }
done
if ! [ -c /dev/kvm ] || ! { exec 9<>/dev/kvm; } 2>/dev/null; then
	echo "SKIP: no usable /dev/kvm on this host (the real KVM side of the comparison)"
	exit 77
fi
exec 9>&-
rm -rf "$OUT"
mkdir -p "$OUT/host" "$OUT/uml"

passed=0
failed=0
pass() { echo "PASS $1${2:+: $2}"; passed=$((passed + 1)); }
fail() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }

names="diff-arith diff-exceptions diff-isa diff-nx"
args_of() {
	case $1 in
	diff-arith) echo "--guest arith" ;;
	diff-exceptions) echo "--guest exceptions --no-soft-int" ;;
	diff-isa) echo "--guest isa --no-abm" ;;
	diff-nx) echo "--guest nx --nx-params none --nx-stats skip" ;;
	esac
}
echo "== real KVM on $(uname -r)"
for n in $names; do
	# shellcheck disable=SC2046
	timeout -k 5 120 "$HARNESS" $(args_of "$n") >"$OUT/host/$n.txt" 2>"$OUT/host/$n.err"
	rc=$?
	if [ $rc = 0 ]; then pass "host-$n"; else fail "host-$n" "real KVM run failed (status $rc)"; sed 's/^/    /' "$OUT/host/$n.txt" "$OUT/host/$n.err" | tail -n 20; fi
done
echo "== kvmemud in UML"
BUILD=$BUILD "$REPO/tests/uml/run-in-uml.sh" "$here/uml-harness.sh" --differential "$OUT/uml" >"$OUT/uml.log" 2>&1
urc=$?
grep '^PASS\|^FAIL\|^SKIP\|passed,' "$OUT/uml.log" | sed 's/^/  uml: /'
if [ $urc = 0 ]; then pass uml-run; else fail uml-run "run-in-uml/uml-harness.sh status $urc (log: $OUT/uml.log)"; tail -n 30 "$OUT/uml.log" | sed 's/^/    /'; fi
echo "== comparison"
for n in $names; do
	if [ ! -s "$OUT/uml/$n.txt" ]; then
		fail "$n" "no transcript from UML"
	elif diff -u "$OUT/host/$n.txt" "$OUT/uml/$n.txt" >"$OUT/$n.diff"; then
		pass "$n" "identical ($(wc -l <"$OUT/host/$n.txt") lines)"
	else
		fail "$n" "real KVM (-) vs kvmemud (+):"
		sed 's/^/    /' "$OUT/$n.diff"
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
