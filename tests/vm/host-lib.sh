# shellcheck shell=bash
# Helpers shared by the HOST-side VM harness scripts (build-kernel.sh,
# run-in-vm.sh, test-*.sh).  Sourced, not executed.
#
# The harness must work on a fresh Debian 12 machine, so every tool it needs
# is installed on demand with apt-get (we run as root there).  Nothing here is
# used inside the guest.

vm_log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
vm_die() { vm_log "error: $*"; exit 1; }

# apt-get install with a one-time "apt-get update" retry: on a fresh machine
# the package lists may be missing or stale (404 on download).
_vm_apt_updated=
vm_apt_install() {
	export DEBIAN_FRONTEND=noninteractive
	for _ in 1 2; do
		if apt-get -o DPkg::Lock::Timeout=300 install -y -q \
			--no-install-recommends "$@" >&2; then
			return 0
		fi
		[ -n "$_vm_apt_updated" ] && return 1
		_vm_apt_updated=1
		apt-get -o DPkg::Lock::Timeout=300 update -q >&2 || return 1
	done
	return 1
}

# vm_need CMD PKG: make sure CMD exists (also looked up in the sbin dirs,
# which a non-login root shell may lack in PATH), installing PKG otherwise.
vm_need() {
	local cmd=$1 pkg=$2
	PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
	command -v "$cmd" >/dev/null 2>&1 && return 0
	vm_log "'$cmd' missing, installing Debian package $pkg"
	vm_apt_install "$pkg" && command -v "$cmd" >/dev/null 2>&1
}

# busybox must be the *static* build: it runs as PID 1 in the initramfs
# without any libc.  Debian's busybox-static ships /bin/busybox (it conflicts
# with the dynamic "busybox" package, which apt replaces).
_vm_is_static() {
	# ldd exits 1 for static binaries: do not pipe it (pipefail callers).
	case $(LC_ALL=C ldd "$1" 2>&1) in
	*'not a dynamic'*) return 0 ;;
	esac
	return 1
}
vm_busybox_static() {
	local bb=/bin/busybox
	if [ -x $bb ] && _vm_is_static $bb; then
		echo $bb
		return 0
	fi
	vm_log "static busybox missing, installing busybox-static"
	vm_apt_install busybox-static || return 1
	_vm_is_static $bb || return 1
	echo $bb
}

# vm_host_tools: what every HOST test in the VM needs first. Without qemu
# (and no way to install it) the test skips (exit 77); the guest runs the
# host's tools through the shared root, so they are installed here.
vm_host_tools() {
	if ! vm_need qemu-system-x86_64 qemu-system-x86; then
		echo "SKIP: qemu-system-x86_64 missing and cannot be installed"
		exit 77
	fi
	vm_need lvm lvm2 || vm_die "cannot install lvm2"
	vm_need thin_check thin-provisioning-tools || vm_die "cannot install thin-provisioning-tools"
	vm_need mkfs.ext4 e2fsprogs || vm_die "cannot install e2fsprogs"
	vm_need openssl openssl || vm_die "cannot install openssl"
}

# vm_suite_setup NAME: then, for a test of qstor in the VM: $bin (the qstor
# binaries: QSTOR_BIN, else the build dir), $base (QSTOR_VM_WORKDIR, else
# ./tests/vm/work) and a fresh $work under it; the VM lock (one VM at a
# time from a build tree: two would share 2 CPUs); and a copy of the test
# scripts in $work/tests (bash reads a script as it runs: an edit to the
# tree during the run must not change the test under way).
vm_suite_setup() {
	local src
	src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	bin=$(cd "${QSTOR_BIN:-${top_builddir:-$PWD}}" && pwd)
	[ -x "$bin/qstor" ] || vm_die "no qstor in $bin (set QSTOR_BIN to the build dir)"
	base=${QSTOR_VM_WORKDIR:-$PWD/tests/vm/work}
	mkdir -p "$base" || exit 1
	work=$(mktemp -d "$base/$1.XXXXXX") || exit 1
	exec 8>"$base/.vm.lock"
	flock 8
	mkdir -p "$work/tests/vm" "$work/tests/integration" &&
		cp "$src"/*.sh "$work/tests/vm/" &&
		cp "$src"/../integration/*.sh "$src"/../integration/*.py "$work/tests/integration/" ||
		vm_die "cannot copy the test scripts to $work"
}
