#!/bin/sh
# Install the Debian packages qstor needs to build and test, only those
# missing. Debian 12, as root.
set -e
pkgs="build-essential autoconf automake libtool pkg-config
libsqlite3-dev libcmocka-dev liblvm2-dev libdevmapper-dev libblkid-dev libext2fs-dev
xfsprogs btrfs-progs e2fsprogs util-linux openssl kmod cpio python3 xz-utils
lvm2 thin-provisioning-tools qemu-system-x86 busybox-static
clang libclang-rt-14-dev valgrind"
# scripts/check-extra.sh: clang + libclang-rt-14-dev (libFuzzer, ASan/UBSan
# runtimes), valgrind
[ "${1:-}" = "--minimal" ] && pkgs=$(echo "$pkgs" | sed 's/lvm2 thin-provisioning-tools qemu-system-x86 busybox-static//; s/clang libclang-rt-14-dev valgrind//')
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
