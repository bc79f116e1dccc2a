#!/bin/bash
# GUEST test (run by guest-lvm-suite.sh): a thin pool filled by a VM's own
# writes to its reserve (default 10% of data kept free). Then create,
# start, import and clone are refused with a message that gives the
# figures, and change nothing; the running VM keeps running (reads, writes
# what it has, stops and commits); qstor itself never takes the pool past
# the reserve; removing a VM frees room and the refusals end.
# Usage: lvm-pool-full.sh DISK   (QSTOR_BIN set, lvm-env.sh sourced)
. "$(dirname "$0")/../integration/lib.sh"

disk=${1:?usage: lvm-pool-full.sh DISK}
M=$((1 << 20))
VG=qsfull$$
pvcreate -q -ff -y "$disk" >/dev/null && vgcreate -q "$VG" "$disk" >/dev/null &&
	lvcreate -q -T -L 128M "$VG/pool" >/dev/null || { echo "cannot make the VG"; exit 1; }
at_exit "vgremove -q -ff -y '$VG'; pvremove -q -ff -y '$disk'"
check "pool add" qvm_pool add default lvm_thin -o "volume_group=$VG,thin_pool=pool"

tpool() { dmsetup ls | awk -v a="$VG-pool-tpool" -v b="$VG-pool" '$1 == a { print a; f = 1 } END { if (!f) print b }'; }
# used data blocks of the pool, from the kernel
used() { dmsetup status "$(tpool)" | awk '{ split($6, d, "/"); print d[1] }'; }
total() { dmsetup status "$(tpool)" | awk '{ split($6, d, "/"); print d[2] }'; }

check "create template" qstor vm create tpl --class template --root-size 32Mi --private-size 8Mi --volatile-size 8Mi
check "create standalone" qstor vm create sa --class standalone --root-size 8Mi --private-size 8Mi --volatile-size 8Mi
check "create filler" qstor vm create big --class standalone --root-size 8Mi --private-size 120Mi --volatile-size 8Mi
check "start template" start_vm tpl
check "template writes" write_dev "$(dev_of tpl root)" tpl 8
check "stop template" stop_vm tpl
check "start filler" start_vm big
# the VM fills the pool past the reserve, 4 MiB at a time, from offset 8 MiB
dev=$(dev_of big private)
check "filler writes its first 8 MiB" write_dev "$dev" first 8
tot=$(total)
off=8
while [ $(($(used) * 100)) -lt $((tot * 93)) ] && [ $off -lt 116 ]; do
	pattern "fill$off" 4 | dd of="$dev" bs=1M seek=$off oflag=direct conv=notrunc status=none || break
	off=$((off + 4))
done
sync
u=$(used)
echo "pool data: $u of $tot blocks used after the VM wrote $off MiB"
[ $((u * 100)) -ge $((tot * 90)) ] && pass || fail "the VM could not fill the pool past its reserve ($u of $tot)"

# every refusal names the pool, says it is full and gives free, size, reserve
FULL="pool 'default' is full: [0-9.]* [KMG]*i*B free of [0-9]* bytes, .* needed, reserve [0-9.]* [KMG]*i*B (10%)"
pattern imp 8 >"$WORK/imp.img"
fp=$(pool_fingerprint)
before=$(used)
refuse "create refused" "$FULL" qstor vm create new --class standalone --root-size 8Mi --private-size 8Mi --volatile-size 8Mi
refuse "start refused" "$FULL" qstor vm start sa
refuse "import refused" "$FULL" qvm_volume import --no-resize sa:private "$WORK/imp.img"
refuse "clone refused" "$FULL" qvm_volume clone -f tpl:root sa:root
refuse "vm clone refused" "$FULL" qstor vm clone sa sa2
refuse "clear refused" "is full" qvm_volume clear -f sa:private
eq "refusals changed nothing" "$fp" "$(pool_fingerprint)"
eq "refusals allocated nothing" "$before" "$(used)"
eq "no leftovers" "" "$(leftovers)"
eq "sa still stopped" "False" "$(qvm_volume info sa:private is_dirty)"

# the running VM is not disturbed: it reads and rewrites what it has
eq "filler reads its data" "$(sum_pattern first 8)" "$(sum_dev "$dev" 8)"
check "filler rewrites in place" write_dev "$dev" second 8
eq "filler reads its new data" "$(sum_pattern second 8)" "$(sum_dev "$dev" 8)"
eq "rewrite in place took no new block" "$before" "$(used)"
eq "filler still running" "running" "$(qstor vm list | awk '$1 == "big" { print $5 }')"
check "filler stops (commit needs no room)" stop_vm big
eq "filler's data committed" "$(sum_pattern second 8)" "$(committed_sum big:private 8)"
refuse "filler's next start refused" "$FULL" qstor vm start big
eq "qstor never passed the reserve itself" "1" "$([ $(($(used) * 100)) -le $((u * 100 + tot)) ] && echo 1)"

# room again: the refusals end
check "remove filler" qstor vm remove big
check "start after room freed" start_vm sa
check "stop" stop_vm sa
check "import after room freed" qvm_volume import --no-resize sa:private "$WORK/imp.img"
eq "import data" "$(sum_pattern imp 8)" "$(committed_sum sa:private 8)"

# metadata: a reserve above what the pool's metadata has free (from the
# kernel's status) refuses the same operations with the metadata figures
mused() { dmsetup status "$(tpool)" | awk '{ split($5, d, "/"); print d[1] }'; }
mtotal() { dmsetup status "$(tpool)" | awk '{ split($5, d, "/"); print d[2] }'; }
mfree_pct=$(((($(mtotal) - $(mused)) * 100) / $(mtotal)))
mres=$((mfree_pct + 1))
[ "$mres" -le 99 ] || mres=99
echo "pool metadata: $(mused) of $(mtotal) blocks used; reserve_metadata set to $mres%"
check "start sa (running through the metadata refusals)" start_vm sa
check "metadata reserve $mres%" qvm_pool set default -o "reserve_metadata=$mres"
MFULL="metadata of pool 'default' is full: [0-9.]* [KMG]*i*B free of [0-9]* bytes, reserve [0-9.]* [KMG]*i*B ($mres%)"
fp=$(pool_fingerprint)
refuse "create refused (metadata)" "$MFULL" qstor vm create new2 --class standalone --root-size 8Mi --private-size 8Mi --volatile-size 8Mi
refuse "start refused (metadata)" "$MFULL" qstor vm start tpl
refuse "import refused (metadata)" "$MFULL" qvm_volume import --no-resize tpl:private "$WORK/imp.img"
refuse "vm clone refused (metadata)" "$MFULL" qstor vm clone tpl tpl2
eq "metadata refusals changed nothing" "$fp" "$(pool_fingerprint)"
check "sa writes on while the metadata reserve refuses" write_dev "$(dev_of sa private)" meta 4
check "sa stops" stop_vm sa
eq "sa's writes committed" "$(sum_pattern meta 4)" "$(committed_sum sa:private 4)"
check "metadata reserve back to 20%" qvm_pool set default -o reserve_metadata=20
check "create after the metadata reserve is lowered" qstor vm create new2 --class standalone --root-size 8Mi --private-size 8Mi --volatile-size 8Mi
finish
