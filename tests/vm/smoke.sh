#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# GUEST script (run by test-smoke.sh via run-in-vm.sh): proves the VM has a
# working device-mapper + LVM thin stack before the real lvm-thin driver
# tests rely on it.  Usage: smoke.sh [DISK]   (default /dev/vda, >= 2 GiB,
# its content is destroyed).  Exits 0 only if every step worked.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lvm-env.sh"

dev=${1:-/dev/vda}
vg=qsmoke
step() { echo "=== smoke: $*"; }
# Print a wall-clock checkpoint so slow steps show up in the log.
t0=${EPOCHREALTIME/[.,]/}
at() {
	local t=${EPOCHREALTIME/[.,]/}
	t=$(((t - t0) / 100000))
	echo "    (+$((t / 10)).$((t % 10))s)"
}

step "kernel $(uname -r), device-mapper $(dmsetup version | sed -n 's/^Driver version: *//p')"
grep -q . /proc/modules
for t in thin-pool thin snapshot crypt linear; do
	dmsetup targets | grep -q "^$t " || { echo "dm target $t missing"; exit 1; }
done

step "pvcreate/vgcreate on $dev"
wipefs -a -q "$dev"
pvcreate -y "$dev"
vgcreate "$vg" "$dev"
at

step "thin pool + thin LV + 5 thin snapshots"
lvcreate -y --type thin-pool -L 1G --poolmetadatasize 16M -n pool "$vg"
lvcreate -y -V 2G --thinpool "$vg/pool" -n base
# Something recognisable in the origin before snapshotting.
printf 'qstor-smoke-origin\n' | dd of="/dev/$vg/base" bs=512 conv=sync,fsync status=none
for i in 1 2 3 4 5; do
	# -kn: no activation-skip flag (thin snapshots get it by default), so
	# the snapshot is active right away.
	lvcreate -y -kn -s -n "snap$i" "$vg/base"
done
at

step "write 16 MiB to snap3 and check copy-on-write isolation"
dd if=/dev/urandom of=/tmp/smoke.data bs=1M count=16 status=none
dd if=/tmp/smoke.data of="/dev/$vg/snap3" bs=1M oflag=direct status=none
cmp -n $((16 << 20)) /tmp/smoke.data "/dev/$vg/snap3"
head -c 19 "/dev/$vg/base" | grep -q '^qstor-smoke-origin$'
head -c 19 "/dev/$vg/snap1" | grep -q '^qstor-smoke-origin$'
at

step "lvs"
lvs -a -o lv_name,lv_attr,lv_size,pool_lv,origin,data_percent,metadata_percent "$vg"

if command -v thin_ls >/dev/null; then
	step "thin_ls on a metadata snapshot of the live pool"
	# The kernel thin-pool device is VG-POOL-tpool once thin LVs exist.
	tpool=$(dmsetup ls | awk -v p="$vg-pool-tpool" '$1 == p { print $1 }')
	[ -n "$tpool" ] || { dmsetup ls; echo "no $vg-pool-tpool"; exit 1; }
	dmsetup message "$tpool" 0 reserve_metadata_snap
	rc=0
	thin_ls --metadata-snap -o DEV,MAPPED_BYTES,EXCLUSIVE_BYTES,SHARED_BYTES \
		"/dev/mapper/$vg-pool_tmeta" >/tmp/thin_ls.out || rc=$?
	dmsetup message "$tpool" 0 release_metadata_snap
	cat /tmp/thin_ls.out
	[ $rc = 0 ]
	# 6 thin devices: base + 5 snapshots.
	[ "$(grep -c '^ *[0-9]' /tmp/thin_ls.out)" = 6 ]
	at
else
	step "thin_ls not installed: skipped"
fi

step "deactivate + reactivate (runs thin_check on the pool metadata)"
vgchange -an "$vg"
vgchange -ay -K "$vg"
cmp -n $((16 << 20)) /tmp/smoke.data "/dev/$vg/snap3"
at

step "remove everything"
vgremove -y -ff "$vg"
pvremove -y "$dev"
if dmsetup ls | grep -qv '^No devices found'; then
	dmsetup ls
	exit 1
fi
at
echo "SMOKE OK"
