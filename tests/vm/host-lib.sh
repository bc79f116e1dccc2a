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
