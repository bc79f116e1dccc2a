#!/bin/bash
# GUEST measurement (not a test; run by hand through run-in-vm.sh): the
# time of `qstor du --json --bytes` on an lvm_thin pool with M app VMs
# against thin_ls alone on the same pool, for each M given.
#   template: root with 200 MiB written; app0 writes 16 MiB into its
#   private; app1..appM-1 are `qstor vm clone`s of app0 (their privates
#   thin snapshots of app0's: shared mapping trees), each then writes
#   1 MiB of its own into its private.
# Prints, per M: the thin LVs in the pool, median ms of R runs of
#   thin_ls alone (a metadata snapshot held), reserve + thin_ls + release,
#   and qstor du (the whole command), and du / thin_ls.
# Usage: lvm-du-scale.sh DISK M... (QSTOR_BIN set, lvm-env.sh sourced);
#   R from QSTOR_DU_ROUNDS (default 5). From the build dir, e.g.:
#   truncate -s 16G /tmp/du.img
#   tests/vm/run-in-vm.sh --disk /tmp/du.img --timeout 5400 \
#     /work/main/tests/vm/lvm-du-scale.sh "$PWD" /dev/vda 100 300
# (the first argument is QSTOR_BIN when it is a directory with qstor)
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ -d "${1:-}" ] && [ -x "$1/qstor" ]; then
	export QSTOR_BIN=$1
	shift
	. "$here/lvm-env.sh"
fi
. "$here/../integration/lib.sh"

disk=${1:?usage: lvm-du-scale.sh [QSTOR_BIN] DISK M...}
shift
R=${QSTOR_DU_ROUNDS:-5}
VG=qsduscale$$
pvcreate -q -ff -y "$disk" >/dev/null && vgcreate -q "$VG" "$disk" >/dev/null &&
	lvcreate -q -T -L 12G --chunksize 64k "$VG/pool" >/dev/null || { echo "cannot make the VG"; exit 1; }
at_exit "vgremove -q -ff -y '$VG'; pvremove -q -ff -y '$disk'"
check "pool add" qvm_pool add default lvm_thin -o "volume_group=$VG,thin_pool=pool"
tpool() { dmsetup ls | awk -v a="$VG-pool-tpool" -v b="$VG-pool" '$1 == a { print a; f = 1 } END { if (!f) print b }'; }
TMETA=/dev/mapper/$VG-pool_tmeta
now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

check "create template" qstor vm create tpl --class template --root-size 1Gi --private-size 64Mi --volatile-size 64Mi
check "start template" start_vm tpl
check "template writes root" write_dev "$(dev_of tpl root)" t 200
check "stop template" stop_vm tpl
check "create app0" qstor vm create app0 --class app --template tpl --private-size 256Mi --volatile-size 64Mi
check "start app0" start_vm app0
check "app0 writes private" write_dev "$(dev_of app0 private)" a0 16
check "stop app0" stop_vm app0
n=1
for m in "$@"; do
	t0=$SECONDS
	while [ $n -lt "$m" ]; do
		qstor vm clone app0 "app$n" >/dev/null || { fail "clone app$n"; break; }
		n=$((n + 1))
	done
	echo "scale: $n VMs made in $((SECONDS - t0)) s (this step)"
	# 1 MiB of its own into each clone's private, at its own offset
	vgchange -q -ay -K "$VG" >/dev/null 2>&1
	for ((i = 1; i < n; i++)); do
		dev=/dev/mapper/$VG-vm--app$i--private
		[ -b "$dev" ] || continue
		pattern "w$i" 1 | dd of="$dev" bs=1M seek=$((i % 200)) oflag=direct conv=notrunc status=none
	done
	sync
	lvs_n=$(lvs --noheadings -o lv_name,thin_id "$VG" | awk 'NF == 2' | wc -l)
	for ((k = 0; k < R; k++)); do
		dmsetup message "$(tpool)" 0 reserve_metadata_snap
		a=$(now_us)
		thin_ls --metadata-snap --no-headers -o DEV,MAPPED_BYTES,EXCLUSIVE_BYTES,SHARED_BYTES "$TMETA" >/dev/null
		b=$(now_us)
		dmsetup message "$(tpool)" 0 release_metadata_snap
		echo $(((b - a) / 1000)) >>"$WORK/ls.$m"
		a=$(now_us)
		dmsetup message "$(tpool)" 0 reserve_metadata_snap
		thin_ls --metadata-snap --no-headers -o DEV,MAPPED_BYTES,EXCLUSIVE_BYTES,SHARED_BYTES "$TMETA" >/dev/null
		dmsetup message "$(tpool)" 0 release_metadata_snap
		b=$(now_us)
		echo $(((b - a) / 1000)) >>"$WORK/lsfull.$m"
		a=$(now_us)
		qstor du --json --bytes >"$WORK/du.json" || fail "du at $m"
		b=$(now_us)
		echo $(((b - a) / 1000)) >>"$WORK/du.$m"
	done
	ls_ms=$(median <"$WORK/ls.$m")
	full_ms=$(median <"$WORK/lsfull.$m")
	du_ms=$(median <"$WORK/du.$m")
	echo "DU-SCALE vms=$n thin_lvs=$lvs_n thin_ls_ms=$ls_ms reserve_thin_ls_release_ms=$full_ms du_ms=$du_ms" \
		"du/thin_ls=$(awk -v a="$du_ms" -v b="$ls_ms" 'BEGIN { printf "%.2f", a / b }')" \
		"du/(reserve+thin_ls+release)=$(awk -v a="$du_ms" -v b="$full_ms" 'BEGIN { printf "%.2f", a / b }')"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("du: %d VMs, pool mapped %d shared %d" % (len(d), d[0]["pools"][0]["mapped"], d[0]["pools"][0]["shared"]))' "$WORK/du.json"
done
finish
