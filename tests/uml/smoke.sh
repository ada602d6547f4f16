#!/bin/sh
# smoke.sh: runs inside UML (via run-in-uml.sh): the environment the integration test relies on.
ok=0
check() { if eval "$2"; then echo "PASS $1"; else echo "FAIL $1"; ok=1; fi; }
check cuse-device '[ -c /dev/cuse ]'
check fuse-module 'grep -q "^fuse " /proc/modules'
check cuse-module 'grep -q "^cuse " /proc/modules'
check tmpfs-run 'grep -q " /run tmpfs " /proc/mounts'
check root 'test "$(id -u)" = 0'
check build-visible '[ -d "$BUILD" ]'
check setcap-on-tmpfs 'cp /bin/true /run/t && setcap cap_sys_boot+ep /run/t && getcap /run/t | grep -q cap_sys_boot'
rm -f /run/t
exit $ok
