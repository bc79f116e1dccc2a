# shellcheck shell=bash
# Source this from a GUEST script (inside run-in-vm.sh) before using LVM:
#   . /path/to/tests/vm/lvm-env.sh
#
# Why: the guest has no udev, no lvmetad/dmeventd, and the host's
# /etc/lvm/lvm.conf is not ours.  We give LVM its own config dir
# (LVM_SYSTEM_DIR) with settings checked against lvm2 2.03.16 (Debian 12):
# "config/checks=1 + abort_on_errors=1" make any unknown/mistyped key a hard
# error instead of a silently ignored one.
#  - devices: scan only the virtio disks, no udev, no devices file (else the
#    host's /etc/lvm/devices/system.devices could hide our PVs)
#  - activation: no udev sync/rules (lvm/libdm create /dev/mapper and
#    /dev/VG nodes themselves), no dmeventd monitoring
#  - backup: metadata backups/archives kept, but under LVM_SYSTEM_DIR (guest
#    RAM): as in production, and without the "NOT backed up" warning noise
#  - global: locking dir on the guest's fresh /run tmpfs (that is the
#    built-in default on Debian; set explicitly so it never hits the host).
# The old global/use_lvmetad key is gone in 2.03 and must not be used.
#
# Safe to source more than once.  QSTOR_LVM_FILTER overrides the device
# filter (e.g. to also accept loop devices: "a|^/dev/vd.*|", "a|^/dev/loop.*|").

LVM_SYSTEM_DIR=${QSTOR_LVM_SYSTEM_DIR:-/tmp/lvm}
_qstor_filter=${QSTOR_LVM_FILTER:-'"a|^/dev/vd.*|"'}
mkdir -p "$LVM_SYSTEM_DIR" /run/lock/lvm /run/lvm
cat >"$LVM_SYSTEM_DIR/lvm.conf" <<EOF
config {
	checks = 1
	abort_on_errors = 1
}
devices {
	obtain_device_list_from_udev = 0
	external_device_info_source = "none"
	use_devicesfile = 0
	global_filter = [ $_qstor_filter, "r|.*|" ]
}
activation {
	udev_sync = 0
	udev_rules = 0
	monitoring = 0
}
backup {
	backup = 1
	backup_dir = "$LVM_SYSTEM_DIR/backup"
	archive = 1
	archive_dir = "$LVM_SYSTEM_DIR/archive"
}
global {
	locking_dir = "/run/lock/lvm"
	event_activation = 0
}
EOF
unset _qstor_filter
export LVM_SYSTEM_DIR
# libdevmapper: do not wait for udev cookies nobody will ever release.
export DM_DISABLE_UDEV=1
# lvm complains about every fd it inherits (e.g. from test harnesses).
export LVM_SUPPRESS_FD_WARNINGS=1
