#!/bin/bash
# host-oracle.sh BUILD OUTDIR: the expected transcripts, from the host's real /dev/kvm.
#
# Runs tests/conformance/kvm_probe (from BUILD) for every scenario of scenarios.sh against the
# host's real /dev/kvm and stores OUTDIR/<transcript>.txt. Where the host has no /dev/kvm, or a
# scenario cannot run here (no root, no user namespaces, no setcap...), the checked-in
# transcript from tests/conformance/expected/ is used instead. OUTDIR/SOURCES says where each
# expectation came from. A host transcript that differs from the checked-in one is reported
# (real KVM changed, or the checked-in file is stale) but is still what gets used.
# Exit status: 0 when every expectation exists, 1 otherwise.
set -u
here=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$here/../.." && pwd)
[ $# -eq 2 ] || { echo "usage: host-oracle.sh BUILD OUTDIR" >&2; exit 2; }
BUILD=$(cd "$1" && pwd) || exit 2
OUT=$2
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd) || exit 2
CHECKED_IN=$REPO/tests/conformance/expected
# shellcheck source=scenarios.sh
. "$here/scenarios.sh"

PROBE=$BUILD/tests/conformance/kvm_probe
[ -x "$PROBE" ] || { echo "host-oracle: $PROBE not built (ninja -C $BUILD tests/conformance/kvm_probe)" >&2; exit 2; }
DEVICE=${KVMEMU_HOST_DEVICE:-/dev/kvm}
# shellcheck disable=SC2034 # used by scenarios.sh
LAUNCH=
# shellcheck disable=SC2034
FILECAP_OPEN=fd
WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/kvmemu-oracle.XXXXXX") || exit 2
chmod 755 "$WORKDIR"
trap 'rm -rf "$WORKDIR"' EXIT

# KVMEMU_ORACLE=checked-in uses only the checked-in transcripts (e.g. on a host whose KVM is
# older than the one kvmemud models: 6.1 has no USER_MEMORY2); default: real KVM when usable.
real=no
if [ "${KVMEMU_ORACLE:-auto}" = checked-in ]; then
	echo "host-oracle: KVMEMU_ORACLE=checked-in: not asking the host's KVM" >&2
elif [ -c "$DEVICE" ] && [ "$(id -u)" = 0 ] && "$PROBE" --device "$DEVICE" --section nocap >/dev/null 2>&1; then
	real=yes
fi
echo "host-oracle: real KVM at $DEVICE usable: $real" >&2

: >"$OUT/SOURCES"
status=0
use_checked_in() {
	local t=$1 why=$2
	if [ -s "$CHECKED_IN/$t.txt" ]; then
		cp "$CHECKED_IN/$t.txt" "$OUT/$t.txt"
		echo "$t: checked-in tests/conformance/expected/$t.txt ($why)" >>"$OUT/SOURCES"
	else
		rm -f "$OUT/$t.txt"
		echo "$t: MISSING ($why, and no checked-in transcript)" >>"$OUT/SOURCES"
		status=1
	fi
}

for s in $SCENARIOS $INFO_SCENARIOS; do
	ok=no
	if [ "$real" = yes ]; then
		if run_scenario "$s" "$OUT"; then
			ok=yes
		else
			echo "host-oracle: scenario $s could not run against $DEVICE:" >&2
			sed 's/^/    /' "$OUT/$s.err" >&2
		fi
	fi
	for t in $(scenario_outputs "$s"); do
		if [ "$ok" = yes ] && [ -s "$OUT/$t.txt" ]; then
			echo "$t: real KVM at $DEVICE ($(uname -r))" >>"$OUT/SOURCES"
			if [ -f "$CHECKED_IN/$t.txt" ] && ! cmp -s "$CHECKED_IN/$t.txt" "$OUT/$t.txt"; then
				echo "host-oracle: NOTE: real KVM's $t transcript differs from the checked-in one:" >&2
				diff -u "$CHECKED_IN/$t.txt" "$OUT/$t.txt" | sed 's/^/    /' >&2
			fi
		else
			if [ "$real" = yes ]; then why="scenario failed on this host"
			elif [ "${KVMEMU_ORACLE:-auto}" = checked-in ]; then why="KVMEMU_ORACLE=checked-in"
			else why="no usable real KVM at $DEVICE"; fi
			use_checked_in "$t" "$why"
		fi
	done
done
cat "$OUT/SOURCES" >&2
exit $status
