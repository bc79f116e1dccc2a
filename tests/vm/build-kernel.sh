#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# build-kernel.sh CACHE_DIR
#
# Prepare what the test VM boots: CACHE_DIR/vmlinuz and CACHE_DIR/initramfs.gz.
#
# Why: the lvm-thin driver needs a real kernel with device-mapper (dm-thin,
# dm-snapshot, ...) and the host kernel has none, so run-in-vm.sh boots
# Debian's own stock kernel under QEMU.  The kernel comes from the Debian
# archive (the only network we have) via apt-get download, so no kernel build
# is needed; the initramfs is busybox-static + the few modules we need + our
# /init (init.sh), which mounts the host's / over virtio-9p.
#
# Idempotent and cheap to re-run: the kernel step is skipped when its stamp
# matches (package + module list), the initramfs step when its stamp matches
# (kernel + checksum of init.sh and of this script).  Concurrent callers
# (make -j check) are serialised with flock on CACHE_DIR/.lock.
#
# Env: QSTOR_VM_KERNEL_PKG overrides the kernel package (default: whatever
# linux-image-amd64 depends on, e.g. linux-image-6.1.0-56-amd64 on Debian 12).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/host-lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 CACHE_DIR" >&2; exit 2; }
mkdir -p "$1"
cache=$(cd "$1" && pwd)

# Modules the guest needs (modprobe names).  Their dependencies are resolved
# with modprobe --show-depends against the unpacked kernel; anything built
# into the kernel is simply not listed there.
#  - virtio_pci/virtio_blk: the --disk images (/dev/vda...)
#  - 9pnet_virtio/9p: host / shared read-only;  overlay: writable root on it
#  - dm_*: what LVM thin / snapshots / crypt need; xts: the cipher mode of
#    ephemeral volatiles (aes-xts-plain64); loop, ext4: test helpers
REQUIRED_MODULES="virtio_pci virtio_blk 9pnet_virtio 9p overlay dm_mod \
dm_thin_pool dm_snapshot dm_crypt xts loop ext4"
# Nice to have for crash/fault-injection tests and speed (aesni_intel:
# -cpu max has AES-NI); skipped if the kernel lacks them.
OPTIONAL_MODULES="aesni_intel dm_zero dm_flakey dm_delay dm_log_writes"

exec 9>"$cache/.lock"
flock 9

kstamp_file=$cache/kernel.stamp
istamp_file=$cache/initramfs.stamp

# ---------------------------------------------------------------- kernel --
resolve_kernel_pkg() {
	if [ -n "${QSTOR_VM_KERNEL_PKG:-}" ]; then
		echo "$QSTOR_VM_KERNEL_PKG"
		return
	fi
	local p
	p=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
	if [ -z "$p" ]; then
		# Fresh machine: no package lists yet.
		apt-get -o DPkg::Lock::Timeout=300 update -q >&2
		p=$(apt-cache depends linux-image-amd64 2>/dev/null |
			awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
	fi
	[ -n "$p" ] || vm_die "cannot resolve the dependency of linux-image-amd64"
	echo "$p"
}

# Print the de-duplicated list of .ko paths to insmod, in dependency order.
module_list() {
	local root=$1 kver=$2 m out
	for m in $REQUIRED_MODULES; do
		out=$(modprobe -d "$root" -S "$kver" --show-depends "$m") ||
			vm_die "kernel $kver has no module $m"
		printf '%s\n' "$out"
	done
	for m in $OPTIONAL_MODULES; do
		if out=$(modprobe -d "$root" -S "$kver" --show-depends "$m" 2>/dev/null); then
			printf '%s\n' "$out"
		else
			vm_log "note: optional module $m not available, skipped"
		fi
	done
}

build_kernel() {
	vm_need depmod kmod || vm_die "cannot install kmod (depmod/modprobe)"
	vm_need modprobe kmod || vm_die "cannot install kmod"
	vm_need dpkg-deb dpkg || vm_die "dpkg-deb missing"

	local pkg tmp kver f base want have
	# Already built with the same module list (and, if one is forced, the
	# same package)?  Then do not even ask apt: works offline.
	have=$(cat "$kstamp_file" 2>/dev/null || true)
	if [ -f "$cache/vmlinuz" ] && [ -f "$cache/kmod/modules.list" ] &&
		[ "${have#*|}" = "$REQUIRED_MODULES|$OPTIONAL_MODULES" ] &&
		{ [ -z "${QSTOR_VM_KERNEL_PKG:-}" ] ||
		  [ "${have%%|*}" = "$QSTOR_VM_KERNEL_PKG" ]; }; then
		return 0
	fi
	pkg=$(resolve_kernel_pkg)
	want="$pkg|$REQUIRED_MODULES|$OPTIONAL_MODULES"
	vm_log "fetching kernel package $pkg"
	tmp=$(mktemp -d "$cache/tmp.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT
	# apt-get download as root into a dir _apt cannot write prints a
	# harmless "Download is performed unsandboxed" warning: filtered.
	if ! (cd "$tmp" && apt-get download -q "$pkg" 2>&1 | grep -v unsandboxed >&2; [ "${PIPESTATUS[0]}" = 0 ]); then
		apt-get -o DPkg::Lock::Timeout=300 update -q >&2
		(cd "$tmp" && apt-get download -q "$pkg" >&2) ||
			vm_die "apt-get download $pkg failed"
	fi
	dpkg -x "$tmp"/*.deb "$tmp/root"
	rm -f "$tmp"/*.deb
	# Newer Debian ships modules under usr/lib (merged /usr); modprobe -d
	# wants ROOT/lib/modules.
	if [ ! -d "$tmp/root/lib/modules" ] && [ -d "$tmp/root/usr/lib/modules" ]; then
		ln -s usr/lib "$tmp/root/lib"
	fi
	kver=$(ls "$tmp/root/lib/modules")
	[ "$(echo "$kver" | wc -l)" = 1 ] || vm_die "unexpected modules dirs: $kver"
	depmod -b "$tmp/root" "$kver"

	# Keep only the modules we need, decompressed: busybox insmod (1.35)
	# can read .ko.xz/.ko.gz only if built with the matching
	# FEATURE_SEAMLESS_* option and never .ko.zst, and the kernel only
	# takes compressed images with CONFIG_MODULE_DECOMPRESS.  Plain .ko is
	# always safe.  (Debian 12's 6.1 kernel ships plain .ko anyway.)
	rm -rf "$tmp/kmod"
	mkdir -p "$tmp/kmod"
	module_list "$tmp/root" "$kver" | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' >"$tmp/paths"
	while read -r f; do
		base=${f##*/}
		case $f in
		*.ko) cp "$f" "$tmp/kmod/$base" ;;
		*.ko.xz) vm_need xz xz-utils; base=${base%.xz}; xz -dc "$f" >"$tmp/kmod/$base" ;;
		*.ko.zst) vm_need zstd zstd; base=${base%.zst}; zstd -qdc "$f" >"$tmp/kmod/$base" ;;
		*.ko.gz) base=${base%.gz}; gzip -dc "$f" >"$tmp/kmod/$base" ;;
		*) vm_die "unknown module file type: $f" ;;
		esac
		echo "$base" >>"$tmp/kmod/modules.list"
	done <"$tmp/paths"
	echo "$kver" >"$tmp/kmod/kver"

	rm -rf "$cache/kmod" "$cache/vmlinuz"
	cp "$tmp/root/boot/vmlinuz-$kver" "$cache/vmlinuz.new"
	mv "$tmp/kmod" "$cache/kmod"
	mv "$cache/vmlinuz.new" "$cache/vmlinuz"
	echo "$want" >"$kstamp_file"
	rm -rf "$tmp"
	trap - EXIT
	vm_log "kernel $kver: $(wc -l <"$cache/kmod/modules.list") modules kept"
}

# ------------------------------------------------------------- initramfs --
build_initramfs() {
	local bb want stage
	want="$(cat "$kstamp_file")|$(cat "$here/init.sh" "$0" | cksum)"
	if [ -f "$cache/initramfs.gz" ] &&
		[ "$(cat "$istamp_file" 2>/dev/null)" = "$want" ]; then
		return 0
	fi
	bb=$(vm_busybox_static) || vm_die "cannot get a static busybox"
	vm_need gzip gzip || vm_die "gzip missing"
	stage=$(mktemp -d "$cache/stage.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$stage'" EXIT
	mkdir -p "$stage"/bin "$stage"/dev "$stage"/proc "$stage"/sys \
		"$stage"/lower "$stage"/rw "$stage"/newroot "$stage"/modules
	cp "$bb" "$stage/bin/busybox"
	cp "$here/init.sh" "$stage/init"
	chmod 755 "$stage/init" "$stage/bin/busybox"
	cp "$cache"/kmod/* "$stage/modules/"
	# depmod's index of those modules (as lib/modules/KVER/qstor/*.ko), so
	# that init.sh can give the guest a working modprobe (the host has no
	# modules of this kernel): modprobe of a loaded module then succeeds.
	local kver md
	kver=$(cat "$cache/kmod/kver")
	md=$stage/modroot/lib/modules/$kver
	mkdir -p "$md/qstor" "$stage/modmeta"
	cp "$cache"/kmod/*.ko "$md/qstor/"
	depmod -b "$stage/modroot" "$kver" || vm_die "depmod failed"
	cp "$md"/modules.* "$stage/modmeta/"
	rm -rf "$stage/modroot"
	# The kernel opens /dev/console before running /init; without the node
	# init would start with no stdio (init.sh also reopens it later).
	mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
	mknod -m 666 "$stage/dev/null" c 1 3 2>/dev/null || true
	(cd "$stage" && find . | "$bb" cpio -o -H newc -R 0:0 2>/dev/null) |
		gzip -6 >"$cache/initramfs.gz.new"
	mv "$cache/initramfs.gz.new" "$cache/initramfs.gz"
	echo "$want" >"$istamp_file"
	rm -rf "$stage"
	trap - EXIT
	vm_log "initramfs built: $(du -h "$cache/initramfs.gz" | cut -f1)"
}

build_kernel
build_initramfs
