#!/bin/sh
# Every fuzz target over its seed corpus (tests/fuzz/corpus/<target>/):
# the invariants the targets assert hold on every seed, crash inputs found
# by fuzzing included once they are added there. Quick (well under a
# second); the fuzzing itself is scripts/check-extra.sh.
b=${top_builddir:-.}/tests/fuzz
c=${top_srcdir:-.}/tests/fuzz/corpus
passed=0 failed=0
for t in size name reflink-names lvm-names lvm-report dmstatus thinls thinmeta catalog; do
	if [ ! -x "$b/fuzz-$t" ] || [ ! -d "$c/$t" ]; then
		echo "FAIL: fuzz-$t: binary or corpus missing"
		failed=$((failed + 1))
		continue
	fi
	# files, not the directory: a libFuzzer build would fuzz a directory
	if "$b/fuzz-$t" "$c/$t"/* >"$b/replay-$t.log" 2>&1; then
		passed=$((passed + 1))
		echo "ok fuzz-$t: $(ls "$c/$t" | wc -l) seeds"
	else
		failed=$((failed + 1))
		echo "FAIL: fuzz-$t:"
		tail -20 "$b/replay-$t.log"
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
