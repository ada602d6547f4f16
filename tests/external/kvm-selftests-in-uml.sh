#!/bin/bash
# kvm-selftests-in-uml.sh KST_DIR OUT_DIR TEST...: runs inside UML (tests/uml/run-in-uml.sh).
# Starts kvmemud as real KVM answers (--cap-numbering=mainline; --host-mapping-level=2m because
# UML has no huge pages), then runs each Linux KVM selftest binary KST_DIR/TEST unmodified under
# kvmemu-run, one at a time, with a timeout. Writes OUT_DIR/TEST.out (its output) and a line
# "TEST STATUS" per test to OUT_DIR/status (STATUS: the exit code; 124 = timed out).
set -u
B=${BUILD:?}
kst=$1 out=$2
shift 2
mkdir -p "$out"
: >"$out/status"
"$B/daemon/kvmemud" --foreground --cap-numbering=mainline --host-mapping-level=2m \
	--log-level="${KVMEMU_SELFTESTS_LOG:-info}" >"$out/kvmemud.log" 2>&1 &
daemon=$!
i=0
while [ ! -c /dev/kvm ] || [ ! -S /run/kvmemu/supervisor.sock ]; do
	i=$((i + 1))
	if [ $i -gt 200 ] || ! kill -0 $daemon 2>/dev/null; then
		echo "kvmemud did not start:"
		cat "$out/kvmemud.log"
		exit 1
	fi
	sleep 0.1
done
for t in "$@"; do
	timeout -s KILL "${KVMEMU_SELFTESTS_TIMEOUT:-60}" "$B/launcher/kvmemu-run" -- "$kst/$t" \
		>"$out/$(echo "$t" | tr / _).out" 2>&1 </dev/null
	rc=$?
	[ $rc = 137 ] && rc=124
	echo "$t $rc" >>"$out/status"
	echo "$t: exit $rc"
	kill -0 $daemon 2>/dev/null || { echo "kvmemud died during $t"; exit 1; }
done
kill -TERM $daemon
wait $daemon
echo "kvmemud exited $?"
