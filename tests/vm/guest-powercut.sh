#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# GUEST script of the power-cut test (powercut.sh boots the VM once per
# phase, on the same two disks):
#   /dev/vda  the VG "qspc" and its thin pool (the pool under test)
#   /dev/vdb  ext4 with qstor's state dir (catalog) and the test's notes,
#             so both outlive the power cuts
# Usage: guest-powercut.sh QSTOR_BIN setup
#        guest-powercut.sh QSTOR_BIN crash K POINT   (verify the pending
#                    cut, then prepare VM pK and run its operation with
#                    QSTOR_CRASH_AT=POINT QSTOR_CRASH_HANG=1: qstor prints
#                    "QSTOR-CRASH-POINT POINT" and hangs, the host kills
#                    qemu: a power cut at that point)
#        guest-powercut.sh QSTOR_BIN verify          (the last one, and all)
# setup enumerates the points of stop (commit), revert and import from a
# QSTOR_CRASH_LOG run and prints them as "PC-POINTS: ...". Each phase
# prints "PC-RESULT <what>: N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lvm-env.sh"
export QSTOR_BIN=${1:?usage: guest-powercut.sh QSTOR_BIN setup|crash K POINT|verify}
phase=${2:?}
. "$here/../integration/lib.sh"

VG=qspc
DATA=/dev/vda
SDISK=/dev/vdb
S=/mnt/qstate
export QSTOR_STATE_DIR=$S/state
cd /tmp || exit 1

result() { echo "PC-RESULT $1: $PASSED passed, $FAILED failed"; }
mount_state() {
	mkdir -p "$S"
	mount -t ext4 "$SDISK" "$S" || { echo "PC-RESULT mount: 0 passed, 1 failed"; exit 1; }
}
# durable notes on the state disk
note() { printf '%s\n' "$2" >"$S/notes/$1.tmp" && sync "$S/notes/$1.tmp" && mv "$S/notes/$1.tmp" "$S/notes/$1" && sync "$S/notes"; }
getnote() { cat "$S/notes/$1" 2>/dev/null; }

# pK: a standalone VM whose private holds Y (a revision) then X (committed)
seed() {
	local k=$1
	qstor vm create "p$k" --class standalone --root-size 8Mi --private-size 8Mi --volatile-size 8Mi >/dev/null &&
		pattern "Y$k" 8 >/tmp/seed && qvm_volume import --no-resize "p$k:private" /tmp/seed &&
		pattern "X$k" 8 >/tmp/seed && qvm_volume import --no-resize "p$k:private" /tmp/seed ||
		fail "seed p$k"
}

zero4=$(head -c $((4 << 20)) /dev/zero | sha256sum | cut -d' ' -f1)
one_of() { # DESC ACTUAL A B
	if [ "$2" = "$3" ] || [ "$2" = "$4" ]; then pass; else fail "$1: neither old nor new state"; fi
}

# After a cut at POINT in pK's operation: recover, then the rules.
verify_one() {
	local k=$1 point=$2 fp1 fp2
	check "$point: recover" qstor recover
	eq "$point: no leftovers" "" "$(leftovers)"
	fp1=$(pool_fingerprint)
	qstor recover >/dev/null 2>&1
	fp2=$(pool_fingerprint)
	eq "$point: second recover changes nothing" "$fp1" "$fp2"
	eq "$point: p$k not dirty" "False" "$(qvm_volume info "p$k:private" is_dirty)"
	local now
	now=$(committed_sum "p$k:private" 4)
	case $point in
	stop.*)
		# the VM's writes (flushed before the stop) are committed
		eq "$point: the VM's writes committed" "$(sum_pattern "W$k" 4)" "$now" ;;
	revert.*)
		one_of "$point: committed is the old or the reverted state" "$now" \
			"$(sum_pattern "X$k" 4)" "$(sum_pattern "Y$k" 4)" ;;
	import.*)
		one_of "$point: committed is the old or the imported state" "$now" \
			"$(sum_pattern "X$k" 4)" "$(sum_pattern "I$k" 4)" ;;
	esac
	# no committed state lost: the one the operation replaced is still
	# there, committed or as a revision (read straight from its LV)
	local have=" $now " lv want
	for r in $(revs "p$k:private"); do
		lv=vm-p$k-private-$r
		lvchange -q -ay -K "$VG/$lv" &&
			have+="$(sum_dev "/dev/mapper/$VG-${lv//-/--}" 4) " &&
			lvchange -q -an "$VG/$lv"
	done
	case $point in
	stop.* | import.*) want=X ;;
	revert.*) want="X Y" ;;
	esac
	for w in $want; do
		case $have in
		*" $(sum_pattern "$w$k" 4) "*) pass ;;
		*) fail "$point: state $w$k lost (committed or revision)" ;;
		esac
	done
	note "final.$k" "$now"
	check "$point: p$k starts after recover" start_vm "p$k"
	check "$point: p$k stops" stop_vm "p$k"
	eq "$point: data kept through a start and stop" "$now" "$(committed_sum "p$k:private" 4)"
}

verify_pending() {
	local pend k point
	pend=$(getnote pending)
	[ -n "$pend" ] || return 0
	read -r k point <<<"$pend"
	echo "=== powercut: after the cut at $point (p$k)"
	verify_one "$k" "$point"
	rm -f "$S/notes/pending"
	sync
	result "$point"
	PASSED=0 FAILED=0
}

case $phase in
setup)
	mkfs.ext4 -q -F "$SDISK" && mount_state && mkdir -p "$S/notes" || exit 1
	pvcreate -q -ff -y "$DATA" >/dev/null && vgcreate -q "$VG" "$DATA" >/dev/null &&
		lvcreate -q -T -L 3G "$VG/pool" >/dev/null || { echo "cannot make the VG"; exit 1; }
	check "pool add" qvm_pool add default lvm_thin -o "volume_group=$VG,thin_pool=pool"
	# the points of stop (commit), revert and import, as the core names them
	seed 0
	start_vm p0 && write_dev "$(dev_of p0 private)" W0 4 || fail "prepare p0"
	QSTOR_CRASH_LOG=/tmp/points qstor vm stop p0 >/dev/null || fail "stop p0"
	QSTOR_CRASH_LOG=/tmp/points qvm_volume revert p0:private >/dev/null || fail "revert p0"
	pattern I0 8 >/tmp/imp
	QSTOR_CRASH_LOG=/tmp/points qvm_volume import --no-resize p0:private /tmp/imp >/dev/null || fail "import p0"
	points=$(awk '!seen[$0]++' /tmp/points | grep -E '^(stop|revert|import)\.' | grep -v '^stop\.after-precache$')
	echo "PC-POINTS: $(echo $points)"
	k=0
	for point in $points; do
		k=$((k + 1))
		seed $k
		note "point.$k" "$point"
	done
	umount "$S"
	result setup
	[ "$FAILED" -eq 0 ]
	exit $?
	;;
crash)
	k=${3:?} point=${4:?}
	mount_state
	verify_pending
	case $point in
	stop.*)
		start_vm "p$k" || fail "start p$k"
		# as a VM's clean shutdown does: its writes flushed
		pattern "W$k" 4 | dd of="$(dev_of "p$k" private)" bs=1M oflag=direct conv=notrunc,fsync status=none ||
			fail "write p$k"
		op=(qstor vm stop "p$k") ;;
	revert.*) op=(qvm_volume revert "p$k:private") ;;
	import.*)
		pattern "I$k" 8 >/tmp/imp
		op=(qvm_volume import --no-resize "p$k:private" /tmp/imp) ;;
	*) fail "unknown point $point"; op=(false) ;;
	esac
	note pending "$k $point"
	sync
	result "prepare $point"
	echo "=== powercut: cut at $point (p$k)"
	QSTOR_CRASH_AT=$point QSTOR_CRASH_HANG=1 "${op[@]}" >/dev/null
	echo "PC-RESULT not reached $point: 0 passed, 1 failed"
	exit 1
	;;
verify)
	mount_state
	verify_pending
	echo "=== powercut: every VM's committed data after all the cuts"
	for f in "$S"/notes/final.*; do
		[ -e "$f" ] || continue
		k=${f##*.}
		eq "p$k: committed data kept across later boots" "$(cat "$f")" "$(committed_sum "p$k:private" 4)"
	done
	result "final"
	umount "$S"
	[ "$FAILED" -eq 0 ]
	exit $?
	;;
esac
