#!/bin/bash
# uml-integration-test.sh BUILD [ring|syscalls]: the whole differential integration test, as meson
# runs it, with kvmemud's CUSE I/O as given (default ring).
#   1. tests/differential/host-oracle.sh BUILD BUILD/conformance-oracle   (real KVM, on the host)
#   2. tests/uml/run-in-uml.sh tests/uml/integration.sh ...               (kvmemud, inside UML)
# Exit 77 (meson: SKIP) only while kvmemud or kvmemu-run is not part of the build yet.
set -u
here=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$here/../.." && pwd)
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: uml-integration-test.sh BUILD [ring|syscalls]" >&2; exit 2; }
CUSE_IO=${2:-ring}
BUILD=$(cd "$1" && pwd) || exit 2
OUT=$BUILD/conformance-uml
[ "$CUSE_IO" = ring ] || OUT=$OUT-$CUSE_IO
for b in daemon/kvmemud launcher/kvmemu-run; do
	if [ ! -x "$BUILD/$b" ]; then
		echo "SKIP: $BUILD/$b is not built (yet); the UML integration test needs it" >&2
		exit 77
	fi
done
"$REPO/tests/differential/host-oracle.sh" "$BUILD" "$BUILD/conformance-oracle" || {
	echo "FAIL: could not produce the expected transcripts" >&2
	exit 1
}
export BUILD
exec "$REPO/tests/uml/run-in-uml.sh" "$REPO/tests/uml/integration.sh" \
	"$BUILD/conformance-oracle" "$OUT" "$CUSE_IO"
