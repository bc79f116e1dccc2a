#!/bin/busybox sh
# shellcheck shell=dash disable=SC2013,SC2093
# /init of the qstor test-VM initramfs (built by build-kernel.sh).
# Runs under busybox sh as PID 1, in two stages:
#
#  stage 1 (initramfs root): mount proc/sys/dev, insmod the modules listed in
#    /modules/modules.list (already in dependency order), wait for the virtio
#    disks, mount the host's / (virtio-9p, read-only) and stack a tmpfs-backed
#    overlayfs on it so the guest has a WRITABLE root that looks exactly like
#    the host (same binaries, same paths to the build tree, /etc/lvm and even
#    host /tmp visible and writable -- writes stay in guest RAM).  If overlay
#    fails we fall back to the bare read-only 9p root plus tmpfs on /tmp,
#    /var/tmp and a writable copy of /etc/lvm.  Fresh tmpfs on /run (LVM's
#    /run/lock/lvm and /run/lvm must be empty and writable), fresh
#    proc/sys/devtmpfs, then switch_root into it.
#  stage 2 (PID 1 in the host-looking root, running a copy of busybox that
#    lives in /run/qstor): run the test script with bash, print
#    "QSTOR-VM-EXIT=<status>" on the console and power off.
#
# Parameters come from the kernel command line (set by run-in-vm.sh).  Free
# text is base64-encoded (wrapped in "x...x" so empty strings and trailing
# newlines survive) because the kernel command line cannot quote reliably:
#   qstor.script=B64   absolute path of the script (run with /bin/bash)
#   qstor.args=B64,B64 arguments (optional)
#   qstor.cwd=B64      working directory (optional, default /)
#   qstor.ndisks=N     wait until N virtio disks (/dev/vd*) are present
#   qstor.debug=1      verbose init (set -x, show insmod output)
#   qstor.nooverlay=1  force the read-only-root fallback (to test it)
#
# Keep this file busybox-sh compatible: no bash-isms.

log() { echo "qstor-init: $*"; }

nvd() {
	set -- /sys/block/vd*
	[ -e "$1" ] && echo $# || echo 0
}

# Emergency exit: always print the exit marker so the host does not wait for
# its timeout, then power off (qemu runs with -no-reboot, so reboot also
# ends it).
die() {
	log "FATAL: $*"
	echo "QSTOR-VM-EXIT=${2:-125}"
	sync
	poweroff -f
	reboot -f
	sleep 1000
}

# B64 "x...x" -> $_d
dec() {
	_d=$(printf '%s' "$1" | base64 -d) || _d=x
	_d=${_d#x}
	_d=${_d%x}
}

stage1() {
	export PATH=/bin
	/bin/busybox --install -s /bin
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	# what udev would link: bash's process substitution needs /dev/fd
	ln -sf /proc/self/fd /dev/fd
	ln -sf /proc/self/fd/0 /dev/stdin
	ln -sf /proc/self/fd/1 /dev/stdout
	ln -sf /proc/self/fd/2 /dev/stderr
	exec </dev/console >/dev/console 2>&1

	debug=
	ndisks=0
	mode=overlay
	for w in $(cat /proc/cmdline); do
		case $w in
		qstor.debug=1) debug=1 ;;
		qstor.ndisks=*) ndisks=${w#*=} ;;
		qstor.nooverlay=1) mode=ro ;;
		esac
	done
	[ -n "$debug" ] && set -x

	# insmod, not modprobe: no modules.dep in here and the list is ordered.
	# A failure is not fatal by itself (e.g. crc32c-intel when the CPU model
	# lacks SSE4.2); what matters is checked below (disks, 9p mount) and by
	# the tests themselves.
	while read -r m; do
		if [ -n "$debug" ]; then
			insmod "/modules/$m" || log "insmod $m failed"
		else
			insmod "/modules/$m" 2>/dev/null ||
				case $m in crc32c-intel.ko) ;; *) log "insmod $m failed" ;; esac
		fi
	done </modules/modules.list

	# virtio probing is synchronous in insmod, but give devtmpfs a moment.
	i=0
	while [ "$(nvd)" -lt "$ndisks" ]; do
		i=$((i + 1))
		[ $i -gt 300 ] && die "only $(nvd) of $ndisks virtio disks appeared"
		sleep 0.1
	done

	# Host root, read-only.  cache=loose: the host does not change it under
	# us during a run, and page-caching binaries/libs is a big speed-up
	# under TCG.  msize: bigger 9p messages, fewer round trips.
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose,ro \
		host /lower || die "cannot mount host root over virtio-9p"

	mount -t tmpfs -o mode=755 rw /rw
	[ $mode = overlay ] &&
		mkdir -p /rw/upper /rw/work &&
		mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work \
			root /newroot 2>/dev/null || mode=ro
	if [ $mode = ro ]; then
		log "no overlayfs (failed or qstor.nooverlay=1): read-only host root"
		mount -o move /lower /newroot || die "cannot move the 9p root"
		mount -t tmpfs -o mode=1777 tmp /newroot/tmp
		[ -d /newroot/var/tmp ] && mount -t tmpfs -o mode=1777 vartmp /newroot/var/tmp
		if [ -d /newroot/etc/lvm ]; then
			# Writable copy of /etc/lvm (LVM writes backup/archive there
			# unless lvm-env.sh is used).
			mkdir -p /rw/etclvm
			cp -a /newroot/etc/lvm/. /rw/etclvm/
			mount -o bind /rw/etclvm /newroot/etc/lvm
		fi
	fi

	# modprobe in the guest: the host has no modules of this kernel, so
	# give it ours with depmod's index (build-kernel.sh made it): modprobe
	# of a loaded module then succeeds, as tests that probe for dm_crypt
	# expect. Overlay only: the read-only fallback cannot write there.
	kver=$(uname -r)
	if [ $mode = overlay ] && [ -d /modmeta ] && [ ! -e "/newroot/lib/modules/$kver" ]; then
		mkdir -p "/newroot/lib/modules/$kver/qstor" &&
			cp /modules/*.ko "/newroot/lib/modules/$kver/qstor/" &&
			cp /modmeta/modules.* "/newroot/lib/modules/$kver/" ||
			log "cannot write /lib/modules/$kver"
	fi

	mount -o move /proc /newroot/proc
	mount -o move /sys /newroot/sys
	mount -o move /dev /newroot/dev
	mount -t tmpfs -o mode=755 run /newroot/run
	mkdir -p /newroot/run/lock /newroot/run/lvm /newroot/run/qstor/bin \
		/newroot/dev/pts /newroot/dev/shm /newroot/dev/mapper
	chmod 1777 /newroot/run/lock
	mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /newroot/dev/pts
	mount -t tmpfs -o mode=1777 shm /newroot/dev/shm

	# Stage 2 runs from /run/qstor: the host may have no (static) busybox.
	cp /bin/busybox /init /newroot/run/qstor/
	echo $mode >/newroot/run/qstor/rootmode
	exec switch_root -c /dev/console /newroot /run/qstor/busybox sh /run/qstor/init stage2
	die "switch_root failed"
}

stage2() {
	/run/qstor/busybox --install -s /run/qstor/bin
	export PATH=/run/qstor/bin
	script='' args='' cwd=/ debug=''
	for w in $(cat /proc/cmdline); do
		case $w in
		qstor.script=*) dec "${w#*=}"; script=$_d ;;
		qstor.args=*) args=${w#*=} ;;
		qstor.cwd=*) dec "${w#*=}"; cwd=$_d ;;
		qstor.debug=1) debug=1 ;;
		esac
	done
	[ -n "$debug" ] && set -x
	[ -n "$script" ] || die "no qstor.script= on the kernel command line"
	[ -f "$script" ] || die "script $script not found in the guest"

	set --
	if [ -n "$args" ]; then
		IFS=,
		for a in $args; do
			dec "$a"
			set -- "$@" "$_d"
		done
		unset IFS
	fi

	cd "$cwd" 2>/dev/null || cd /
	HOME=/root
	[ -w /root ] || HOME=/tmp
	read -r up _ </proc/uptime
	echo "QSTOR-VM-START uptime=${up}s root=$(cat /run/qstor/rootmode) script=$script"
	# Clean environment: what a CI shell would give, plus QSTOR_VM=1 so
	# scripts can tell they run inside the VM.  stdin is /dev/null: the
	# tests must not prompt (use lvm -y/-f).
	env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME="$HOME" TERM=dumb LANG=C.UTF-8 QSTOR_VM=1 \
		/bin/bash "$script" "$@" </dev/null
	st=$?
	sync
	read -r up _ </proc/uptime
	# Leading newline: the script's last line may lack one.
	printf '\nqstor-init: script exited %s at uptime %ss\nQSTOR-VM-EXIT=%s\n' \
		"$st" "$up" "$st"
	poweroff -f
	reboot -f
	sleep 1000
}

case ${1:-} in
stage2) stage2 ;;
*) stage1 ;;
esac
