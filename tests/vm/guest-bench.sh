#!/bin/bash
# GUEST script (run by `qstor-bench --driver lvm_thin` through
# run-in-vm.sh): runs the lvm_thin half of the benchmark inside the test VM
# on /dev/vda (qstor's pool) and /dev/vdb (the baseline's), and writes the
# raw results as a tar archive straight onto RESULT_DEV for the host to
# read (guest writes to files never reach the host): after each pool size,
# so a run that times out still gives the sizes it finished, and at the end.
# Usage: guest-bench.sh BENCH QSTOR_BIN RESULT_DEV [BENCH ARGS]...
#   BENCH      path of qstor-bench (the host's, seen through the shared root)
#   QSTOR_BIN  directory of the qstor binaries to measure
set -u
[ $# -ge 3 ] || { echo "usage: guest-bench.sh BENCH QSTOR_BIN RESULT_DEV [ARGS]..." >&2; exit 2; }
bench=$1 bin=$2 res=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
raw=$(mktemp -d /tmp/qstor-bench-raw.XXXXXX) || exit 1
echo "qstor-bench: [lvm_thin] in the VM: kernel $(uname -r), $(nproc) CPUs" >&2
QSTOR_BIN=$bin QSTOR_SRCDIR=$(cd "$here/../.." && pwd) \
	"$bench" --driver lvm_thin --guest-disks /dev/vda,/dev/vdb --raw-only "$raw" --result-dev "$res" "$@"
rc=$?
if [ -d "$raw/lvm_thin" ]; then
	tar -cf "$res" -C "$raw/lvm_thin" . || rc=1
	sync
fi
exit $rc
