#!/bin/bash
# GUEST test (run by guest-lvm-suite.sh): what an app VM's start and stop
# cost on lvm_thin: wall time (median of N, default 20) and the lvm2_run
# calls each makes (QSTOR_LVM_TRACE=1 logs every command line), with the
# command lines of one start and one stop.
# Usage: lvm-costs.sh DISK [N]   (QSTOR_BIN set, lvm-env.sh sourced)
. "$(dirname "$0")/../integration/lib.sh"

disk=${1:?usage: lvm-costs.sh DISK [N]}
rounds=${2:-20}
make_lvm_pool "$disk" || { echo "cannot make lvm pool"; exit 1; }

check "create template" qstor vm create tpl --class template --root-size 2Gi --private-size 2Gi --volatile-size 1Gi
check "create app" qstor vm create app --class app --template tpl --private-size 2Gi --volatile-size 1Gi
# a first cycle: the volatile object exists from then on, as in steady state
check "first start" start_vm app
check "first stop" stop_vm app

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

: >"$WORK/start.ms"
: >"$WORK/stop.ms"
: >"$WORK/start.calls"
: >"$WORK/stop.calls"
for ((i = 1; i <= rounds; i++)); do
	t=$(now_ms)
	QSTOR_LVM_TRACE=1 qstor vm start app >"$WORK/dev.app" 2>"$WORK/start.trace" || fail "start $i: $(cat "$WORK/start.trace")"
	echo $(($(now_ms) - t)) >>"$WORK/start.ms"
	grep -c '^qstor-lvm: \[.* rc=' "$WORK/start.trace" >>"$WORK/start.calls"
	t=$(now_ms)
	QSTOR_LVM_TRACE=1 qstor vm stop app 2>"$WORK/stop.trace" || fail "stop $i: $(cat "$WORK/stop.trace")"
	echo $(($(now_ms) - t)) >>"$WORK/stop.ms"
	grep -c '^qstor-lvm: \[.* rc=' "$WORK/stop.trace" >>"$WORK/stop.calls"
done
pass

echo "--- one app VM start (lvm2_run calls, ms each):"
grep '^qstor-lvm: \[' "$WORK/start.trace" | sed 's/^qstor-lvm: \[[0-9]*\] /  /'
echo "--- one app VM stop:"
grep '^qstor-lvm: \[' "$WORK/stop.trace" | sed 's/^qstor-lvm: \[[0-9]*\] /  /'
s_ms=$(median <"$WORK/start.ms")
p_ms=$(median <"$WORK/stop.ms")
s_n=$(median <"$WORK/start.calls")
p_n=$(median <"$WORK/stop.calls")
echo "COSTS: app VM start median ${s_ms} ms (${s_n} lvm2_run calls), stop median ${p_ms} ms (${p_n} lvm2_run calls), $rounds rounds"
echo "COSTS: start ms: $(tr '\n' ' ' <"$WORK/start.ms")"
echo "COSTS: stop ms: $(tr '\n' ' ' <"$WORK/stop.ms")"
finish
