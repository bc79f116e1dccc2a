#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run reflink-driver-test against a loop-mounted XFS (reflink=1), a
# loop-mounted btrfs and a tmpfs (no reflinks), all inside a private temp
# dir torn down by a trap. Skips (77) without root or the tools.
set -u

skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "needs root"
for t in mkfs.xfs mkfs.btrfs losetup mount umount truncate; do
	command -v "$t" >/dev/null 2>&1 || skip "$t missing"
done
[ -e /dev/loop-control ] || skip "no loop devices"

bin=${REFLINK_DRIVER_TEST:-${top_builddir:-.}/tests/integration/reflink-driver-test}
[ -x "$bin" ] || { echo "ERROR: $bin not built" >&2; exit 99; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/qstor-reflink.XXXXXX") || exit 99
loops=

cleanup() {
	for m in "$tmp/xfs" "$tmp/btrfs" "$tmp/tmpfs"; do
		mountpoint -q "$m" 2>/dev/null && umount "$m"
	done
	for l in $loops; do
		losetup -d "$l" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# mkfs_mount FS MKFS-ARGS...: image, loop device, mount at $tmp/FS
mkfs_mount() {
	fs=$1
	shift
	truncate -s 1G "$tmp/$fs.img" || return 1
	"$@" "$tmp/$fs.img" >"$tmp/$fs.mkfs.log" 2>&1 || {
		cat "$tmp/$fs.mkfs.log" >&2
		return 1
	}
	dev=$(losetup --show -f "$tmp/$fs.img") || return 1
	loops="$loops $dev"
	mkdir "$tmp/$fs" && mount "$dev" "$tmp/$fs"
}

mkfs_mount xfs mkfs.xfs -q -m reflink=1 || skip "cannot make XFS with reflink"
mkfs_mount btrfs mkfs.btrfs -q || skip "cannot make btrfs"
mkdir "$tmp/tmpfs" && mount -t tmpfs -o size=256M,mode=0700 qstor-test "$tmp/tmpfs" ||
	skip "cannot mount tmpfs"

"$bin" "$tmp/tmpfs" "$tmp/xfs" "$tmp/btrfs"
