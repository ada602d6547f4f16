#!/bin/bash
# kvm-selftests.sh BUILD [WORKDIR]: programs that are not ours, run as a new user would.
#
# Builds the KVM selftests of Debian 12's own kernel source (package linux-source-6.1, installed
# by scripts/install-deps.sh) unmodified, runs each one listed in kvm-selftests.expected under
# kvmemu-run against kvmemud (--cap-numbering=mainline) inside User-Mode Linux, and checks its
# exit status against that file: `pass` must exit 0, `skip` must exit 4 (KSFT_SKIP: the test
# found a capability missing, as on a kernel without it), `gap` is a known difference and only
# reported. When the host has a real /dev/kvm, the same binaries also run there, for reference.
# Outputs: WORKDIR/uml/<test>.out, WORKDIR/host/<test>.out, WORKDIR/summary.txt.
# Exit: 0 when every pass/skip expectation holds; 1 otherwise; 77 when the source is missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$here/../.." && pwd)
[ $# -ge 1 ] || { echo "usage: kvm-selftests.sh BUILD [WORKDIR]" >&2; exit 2; }
BUILD=$(cd "$1" && pwd) || exit 2
WORK=${2:-$BUILD/kvm-selftests}
expected=$here/kvm-selftests.expected
tarball=/usr/src/linux-source-6.1.tar.xz
[ -f "$tarball" ] || { echo "SKIP: $tarball missing (apt-get install linux-source-6.1)"; exit 77; }
for b in daemon/kvmemud launcher/kvmemu-run; do
	[ -x "$BUILD/$b" ] || { echo "kvm-selftests: $BUILD/$b not built" >&2; exit 1; }
done
mkdir -p "$WORK"
case "$WORK" in /tmp/* | /run/*) echo "kvm-selftests: WORKDIR must be visible inside UML (not under /tmp or /run)" >&2; exit 2 ;; esac

# ---- extract and build (once per source version) ------------------------------------------
src=$WORK/linux-source-6.1
stamp="$src/.extracted-$(stat -c %Y "$tarball")"
if [ ! -f "$stamp" ]; then
	rm -rf "$src"
	echo "kvm-selftests: extracting tools/ from $tarball"
	tar -C "$WORK" -xJf "$tarball" --wildcards 'linux-source-6.1/tools/*' \
		'linux-source-6.1/scripts/*' 'linux-source-6.1/Makefile' || exit 1
	touch "$stamp"
fi
kst=$WORK/kst
mapfile -t lines < <(grep -v '^\s*#' "$expected" | grep -v '^\s*$')
tests=()
for l in "${lines[@]}"; do tests+=("$(echo "$l" | awk '{print $1}')"); done
echo "kvm-selftests: building ${#tests[@]} selftests (unmodified) into $kst"
targets=()
for t in "${tests[@]}"; do targets+=("$kst/$t"); done
make -k -C "$src/tools/testing/selftests/kvm" OUTPUT="$kst" LINUX_HDR_PATH=/usr/include/ \
	-j "$(nproc)" "${targets[@]}" >"$WORK/build.log" 2>&1
missing=0
for t in "${tests[@]}"; do
	[ -x "$kst/$t" ] || { echo "kvm-selftests: $t did not build (see $WORK/build.log)"; missing=1; }
done
[ $missing = 0 ] || exit 1

# ---- run: inside UML against kvmemud; on the host against real KVM when there is one -------
rm -rf "$WORK/uml" "$WORK/host"
chmod 755 "$WORK"
KVMEMU_UML_MEM=${KVMEMU_UML_MEM:-1G} BUILD=$BUILD "$REPO/tests/uml/run-in-uml.sh" \
	"$here/kvm-selftests-in-uml.sh" "$kst" "$WORK/uml" "${tests[@]}" >"$WORK/uml.log" 2>&1
uml_rc=$?
if [ $uml_rc != 0 ]; then
	cat "$WORK/uml.log"
	echo "kvm-selftests: the UML run failed (exit $uml_rc)"
	exit 1
fi
host=0
if [ -c /dev/kvm ] && [ "$(id -u)" = 0 ]; then
	host=1
	mkdir -p "$WORK/host"
	for t in "${tests[@]}"; do
		timeout -s KILL "${KVMEMU_SELFTESTS_TIMEOUT:-60}" "$kst/$t" \
			>"$WORK/host/$(echo "$t" | tr / _).out" 2>&1 </dev/null
		echo "$t $?" >>"$WORK/host/status"
	done
fi

# ---- compare --------------------------------------------------------------------------------
status_of() { awk -v t="$2" '$1 == t {print $2}' "$1" 2>/dev/null; }
word() { case "$1" in 0) echo pass ;; 4) echo skip ;; 124) echo timeout ;; "") echo "-" ;; *) echo "fail($1)" ;; esac; }
bad=0
{
	printf '%-34s %-8s %-12s %-12s %s\n' test expected kvmemu real-kvm note
	for l in "${lines[@]}"; do
		t=$(echo "$l" | awk '{print $1}')
		want=$(echo "$l" | awk '{print $2}')
		note=$(echo "$l" | awk '{$1 = ""; $2 = ""; sub(/^ +/, ""); print}')
		got=$(status_of "$WORK/uml/status" "$t")
		real=-
		[ $host = 1 ] && real=$(word "$(status_of "$WORK/host/status" "$t")")
		verdict=ok
		case "$want" in
		pass) [ "$got" = 0 ] || verdict=FAIL ;;
		skip) [ "$got" = 4 ] || verdict=FAIL ;;
		gap) [ "$got" = 0 ] && verdict="now passes: update kvm-selftests.expected" ;;
		*) verdict="FAIL (bad expectation '$want')" ;;
		esac
		case "$verdict" in FAIL*) bad=1 ;; esac
		printf '%-34s %-8s %-12s %-12s %s\n' "$t" "$want" "$(word "$got")" "$real" \
			"$([ "$verdict" = ok ] && echo "$note" || echo "$verdict; $note")"
	done
} | tee "$WORK/summary.txt"
grep -q 'FAIL' "$WORK/summary.txt" && bad=1
if [ $bad != 0 ]; then
	echo "kvm-selftests: expectations not met; outputs of failed tests:"
	grep 'FAIL' "$WORK/summary.txt" | awk '{print $1}' | while read -r t; do
		echo "--- $t"
		tail -n 20 "$WORK/uml/$(echo "$t" | tr / _).out"
	done
	tail -n 30 "$WORK/uml/kvmemud.log"
	exit 1
fi
echo "kvm-selftests: every expectation holds"
