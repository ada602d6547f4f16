# shellcheck shell=bash disable=SC2034
# scenarios.sh: the conformance scenarios, defined once and sourced by
#   tests/differential/host-oracle.sh  (real /dev/kvm on the host: produces the expectations)
#   tests/uml/integration.sh           (kvmemud inside UML: produces what is compared with them)
#
# The caller sets:
#   PROBE     path of kvm_probe
#   LAUNCH    command prefix that makes VM/vCPU/stats fds work: empty on the host,
#             "$BUILD/launcher/kvmemu-run --" for kvmemud (word-split: no spaces in paths)
#   WORKDIR   scratch directory (must be traversable by uid 65534 and allow xattrs for setcap)
#   DEVICE    the KVM device path (/dev/kvm)
#   FILECAP_OPEN  "fd": the unprivileged probe gets $DEVICE as an inherited fd opened by root
#             (host: /dev/kvm is 0600 root); "path": it opens $DEVICE itself (UML: the test
#             makes the node 0666 first, as a udev rule with group kvm would allow)
#
# run_scenario NAME OUTDIR writes OUTDIR/NAME.txt (and for badinput also badinput-hammer*.txt),
# stderr to OUTDIR/NAME.err, and returns non-zero when a probe could not run.

# Scenarios whose transcripts must be identical to the expectation.
SCENARIOS="root nocap userns filecap filecap-nnp fds badinput"
# Informational only (features an emulation may deliberately not model): diffed, never failed.
INFO_SCENARIOS="ext"
# Transcripts each scenario produces (badinput produces three).
scenario_outputs() {
	case $1 in
	badinput) echo "badinput badinput-hammer badinput-hammer2" ;;
	*) echo "$1" ;;
	esac
}

NOBODY_UID=65534
NOBODY_GID=65534

# A copy of the probe with file capability cap_sys_boot+ep, in WORKDIR (not on hostfs).
filecap_probe() {
	local d="$WORKDIR/filecap"
	mkdir -p "$d" && chmod 755 "$WORKDIR" "$d" || return 1
	if [ ! -x "$d/kvm_probe" ]; then
		cp "$PROBE" "$d/kvm_probe" && chmod 755 "$d/kvm_probe" || return 1
		setcap cap_sys_boot+ep "$d/kvm_probe" || {
			echo "setcap failed on $d (no xattrs here?)" >&2
			return 1
		}
	fi
	echo "$d/kvm_probe"
}

run_scenario() {
	local name=$1 out=$2 fcp
	local err="$out/$name.err"
	: >"$err"
	case $name in
	root)
		# shellcheck disable=SC2086
		$LAUNCH "$PROBE" --device "$DEVICE" --section system --section vm --section vcpu \
			>"$out/root.txt" 2>>"$err"
		;;
	nocap)
		# The user drops CAP_SYS_BOOT (bounding set; gone after capsh execs the shell), then
		# launches the program.
		# shellcheck disable=SC2086,SC2016
		capsh --drop=cap_sys_boot -- -c 'exec "$@"' nocap $LAUNCH "$PROBE" --device "$DEVICE" \
			--section nocap >"$out/nocap.txt" 2>>"$err"
		;;
	userns)
		# The program runs in a child user namespace where it is root with every capability,
		# CAP_SYS_BOOT included: KVM must still refuse (it checks the initial namespace).
		# shellcheck disable=SC2086
		$LAUNCH unshare -U -r "$PROBE" --device "$DEVICE" --section nocap \
			>"$out/userns.txt" 2>>"$err"
		;;
	filecap | filecap-nnp)
		# An unprivileged uid running a binary with file capability cap_sys_boot+ep.
		# filecap: the (root) launcher execs setpriv, which becomes uid 65534 and execs the
		# binary: no NO_NEW_PRIVS anywhere, so the file capability applies -> ENABLE_CAP works.
		# filecap-nnp: NO_NEW_PRIVS is set (as a non-root launcher must): file capabilities are
		# ignored at exec -> EPERM.
		fcp=$(filecap_probe 2>>"$err") || return 1
		local sp="setpriv --reuid=$NOBODY_UID --regid=$NOBODY_GID --clear-groups"
		local sections="--section nocap"
		[ "$name" = filecap ] && sections="--section nocap --section vm"
		if [ "$name" = filecap ]; then
			if [ "$FILECAP_OPEN" = fd ]; then
				# shellcheck disable=SC2086
				$LAUNCH $sp "$fcp" --device-fd 3 $sections >"$out/$name.txt" 2>>"$err" 3<>"$DEVICE"
			else
				# shellcheck disable=SC2086
				$LAUNCH $sp "$fcp" --device "$DEVICE" $sections >"$out/$name.txt" 2>>"$err"
			fi
		else
			if [ "$FILECAP_OPEN" = fd ]; then
				# shellcheck disable=SC2086
				# Two setprivs: the first becomes uid 65534 but keeps its permitted set until
				# it execs; NO_NEW_PRIVS only limits an exec to the caller's permitted set, so
				# the second one (a fresh exec with no capabilities left) sets it.
				$sp setpriv --no-new-privs $LAUNCH "$fcp" --device-fd 3 $sections \
					>"$out/$name.txt" 2>>"$err" 3<>"$DEVICE"
			else
				# A non-root launcher: it sets NO_NEW_PRIVS itself (fds.md). Exec'd by setpriv
				# as uid 65534 it starts with no capabilities, so the probe's exec under
				# NO_NEW_PRIVS gains none from its file capability.
				# shellcheck disable=SC2086
				$sp $LAUNCH "$fcp" --device "$DEVICE" $sections >"$out/$name.txt" 2>>"$err"
			fi
		fi
		;;
	fds)
		# shellcheck disable=SC2086
		$LAUNCH "$PROBE" --device "$DEVICE" --section fds --section exitstatus \
			>"$out/fds.txt" 2>>"$err"
		;;
	badinput)
		# One client repeats the root transcript for as long as two others hammer the device
		# with bad requests; every transcript must stay exact.
		local stop="$WORKDIR/badinput.stop" cpid h1 h2 rc1 rc2 rc3
		rm -f "$stop"
		# shellcheck disable=SC2086
		$LAUNCH "$PROBE" --device "$DEVICE" --section system --section vm --section vcpu \
			--repeat 3 --repeat-until "$stop" >"$out/badinput.txt" 2>>"$err" &
		cpid=$!
		# shellcheck disable=SC2086
		$LAUNCH "$PROBE" --device "$DEVICE" --section hammer --iterations 300 \
			>"$out/badinput-hammer.txt" 2>>"$err" &
		h1=$!
		# shellcheck disable=SC2086
		$LAUNCH "$PROBE" --device "$DEVICE" --section hammer --iterations 300 \
			>"$out/badinput-hammer2.txt" 2>>"$err" &
		h2=$!
		wait "$h1"; rc1=$?
		wait "$h2"; rc2=$?
		touch "$stop"
		wait "$cpid"; rc3=$?
		rm -f "$stop"
		[ "$rc1" = 0 ] && [ "$rc2" = 0 ] && [ "$rc3" = 0 ]
		;;
	ext)
		# shellcheck disable=SC2086
		$LAUNCH "$PROBE" --device "$DEVICE" --section ext >"$out/ext.txt" 2>>"$err"
		;;
	*)
		echo "unknown scenario $name" >&2
		return 2
		;;
	esac
}

# compare_transcript NAME EXPECTED ACTUAL: prints PASS/FAIL and a diff; returns 0 on PASS.
compare_transcript() {
	local name=$1 exp=$2 act=$3
	if [ ! -s "$exp" ]; then
		echo "FAIL $name: no expected transcript ($exp)"
		return 1
	fi
	if [ ! -s "$act" ]; then
		echo "FAIL $name: no transcript produced ($act)"
		return 1
	fi
	if diff -u --label "expected/$name (real KVM)" --label "actual/$name" "$exp" "$act" >"$act.diff"; then
		echo "PASS $name"
		return 0
	fi
	echo "FAIL $name: transcript differs from the expectation:"
	sed 's/^/    /' "$act.diff"
	return 1
}
