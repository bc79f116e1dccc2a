# `qstor du --json --bytes` output as lines to compare with a ground truth:
#   vol VM VOLUME MAPPED EXCLUSIVE / vm VM MAPPED VM_EXCLUSIVE / pool MAPPED SHARED
# (volumes and VMs that reference nothing left out: a ground truth read
# from the pool's maps cannot see them). Usage: python3 du-lines.py DU.json
import json, sys
d = json.load(open(sys.argv[1]))
for v in sorted(d, key=lambda v: v["vm"]):
    for x in sorted(v["volumes"], key=lambda x: x["volume"]):
        if x["mapped"]:
            print("vol", v["vm"], x["volume"], x["mapped"], x["exclusive"])
for v in sorted(d, key=lambda v: v["vm"]):
    if v["mapped"]:
        print("vm", v["vm"], v["mapped"], v["vm_exclusive"])
p = d[0]["pools"][0]
print("pool", p["mapped"], p["shared"])
