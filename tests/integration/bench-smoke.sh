#!/bin/bash
# `qstor bench` runs (file-reflink, a tiny pool) and its outputs hold
# together: the table on stdout, bench.json with every sample and a summary
# that matches them, bench.svg with its two charts. Checks consistency only,
# never a time (the benchmark is not a test).
. "$(dirname "$0")/lib.sh"
need_root
need_cmd mkfs.xfs
need_cmd xfs_io
need_cmd perl
need_cmd python3
[ -x "$QSTOR_BIN/qstor-bench" ] || { echo "SKIP: no $QSTOR_BIN/qstor-bench (not built)"; exit $SKIP; }

res=$WORK/res
mkdir -p "$WORK/tmp"
export TMPDIR=$WORK/tmp   # the bench's own work dir goes there
# through `qstor bench`, so the hand-over to the script is tested too
check "qstor bench runs" qstor bench --driver file-reflink --vms 2,4 --runs 2 --sample 2 \
	--template-mib 8 --fragment 64 --write-mib 2 --out "$res"
cp "$WORK/out" "$WORK/stdout"
[ "$FAILED" = 0 ] || { cat "$WORK/err" >&2; finish; }
for f in table.txt bench.json bench.svg; do
	if [ -s "$res/$f" ]; then pass; else fail "$f missing or empty"; fi
done
check "table on stdout" grep -q '^== qstor bench: file-reflink ==' "$WORK/stdout"
check "table has the targets" grep -q '^targets:' "$WORK/stdout"
check "stdout is table.txt" cmp -s "$WORK/stdout" "$res/table.txt"
eq "no work dir left" "" "$(ls -A "$WORK/tmp")"
eq "no loop device left on a bench image" "" "$(losetup -a | grep -F "$WORK/tmp/")"

# Consistency of the JSON and the SVG (python: an independent reader)
check "bench.json and bench.svg consistent" python3 - "$res" <<'PY'
import json, sys, math, statistics
import xml.etree.ElementTree as ET
res = sys.argv[1]
j = json.load(open(res + "/bench.json"))
errs = []
def want(c, m):
    if not c: errs.append(m)
assert j["params"]["vms"] == [2, 4], j["params"]
(r,) = j["results"]
want(r["driver"] == "file-reflink", "driver")
info = r["info"]
T, W = info["template_data_bytes"], info["write_bytes"]
want(T == 8 << 20 and W == 2 << 20, "template/write bytes %s %s" % (T, W))
want(info["template_extents"] >= 64, "template extents %s" % info["template_extents"])
runs, sample = info["runs"], info["sample"]
want(runs == 2 and sample == 2, "runs/sample")
want([s["vms"] for s in r["steps"]] == [2, 4], "steps")
for s in r["steps"]:
    m, d = s["vms"], s["disk"]
    want(d["q_vm_count"] == m, "qstor VM count at %d: %s" % (m, d["q_vm_count"]))
    want(d["b_vm_count"] == m, "baseline VM count at %d: %s" % (m, d["b_vm_count"]))
    # what each VM wrote is its own, within a chunk per extent
    want(W <= d["q_vmx_mean"] <= W + (1 << 20), "qstor vm_exclusive %d vs %d written" % (d["q_vmx_mean"], W))
    base = (d["b_used"] - info["b_used_template"]) / m
    full = d["full_copies_per_vm"]
    want(full == T + W, "full copies per VM")
    want(d["q_vmx_mean"] <= base <= full, "qstor %d <= baseline %d <= full copies %d per VM at %d"
         % (d["q_vmx_mean"], base, full, m))
    want(d["q_used"] <= d["b_used"] + m * (1 << 20) and d["b_used"] <= T + m * full,
         "pool totals at %d: qstor %d baseline %d" % (m, d["q_used"], d["b_used"]))
    want(0 <= d["q_idle_vmx"] <= 1 << 20, "idle VM vm_exclusive %d" % d["q_idle_vmx"])
    ops = {(o["impl"], o["op"]): o for o in s["ops"]}
    for impl in ("qstor", "baseline"):
        for op in ("create", "start", "stop", "remove", "revert", "du"):
            o = ops.get((impl, op))
            if o is None:
                errs.append("no %s %s at %d" % (impl, op, m)); continue
            n = runs * min(sample, m) if op in ("start", "stop", "revert") else runs
            x = sorted(o["samples_us"])
            want(o["n"] == n == len(x), "%s %s at %d: n %s, %d samples, want %d" % (impl, op, m, o["n"], len(x), n))
            want(all(v >= 0 for v in x), "negative sample")
            want(0 <= o["median_ms"] <= o["p95_ms"], "%s %s at %d: median %s p95 %s" % (impl, op, m, o["median_ms"], o["p95_ms"]))
            want(abs(o["median_ms"] - statistics.median(x) / 1000) < 0.002, "%s %s median" % (impl, op))
            want(abs(o["p95_ms"] - x[math.ceil(0.95 * len(x)) - 1] / 1000) < 0.002, "%s %s p95" % (impl, op))
names = [t["target"] for t in r["targets"]]
want(len(names) == 3, "targets %s" % names)
want(all(t["status"] in ("met", "NOT met", "n/a") for t in r["targets"]), "target status")
svg = ET.parse(res + "/bench.svg").getroot()
lines = svg.findall(".//{http://www.w3.org/2000/svg}polyline")
want(len(lines) == 5, "SVG: %d lines, want 5 (3 disk, 2 start)" % len(lines))
for l in lines:
    want(len(l.get("points").split()) == 2, "SVG: a line without one point per step")
if errs:
    print("\n".join(errs), file=sys.stderr); sys.exit(1)
PY

# bad arguments are refused before anything is built
refuse "descending --vms" "ascending" qstor bench --vms 4,2
refuse "unknown driver" "driver" qstor bench --driver zfs
refuse "not a number" "number" qstor bench --runs x
finish
