#!/bin/bash
# The longer checks, run by `./quickstart.sh test` after make check (CI):
#   1. sanitizers: a second build (--enable-sanitizers: ASan + UBSan, gcc)
#      in build-san/, its unit tests and file-reflink suites (not the VM);
#   2. valgrind: the unit test binaries of the plain build (build/) with
#      --leak-check=full, definite and indirect leaks are errors;
#   3. fuzzing: the tests/fuzz/ targets built by clang with libFuzzer, ASan
#      and UBSan (build-fuzz/), FUZZ_SECONDS each (default 60: 9 minutes).
# Each part prints what it ran; the script ends on one line
# "N passed, N failed" (parts) and exits non-zero if any part failed.
# Usage: scripts/check-extra.sh [sanitizers|valgrind|fuzz ...]  (default: all)
# Environment: PLAIN_BUILD (default build/), FUZZ_SECONDS, KEEP_FUZZ_CORPUS
# (a directory where the fuzzers' grown corpora are kept between runs).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PLAIN_BUILD=${PLAIN_BUILD:-$top/build}
SAN_BUILD=${SAN_BUILD:-$top/build-san}
FUZZ_BUILD=${FUZZ_BUILD:-$top/build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
JOBS=$(nproc)
parts=${*:-sanitizers valgrind fuzz}
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "== check-extra: $1: ok"; }
ko() { failed=$((failed + 1)); echo "== check-extra: $1: FAILED"; }

configure_in() { # DIR CONFIGURE-ARGS...
	local dir=$1
	shift
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ]; then
		(cd "$dir" && "$top/configure" -q "$@") || return 1
	fi
}

# Every unit test binary of build DIR (built by `make check`).
unit_tests() {
	(cd "$1" && find tests/unit -maxdepth 1 -type f -name 'test-*' -perm -u+x | sort)
}

# ---- 1. ASan + UBSan ----
sanitizers() {
	local tests t0
	t0=$(date +%s)
	[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh >/dev/null)
	configure_in "$SAN_BUILD" --enable-sanitizers || { ko "sanitizers: configure"; return; }
	if ! make -C "$SAN_BUILD" -s -j"$JOBS" >"$SAN_BUILD/build.log" 2>&1; then
		tail -30 "$SAN_BUILD/build.log"
		ko "sanitizers: build"
		return
	fi
	# the unit tests (built first: make check builds them), the fuzz seed
	# replay and every file-reflink suite
	make -C "$SAN_BUILD" -s -j"$JOBS" check TESTS= >>"$SAN_BUILD/build.log" 2>&1 ||
		{ tail -30 "$SAN_BUILD/build.log"; ko "sanitizers: build of the tests"; return; }
	tests="$(unit_tests "$SAN_BUILD" | tr '\n' ' ') tests/fuzz/replay.sh tests/integration/reflink-driver.sh"
	tests="$tests $(cd "$top" && ls tests/integration/*-xfs.sh tests/integration/*-btrfs.sh |
		tr '\n' ' ') tests/integration/qubes-layout.sh tests/integration/permissions.sh"
	echo "== check-extra: sanitizers: $(echo $tests | wc -w) tests"
	# abort on the first report; leaks are reported by LeakSanitizer
	export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:halt_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	if make -C "$SAN_BUILD" -j"$JOBS" check TESTS="$tests" >"$SAN_BUILD/check.log" 2>&1; then
		grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR):' "$SAN_BUILD/test-suite.log"
		ok "sanitizers ($(($(date +%s) - t0)) s)"
	else
		grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR):' "$SAN_BUILD/test-suite.log"
		cat "$SAN_BUILD/test-suite.log" | head -200
		ko "sanitizers"
	fi
	# a sanitizer report in any test log fails the part even if the test
	# itself passed (a report from a child whose exit code was not looked at)
	if grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
		$(find "$SAN_BUILD/tests" -name '*.log') 2>/dev/null; then
		ko "sanitizers: reports in the logs above"
	fi
	unset ASAN_OPTIONS UBSAN_OPTIONS
}

# ---- 2. valgrind ----
valgrind_part() {
	local t n=0 bad=0 t0
	t0=$(date +%s)
	command -v valgrind >/dev/null || { ko "valgrind: not installed"; return; }
	[ -f "$PLAIN_BUILD/Makefile" ] || { ko "valgrind: no plain build in $PLAIN_BUILD"; return; }
	make -C "$PLAIN_BUILD" -s -j"$JOBS" check TESTS= >/dev/null 2>&1 || { ko "valgrind: build"; return; }
	for t in $(unit_tests "$PLAIN_BUILD"); do
		n=$((n + 1))
		# forked children (test-crash) are checked too: each must exit as
		# the test expects, so a child's own leak does not change its code
		if (cd "$PLAIN_BUILD" && top_builddir=$PLAIN_BUILD top_srcdir=$top \
			valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
			--show-leak-kinds=definite,indirect --error-exitcode=1 \
			--child-silent-after-fork=yes "./$t") >"$PLAIN_BUILD/$t.valgrind.log" 2>&1; then
			echo "   valgrind $t: 0 errors"
		else
			bad=$((bad + 1))
			echo "   valgrind $t: FAILED"
			grep -E '==[0-9]+==|FAILED|\[  FAILED' "$PLAIN_BUILD/$t.valgrind.log" | head -40
		fi
	done
	if [ $bad -eq 0 ]; then ok "valgrind: $n unit tests ($(($(date +%s) - t0)) s)"; else ko "valgrind: $bad of $n"; fi
}

# ---- 3. libFuzzer ----
fuzz() {
	local t targets bad=0 log stats
	targets="size name reflink-names lvm-names lvm-report dmstatus thinls thinmeta catalog"
	command -v clang >/dev/null || { ko "fuzz: clang not installed"; return; }
	[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh >/dev/null)
	CC=clang configure_in "$FUZZ_BUILD" --enable-fuzzing --enable-sanitizers ||
		{ ko "fuzz: configure"; return; }
	if ! make -C "$FUZZ_BUILD" -s -j"$JOBS" $(for t in $targets; do echo "tests/fuzz/fuzz-$t"; done) \
		>"$FUZZ_BUILD/build.log" 2>&1; then
		tail -30 "$FUZZ_BUILD/build.log"
		ko "fuzz: build"
		return
	fi
	for t in $targets; do
		local work=${KEEP_FUZZ_CORPUS:-$FUZZ_BUILD/corpus}/$t
		mkdir -p "$work" "$FUZZ_BUILD/crashes"
		log=$FUZZ_BUILD/fuzz-$t.log
		# new inputs go to $work; the seeds in the tree are read only
		if "$FUZZ_BUILD/tests/fuzz/fuzz-$t" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
			-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$FUZZ_BUILD/crashes/$t-" \
			"$work" "$top/tests/fuzz/corpus/$t" >"$log" 2>&1; then
			stats=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -1 |
				sed -E 's/^#([0-9]+).*cov: ([0-9]+) ft: ([0-9]+).*/\1 execs, cov \2, ft \3/')
			echo "   fuzz-$t: $stats"
		else
			bad=$((bad + 1))
			echo "   fuzz-$t: FAILED (input kept in $FUZZ_BUILD/crashes/)"
			grep -E 'ERROR|runtime error|invariant|SUMMARY|Test unit written' -A2 "$log" | head -30
		fi
	done
	if [ $bad -eq 0 ]; then ok "fuzz: $(echo $targets | wc -w) targets x ${FUZZ_SECONDS} s"; else ko "fuzz: $bad targets"; fi
}

for p in $parts; do
	case $p in
	sanitizers) sanitizers ;;
	valgrind) valgrind_part ;;
	fuzz) fuzz ;;
	*) echo "unknown part '$p' (sanitizers, valgrind, fuzz)" >&2; exit 2 ;;
	esac
done
echo "check-extra: $passed passed, $failed failed"
[ $failed -eq 0 ]
