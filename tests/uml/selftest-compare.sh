#!/bin/bash
# selftest-compare.sh BUILD: checks integration.sh's comparison logic on the host, no UML.
# Stands in real /dev/kvm for kvmemud (a fake "daemon" that symlinks it, a launcher that just
# execs), feeds integration.sh expectations from host-oracle.sh with one transcript deliberately
# corrupted, and checks that exactly the corrupted transcript and `no-launcher` (real KVM creates
# VMs without any launcher) FAIL while everything else PASSes. Needs root and a real /dev/kvm.
set -u
here=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$here/../.." && pwd)
[ $# -eq 1 ] || { echo "usage: selftest-compare.sh BUILD" >&2; exit 2; }
BUILD=$(cd "$1" && pwd) || exit 2
[ -c /dev/kvm ] && [ "$(id -u)" = 0 ] || { echo "SKIP: needs root and /dev/kvm" >&2; exit 77; }
t=$(mktemp -d /var/tmp/kvmemu-selftest.XXXXXX) || exit 2
trap 'rm -rf "$t"' EXIT
chmod 755 "$t"
"$REPO/tests/differential/host-oracle.sh" "$BUILD" "$t/oracle" 2>/dev/null || exit 1
# The deliberate mistake: real KVM says EPERM here.
sed -i 's/^\(nocap.vm.enable_cap(220,args0=0)\) = -1 EPERM$/\1 = 0/' "$t/oracle/nocap.txt"
grep -q 'enable_cap(220,args0=0) = 0' "$t/oracle/nocap.txt" || { echo "selftest: corruption failed" >&2; exit 1; }
cat >"$t/fake-kvmemud" <<'EOS'
#!/bin/sh
echo "CUSE: requests go through io_uring (as kvmemud --cuse-io=ring logs it)"
ln -s /dev/kvm "$KVMEMU_IT_DEVICE" || exit 1
trap 'rm -f "$KVMEMU_IT_DEVICE"; exit 0' TERM
while :; do sleep 0.1; done
EOS
printf '#!/bin/sh\n[ "$1" = -- ] && shift\nexec "$@"\n' >"$t/fake-kvmemu-run"
chmod 755 "$t/fake-kvmemud" "$t/fake-kvmemu-run"
export REPO BUILD
KVMEMU_IT_DAEMON=$t/fake-kvmemud KVMEMU_IT_LAUNCHER=$t/fake-kvmemu-run \
	KVMEMU_IT_DEVICE=$t/kvm KVMEMU_IT_FILECAP_OPEN=fd KVMEMU_IT_TMP=$t \
	"$REPO/tests/uml/integration.sh" "$t/oracle" "$t/out" >"$t/log" 2>&1
rc=$?
cat "$t/log"
fails=$(grep '^FAIL ' "$t/log" | awk '{print $2}' | sed 's/:$//' | sort | tr '\n' ' ')
last=$(tail -n 1 "$t/log")
if [ "$rc" != 0 ] && [ "$fails" = "no-launcher nocap " ] && [[ "$last" =~ ^[0-9]+\ passed,\ 2\ failed$ ]]; then
	echo "selftest: OK (the deliberate mistake and no-launcher FAILed, everything else PASSed, exit $rc)"
	exit 0
fi
echo "selftest: WRONG: exit $rc, FAILs: '$fails', last line: '$last'"
exit 1
