#!/bin/bash
# GUEST test (run by guest-lvm-suite.sh): `qstor du` on an lvm_thin pool
# (the extents op: the pool's metadata snapshot read by qstor itself)
# against ground truth on the same pool:
#  - thin_ls on a metadata snapshot: a volume that is one thin LV has
#    exactly that LV's MAPPED_BYTES and EXCLUSIVE_BYTES;
#  - thin_dump of a metadata snapshot, counted block by block in python
#    (no intervals, nothing shared with qstor's code): every volume's
#    mapped/exclusive, every VM's mapped/vm_exclusive, the pool's
#    mapped/shared;
#  - known writes: exactly N MiB written is exactly N MiB exclusive;
#  - the kernel's count of used data blocks is the pool's mapped bytes;
#  - no metadata snapshot is left held, also when one was left before.
# Usage: lvm-du.sh DISK   (QSTOR_BIN set, lvm-env.sh sourced)
. "$(dirname "$0")/../integration/lib.sh"

disk=${1:?usage: lvm-du.sh DISK}
need_cmd thin_ls
need_cmd thin_dump
need_cmd python3
M=$((1 << 20))
CHUNK=$((64 << 10))
VG=qsdu$$
pvcreate -q -ff -y "$disk" >/dev/null && vgcreate -q "$VG" "$disk" >/dev/null &&
	lvcreate -q -T -L 2G --chunksize 64k "$VG/pool" >/dev/null || { echo "cannot make the VG"; exit 1; }
at_exit "vgremove -q -ff -y '$VG'; pvremove -q -ff -y '$disk'"
# no revisions: a stopped VM's volume is one thin LV, comparable with thin_ls
check "pool add" qvm_pool add default lvm_thin -o "volume_group=$VG,thin_pool=pool,revisions_to_keep=0"

tpool() { dmsetup ls | awk -v a="$VG-pool-tpool" -v b="$VG-pool" '$1 == a { print a; f = 1 } END { if (!f) print b }'; }
TMETA=/dev/mapper/$VG-pool_tmeta
held() { dmsetup status "$(tpool)" | awk '{ print $7 }'; }
used_bytes() { dmsetup status "$(tpool)" | awk -v c=$CHUNK '{ split($6, d, "/"); print d[1] * c }'; }
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }

# with_snap CMD...: CMD with a metadata snapshot of the pool held
with_snap() {
	local rc
	dmsetup message "$(tpool)" 0 reserve_metadata_snap || return 1
	"$@"
	rc=$?
	dmsetup message "$(tpool)" 0 release_metadata_snap || return 1
	return $rc
}
thin_ls_out() { thin_ls --metadata-snap --no-headers -o DEV,MAPPED_BYTES,EXCLUSIVE_BYTES "$TMETA"; }
lv_ids() { lvs --noheadings -o lv_name,thin_id "$VG" | awk 'NF == 2'; }

# LV name -> VM and volume: vm-VM-VOL[-suffix] (the test's VM names have
# no '-')
cat >"$WORK/names.py" <<'EOF'
def vm_vol(lv):
    p = lv.split("-")
    return (p[1], p[2]) if len(p) >= 3 and p[0] == "vm" else None
EOF
# thin_ls: volumes that are exactly one LV have its figures
cat >"$WORK/thinls.py" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[4])
from names import vm_vol
d = {v["vm"]: {x["volume"]: x for x in v["volumes"]} for v in json.load(open(sys.argv[1]))}
ids = dict(l.split()[::-1] for l in open(sys.argv[2]) if l.strip())
ls = {l.split()[0]: l.split()[1:] for l in open(sys.argv[3]) if l.strip()}
lvs = {}
for dev, lv in ids.items():
    if vm_vol(lv):
        lvs.setdefault(vm_vol(lv), []).append(dev)
n = bad = 0
for (vm, vol), devs in sorted(lvs.items()):
    if len(devs) != 1:
        continue
    mapped, excl = (int(x) for x in ls[devs[0]])
    x = d[vm][vol]
    n += 1
    if (x["mapped"], x["exclusive"]) != (mapped, excl):
        bad += 1
        print("%s:%s: du %d/%d, thin_ls %d/%d" % (vm, vol, x["mapped"], x["exclusive"], mapped, excl))
print("compared", n, "bad", bad)
EOF
# thin_dump, block by block: the same figures as du-lines.py prints
cat >"$WORK/truth.py" <<'EOF'
import sys, xml.etree.ElementTree as ET
from collections import defaultdict
sys.path.insert(0, sys.argv[3])
from names import vm_vol
root = ET.parse(sys.argv[1]).getroot()
unit = int(root.get("data_block_size")) * 512
lv_of = {l.split()[1]: l.split()[0] for l in open(sys.argv[2]) if l.strip()}
owners = defaultdict(list)    # data block -> [(vm, vol)], one per mapping
for dev in root.iter("device"):
    o = vm_vol(lv_of.get(dev.get("dev_id"), "?"))
    for m in dev:
        if m.tag == "single_mapping":
            owners[int(m.get("data_block"))].append(o)
        elif m.tag == "range_mapping":
            for k in range(int(m.get("length"))):
                owners[int(m.get("data_begin")) + k].append(o)
vol_m, vol_x, vm_m, vm_x = defaultdict(int), defaultdict(int), defaultdict(int), defaultdict(int)
pm = ps = 0
for b, o in owners.items():
    vols = set(o)
    vms = {v[0] if v else None for v in o}
    pm += unit
    ps += unit if len(vms) > 1 or None in vms else 0
    for v in vols:
        if v:
            vol_m[v] += unit
            vol_x[v] += unit if len(vols) == 1 else 0
    for v in vms:
        if v:
            vm_m[v] += unit
            vm_x[v] += unit if len(vms) == 1 else 0
for (vm, vol) in sorted(vol_m):
    print("vol", vm, vol, vol_m[(vm, vol)], vol_x[(vm, vol)])
for vm in sorted(vm_m):
    print("vm", vm, vm_m[vm], vm_x[vm])
print("pool", pm, ps)
EOF
# truth_check DESC: du against thin_ls and thin_dump of one snapshot
truth_check() {
	local t0 t1
	t0=$(now_ms)
	du_json || { fail "$1: du failed: $(cat "$WORK/du.json")"; return; }
	t1=$(now_ms)
	eq "$1: no metadata snapshot left held" "-" "$(held)"
	lv_ids >"$WORK/ids"
	with_snap sh -c "thin_ls --metadata-snap --no-headers -o DEV,MAPPED_BYTES,EXCLUSIVE_BYTES '$TMETA' >'$WORK/thinls' &&
		thin_dump --metadata-snap '$TMETA' >'$WORK/dump.xml'" ||
		{ fail "$1: thin_ls/thin_dump failed"; return; }
	python3 "$WORK/thinls.py" "$WORK/du.json" "$WORK/ids" "$WORK/thinls" "$WORK" >"$WORK/cmp"
	if grep -q ' bad 0$' "$WORK/cmp"; then pass; else fail "$1: du differs from thin_ls: $(cat "$WORK/cmp")"; fi
	echo "$1: $(tail -n 1 "$WORK/cmp") volumes (one LV each) against thin_ls; du took $((t1 - t0)) ms"
	python3 "$WORK/truth.py" "$WORK/dump.xml" "$WORK/ids" "$WORK" | sort >"$WORK/truth" ||
		{ fail "$1: ground truth failed"; return; }
	python3 "$(dirname "${BASH_SOURCE[0]}")/../integration/du-lines.py" "$WORK/du.json" | sort >"$WORK/mine"
	if diff -u "$WORK/truth" "$WORK/mine" >"$WORK/diff"; then pass; else fail "$1: du differs from thin_dump: $(cat "$WORK/diff")"; fi
	eq "$1: pool mapped = the kernel's used data blocks" "$(used_bytes)" "$(poolf mapped)"
}

N=48   # MiB the template writes into its root
K=24   # MiB app1 writes into its private
check "create template" qstor vm create tpl --class template --root-size 256Mi --private-size 32Mi --volatile-size 32Mi
check "start template" start_vm tpl
check "template writes root" write_dev "$(dev_of tpl root)" t1 $N
check "stop template" stop_vm tpl
for a in app1 app2 app3; do
	check "create $a" qstor vm create $a --class app --template tpl --private-size 64Mi --volatile-size 32Mi
done
check "create sa" qstor vm create sa --class standalone --root-size 64Mi --private-size 64Mi --volatile-size 32Mi
check "start app1" start_vm app1
check "app1 writes private" write_dev "$(dev_of app1 private)" p1 $K
check "stop app1" stop_vm app1
check "start app2" start_vm app2
check "app2 writes private" write_dev "$(dev_of app2 private)" p2 8
check "stop app2" stop_vm app2
check "clone app2 private to sa" qvm_volume clone -f app2:private sa:private
# app3 keeps running: its root is a snapshot of the template's, 2 MiB of
# it rewritten; 3 MiB into its private's running copy, 1 into volatile
check "start app3" start_vm app3
check "app3 writes root" write_dev "$(dev_of app3 root)" r3 2
check "app3 writes private" write_dev "$(dev_of app3 private)" p3 3
check "app3 writes volatile" write_dev "$(dev_of app3 volatile)" v3 1
sync

truth_check "app3 running"
eq "app1 private exclusive = what it wrote" $((K * M)) "$(duf app1 private exclusive)"
eq "app1 private mapped = exclusive" $((K * M)) "$(duf app1 private mapped)"
eq "app1 vm_exclusive = its private" $((K * M)) "$(duf app1 vm_exclusive)"
eq "template root mapped = what it wrote" $((N * M)) "$(duf tpl root mapped)"
eq "template root exclusive = what app3 rewrote" $((2 * M)) "$(duf tpl root exclusive)"
eq "app3 root mapped" $((N * M)) "$(duf app3 root mapped)"
eq "app3 root exclusive" $((2 * M)) "$(duf app3 root exclusive)"
eq "app3 private exclusive" $((3 * M)) "$(duf app3 private exclusive)"
eq "app3 vm_exclusive = root + private + volatile writes" $((6 * M)) "$(duf app3 vm_exclusive)"
eq "app2 private shared with sa's clone" $((8 * M)) "$(duf app2 private shared)"
eq "sa private shared" $((8 * M)) "$(duf sa private shared)"
eq "app2 vm_exclusive" 0 "$(duf app2 vm_exclusive)"
eq "pool shared = template root kept by app3 + the clone" $(((N - 2 + 8) * M)) "$(poolf shared)"
eq "pool mapped = shared + vm_exclusive" $(($(poolf shared) + $(poolf vm_exclusive))) "$(poolf mapped)"

# a snapshot left held (a crash) is released, and du still exact
check "stop app3" stop_vm app3
check "a stale metadata snapshot" dmsetup message "$(tpool)" 0 reserve_metadata_snap
ne "it is held" "-" "$(held)"
truth_check "after a stale snapshot"
eq "app3 private after stop (committed)" $((3 * M)) "$(duf app3 private exclusive)"
eq "app3 vm_exclusive after stop: private + volatile (root gone)" \
	$(($(duf app3 private exclusive) + $(duf app3 volatile mapped))) "$(duf app3 vm_exclusive)"
eq "template root exclusive after app3 stopped" $((N * M)) "$(duf tpl root exclusive)"

# removal frees exactly what vm_exclusive said
x=$(duf app1 vm_exclusive)
before=$(used_bytes)
check "remove app1" qstor vm remove app1
eq "removing app1 freed its vm_exclusive" "$x" $((before - $(used_bytes)))

# timing on this small pool: du (whole command) against thin_ls alone
t0=$(now_ms)
with_snap thin_ls_out >/dev/null
t1=$(now_ms)
du_json
t2=$(now_ms)
echo "timing: thin_ls with reserve/release $((t1 - t0)) ms, qstor du $((t2 - t1)) ms"
finish
