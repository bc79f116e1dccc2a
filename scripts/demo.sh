#!/bin/bash
# The demo: an embedded default pool (a sparse XFS image with reflinks under
# the state directory), a template whose root holds a real ext4 filesystem,
# ten app VMs that each write a few MiB into their private volume, and what
# each VM costs. Running it again reuses what the first run made.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${QSTOR_BIN:-$top/build}
export QSTOR_STATE_DIR=${QSTOR_STATE_DIR:-/var/lib/qstor}
qstor() { "$bin/qstor" "$@"; }
qvm_volume() { "$bin/qvm-volume" "$@"; }
qvm_pool() { "$bin/qvm-pool" "$@"; }
dev() { awk -v v="$2" '$1 == v { print $2 }' <<<"$1"; }

[ "$(id -u)" = 0 ] || { echo "demo: must be root (loop devices, mounts)" >&2; exit 1; }
mkdir -p -m 0700 "$QSTOR_STATE_DIR"
qstor vm list >/dev/null  # makes the catalog before the pool image lands beside it
img=$QSTOR_STATE_DIR/default-pool.img
mnt=$QSTOR_STATE_DIR/default-pool
if [ ! -f "$img" ]; then
	echo "== making the embedded pool: sparse 64 GiB XFS image with reflinks"
	truncate -s 64G "$img"
	chmod 0600 "$img"
	mkfs.xfs -q -m reflink=1 "$img"
fi
mkdir -p "$mnt"
mountpoint -q "$mnt" || mount -o loop "$img" "$mnt"
if ! qvm_pool info default >/dev/null 2>&1; then
	qvm_pool add default file-reflink -o "dir_path=$mnt"
fi

if ! qstor vm list | grep -q '^demo-tpl '; then
	echo "== template demo-tpl: a 2 GiB root with an ext4 filesystem"
	qstor vm create demo-tpl --class template --root-size 2Gi --private-size 1Gi --volatile-size 1Gi
	out=$(qstor vm start demo-tpl)
	root=$(dev "$out" root)
	mkfs.ext4 -q -F "$root"
	m=$(mktemp -d)
	mount "$root" "$m"
	cp -a /usr/share/doc "$m/doc" 2>/dev/null || true
	cp -a /usr/lib/x86_64-linux-gnu/ "$m/lib" 2>/dev/null || true
	du -sh "$m" | sed 's/^/   files in the template root: /'
	umount "$m"
	rmdir "$m"
	qstor vm stop demo-tpl
fi

echo "== ten app VMs: start, write into private, stop"
for i in $(seq 1 10); do
	vm=demo-app$i
	qstor vm list | grep -q "^$vm " ||
		qstor vm create "$vm" --class app --template demo-tpl --private-size 1Gi --volatile-size 1Gi
	out=$(qstor vm start "$vm")
	priv=$(dev "$out" private)
	# a few MiB each, different per VM
	head -c $(( (2 + i % 4) << 20 )) /dev/urandom | dd of="$priv" bs=1M oflag=direct conv=notrunc status=none
	qstor vm stop "$vm"
done

echo
echo "== qvm-volume list"
qvm_volume list
echo
echo "== qstor du"
qstor du
