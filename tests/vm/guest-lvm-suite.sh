#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# GUEST script (run by lvm-suite.sh through run-in-vm.sh): the lvm_thin
# suites, each on its own fresh disk, hence its own fresh VG and thin pool.
# Usage: guest-lvm-suite.sh QSTOR_BIN [rounds=N] NAME=DISK...
#   NAME: behaviour, badinput, crash (tests/integration/NAME.sh lvm:DISK),
#         qubes-vg, pool-full, costs (tests/vm/lvm-NAME.sh DISK; costs
#         measures N start/stop rounds, default 20)
# Every suite's output goes to the console, followed by one line
#   LVM-SUITE-RESULT NAME STATUS SECONDS SUMMARY
# (SUMMARY: the suite's own "N passed, N failed" line). The exit status is
# 0 only if every suite exited 0.
set -u
here=$(cd "$(dirname "$0")" && pwd)
it=$(cd "$here/../integration" && pwd)
. "$here/lvm-env.sh"

export QSTOR_BIN=${1:?usage: guest-lvm-suite.sh QSTOR_BIN NAME=DISK...}
shift
[ -x "$QSTOR_BIN/qstor" ] || { echo "no qstor in $QSTOR_BIN"; exit 1; }
cd /tmp || exit 1

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
rc_all=0
rounds=20
for spec in "$@"; do
	name=${spec%%=*}
	disk=${spec#*=}
	case $name in
	rounds) rounds=$disk; continue ;;
	behaviour | badinput | crash) cmd=("$it/$name.sh" "lvm:$disk") ;;
	qubes-vg | pool-full) cmd=("$here/lvm-$name.sh" "$disk") ;;
	costs) cmd=("$here/lvm-costs.sh" "$disk" "$rounds") ;;
	*) echo "unknown suite $name"; rc_all=1; continue ;;
	esac
	echo "=== lvm-suite: $name on $disk"
	t0=$(now_ms)
	bash "${cmd[@]}" 2>&1 | tee "/tmp/suite-$name.out"
	rc=${PIPESTATUS[0]}
	t=$(($(now_ms) - t0))
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "/tmp/suite-$name.out" | tail -n 1)
	[ -n "$summary" ] || summary="no summary line"
	[ "$rc" -eq 0 ] || rc_all=1
	# leftovers of a suite must not leak into the next one
	dmsetup ls 2>/dev/null | grep -v '^No devices' | sed 's/^/    dm left: /'
	printf 'LVM-SUITE-RESULT %s %s %d.%d %s\n' "$name" "$rc" $((t / 1000)) $((t % 1000 / 100)) "$summary"
done
exit $rc_all
