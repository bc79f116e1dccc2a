#!/bin/bash
# GUEST test (run by guest-lvm-suite.sh): a volume group that Qubes OS
# made (here by hand with the lvm CLI, in Qubes' names: vm-NAME-VOL,
# vm-NAME-VOL-<unixtime>-back, -snap, -import, a Qubes volatile) is adopted
# with `qvm-pool add` + `qstor vm create`, then listed, started, stopped,
# recovered and reverted correctly; VM "x-root" (vm-x-root-private, ...)
# is never taken for VM "x"'s root (vm-x-root) and the other way round.
# Usage: lvm-qubes-vg.sh DISK   (QSTOR_BIN set, lvm-env.sh sourced)
. "$(dirname "$0")/../integration/lib.sh"

disk=${1:?usage: lvm-qubes-vg.sh DISK}
M=$((1 << 20))
VG=qubes_dom0
TP=vm-pool
pvcreate -q -ff -y "$disk" >/dev/null && vgcreate -q "$VG" "$disk" >/dev/null &&
	lvcreate -q -T -L 1G "$VG/$TP" >/dev/null || { echo "cannot make the Qubes VG"; exit 1; }
at_exit "vgremove -q -ff -y '$VG'; pvremove -q -ff -y '$disk'"

# The way Qubes' lvm_thin driver makes its objects (lvm CLI, as qubes-lvm
# does): thin LVs in the pool; revisions and running copies are thin
# snapshots; every LV inactive at the end, as after a Qubes shutdown.
mk() { lvcreate -q -y -an -V "$2" -T "$VG/$TP" -n "$1" >/dev/null || fail "lvcreate $1"; }
snap() { lvcreate -q -y -an -s "$VG/$1" -n "$2" >/dev/null || fail "snapshot $1 -> $2"; }
put() { # LV SEED MIB
	lvchange -q -ay -K "$VG/$1" && write_dev "/dev/mapper/$VG-${1//-/--}" "$2" "$3" &&
		lvchange -q -an "$VG/$1" || fail "write $1"
}
mk vm-fedora-root 64M
put vm-fedora-root f-old 4
snap vm-fedora-root vm-fedora-root-1700000000-back
put vm-fedora-root f-root 4
mk vm-fedora-private 16M
mk vm-work-private 16M
put vm-work-private w-old1 4
snap vm-work-private vm-work-private-1700000100-back
put vm-work-private w-old2 4
snap vm-work-private vm-work-private-1700000200-back
put vm-work-private w-priv 4
mk vm-work-volatile 16M                 # Qubes keeps a volatile under its base name
# VM "x": standalone, with a running copy left by a Qubes crash
mk vm-x-root 32M
put vm-x-root x-root 4
mk vm-x-private 16M
put vm-x-private x-priv 4
snap vm-x-private vm-x-private-snap
put vm-x-private-snap x-dirty 4
# VM "x-root": its LVs start with "vm-x-root-"
mk vm-x-root-root 32M
put vm-x-root-root xr-root 4
mk vm-x-root-private 16M
put vm-x-root-private xr-old 4
snap vm-x-root-private vm-x-root-private-1700000300-back
put vm-x-root-private xr-priv 4
mk vm-x-root-root-import 32M           # an import of x-root:root Qubes left in flight
xroot_lvs() { lvs --noheadings -o lv_name,lv_size,thin_id "$VG" | awk '$1 ~ /^vm-x-root-/' | sort; }
xroot_before=$(xroot_lvs)

check "pool add on the Qubes VG" qvm_pool add qubes lvm_thin -o "volume_group=$VG,thin_pool=$TP"
refuse "pool add: missing VG" "not found" qvm_pool add p2 lvm_thin -o "volume_group=nosuchvg,thin_pool=$TP"
refuse "pool add: missing thin pool" "not found" qvm_pool add p2 lvm_thin -o "volume_group=$VG,thin_pool=nosuch"
refuse "pool add: not a thin pool" "not a thin pool" qvm_pool add p2 lvm_thin -o "volume_group=$VG,thin_pool=vm-x-root"
check "adopt template" qstor vm create fedora --class template --pool qubes --volatile-size 16Mi
check "adopt app" qstor vm create work --class app --template fedora --pool qubes --volatile-size 16Mi
check "adopt x" qstor vm create x --class standalone --pool qubes --volatile-size 16Mi
check "adopt x-root" qstor vm create x-root --class standalone --pool qubes --volatile-size 16Mi
eq "adopted template root size" "$((64 * M))" "$(qvm_volume info fedora:root size)"
eq "adopted work private size" "$((16 * M))" "$(qvm_volume info work:private size)"
eq "adopted x root size" "$((32 * M))" "$(qvm_volume info x:root size)"
eq "adopted x-root root size" "$((32 * M))" "$(qvm_volume info x-root:root size)"
eq "x:root vid" "$VG/vm-x-root" "$(qvm_volume info x:root vid)"
eq "x-root:private vid" "$VG/vm-x-root-private" "$(qvm_volume info x-root:private vid)"

# listing: revisions by their Qubes ids, nothing of x-root under x
eq "work:private revisions" "1700000100-back 1700000200-back" "$(revs work:private | sort | tr '\n' ' ' | sed 's/ $//')"
eq "fedora:root revision" "1700000000-back" "$(revs fedora:root)"
eq "x:root has no revision" "" "$(revs x:root)"
eq "x-root:private revision" "1700000300-back" "$(revs x-root:private)"
eq "x:private dirty (Qubes crash)" "True" "$(qvm_volume info x:private is_dirty)"
eq "x:root not dirty" "False" "$(qvm_volume info x:root is_dirty)"
eq "x-root:root not dirty" "False" "$(qvm_volume info x-root:root is_dirty)"
qvm_volume list >"$WORK/list"
eq "list: one line per volume" 1 "$(grep -c '^qubes:qubes_dom0/vm-x-root ' "$WORK/list")"
grep -q "^qubes:qubes_dom0/vm-x-root-private  *x-root  *private " "$WORK/list" && pass || fail "list: x-root:private missing: $(cat "$WORK/list")"
grep -q "^qubes:qubes_dom0/vm-x-root  *x  *root " "$WORK/list" && pass || fail "list: x:root missing: $(cat "$WORK/list")"
eq "x's LVs seen as x-root's untouched" "$xroot_before" "$(xroot_lvs)"

# data: each VM sees its own
eq "x root data" "$(sum_pattern x-root 4)" "$(committed_sum x:root 4)"
eq "x-root root data" "$(sum_pattern xr-root 4)" "$(committed_sum x-root:root 4)"
eq "x-root private data" "$(sum_pattern xr-priv 4)" "$(committed_sum x-root:private 4)"

# start, stop: an app VM on a Qubes template
check "start adopted app" start_vm work
eq "app root = Qubes template root" "$(sum_pattern f-root 4)" "$(sum_dev "$(dev_of work root)" 4)"
eq "app private = Qubes private" "$(sum_pattern w-priv 4)" "$(sum_dev "$(dev_of work private)" 4)"
check "app writes private" write_dev "$(dev_of work private)" w-new 4
check "stop adopted app" stop_vm work
eq "app private committed" "$(sum_pattern w-new 4)" "$(committed_sum work:private 4)"
# revisions_to_keep 1: the state replaced is the one revision left, in
# Qubes' naming
eq "one revision after stop" "1" "$(revs work:private | grep -c '^[0-9]*-back$')"
eq "its LV in Qubes' naming" "vm-work-private-$(revs work:private)" "$(lvs --noheadings -o lv_name "$VG" | awk '$1 ~ /^vm-work-private-[0-9]+-back$/ { print $1 }')"

# recover: x's dirty running copy is committed, x-root left alone
check "recover" qstor recover
eq "x private: Qubes running copy committed" "$(sum_pattern x-dirty 4)" "$(committed_sum x:private 4)"
eq "x:private clean after recover" "False" "$(qvm_volume info x:private is_dirty)"
eq "x-root's import leftover cleaned" "" "$(lvs --noheadings -o lv_name "$VG" | awk '$1 == "vm-x-root-root-import"')"
eq "x root still x's" "$(sum_pattern x-root 4)" "$(committed_sum x:root 4)"
eq "x-root private intact after recover" "$(sum_pattern xr-priv 4)" "$(committed_sum x-root:private 4)"
check "start x" start_vm x
eq "x starts on its own root" "$(sum_pattern x-root 4)" "$(sum_dev "$(dev_of x root)" 4)"
eq "x-root:root not started with x" "False" "$(qvm_volume info x-root:root is_dirty)"
check "stop x" stop_vm x

# revert to a Qubes revision, and undo
check "revert to a Qubes revision" qvm_volume revert x-root:private 1700000300-back
eq "Qubes revision content" "$(sum_pattern xr-old 4)" "$(committed_sum x-root:private 4)"
check "undo the revert" qvm_volume revert x-root:private
eq "undo brings back the Qubes state" "$(sum_pattern xr-priv 4)" "$(committed_sum x-root:private 4)"
check "revert template root to Qubes revision" qvm_volume revert fedora:root 1700000000-back
check "start app after template revert" start_vm work
eq "app sees reverted template" "$(sum_pattern f-old 4)" "$(sum_dev "$(dev_of work root)" 4)"
check "stop app again" stop_vm work
eq "x's root untouched by x-root" "$(sum_pattern x-root 4)" "$(committed_sum x:root 4)"

# removing x leaves x-root whole
check "remove x" qstor vm remove x
eq "x's LVs gone" "" "$(lvs --noheadings -o lv_name "$VG" | awk '$1 ~ /^vm-x-(root|private|volatile)(-snap|-[0-9]+-back)?$/')"
eq "x-root's private survives x's removal" "$(sum_pattern xr-priv 4)" "$(committed_sum x-root:private 4)"
eq "x-root's root survives x's removal" "$(sum_pattern xr-root 4)" "$(committed_sum x-root:root 4)"
check "start x-root" start_vm x-root
check "stop x-root" stop_vm x-root
check "remove work" qstor vm remove work
eq "work's LVs gone (Qubes volatile too)" "" "$(lvs --noheadings -o lv_name "$VG" | awk '$1 ~ /^vm-work-/')"
finish
