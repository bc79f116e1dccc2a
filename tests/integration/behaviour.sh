#!/bin/bash
# The behaviour suite, the same for every driver: the life of template, app,
# standalone and disposable VMs through the three tools.
# Usage: behaviour.sh xfs|btrfs|lvm:DISK
. "$(dirname "$0")/lib.sh"

kind=${1:?usage: behaviour.sh xfs|btrfs|lvm:DISK}
case $kind in
xfs | btrfs) make_fs_pool "$kind" ;;
lvm:*) make_lvm_pool "${kind#lvm:}" || { echo "cannot make lvm pool"; exit 1; } ;;
esac
M=$((1 << 20))

# ---- template and app VMs: template sharing ----
check "create template" qstor vm create tpl --class template --root-size 64Mi --private-size 32Mi --volatile-size 32Mi
check "create app" qstor vm create app1 --class app --template tpl --private-size 32Mi --volatile-size 32Mi
check "create standalone" qstor vm create sa --class standalone --root-size 32Mi --private-size 32Mi --volatile-size 16Mi
check "create disposable" qstor vm create disp1 --class disposable --template app1 --volatile-size 16Mi
eq "app root is a snapshot" "True" "$(qvm_volume info app1:root snap_on_start)"
eq "app root source" "$(qvm_volume info tpl:root vid)" "$(qvm_volume info app1:root source)"
eq "app private is origin" "True" "$(qvm_volume info app1:private save_on_stop)"
eq "disposable private source" "$(qvm_volume info app1:private vid)" "$(qvm_volume info disp1:private source)"
eq "template root size" "$((64 * M))" "$(qvm_volume info tpl:root size)"

check "start template" start_vm tpl
troot=$(dev_of tpl root)
[ -b "$troot" ] && pass || fail "template root device '$troot' is not a block device"
eq "start prints rw" "rw" "$(awk '$1 == "root" { print $3 }' "$WORK/dev.tpl")"
check "write template root" write_dev "$troot" t1 8
check "stop template" stop_vm tpl
eq "template root committed" "$(sum_pattern t1 8)" "$(committed_sum tpl:root 8)"

check "start app" start_vm app1
eq "app sees template data" "$(sum_pattern t1 8)" "$(sum_dev "$(dev_of app1 root)" 8)"
check "app writes root" write_dev "$(dev_of app1 root)" a-root 4
check "app writes private" write_dev "$(dev_of app1 private)" a-priv 4
check "app writes volatile" write_dev "$(dev_of app1 volatile)" a-vol 4
eq "not outdated yet" "False" "$(qvm_volume info app1:root is_outdated)"

# template update while the app runs
check "start template again" start_vm tpl
check "template update" write_dev "$(dev_of tpl root)" t2 8
check "stop template again" stop_vm tpl
eq "app outdated" "True" "$(qvm_volume info app1:root is_outdated)"
check "stop app" stop_vm app1
check "stop is idempotent" stop_vm app1

check "restart app" start_vm app1
eq "template update reached app" "$(sum_pattern t2 8)" "$(sum_dev "$(dev_of app1 root)" 8)"
eq "app private kept" "$(sum_pattern a-priv 4)" "$(sum_dev "$(dev_of app1 private)" 4)"
ne "app volatile discarded" "$(sum_pattern a-vol 4)" "$(sum_dev "$(dev_of app1 volatile)" 4)"
eq "volatile reads zeros" "$(head -c $((4 * M)) /dev/zero | sha256sum | cut -d' ' -f1)" "$(sum_dev "$(dev_of app1 volatile)" 4)"
eq "not outdated after restart" "False" "$(qvm_volume info app1:root is_outdated)"
refuse "second start refused" "already running" qstor vm start app1
refuse "remove template refused (app based on it)" "based on it" qstor vm remove tpl
refuse "remove running refused" "running" qstor vm remove app1
check "stop app again" stop_vm app1

# disposable: root from template, private from app1's committed private
check "start disposable" start_vm disp1
eq "disposable private = app private" "$(sum_pattern a-priv 4)" "$(sum_dev "$(dev_of disp1 private)" 4)"
check "disposable writes private" write_dev "$(dev_of disp1 private)" d-priv 4
check "stop disposable" stop_vm disp1
eq "disposable wrote nothing back" "$(sum_pattern a-priv 4)" "$(committed_sum app1:private 4)"

# standalone
check "start standalone" start_vm sa
check "standalone write" write_dev "$(dev_of sa root)" s-root 4
check "stop standalone" stop_vm sa
eq "standalone root kept" "$(sum_pattern s-root 4)" "$(committed_sum sa:root 4)"

# ---- revisions and revert ----
check "rtk 2" qvm_volume config sa:private revisions_to_keep 2
for i in 1 2 3 4; do
	start_vm sa && write_dev "$(dev_of sa private)" "p$i" 2 && stop_vm sa || fail "cycle $i"
done
eq "keeps 2 revisions" "2" "$(revs sa:private | wc -l)"
eq "committed p4" "$(sum_pattern p4 2)" "$(committed_sum sa:private 2)"
check "revert" qvm_volume revert sa:private
eq "revert brings back p3" "$(sum_pattern p3 2)" "$(committed_sum sa:private 2)"
check "undo revert" qvm_volume revert sa:private
eq "undo brings back p4" "$(sum_pattern p4 2)" "$(committed_sum sa:private 2)"
refuse "revert unknown revision" "no revision 'nosuch'" qvm_volume revert sa:private nosuch
check "start for refusals" start_vm sa
refuse "revert while running" "running" qvm_volume revert sa:private
check "stop after refusals" stop_vm sa

check "rtk 0" qvm_volume config sa:root revisions_to_keep 0
start_vm sa && write_dev "$(dev_of sa root)" r0 2 && stop_vm sa
eq "rtk 0 keeps none" "0" "$(revs sa:root | wc -l)"
check "rtk 1" qvm_volume config sa:root revisions_to_keep 1
start_vm sa && write_dev "$(dev_of sa root)" r1 2 && stop_vm sa
eq "rtk 1 keeps one" "1" "$(revs sa:root | wc -l)"

# revisions_to_keep -1: written in place, blocks dependents while running
check "rtk -1" qvm_volume config tpl:root revisions_to_keep -1
check "start tpl (-1)" start_vm tpl
check "tpl writes in place" write_dev "$(dev_of tpl root)" t3 2
refuse "app start blocked by -1 source" "revisions_to_keep -1" qstor vm start app1
refuse "clone blocked by -1" "revisions_to_keep -1" qvm_volume clone -f tpl:root sa:root
check "stop tpl (-1)" stop_vm tpl
eq "-1 data committed" "$(sum_pattern t3 2)" "$(committed_sum tpl:root 2)"
check "rtk back to 1" qvm_volume config tpl:root revisions_to_keep 1

# ---- resize ----
check "grow stopped" qvm_volume resize sa:private 48Mi
eq "grown" "$((48 * M))" "$(qvm_volume info sa:private size)"
check "start for online grow" start_vm sa
check "grow running" qvm_volume resize sa:private 64Mi
eq "device grew" "$((64 * M))" "$(blockdev --getsize64 "$(dev_of sa private)")"
refuse "shrink running refused" "force" qvm_volume resize sa:private 32Mi
check "stop after grow" stop_vm sa
eq "grown size committed" "$((64 * M))" "$(qvm_volume info sa:private size)"
refuse "shrink without -f" "force" qvm_volume resize sa:private 32Mi
check "shrink with -f" qvm_volume resize -f sa:private 32Mi
eq "shrunk" "$((32 * M))" "$(qvm_volume info sa:private size)"
refuse "resize snapshot volume" "resize the source instead" qvm_volume resize app1:root 128Mi

# ---- import ----
pattern imp 16 >"$WORK/imp.img"
pattern imp32 32 >"$WORK/imp32.img"
check "import from file" qvm_volume import --no-resize sa:private "$WORK/imp32.img"
eq "import data" "$(sum_pattern imp32 32)" "$(committed_sum sa:private 32)"
before=$(committed_sum sa:private 32)
head -c $((10 * M)) "$WORK/imp.img" >"$WORK/short.img"
refuse "short import fails" "shorter" qvm_volume import --no-resize sa:private "$WORK/short.img"
eq "short import changed nothing" "$before" "$(committed_sum sa:private 32)"
eq "no import leftovers" "" "$(leftovers)"
check "import stdin with size" sh -c "pattern() { :; }; cat '$WORK/imp.img' | '$QSTOR_BIN/qvm-volume' import --size $((16 * M)) sa:private -"
eq "stdin import data" "$(sum_pattern imp 16)" "$(committed_sum sa:private 16)"
eq "stdin import size" "$((16 * M))" "$(qvm_volume info sa:private size)"
check "import resizes to file size" qvm_volume import sa:root "$WORK/imp.img"
eq "import resized" "$((16 * M))" "$(qvm_volume info sa:root size)"

# ---- clone and clear ----
check "clone within pool" qvm_volume clone -f sa:private app1:private
eq "clone data" "$(sum_pattern imp 16)" "$(committed_sum app1:private 16)"
check "clear" qvm_volume clear -f sa:root
eq "clear zeros" "$(head -c $((16 * M)) /dev/zero | sha256sum | cut -d' ' -f1)" "$(committed_sum sa:root 16)"
check "revert clear" qvm_volume revert sa:root
eq "clear undone" "$(sum_pattern imp 16)" "$(committed_sum sa:root 16)"

# ---- ephemeral volatile: dm-crypt with a key made at each start ----
check "ephemeral on" qvm_volume config sa:volatile ephemeral True
eq "ephemeral shown" "True" "$(qvm_volume info sa:volatile ephemeral)"
refuse "ephemeral only for volatile" "only volatile" qvm_volume config sa:private ephemeral True
if [ -e /dev/mapper/control ] && modprobe dm_crypt 2>/dev/null; then
	check "start ephemeral" start_vm sa
	case $(dev_of sa volatile) in /dev/mapper/qstor-eph-*) pass ;; *) fail "volatile not encrypted: $(dev_of sa volatile)" ;; esac
	check "write ephemeral" write_dev "$(dev_of sa volatile)" eph 2
	eq "ephemeral reads back while running" "$(sum_pattern eph 2)" "$(sum_dev "$(dev_of sa volatile)" 2)"
	check "stop ephemeral" stop_vm sa
	eq "crypt mapping gone" "" "$(ls /dev/mapper | grep qstor-eph)"
else
	refuse "ephemeral needs device-mapper" "device-mapper" qstor vm start sa
	eq "refused start left sa stopped" "False" "$(qvm_volume info sa:private is_dirty)"
fi
check "ephemeral off" qvm_volume config sa:volatile ephemeral False

# ---- vm clone, remove ----
check "vm clone" qstor vm clone sa sa2
eq "cloned private" "$(committed_sum sa:private 16)" "$(committed_sum sa2:private 16)"
check "remove clone" qstor vm remove sa2
refuse "removed vm gone" "no such vm 'sa2'" qvm_volume info sa2:private
check "remove disposable" qstor vm remove disp1
check "remove app" qstor vm remove app1
check "remove template" qstor vm remove tpl
check "remove standalone" qstor vm remove sa
eq "pool empty after removes" "" "$(if [ -n "${POOL_DIR:-}" ]; then find "$POOL_DIR" -type f; else lvs --noheadings -o lv_name "$VG" | grep -v ' pool$'; fi)"

finish
