#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# HOST test (make check): power cuts inside lvm_thin operations.
# The test VM is booted on the same two disks again and again
# (guest-powercut.sh): once to make the VG, the state disk and one VM per
# crash point and to enumerate the points of stop (commit), revert and
# import from a QSTOR_CRASH_LOG run; then once per point, where the guest
# first checks the previous cut (qstor recover, checksums: no committed
# data lost, no leftovers, a second recover changes nothing, the VM starts
# and stops) and then runs the next operation with QSTOR_CRASH_AT=POINT
# QSTOR_CRASH_HANG=1 while run-in-vm.sh kills qemu at the line
# "QSTOR-CRASH-POINT POINT" (exit 137: the power cut); a last boot checks
# the last cut and every VM's data again.
# Exit: 0 pass, 1 fail, 77 when qemu is missing and cannot be installed.
# Env: QSTOR_BIN (default: the current, i.e. build, dir), QSTOR_VM_WORKDIR
# (default ./tests/vm/work; kept on failure), QSTOR_POWERCUT_POINTS (a
# subset of the points, by name).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/host-lib.sh"

vm_host_tools
vm_suite_setup powercut
truncate -s 4G "$work/data.img" && truncate -s 256M "$work/state.img" || exit 1
disks=(--disk "$work/data.img" --disk "$work/state.img")

t0=$SECONDS
boots=0 cuts=0 bad=0
boot() { # LOG [run-in-vm options] -- guest args
	local log=$1
	shift
	boots=$((boots + 1))
	"$here/run-in-vm.sh" "${disks[@]}" --timeout "${QSTOR_VM_TIMEOUT:-900}" --log "$work/$log" "$@"
}

boot setup.log "$work/tests/vm/guest-powercut.sh" "$bin" setup
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: setup boot exited $rc"; bad=$((bad + 1)); }
read -r -a points <<<"$(sed -n 's/^PC-POINTS: //p' "$work/setup.log" | tail -n 1 | tr -d '\r')"
echo "=== power cut points (from a QSTOR_CRASH_LOG run): ${#points[@]}: ${points[*]}"
[ ${#points[@]} -gt 0 ] || { echo "FAIL: no crash points"; bad=$((bad + 1)); }

k=0
for point in "${points[@]}"; do
	k=$((k + 1))
	if [ -n "${QSTOR_POWERCUT_POINTS:-}" ] && [[ " $QSTOR_POWERCUT_POINTS " != *" $point "* ]]; then
		continue
	fi
	echo "=== power cut $k: $point"
	boot "cut-$k.log" --kill-at-pattern "QSTOR-CRASH-POINT $point" \
		"$work/tests/vm/guest-powercut.sh" "$bin" crash "$k" "$point"
	rc=$?
	if [ $rc -eq 137 ]; then
		cuts=$((cuts + 1))
	else
		echo "FAIL: no power cut at $point (exit $rc)"
		bad=$((bad + 1))
	fi
done
boot verify.log "$work/tests/vm/guest-powercut.sh" "$bin" verify
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: verify boot exited $rc"; bad=$((bad + 1)); }

passed=0 failed=0
echo "=== results:"
for f in "$work"/*.log; do
	while read -r line; do
		line=${line%$'\r'}
		echo "  $line"
		if [[ $line =~ :\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
			passed=$((passed + BASH_REMATCH[1]))
			failed=$((failed + BASH_REMATCH[2]))
		fi
	done < <(grep -a '^PC-RESULT ' "$f")
done
grep -a -h '^FAIL' "$work"/*.log | sed 's/^/  /'
echo "power cuts: $cuts at ${#points[@]} points, $boots boots, $((SECONDS - t0))s"
failed=$((failed + bad))
echo "$passed passed, $failed failed"
if [ "$failed" -eq 0 ]; then
	rm -rf "$work"
	exit 0
fi
echo "FAIL: logs and disk images kept in $work"
exit 1
