#!/bin/bash
# Crash points: every multi-step operation names its steps; for each step
# the process is killed there (QSTOR_CRASH_AT), `qstor recover` runs, and
# no committed data may be lost, no temporary left, and a second recover
# must change nothing.
# Usage: crash.sh xfs|btrfs|lvm:DISK
. "$(dirname "$0")/lib.sh"

kind=${1:?usage: crash.sh xfs|btrfs|lvm:DISK}
case $kind in
xfs | btrfs) make_fs_pool "$kind" ;;
lvm:*) make_lvm_pool "${kind#lvm:}" || { echo "cannot make lvm pool"; exit 1; } ;;
esac
CASES=0
POINTS=0

# points OP_FUNCTION: the crash points an operation passes, one per line
points() {
	rm -f "$WORK/points"
	QSTOR_CRASH_LOG=$WORK/points "$@" >/dev/null 2>&1
	sort -u "$WORK/points" 2>/dev/null
}

# crashed CMD...: run CMD, which must die at $AT
crashed() { QSTOR_CRASH_AT=$AT "$@" >/dev/null 2>"$WORK/crash.err"; local rc=$?; [ $rc -eq 134 ] || { echo "exit $rc, not a crash at $AT: $(cat "$WORK/crash.err")" >&2; return 1; }; }

after_recover() {
	local what=$1
	check "$what: recover" qstor recover
	eq "$what: no leftovers" "" "$(leftovers)"
	local fp1 fp2
	fp1=$(pool_fingerprint)
	qstor recover >/dev/null 2>&1
	fp2=$(pool_fingerprint)
	eq "$what: second recover changes nothing" "$fp1" "$fp2"
}

one_of() { # DESC ACTUAL A B
	if [ "$2" = "$3" ] || [ "$2" = "$4" ]; then pass; else fail "$1: neither old nor new state"; fi
}

n=0
newvm() { n=$((n + 1)); VM=c$n; qstor vm create "$VM" --class standalone --root-size 8Mi --private-size 8Mi --volatile-size 8Mi >/dev/null || fail "create $VM"; }
# committed state X in VM:private, plus one revision Y before it
seed() {
	newvm
	start_vm "$VM" && write_dev "$(dev_of "$VM" private)" "Y$n" 4 && stop_vm "$VM" &&
	start_vm "$VM" && write_dev "$(dev_of "$VM" private)" "X$n" 4 && stop_vm "$VM" || fail "seed $VM"
}

# ---- stop / commit, for revisions_to_keep 0, 1, 2 ----
for keep in 0 1 2; do
	seed; qvm_volume config "$VM:private" revisions_to_keep $keep
	start_vm "$VM"; write_dev "$(dev_of "$VM" private)" "W$n" 4
	list=$(points qstor vm stop "$VM")
	for AT in $list; do
		POINTS=$((POINTS + 1))
		case $AT in stop.*|*commit*|*retire*|*rename*) ;; *) continue ;; esac
		seed; qvm_volume config "$VM:private" revisions_to_keep $keep
		start_vm "$VM"; write_dev "$(dev_of "$VM" private)" "W$n" 4
		CASES=$((CASES + 1))
		check "stop@$AT keep=$keep crashes" crashed qstor vm stop "$VM"
		after_recover "stop@$AT keep=$keep"
		eq "stop@$AT keep=$keep: VM's writes committed" "$(sum_pattern "W$n" 4)" "$(committed_sum "$VM:private" 4)"
	done
done

# ---- revert, import, clone, resize, clear ----
run_case() { # NAME SETUP-FN OP-FN CHECK-FN
	local name=$1 setup=$2 op=$3 verify=$4 list
	$setup; list=$(points $op)
	for AT in $list; do
		POINTS=$((POINTS + 1))
		$setup
		CASES=$((CASES + 1))
		check "$name@$AT crashes" crashed $op
		after_recover "$name@$AT"
		$verify "$name@$AT"
	done
}

revert_op() { qvm_volume revert "$VM:private"; }
revert_ok() { one_of "$1: committed" "$(committed_sum "$VM:private" 4)" "$(sum_pattern "X$n" 4)" "$(sum_pattern "Y$n" 4)"; }
run_case revert seed revert_op revert_ok

import_setup() { seed; pattern "I$n" 8 >"$WORK/imp"; }
import_op() { qvm_volume import --no-resize "$VM:private" "$WORK/imp"; }
import_ok() { one_of "$1: committed" "$(committed_sum "$VM:private" 4)" "$(sum_pattern "X$n" 4)" "$(sum_pattern "I$n" 4)"; }
run_case import import_setup import_op import_ok

clear_op() { qvm_volume clear -f "$VM:private"; }
clear_ok() { one_of "$1: committed" "$(committed_sum "$VM:private" 4)" "$(sum_pattern "X$n" 4)" "$(head -c $((4 << 20)) /dev/zero | sha256sum | cut -d' ' -f1)"; }
run_case clear seed clear_op clear_ok

clone_setup() { seed; SRC=$VM; seed; }
clone_op() { qvm_volume clone -f "$SRC:private" "$VM:private"; }
clone_ok() {
	eq "$1: source intact" "$(sum_pattern "X$((n - 1))" 4)" "$(committed_sum "$SRC:private" 4)"
	one_of "$1: destination" "$(committed_sum "$VM:private" 4)" "$(sum_pattern "X$n" 4)" "$(sum_pattern "X$((n - 1))" 4)"
}
run_case clone clone_setup clone_op clone_ok

resize_op() { qvm_volume resize "$VM:private" 16Mi; }
resize_ok() {
	eq "$1: data kept" "$(sum_pattern "X$n" 4)" "$(committed_sum "$VM:private" 4)"
	check "$1: VM starts" start_vm "$VM"
	eq "$1: size agrees with disk" "$(blockdev --getsize64 "$(dev_of "$VM" private)")" "$(qvm_volume info "$VM:private" size)"
	stop_vm "$VM"
}
run_case resize seed resize_op resize_ok

start_op() { qstor vm start "$VM"; }
start_ok() {
	eq "$1: committed intact" "$(sum_pattern "X$n" 4)" "$(committed_sum "$VM:private" 4)"
	check "$1: starts again" start_vm "$VM"
	check "$1: stops again" stop_vm "$VM"
}
run_case start seed start_op start_ok

vmclone_op() { qstor vm clone "$VM" "$VM-copy"; }
vmclone_ok() {
	eq "$1: source intact" "$(sum_pattern "X$n" 4)" "$(committed_sum "$VM:private" 4)"
	qstor vm remove "$VM-copy" >/dev/null 2>&1
	check "$1: clone works after recover" qstor vm clone "$VM" "$VM-copy"
	eq "$1: clone data" "$(sum_pattern "X$n" 4)" "$(committed_sum "$VM-copy:private" 4)"
}
run_case vmclone seed vmclone_op vmclone_ok

remove_op() { qstor vm remove "$VM"; }
remove_ok() {
	qstor vm remove "$VM" >/dev/null 2>&1
	refuse "$1: gone after second remove" "no such vm" qvm_volume info "$VM:private"
}
run_case remove seed remove_op remove_ok

create_setup() { n=$((n + 1)); VM=c$n; }
create_op() { qstor vm create "$VM" --class standalone --root-size 8Mi --private-size 8Mi --volatile-size 8Mi; }
create_ok() {
	check "$1: VM exists after recover" qvm_volume info "$VM:private"
	check "$1: starts" start_vm "$VM"
	check "$1: stops" stop_vm "$VM"
}
run_case create create_setup create_op create_ok

echo "crash points seen: $POINTS, crash cases run: $CASES"
finish
