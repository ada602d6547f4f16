#!/bin/bash
# uml-harness-test.sh BUILD: meson's uml_harness: tests/harness/uml-harness.sh inside UML.
# Exit 77 (SKIP) while kvmemud, kvmemu-run or kvm_harness is not built.
set -u
here=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$here/../.." && pwd)
[ $# -eq 1 ] || { echo "usage: uml-harness-test.sh BUILD" >&2; exit 2; }
BUILD=$(cd "$1" && pwd) || exit 2
for b in daemon/kvmemud launcher/kvmemu-run tests/harness/kvm_harness; do
	if [ ! -x "$BUILD/$b" ]; then
		echo "SKIP: $BUILD/$b is not built (yet)" >&2
		exit 77
	fi
done
export BUILD
exec "$REPO/tests/uml/run-in-uml.sh" "$REPO/tests/harness/uml-harness.sh" "$BUILD/harness-uml"
