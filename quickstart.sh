#!/bin/sh
# The two quick-start commands (see README.md):
#   ./quickstart.sh demo   install what is missing, build, run the demo
#   ./quickstart.sh test   install what is missing, build, run every test
set -e
top=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in
demo)
	"$top/scripts/deps.sh" --minimal
	"$top/scripts/build.sh"
	exec "$top/scripts/demo.sh"
	;;
test)
	"$top/scripts/deps.sh"
	"$top/scripts/build.sh"
	cd "$top/build"
	rc=0
	make -j"$(nproc)" check || rc=$?
	[ $rc -eq 0 ] || cat test-suite.log
	# one closing line for whoever reads the log
	p=$(sed -n 's/^# PASS: *//p' test-suite.log)
	f=$(sed -n 's/^# FAIL: *//p' test-suite.log)
	e=$(sed -n 's/^# ERROR: *//p' test-suite.log)
	s=$(sed -n 's/^# SKIP: *//p' test-suite.log)
	# the longer checks: sanitizers, valgrind, fuzzing (scripts/check-extra.sh)
	x=0
	"$top/scripts/check-extra.sh" || x=$?
	[ $x -eq 0 ] || rc=1
	echo "${p:-0} passed, $((${f:-0} + ${e:-0} + (x != 0))) failed, ${s:-0} skipped"
	exit $rc
	;;
*)
	echo "usage: $0 demo|test" >&2
	exit 1
	;;
esac
