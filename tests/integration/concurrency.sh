#!/bin/bash
# Concurrency (SPEC 5: a lock per VM, different VMs in parallel):
#  A. 20 VMs created, started (each writes its volumes) and stopped at once,
#     every one from its own process;
#  B. two processes on one VM: start/start, stop/stop and whole
#     start-write-stop cycles; the second waits or is refused clearly
#     ("already running"), never both; every commit lands once, in order;
#  C. an admin revert, resize and import racing a `vm start` of the same VM:
#     the result is one of the two orders, never a mix;
# then `qstor recover` repairs nothing, the catalog and the pool agree (every
# catalog volume's committed object exists, no object without a catalog
# volume, no leftovers, no dirty volume, no loop device of a stopped VM) and
# every volume holds the bytes expected (checksums).
# Usage: concurrency.sh xfs|btrfs|lvm:DISK   (ROUNDS: rounds of B and C, default 2)
. "$(dirname "$0")/lib.sh"

kind=${1:?usage: concurrency.sh xfs|btrfs|lvm:DISK}
case $kind in
xfs | btrfs) make_fs_pool "$kind" ;;
lvm:*) make_lvm_pool "${kind#lvm:}" || { echo "cannot make lvm pool"; exit 1; } ;;
esac
# lvm_thin runs in the TCG test VM, where a round costs minutes: one there
case $kind in lvm:*) ROUNDS=${ROUNDS:-1} ;; *) ROUNDS=${ROUNDS:-2} ;; esac
N=20
RUNS=0
INCONS=0
declare -A EXPECT  # VM:VOL -> checksum of its first 4 MiB committed
declare -A ORDER   # which side won each race, for the closing lines
tally() { ORDER[$1]=$((${ORDER[$1]:-0} + 1)); }

inconsistent() { INCONS=$((INCONS + 1)); fail "INCONSISTENCY: $*"; }
zero4=$(head -c $((4 << 20)) /dev/zero | sha256sum | cut -d' ' -f1)

# run_bg TAG CMD...: CMD in the background, exit code in $WORK/rc.TAG,
# stdout in $WORK/out.TAG, stderr in $WORK/err.TAG
run_bg() { local tag=$1; shift; ( "$@" >"$WORK/out.$tag" 2>"$WORK/err.$tag"; echo $? >"$WORK/rc.$tag" ) & }
rc_of() { cat "$WORK/rc.$1" 2>/dev/null || echo missing; }

# refused_clearly TAG: exit 1 and a message that says why
refused_clearly() {
	[ "$(rc_of "$1")" = 1 ] && grep -qE "already running|running|busy|locked|in use" "$WORK/err.$1"
}

# ---- the global check: recover, catalog against pool, bytes ----
vols_of_catalog() { qvm_volume list 2>/dev/null | awk 'NR > 1 { print $2 ":" $3 }'; }

check_all() { # WHAT [VM...]: the volumes of VM... (default: all) in detail
	local what=$1 out vv vid sos p f info
	shift
	RUNS=$((RUNS + 1))
	echo "check $RUNS: $what (at ${SECONDS} s)"
	out=$(qstor recover 2>&1)
	[ "$out" = "volumes repaired: 0" ] || inconsistent "$what: recover: '$out'"
	eq "$what: no leftovers" "" "$(leftovers)"
	[ -z "$(leftovers)" ] || INCONS=$((INCONS + 1))
	# the catalog's vids (POOL:VID in the first column)
	qvm_volume list 2>/dev/null | awk 'NR > 1 { sub(/^[^:]*:/, "", $1); print $1 }' >"$WORK/cat-vids"
	for vv in $(vols_of_catalog); do
		[ $# -eq 0 ] || [[ " $* " == *" ${vv%%:*} "* ]] || continue
		info=$(qvm_volume info "$vv")
		vid=$(awk '$1 == "vid" { print $2 }' <<<"$info")
		sos=$(awk '$1 == "save_on_stop" { print $2 }' <<<"$info")
		[ "$(awk '$1 == "is_dirty" { print $2 }' <<<"$info")" = False ] || inconsistent "$what: $vv is dirty"
		if [ "$sos" = True ] && [ -n "${POOL_DIR:-}" ] && [ ! -f "$POOL_DIR/$vid.img" ]; then
			inconsistent "$what: $vv: committed object $vid.img missing"
		fi
		if [ "$sos" = True ] && [ -n "${VG:-}" ] && ! lvs "$vid" >/dev/null 2>&1; then
			inconsistent "$what: $vv: committed LV $vid missing"
		fi
		if [ -n "${EXPECT[$vv]:-}" ]; then
			p=$(committed_sum "$vv" 4)
			[ "$p" = "${EXPECT[$vv]}" ] || inconsistent "$what: $vv holds other bytes than expected"
		fi
	done
	# every object on disk belongs to a catalog volume; nothing running
	# is left of a stopped VM
	if [ -n "${POOL_DIR:-}" ]; then
		(cd "$POOL_DIR" && find . -type f ! -name '*.lock' -printf '%P\n') | while read -r f; do
			vid=$(echo "$f" | sed -E 's/(-dirty|-import|-precache)?\.img(\.[0-9]+@.*)?(~.*)?$//')
			grep -qxF -- "$vid" "$WORK/cat-vids" || echo "$f"
		done >"$WORK/orphans"
		for f in $(cat "$WORK/orphans"); do inconsistent "$what: $f on disk has no catalog volume"; done
		for f in $(cd "$POOL_DIR" && find . -name '*-dirty.img' -printf '%P\n'); do
			inconsistent "$what: running copy $f left while every VM is stopped"
		done
		for f in /sys/block/loop*/loop/backing_file; do
			[ -r "$f" ] || continue
			case $(cat "$f") in "$POOL_DIR"/*) inconsistent "$what: loop device on $(cat "$f")" ;; esac
		done
	fi
	if [ -n "${VG:-}" ]; then
		lvs --noheadings -o lv_name "$VG" 2>/dev/null | awk '{print $1}' | grep '^vm-' | while read -r f; do
			grep -qx -- "$VG/${f%-snap}" "$WORK/cat-vids" || grep -qE -- '-[0-9]+-back$' <<<"$f" || echo "$f"
		done >"$WORK/orphans"
		for f in $(cat "$WORK/orphans"); do inconsistent "$what: LV $f has no catalog volume"; done
	fi
}

# ---- A. 20 VMs at once ----
check "create template" qstor vm create tpl --class template --root-size 8Mi --private-size 8Mi --volatile-size 8Mi
start_vm tpl && write_dev "$(dev_of tpl root)" tplroot 4 && stop_vm tpl
EXPECT[tpl:root]=$(sum_pattern tplroot 4)

for i in $(seq 1 $N); do
	if [ $((i % 2)) = 0 ]; then
		run_bg c$i qstor vm create v$i --class app --template tpl --private-size 8Mi --volatile-size 8Mi
	else
		run_bg c$i qstor vm create v$i --class standalone --root-size 8Mi --private-size 8Mi --volatile-size 8Mi
	fi
done
wait
for i in $(seq 1 $N); do eq "create v$i in parallel: $(cat "$WORK/err.c$i")" 0 "$(rc_of c$i)"; done

# start, write, stop: each VM in its own process, all at once
vm_cycle() { # VM SEED
	# the device list goes to dev.VM only once this start has won: a
	# racing cycle's refused start must not truncate the winner's list
	qstor vm start "$1" >"$WORK/dev.$1.$BASHPID" || { rm -f "$WORK/dev.$1.$BASHPID"; return 1; }
	mv -f "$WORK/dev.$1.$BASHPID" "$WORK/dev.$1"
	write_dev "$(dev_of "$1" private)" "$2-p" 4 || return 2
	if [ "$(awk '$1 == "root" { print $3 }' "$WORK/dev.$1")" = rw ]; then
		write_dev "$(dev_of "$1" root)" "$2-r" 4 || return 3
	fi
	write_dev "$(dev_of "$1" volatile)" "$2-v" 4 || return 4
	qstor vm stop "$1" || return 5
}
for i in $(seq 1 $N); do run_bg s$i vm_cycle v$i A$i; done
wait
for i in $(seq 1 $N); do
	eq "start-write-stop v$i in parallel: $(cat "$WORK/err.s$i")" 0 "$(rc_of s$i)"
	EXPECT[v$i:private]=$(sum_pattern "A$i-p" 4)
	# an app VM's root keeps no state of its own (its template's is checked)
	[ $((i % 2)) = 0 ] || EXPECT[v$i:root]=$(sum_pattern "A$i-r" 4)
done
# and once more: starts all at once, then stops all at once
for i in $(seq 1 $N); do run_bg s$i start_vm v$i; done
wait
for i in $(seq 1 $N); do eq "parallel start v$i: $(cat "$WORK/err.s$i")" 0 "$(rc_of s$i)"; done
for i in $(seq 1 $N); do run_bg s$i stop_vm v$i; done
wait
for i in $(seq 1 $N); do eq "parallel stop v$i: $(cat "$WORK/err.s$i")" 0 "$(rc_of s$i)"; done
check_all "20 VMs in parallel"

# ---- B. two processes on one VM ----
check "create w" qstor vm create w --class standalone --root-size 8Mi --private-size 8Mi --volatile-size 8Mi
KEEP=$((3 * ROUNDS + 10))  # above what the rounds make: every commit counts
qvm_volume config w:private revisions_to_keep $KEEP
nrevs() { revs w:private | wc -l; }
upto() { echo $(($1 < KEEP ? $1 : KEEP)); }  # the count of revisions kept
for r in $(seq 1 "$ROUNDS"); do
	# start against start: exactly one wins, the other is refused clearly
	run_bg b1 qstor vm start w
	run_bg b2 qstor vm start w
	wait
	won=0
	for t in b1 b2; do [ "$(rc_of $t)" = 0 ] && won=$((won + 1)); done
	eq "round $r: one of two starts wins" 1 "$won"
	for t in b1 b2; do
		[ "$(rc_of $t)" = 0 ] || refused_clearly $t ||
			inconsistent "round $r: start $t: exit $(rc_of $t), '$(cat "$WORK/err.$t")'"
	done
	# the winner's devices are the VM's: write through them
	for t in b1 b2; do [ "$(rc_of $t)" = 0 ] && cp "$WORK/out.$t" "$WORK/dev.w"; done
	write_dev "$(dev_of w private)" "B$r" 4
	before=$(nrevs)
	# stop against stop: both succeed (idempotent), one commit
	run_bg b1 qstor vm stop w
	run_bg b2 qstor vm stop w
	wait
	eq "round $r: both stops succeed" "0 0" "$(rc_of b1) $(rc_of b2)"
	eq "round $r: two stops commit once" "$(upto $((before + 1)))" "$(nrevs)"
	EXPECT[w:private]=$(sum_pattern "B$r" 4)
	eq "round $r: committed after racing stops" "${EXPECT[w:private]}" "$(committed_sum w:private 4)"

	# whole cycles against each other: each either runs its cycle or is
	# refused at start; the commits of those that ran are the newest
	# state and revisions, each whole, none mixed
	before=$(nrevs)
	# (in even rounds the second one a little later, so that it may
	# also come after the first one's stop)
	run_bg x1 vm_cycle w X1-$r
	[ $((r % 2)) = 0 ] && sleep "$((RANDOM % 3)).$((RANDOM % 10))"
	run_bg x2 vm_cycle w X2-$r
	wait
	ran=""
	for t in x1 x2; do
		case $(rc_of $t) in
		0) ran="$ran ${t^^}-$r" ;;
		1) refused_clearly $t || inconsistent "round $r: cycle $t refused unclearly: '$(cat "$WORK/err.$t")'" ;;
		*) inconsistent "round $r: cycle $t failed after starting (exit $(rc_of $t)): '$(cat "$WORK/err.$t")'" ;;
		esac
	done
	n_ran=$(echo $ran | wc -w)
	tally "cycles-ran-$n_ran"
	[ "$n_ran" -ge 1 ] || inconsistent "round $r: neither cycle ran"
	eq "round $r: one commit per cycle that ran" "$(upto $((before + n_ran)))" "$(nrevs)"
	cur=$(committed_sum w:private 4)
	match=""
	for s in $ran; do [ "$cur" = "$(sum_pattern "$s-p" 4)" ] && match=$s; done
	[ -n "$match" ] || inconsistent "round $r: committed w:private is no cycle's data (ran:$ran)"
	[ -n "$match" ] && EXPECT[w:private]=$cur
	if [ "$n_ran" = 2 ]; then
		# the other cycle's data is the newest revision: revert shows it
		other=$(for s in $ran; do [ "$s" != "$match" ] && echo "$s"; done)
		qvm_volume revert w:private >/dev/null
		eq "round $r: the earlier cycle is the newest revision" "$(sum_pattern "$other-p" 4)" "$(committed_sum w:private 4)"
		EXPECT[w:private]=$(sum_pattern "$other-p" 4)
	fi
	check_all "two processes on one VM, round $r" w
done

# ---- C. admin operations racing a start ----
# VM "a": committed S1 in private, revision S0 before it
check "create a" qstor vm create a --class standalone --root-size 8Mi --private-size 8Mi --volatile-size 8Mi
qvm_volume config a:private revisions_to_keep 10
seed_a() { # ROUND
	start_vm a && write_dev "$(dev_of a private)" "S0-$1" 4 && stop_vm a &&
		start_vm a && write_dev "$(dev_of a private)" "S1-$1" 4 && stop_vm a
}
for r in $(seq 1 "$ROUNDS"); do
	for op in revert import resize; do
		seed_a "$op$r" || fail "seed a for $op round $r"
		s0=$(sum_pattern "S0-$op$r" 4)
		s1=$(sum_pattern "S1-$op$r" 4)
		size_before=$(qvm_volume info a:private size)
		case $op in
		revert) run_bg op qvm_volume revert a:private ;;
		import)
			pattern imp $((size_before >> 20)) >"$WORK/imp.img"
			run_bg op qvm_volume import --no-resize a:private "$WORK/imp.img"
			;;
		resize) run_bg op qvm_volume resize a:private $((size_before + (4 << 20))) ;;
		esac
		# the start a little later in odd rounds, at once in even ones
		[ $((r % 2)) = 1 ] && sleep 0.0$((RANDOM % 5))
		run_bg st qstor vm start a
		wait
		eq "$op race round $r: start succeeds: $(cat "$WORK/err.st")" 0 "$(rc_of st)"
		cp "$WORK/out.st" "$WORK/dev.a" 2>/dev/null
		dev=$(dev_of a private)
		seen=$(sum_dev "$dev" 4)
		case $op in
		revert | import)
			new=$s0
			[ $op = import ] && new=$(sum_pattern imp 4)
			if [ "$(rc_of op)" = 0 ]; then
				tally "$op-first"
				# op first: the VM started on its result
				[ "$seen" = "$new" ] || inconsistent "$op round $r: succeeded but the VM started on other data"
			else
				tally "start-first-$op"
				refused_clearly op || inconsistent "$op round $r: exit $(rc_of op): '$(cat "$WORK/err.op")'"
				[ "$seen" = "$s1" ] || inconsistent "$op round $r: refused but the VM sees other data than S1"
			fi
			stop_vm a
			EXPECT[a:private]=$seen
			;;
		resize)
			eq "resize round $r: succeeds running or not: $(cat "$WORK/err.op")" 0 "$(rc_of op)"
			[ "$seen" = "$s1" ] || inconsistent "resize round $r: data changed"
			eq "resize round $r: running device has the new size" "$((size_before + (4 << 20)))" \
				"$(blockdev --getsize64 "$dev")"
			stop_vm a
			eq "resize round $r: size kept after stop" "$((size_before + (4 << 20)))" "$(qvm_volume info a:private size)"
			EXPECT[a:private]=$s1
			;;
		esac
		check_all "$op racing start, round $r" a
	done
done

check_all "at the end"
echo "race outcomes: $(for k in "${!ORDER[@]}"; do echo -n "$k=${ORDER[$k]} "; done)"
echo "concurrency runs checked: $RUNS, inconsistencies: $INCONS"
eq "no inconsistencies" 0 "$INCONS"
finish
