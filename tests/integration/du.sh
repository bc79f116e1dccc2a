#!/bin/bash
# `qstor du` against ground truth on a file-reflink pool: known write
# patterns, an independent byte-by-byte computation over `xfs_io -c
# 'fiemap -v'` of every file in the pool, `btrfs filesystem du` (btrfs),
# the filesystem's free space before and after a removal, and dumpe2fs'
# free blocks for reclaimable.
# Usage: du.sh xfs|btrfs
. "$(dirname "$0")/lib.sh"

kind=${1:?usage: du.sh xfs|btrfs}
need_cmd xfs_io
need_cmd python3
need_cmd mkfs.ext4
need_cmd dumpe2fs
make_fs_pool "$kind" 4G
M=$((1 << 20))
BS=4096
N=48   # MiB the template writes into its root
K=24   # MiB app1 writes into its private

# ---- helpers ----

# near DESC WANT GOT TOL: |WANT - GOT| <= TOL
near() {
	local d=$((${2} - ${3}))
	if [ "${d#-}" -le "$4" ]; then pass; else fail "$1: expected $2 (+-$4), got $3"; fi
}
# extents FILE: number of extents of a file
extents() { xfs_io -c 'fiemap -v' "$1" | grep -c '^ *[0-9]*: .*[0-9] 0x'; }
fs_free() {
	local f s
	sync
	[ "$kind" = btrfs ] && btrfs filesystem sync "$POOL_DIR" >/dev/null
	read -r f s < <(stat -f -c '%f %S' "$POOL_DIR")
	echo $((f * s))
}

# Ground truth: every file under the pool, its FIEMAP map as xfs_io prints
# it, counted block by block (no intervals, nothing shared with qstor's
# code): per volume mapped/exclusive, per VM mapped/vm_exclusive, pool
# mapped/shared, with the same rule for blocks the filesystem flags shared
# that only one file references (held by something else: not exclusive).
cat >"$WORK/truth.py" <<'EOF'
import os, re, subprocess, sys
from collections import defaultdict
pool, unit = sys.argv[1], 4096
owners = defaultdict(list)   # block -> [(vm, vol, file)]
flagged = set()
ext = re.compile(r'^\s*\d+: \[(\d+)\.\.(\d+)\]:\s+(\d+)\.\.(\d+)\s+\d+\s+(0x[0-9a-f]+)')
for top in ("appvms", "vm-templates"):
    for vm in os.listdir(os.path.join(pool, top)) if os.path.isdir(os.path.join(pool, top)) else []:
        for name in os.listdir(os.path.join(pool, top, vm)):
            vol = re.match(r'^([A-Za-z0-9_+]+)', name).group(1)
            path = os.path.join(pool, top, vm, name)
            size = os.stat(path).st_size
            out = subprocess.run(["xfs_io", "-c", "fiemap -v", path], capture_output=True,
                                 text=True, check=True).stdout
            for line in out.splitlines():
                m = ext.match(line)
                if not m:
                    continue
                lo, hi, plo = int(m[1]) * 512, (int(m[2]) + 1) * 512, int(m[3]) * 512
                flags = int(m[5], 16)
                if flags & (0x2 | 0x4 | 0x200):   # unknown, delalloc, inline
                    continue
                hi = min(hi, size)
                assert lo % unit == 0 and plo % unit == 0 and (hi - lo) % unit == 0, line
                for k in range((hi - lo) // unit):
                    b = plo // unit + k
                    owners[b].append((vm, vol, name))
                    if flags & 0x2000:
                        flagged.add(b)
vol_m, vol_x, vm_m, vm_x = defaultdict(int), defaultdict(int), defaultdict(int), defaultdict(int)
pm = ps = 0
for b, o in owners.items():
    vols = {(vm, vol) for vm, vol, _ in o}
    vms = {vm for vm, _, _ in o}
    outside = b in flagged and len(o) == 1
    pm += unit
    ps += unit if len(vms) > 1 or outside else 0
    for v in vols:
        vol_m[v] += unit
        vol_x[v] += unit if len(vols) == 1 and not outside else 0
    for v in vms:
        vm_m[v] += unit
        vm_x[v] += unit if len(vms) == 1 and not outside else 0
for (vm, vol) in sorted(vol_m):
    print("vol", vm, vol, vol_m[(vm, vol)], vol_x[(vm, vol)])
for vm in sorted(vm_m):
    print("vm", vm, vm_m[vm], vm_x[vm])
print("pool", pm, ps)
EOF
truth_check() {
	du_json
	python3 "$WORK/truth.py" "$POOL_DIR" | sort >"$WORK/truth" || { fail "$1: ground truth failed"; return; }
	python3 "$(dirname "${BASH_SOURCE[0]}")/du-lines.py" "$WORK/du.json" | sort >"$WORK/mine"
	if diff -u "$WORK/truth" "$WORK/mine" >"$WORK/diff"; then pass; else fail "$1: du differs from the extent maps: $(cat "$WORK/diff")"; fi
}
# btrfs: union of a directory's files = Exclusive + Set shared of its summary
btrfs_union() { btrfs filesystem du --raw -s "$1" | awk 'NR == 2 { print $2 + $3 }'; }

# ---- a template, two app VMs, known writes ----
check "create template" qstor vm create tpl --class template --root-size 256Mi --private-size 32Mi --volatile-size 32Mi
check "start template" start_vm tpl
check "template writes root" write_dev "$(dev_of tpl root)" t1 $N
check "stop template" stop_vm tpl
check "create app1" qstor vm create app1 --class app --template tpl --private-size 64Mi --volatile-size 32Mi
check "create app2" qstor vm create app2 --class app --template tpl --private-size 64Mi --volatile-size 32Mi
check "start app1" start_vm app1
check "app1 writes private" write_dev "$(dev_of app1 private)" p1 $K
check "app1 writes volatile" write_dev "$(dev_of app1 volatile)" v1 4
check "stop app1" stop_vm app1
check "start app2" start_vm app2
check "app2 writes private" write_dev "$(dev_of app2 private)" p2 8
check "stop app2" stop_vm app2
sync

check "du" du_json
priv1=$POOL_DIR/appvms/app1/private.img
troot=$POOL_DIR/vm-templates/tpl/root.img
tol=$(($(extents "$priv1") * BS))
near "app1 private exclusive = what it wrote" $((K * M)) "$(duf app1 private exclusive)" "$tol"
eq "app1 private mapped = exclusive" "$(duf app1 private exclusive)" "$(duf app1 private mapped)"
eq "app1 private shared" 0 "$(duf app1 private shared)"
near "app1 vm_exclusive = its private (volatile dropped at stop)" $((K * M)) "$(duf app1 vm_exclusive)" "$tol"
tol=$(($(extents "$troot") * BS))
near "template root mapped = what it wrote" $((N * M)) "$(duf tpl root mapped)" "$tol"
eq "template root exclusive (apps share it all)" 0 "$(duf tpl root exclusive)"
eq "app1 root: the template's data" "$(duf tpl root mapped)" "$(duf app1 root mapped)"
eq "app1 root exclusive" 0 "$(duf app1 root exclusive)"
eq "app1 root shared = mapped" "$(duf app1 root mapped)" "$(duf app1 root shared)"
eq "template vm_exclusive" 0 "$(duf tpl vm_exclusive)"
eq "template mapped is the union (root and its precache once)" "$(duf tpl root mapped)" "$(duf tpl mapped)"
eq "app1 mapped = root + private" $(($(duf app1 root mapped) + $(duf app1 private mapped))) "$(duf app1 mapped)"
eq "pool shared = the template's data" "$(duf tpl root mapped)" "$(poolf shared)"
eq "pool vm_exclusive = sum of VMs'" $(($(duf app1 vm_exclusive) + $(duf app2 vm_exclusive))) "$(poolf vm_exclusive)"
eq "pool mapped = shared + vm_exclusive" $(($(poolf shared) + $(poolf vm_exclusive))) "$(poolf mapped)"
# qvm-pool info shows the same pool totals (nothing changed in between)
pinfo() { qvm_pool info default | awk -v k="$1" '$1 == k { print $2 }'; }
eq "qvm-pool info vms_mapped" "$(poolf mapped)" "$(pinfo vms_mapped)"
eq "qvm-pool info vms_exclusive" "$(poolf vm_exclusive)" "$(pinfo vms_exclusive)"
eq "qvm-pool info vms_shared" "$(poolf shared)" "$(pinfo vms_shared)"
check "human output has the pool line" sh -c "'$QSTOR_BIN/qstor' du | grep -q '^(pool) *default '"
truth_check "after writes"

# xfs_io's own sums (XFS flags exactly the shared blocks)
# sum_flag FILE 1|0: bytes of its extents flagged shared (1) or not (0)
sum_flag() {
	local t=0 f n
	while read -r n f; do
		[ $(((16#${f#0x} & 16#2000) != 0)) = "$2" ] && t=$((t + n * 512))
	done < <(xfs_io -c 'fiemap -v' "$1" | awk '$NF ~ /^0x/ { print $(NF - 1), $NF }')
	echo $t
}
if [ "$kind" = xfs ]; then
	eq "xfs_io: template root all shared" "$(duf tpl root shared)" "$(sum_flag "$troot" 1)"
	eq "xfs_io: template root nothing alone" 0 "$(sum_flag "$troot" 0)"
else
	eq "btrfs du: template root" "$(duf tpl root mapped)" "$(btrfs filesystem du --raw "$troot" | awk 'NR == 2 { print $1 }')"
	eq "btrfs du: app1 union" "$(duf app1 mapped)" "$(btrfs_union "$POOL_DIR/appvms/app1")"
	eq "btrfs du: template union" "$(duf tpl mapped)" "$(btrfs_union "$POOL_DIR/vm-templates/tpl")"
	eq "btrfs du: pool union" "$(poolf mapped)" "$(btrfs_union "$POOL_DIR")"
fi

# ---- a clone of a volume: both shared ----
check "create app3" qstor vm create app3 --class app --template tpl --private-size 64Mi --volatile-size 32Mi
check "clone app2 private to app3" qvm_volume clone -f app2:private app3:private
check "du after clone" du_json
eq "app2 private exclusive after clone" 0 "$(duf app2 private exclusive)"
eq "app3 private exclusive after clone" 0 "$(duf app3 private exclusive)"
near "app2 private shared = what it wrote" $((8 * M)) "$(duf app2 private shared)" $((BS * $(extents "$POOL_DIR/appvms/app2/private.img")))
eq "clone shares all of it" "$(duf app2 private mapped)" "$(duf app3 private shared)"
eq "app2 vm_exclusive after clone" 0 "$(duf app2 vm_exclusive)"
truth_check "after clone"

# ---- a template update: old data stays with the apps' precaches ----
check "start template again" start_vm tpl
check "template rewrites 8 MiB" write_dev "$(dev_of tpl root)" t2 8
check "stop template again" stop_vm tpl
truth_check "after template update"

# ---- removing a VM frees its vm_exclusive ----
check "du before remove" du_json
want=$(duf app1 vm_exclusive)
before=$(fs_free)
check "remove app1" qstor vm remove app1
after=$(fs_free)
for i in 1 2 3 4 5; do  # XFS frees unlinked inodes in the background
	[ $((after - before)) -ge "$want" ] && break
	sleep 1
	after=$(fs_free)
done
near "removing app1 freed its vm_exclusive" "$want" $((after - before)) $((2 * M))
truth_check "after remove"

# ---- reclaimable: blocks an ext4 freed but the pool still holds ----
check "create app4" qstor vm create app4 --class app --template tpl --private-size 64Mi --volatile-size 32Mi
check "start app4" start_vm app4
dev=$(dev_of app4 private)
mkdir -p "$WORK/m4"
check "mkfs.ext4" mkfs.ext4 -q -F -E nodiscard "$dev"
check "mount" mount -o nodiscard "$dev" "$WORK/m4"
check "write a file" dd if=/dev/urandom of="$WORK/m4/f" bs=1M count=8 conv=fsync status=none
check "delete it" rm "$WORK/m4/f"
check "umount" umount "$WORK/m4"
check "stop app4" stop_vm app4
check "du with ext4" du_json
rec=$(duf app4 private reclaimable)
# ground truth: dumpe2fs' free blocks against the committed file's map
truth=$(python3 - "$POOL_DIR/appvms/app4/private.img" <<'EOF'
import re, subprocess, sys
path = sys.argv[1]
out = subprocess.run(["dumpe2fs", path], capture_output=True, text=True, check=True).stdout
bs = int(re.search(r'^Block size:\s+(\d+)', out, re.M)[1])
free = set()
for m in re.finditer(r'^\s+Free blocks: (.*)$', out, re.M):
    for r in filter(None, (x.strip() for x in m[1].split(','))):
        a, _, b = r.partition('-')
        free.update(range(int(a), int(b or a) + 1))
fm = subprocess.run(["xfs_io", "-c", "fiemap -v", path], capture_output=True, text=True, check=True).stdout
total = 0
for m in re.finditer(r'^\s*\d+: \[(\d+)\.\.(\d+)\]:\s+\d+\.\.\d+', fm, re.M):
    lo, hi = int(m[1]) * 512, (int(m[2]) + 1) * 512
    for blk in range(lo // bs, hi // bs):
        total += bs if blk in free else 0
print(total)
EOF
)
eq "reclaimable = dumpe2fs free blocks that are mapped" "$truth" "$rec"
[ "$rec" -ge $((8 * M)) ] && pass || fail "reclaimable $rec < the 8 MiB file deleted"
eq "no reclaimable without ext4" 0 "$(duf app2 private reclaimable)"
truth_check "with ext4"

finish
