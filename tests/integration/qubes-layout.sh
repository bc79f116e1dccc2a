#!/bin/bash
# A pool made by Qubes OS (by hand here, in its file layout) is adopted:
# its VMs' volumes are listed and start with their data.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd mkfs.xfs
truncate -s 2G "$WORK/fs.img"
mkfs.xfs -q -m reflink=1 "$WORK/fs.img"
mkdir -p "$WORK/mnt"
mount -o loop "$WORK/fs.img" "$WORK/mnt" || exit $SKIP
at_exit "umount -l '$WORK/mnt'"
at_exit "detach_loops '$WORK/mnt'"
P=$WORK/mnt/qubes
POOL_DIR=$P
mkdir -p "$P/vm-templates/fedora" "$P/appvms/work"
pattern troot 8 >"$P/vm-templates/fedora/root.img"
truncate -s 16M "$P/vm-templates/fedora/root.img"
truncate -s 8M "$P/vm-templates/fedora/private.img"
pattern wpriv 4 >"$P/appvms/work/private.img"
truncate -s 8M "$P/appvms/work/private.img"
cp --reflink=always "$P/appvms/work/private.img" "$P/appvms/work/private.img.1@2024-01-02T03:04:05Z"
: >"$P/appvms/work/private.img~tmp123"  # a Qubes temporary

check "pool add on Qubes dir" qvm_pool add qubes file-reflink -o "dir_path=$P"
check "adopt template" qstor vm create fedora --class template --pool qubes --volatile-size 8Mi
check "adopt app" qstor vm create work --class app --template fedora --volatile-size 8Mi
eq "adopted root size" "$((16 << 20))" "$(qvm_volume info fedora:root size)"
eq "adopted private size" "$((8 << 20))" "$(qvm_volume info work:private size)"
qvm_volume info work:private >"$WORK/info"
grep -q '^ *1$' "$WORK/info" && pass || fail "revision 1 of a Qubes pool not listed: $(cat "$WORK/info")"
qvm_volume list >"$WORK/list"
grep -q 'work' "$WORK/list" && grep -q 'fedora' "$WORK/list" && pass || fail "list lacks adopted VMs"
check "revert to Qubes revision" qvm_volume revert work:private 1
eq "revision content" "$(sum_pattern wpriv 4)" "$(committed_sum work:private 4)"
check "start adopted app" start_vm work
eq "app sees Qubes template root" "$(sum_pattern troot 8)" "$(sum_dev "$(dev_of work root)" 8)"
eq "app sees Qubes private" "$(sum_pattern wpriv 4)" "$(sum_dev "$(dev_of work private)" 4)"
check "stop adopted app" stop_vm work
eq "Qubes temporary cleaned" "" "$(find "$P" -name '*~*')"
finish
