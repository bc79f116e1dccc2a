#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# HOST test: boots the test VM with a fresh sparse 4 GiB disk and runs
# smoke.sh (LVM thin pool, thin LV, 5 thin snapshots, thin_ls) inside it.
# Automake-style exit codes: 0 pass, 1 fail, 77 skip (no qemu and it cannot
# be installed).
#
# Scratch files go to $QSTOR_VM_WORKDIR (default ./tests/vm/work under the
# current, i.e. build, directory); removed on success, kept on failure
# (console.log + disk.img) for post-mortem.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/host-lib.sh"

vm_host_tools

base=${QSTOR_VM_WORKDIR:-$PWD/tests/vm/work}
mkdir -p "$base" || exit 1
work=$(mktemp -d "$base/smoke.XXXXXX") || exit 1

truncate -s 4G "$work/disk.img"
"$here/run-in-vm.sh" --disk "$work/disk.img" --timeout "${QSTOR_VM_TIMEOUT:-1200}" \
	--log "$work/console.log" "$here/smoke.sh" /dev/vda
rc=$?
if [ $rc = 0 ] && ! grep -q '^SMOKE OK' "$work/console.log"; then
	echo "FAIL: exit 0 but no 'SMOKE OK' line"
	rc=1
fi
if [ $rc = 0 ]; then
	rm -rf "$work"
else
	echo "FAIL ($rc): console log and disk image kept in $work"
fi
exit $rc
