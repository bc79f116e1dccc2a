#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# HOST test (make check): the lvm_thin suites in the test VM, booted once.
# Each suite gets its own fresh sparse disk (its own VG and thin pool):
#   behaviour, badinput, crash, concurrency   tests/integration/*.sh lvm:/dev/vdX
#   du                           qstor du against thin_ls, thin_dump, known writes
#   qubes-vg                     a VG made by hand in Qubes' names, adopted
#   pool-full                    the pool filled to its reserve by a VM
#   costs                        an app VM's start/stop: median ms, lvm2_run calls
# Exit: 0 all passed, 1 a suite failed (or the VM did not finish), 77 when
# qemu is missing and cannot be installed. Prints each suite's result, the
# timings, and "N passed, N failed" over all checks.
#
# Env: QSTOR_BIN (default: the current dir, i.e. the build dir),
# QSTOR_VM_WORKDIR (scratch, default ./tests/vm/work; kept on failure),
# QSTOR_LVM_SUITES (default "behaviour badinput crash concurrency du
# qubes-vg pool-full costs"), QSTOR_VM_TIMEOUT (default 3600 s),
# QSTOR_COST_ROUNDS (20).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/host-lib.sh"

vm_host_tools
vm_suite_setup lvm-suite
suites=${QSTOR_LVM_SUITES:-behaviour badinput crash concurrency du qubes-vg pool-full costs}

disks=() specs=()
letters=(a b c d e f g h i j k l m n o p)
i=0
for s in $suites; do
	truncate -s 8G "$work/$s.img" || exit 1
	disks+=(--disk "$work/$s.img")
	specs+=("$s=/dev/vd${letters[i]}")
	i=$((i + 1))
done

t0=$SECONDS
QSTOR_COST_ROUNDS=${QSTOR_COST_ROUNDS:-20} \
"$here/run-in-vm.sh" "${disks[@]}" --timeout "${QSTOR_VM_TIMEOUT:-3600}" \
	--log "$work/console.log" "$work/tests/vm/guest-lvm-suite.sh" "$bin" \
	"rounds=${QSTOR_COST_ROUNDS:-20}" "${specs[@]}"
rc=$?
t=$((SECONDS - t0))

echo "=== lvm_thin suites (${t}s in all, boot included):"
# a suite that failed without a failed check of its own (no summary line,
# or a non-zero exit) counts as one failure
passed=0 failed=0 bad=0
for s in $suites; do
	line=$(grep -a "^LVM-SUITE-RESULT $s " "$work/console.log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "  $s: no result (the VM ended before it finished)"
		bad=$((bad + 1))
		failed=$((failed + 1))
		continue
	fi
	read -r _ _ st secs summary <<<"$line"
	echo "  $s: exit $st, ${secs}s, $summary"
	[ "$st" = 0 ] || bad=$((bad + 1))
	if [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
		[ "$st" = 0 ] || [ "${BASH_REMATCH[2]}" -gt 0 ] || failed=$((failed + 1))
	elif [ "$st" != 0 ]; then
		failed=$((failed + 1))
	fi
done
grep -a '^COSTS:' "$work/console.log" | sed 's/^/  /'
if [ $rc -ne 0 ] && [ $bad -eq 0 ]; then
	echo "  the VM run failed (exit $rc)"
	bad=1
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
if [ $bad -eq 0 ] && [ $rc -eq 0 ]; then
	rm -rf "$work"
	exit 0
fi
echo "FAIL: console log kept in $work/console.log"
rm -f "$work"/*.img
exit 1
