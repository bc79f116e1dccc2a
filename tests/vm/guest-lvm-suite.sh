#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# GUEST script (run by lvm-suite.sh through run-in-vm.sh): the lvm_thin
# suites, each on its own fresh disk, hence its own fresh VG and thin pool.
# Usage: guest-lvm-suite.sh QSTOR_BIN [rounds=N] NAME=DISK...
#   NAME: behaviour, badinput, crash (tests/integration/NAME.sh lvm:DISK),
#         qubes-vg, pool-full, costs (tests/vm/lvm-NAME.sh DISK; costs
#         measures N start/stop rounds, default 20)
# The guest has 2 CPUs and a suite keeps about one busy: the crash suite,
# the longest, runs in the background next to the others (its output is
# printed when it ends); costs runs last and alone, so that its timings are
# not disturbed. Every suite's output goes to the console, followed by
#   LVM-SUITE-RESULT NAME STATUS SECONDS SUMMARY
# (SUMMARY: the suite's own "N passed, N failed" line). The exit status is
# 0 only if every suite exited 0.
set -u
here=$(cd "$(dirname "$0")" && pwd)
it=$(cd "$here/../integration" && pwd)
. "$here/lvm-env.sh"

export QSTOR_BIN=${1:?usage: guest-lvm-suite.sh QSTOR_BIN [rounds=N] NAME=DISK...}
shift
[ -x "$QSTOR_BIN/qstor" ] || { echo "no qstor in $QSTOR_BIN"; exit 1; }
cd /tmp || exit 1

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
T0=$(now_ms)
rounds=20

# run_one NAME DISK: the suite, its output, its result line; returns its status
run_one() {
	local name=$1 disk=$2 t0 t rc summary cmd
	case $name in
	behaviour | badinput | crash | concurrency) cmd=("$it/$name.sh" "lvm:$disk") ;;
	qubes-vg | pool-full | du) cmd=("$here/lvm-$name.sh" "$disk") ;;
	costs) cmd=("$here/lvm-costs.sh" "$disk" "$rounds") ;;
	*) echo "unknown suite $name"; return 1 ;;
	esac
	echo "=== lvm-suite: $name on $disk (at +$((($(now_ms) - T0) / 1000))s)"
	t0=$(now_ms)
	bash "${cmd[@]}" 2>&1 | tee "/tmp/suite-$name.out"
	rc=${PIPESTATUS[0]}
	t=$(($(now_ms) - t0))
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "/tmp/suite-$name.out" | tail -n 1)
	[ -n "$summary" ] || summary="no summary line"
	printf 'LVM-SUITE-RESULT %s %s %d.%d %s\n' "$name" "$rc" $((t / 1000)) $((t % 1000 / 100)) "$summary"
	return $rc
}

fg=() bg=() last=()
for spec in "$@"; do
	name=${spec%%=*}
	case $name in
	rounds) rounds=${spec#*=} ;;
	crash) bg+=("$spec") ;;
	costs) last+=("$spec") ;;
	*) fg+=("$spec") ;;
	esac
done
[ ${#fg[@]} -gt 0 ] || { fg=("${bg[@]}"); bg=(); }

rc_all=0
for spec in "${bg[@]}"; do
	(run_one "${spec%%=*}" "${spec#*=}" >"/tmp/bg-${spec%%=*}.log" 2>&1
	 echo $? >"/tmp/bg-${spec%%=*}.rc") &
	echo "=== lvm-suite: ${spec%%=*} started in the background"
done
for spec in "${fg[@]}"; do
	run_one "${spec%%=*}" "${spec#*=}" || rc_all=1
done
wait
for spec in "${bg[@]}"; do
	cat "/tmp/bg-${spec%%=*}.log"
	[ "$(cat "/tmp/bg-${spec%%=*}.rc" 2>/dev/null)" = 0 ] || rc_all=1
done
for spec in "${last[@]}"; do
	run_one "${spec%%=*}" "${spec#*=}" || rc_all=1
done
# leftovers of the suites (each tears its VG down)
dmsetup ls 2>/dev/null | grep -v '^No devices' | sed 's/^/dm device left: /'
echo "lvm-suite: all suites in $((($(now_ms) - T0) / 1000))s"
exit $rc_all
