#!/bin/bash
# integration.sh [ORACLE_DIR [OUT_DIR [CUSE_IO]]]: kvmemud end to end, run INSIDE UML as root by
#   BUILD=... tests/uml/run-in-uml.sh tests/uml/integration.sh ORACLE_DIR OUT_DIR [ring|syscalls]
#
# Starts $BUILD/daemon/kvmemud --foreground --cap-numbering=mainline --cuse-io=CUSE_IO (default
# ring; the log must then say io_uring is in use) (it creates /dev/kvm through
# CUSE), runs every scenario of tests/differential/scenarios.sh through
# $BUILD/launcher/kvmemu-run and compares each transcript with the expectation in ORACLE_DIR
# (default $BUILD/conformance-oracle, written on the host by tests/differential/host-oracle.sh:
# real KVM's answers, or the checked-in ones where real KVM could not serve). Prints PASS/FAIL per
# check and, last, exactly `N passed, N failed`. Exit status 1 on any failure.
set -u
[ -n "${REPO:-}" ] && [ -n "${BUILD:-}" ] || { echo "integration.sh: REPO and BUILD must be set (run it through tests/uml/run-in-uml.sh)" >&2; exit 2; }
ORACLE=${1:-$BUILD/conformance-oracle}
OUT=${2:-$BUILD/conformance-uml}
CUSE_IO=${3:-ring}
# shellcheck source=../differential/scenarios.sh
. "$REPO/tests/differential/scenarios.sh"

# KVMEMU_IT_* overrides exist only to self-test this script outside UML (see README.md).
KVMEMUD=${KVMEMU_IT_DAEMON:-$BUILD/daemon/kvmemud}
RUNNER=${KVMEMU_IT_LAUNCHER:-$BUILD/launcher/kvmemu-run}
PROBE=$BUILD/tests/conformance/kvm_probe
DEVICE=${KVMEMU_IT_DEVICE:-/dev/kvm}
STEP_TIMEOUT=${KVMEMU_STEP_TIMEOUT:-120}
# Every client is started by the launcher, under a timeout so a hung daemon fails the test.
LAUNCH="timeout -k 5 $STEP_TIMEOUT $RUNNER --"
FILECAP_OPEN=${KVMEMU_IT_FILECAP_OPEN:-path}
WORKDIR=$(mktemp -d "${KVMEMU_IT_TMP:-/run}/kvmemu-it.XXXXXX") || exit 2 # tmpfs: setcap works there, not on hostfs
chmod 755 "$WORKDIR"
mkdir -p "$OUT" && rm -f "$OUT"/*.txt "$OUT"/*.err "$OUT"/*.diff
passed=0
failed=0
done_checks=" "
# pass/fail NAME [DETAIL]; check NAME EXPECTED ACTUAL (compare_transcript prints PASS/FAIL + diff)
pass() { echo "PASS $1${2:+: $2}"; passed=$((passed + 1)); done_checks="$done_checks$1 "; }
fail() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); done_checks="$done_checks$1 "; }
check() {
	if compare_transcript "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
	done_checks="$done_checks$1 "
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit $?
}
dpid=
cleanup() {
	if [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; then kill -KILL "$dpid" 2>/dev/null; fi
	rm -rf "$WORKDIR"
}
trap cleanup EXIT

echo "== kvmemu integration on Linux $(uname -r)${KVMEMU_UML:+ (UML)}; expectations from $ORACLE"
[ -f "$ORACLE/SOURCES" ] && sed 's/^/   expectation /' "$ORACLE/SOURCES"

# ---- prerequisites ------------------------------------------------------------------------
all_checks="prerequisites start-kvmemud cuse-io $(for s in $SCENARIOS; do scenario_outputs "$s"; done) no-launcher daemon-alive-after-bad-input daemon-no-leak daemon-sigterm"
not_run() { # $1: why; every check not yet done counts as failed so the totals stay honest
	for c in $all_checks; do
		case "$done_checks" in *" $c "*) ;; *) fail "$c" "not run ($1)" ;; esac
	done
	finish
}
[ -c /dev/cuse ] || [ -n "${KVMEMU_IT_DEVICE:-}" ] || { fail prerequisites "/dev/cuse missing (cuse.ko not loaded)"; not_run "no CUSE"; }
[ -x "$PROBE" ] || { fail prerequisites "$PROBE not built"; not_run "no probe"; }
for t in $(for s in $SCENARIOS; do scenario_outputs "$s"; done); do
	[ -s "$ORACLE/$t.txt" ] || { fail prerequisites "expectation $ORACLE/$t.txt missing (run tests/differential/host-oracle.sh)"; not_run "no expectations"; }
done
if [ -e "$DEVICE" ]; then
	fail prerequisites "$DEVICE already exists before kvmemud starts"
	not_run "$DEVICE taken"
fi
pass prerequisites

# ---- start kvmemud ---------------------------------------------------------------------------
if [ ! -x "$KVMEMUD" ] || [ ! -x "$RUNNER" ]; then
	fail start-kvmemud "$KVMEMUD or $RUNNER not built"
	not_run "no kvmemud"
fi
"$KVMEMUD" --foreground --cap-numbering=mainline --cuse-io="$CUSE_IO" >"$OUT/kvmemud.log" 2>&1 &
dpid=$!
up=no
for _ in $(seq 1 200); do # 20 s
	if [ -c "$DEVICE" ]; then up=yes; break; fi
	kill -0 "$dpid" 2>/dev/null || break
	sleep 0.1
done
if [ "$up" != yes ]; then
	if kill -0 "$dpid" 2>/dev/null; then why="no $DEVICE after 20 s"; else wait "$dpid"; why="kvmemud exited with status $?"; fi
	fail start-kvmemud "$why; its log:"
	sed 's/^/    /' "$OUT/kvmemud.log"
	not_run "kvmemud did not start"
fi
pass start-kvmemud "pid $dpid, $DEVICE is $(stat -L -c 'char %t:%T mode %a' "$DEVICE")"
case $CUSE_IO in
ring) cuse_io_line="CUSE: requests go through io_uring" ;;
*) cuse_io_line="CUSE: requests are read with read() and answered with writev()" ;;
esac
if grep -qF "$cuse_io_line" "$OUT/kvmemud.log"; then
	pass cuse-io "--cuse-io=$CUSE_IO: $cuse_io_line"
else
	fail cuse-io "--cuse-io=$CUSE_IO: the log lacks '$cuse_io_line'"
fi

# ---- scenarios -------------------------------------------------------------------------------
# The daemon's open fd count, once it stops changing (VM/vCPU/stats state is dropped
# asynchronously when a client exits).
daemon_fd_count() { find "/proc/$dpid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
settled_fd_count() {
	local prev=-1 cur i
	for i in $(seq 1 50); do
		cur=$(daemon_fd_count)
		[ "$cur" = "$prev" ] && [ "$i" -gt 5 ] && break
		prev=$cur
		sleep 0.2
	done
	echo "$cur"
}

for s in $SCENARIOS; do
	# For the unprivileged uid: what a udev rule with group kvm gives a user (inside UML only).
	opened=no
	if [ "${KVMEMU_UML:-}" = 1 ] && [ "$FILECAP_OPEN" = path ]; then
		case $s in filecap | filecap-nnp) chmod 0666 "$DEVICE" && opened=yes ;; esac
	fi
	run_scenario "$s" "$OUT"
	rc=$?
	[ "$opened" = yes ] && chmod 0600 "$DEVICE"
	if [ "$rc" != 0 ]; then
		echo "note: scenario $s: a client failed (status $rc); its stderr:"
		sed 's/^/    /' "$OUT/$s.err"
	fi
	for t in $(scenario_outputs "$s"); do
		check "$t" "$ORACLE/$t.txt" "$OUT/$t.txt"
	done
	# Baseline for the leak check: the daemon's open fds once the first scenario's clients are gone.
	[ -z "${fd_baseline:-}" ] && fd_baseline=$(settled_fd_count)
	if ! kill -0 "$dpid" 2>/dev/null; then
		echo "kvmemud died during scenario $s; its log:"
		sed 's/^/    /' "$OUT/kvmemud.log" | tail -n 50
		dpid=
		not_run "kvmemud died"
	fi
done

# Without the launcher: every system-fd answer must still be right (CUSE alone); only
# KVM_CREATE_VM must fail, with an errno (fds.md, step 6).
timeout -k 5 "$STEP_TIMEOUT" "$PROBE" --device "$DEVICE" --section system >"$OUT/no-launcher.txt" 2>"$OUT/no-launcher.err"
cv=$(grep '^system\.create_vm(0) = ' "$OUT/no-launcher.txt")
grep -v '^system\.create_vm(0)\( =\|\.cloexec\)' "$OUT/no-launcher.txt" >"$OUT/no-launcher.filtered.txt"
grep '^system\.' "$ORACLE/root.txt" | grep -v '^system\.create_vm(0)\( =\|\.cloexec\)' >"$WORKDIR/no-launcher.expected"
case "$cv" in
*"= -1 E"*) check no-launcher "$WORKDIR/no-launcher.expected" "$OUT/no-launcher.filtered.txt" ;;
*) fail no-launcher "KVM_CREATE_VM without kvmemu-run must fail with an errno, got '${cv:-nothing}'" ;;
esac

# A client killed in the middle of a stream of requests, then the daemon must still serve.
# The client runs in a session of its own: $! is the wrapper (timeout, launcher), so the whole
# process group is killed, the probe included.
setsid $LAUNCH "$PROBE" --device "$DEVICE" --section hammer --iterations 100000000 >/dev/null 2>&1 &
victim=$!
sleep 1
kill -KILL -- "-$victim" 2>/dev/null || kill -KILL "$victim" 2>/dev/null
wait "$victim" 2>/dev/null
$LAUNCH "$PROBE" --device "$DEVICE" --section system >"$OUT/after-bad-input.txt" 2>"$OUT/after-bad-input.err"
grep '^system\.' "$ORACLE/root.txt" >"$WORKDIR/system.expected"
if ! kill -0 "$dpid" 2>/dev/null; then
	fail daemon-alive-after-bad-input "kvmemud is gone"
	sed 's/^/    /' "$OUT/kvmemud.log" | tail -n 50
	dpid=
else
	check daemon-alive-after-bad-input "$WORKDIR/system.expected" "$OUT/after-bad-input.txt"
fi

# Every VM, vCPU and stats fd of every client is gone by now: the daemon must not hold more fds
# than after the first scenario (each leaked VM would keep its vCPU files and stats memfds open).
if [ -n "$dpid" ]; then
	fd_now=$(settled_fd_count)
	if [ "$fd_now" -le $((fd_baseline + 2)) ]; then
		pass daemon-no-leak "$fd_now open fds after all scenarios, $fd_baseline after the first"
	else
		fail daemon-no-leak "$fd_now open fds after all scenarios, $fd_baseline after the first: VMs not freed when their clients exit?"
		ls -l "/proc/$dpid/fd" | sed 's/^/    /' | tail -n 30
		echo "    processes still running:"
		for p in /proc/[0-9]*; do
			[ -r "$p/cmdline" ] && printf '    %s: %s\n' "${p#/proc/}" "$(tr '\0' ' ' <"$p/cmdline" | cut -c1-150)"
		done | grep -v ': $' | tail -n 15
	fi
fi

# Informational: features real KVM has that kvmemu may deliberately not model.
for s in $INFO_SCENARIOS; do
	run_scenario "$s" "$OUT"
	if [ -s "$ORACLE/$s.txt" ] && ! diff -u "$ORACLE/$s.txt" "$OUT/$s.txt" >"$OUT/$s.txt.diff"; then
		echo "INFO $s (not counted): differs from real KVM:"
		sed 's/^/    /' "$OUT/$s.txt.diff"
	else
		echo "INFO $s (not counted): same as real KVM"
	fi
done

# Clean shutdown on SIGTERM.
if [ -n "$dpid" ]; then
	kill -TERM "$dpid"
	gone=no
	for _ in $(seq 1 100); do
		kill -0 "$dpid" 2>/dev/null || { gone=yes; break; }
		sleep 0.1
	done
	if [ "$gone" = yes ]; then
		wait "$dpid"
		drc=$?
		dpid=
		if [ "$drc" = 0 ]; then pass daemon-sigterm "exited 0"; else fail daemon-sigterm "exited $drc"; fi
	else
		fail daemon-sigterm "still running 10 s after SIGTERM"
	fi
else
	fail daemon-sigterm "daemon not running"
fi
echo "kvmemud log: $OUT/kvmemud.log (last lines below)"
tail -n 20 "$OUT/kvmemud.log" | sed 's/^/    /'
finish
