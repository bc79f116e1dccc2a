# Shared helpers of the integration tests (sourced; bash).
# Each test makes its own state dir and pool in a private work dir, and a
# trap tears everything down. Needs: QSTOR_BIN (dir with qstor, qvm-volume,
# qvm-pool), root.

set -u
PASSED=0
FAILED=0
SKIP=77

: "${QSTOR_BIN:=${top_builddir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/qstor-it.XXXXXX")
STATE=$WORK/state
export QSTOR_STATE_DIR=$STATE
CLEANUPS=()

at_exit() { CLEANUPS+=("$*"); }
run_cleanups() {
	local i
	for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${CLEANUPS[i]}" >/dev/null 2>&1; done
	rm -rf "$WORK"
}
trap run_cleanups EXIT

qstor() { "$QSTOR_BIN/qstor" "$@"; }
qvm_volume() { "$QSTOR_BIN/qvm-volume" "$@"; }
qvm_pool() { "$QSTOR_BIN/qvm-pool" "$@"; }

pass() { PASSED=$((PASSED + 1)); }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*" >&2; }

# check DESC CMD...: CMD must succeed
check() { local d=$1; shift; if "$@" >"$WORK/out" 2>"$WORK/err"; then pass; else fail "$d: $(cat "$WORK/err")"; fi; }
# refuse DESC PATTERN CMD...: CMD must fail, exit 1, and say PATTERN on stderr
refuse() {
	local d=$1 pat=$2; shift 2
	"$@" >"$WORK/out" 2>"$WORK/err"
	local rc=$?
	if [ "$rc" -eq 0 ]; then fail "$d: succeeded, expected failure"; return; fi
	if [ "$rc" -ne 1 ]; then fail "$d: exit $rc, expected 1"; return; fi
	if ! grep -q -- "$pat" "$WORK/err"; then fail "$d: message '$(cat "$WORK/err")' lacks '$pat'"; return; fi
	pass
}
# eq DESC EXPECTED ACTUAL
eq() { if [ "$2" = "$3" ]; then pass; else fail "$1: expected '$2', got '$3'"; fi; }
ne() { if [ "$2" != "$3" ]; then pass; else fail "$1: both '$2'"; fi; }

need_root() { [ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit $SKIP; }; }
need_cmd() { command -v "$1" >/dev/null 2>&1 || { echo "SKIP: needs $1"; exit $SKIP; }; }

# The closing line the harness reads.
finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit $?
}

# ---- pools ----

# make_fs_pool xfs|btrfs [SIZE]: loop-mounted image, pool "default"
make_fs_pool() {
	local fs=$1 size=${2:-8G}
	need_root
	truncate -s "$size" "$WORK/fs.img"
	case $fs in
	xfs) need_cmd mkfs.xfs; mkfs.xfs -q -m reflink=1 "$WORK/fs.img" ;;
	btrfs) need_cmd mkfs.btrfs; mkfs.btrfs -q "$WORK/fs.img" >/dev/null ;;
	esac
	mkdir -p "$WORK/mnt"
	mount -o loop "$WORK/fs.img" "$WORK/mnt" || { echo "SKIP: cannot loop-mount"; exit $SKIP; }
	at_exit "umount -l '$WORK/mnt'"
	at_exit "detach_loops '$WORK/mnt'"
	mkdir -p "$WORK/mnt/pool"
	POOL_DIR=$WORK/mnt/pool
	qvm_pool add default file-reflink -o "dir_path=$POOL_DIR" >/dev/null
}

# Loop devices whose backing file is under DIR
detach_loops() {
	local d
	for d in /sys/block/loop*/loop/backing_file; do
		[ -r "$d" ] || continue
		case $(cat "$d") in "$1"/*) losetup -d "/dev/$(basename "$(dirname "$(dirname "$d")")")" ;; esac
	done
}

# make_lvm_pool DISK: VG and thin pool on DISK (inside the test VM)
make_lvm_pool() {
	local disk=$1
	VG=qs$$
	pvcreate -q -ff -y "$disk" >/dev/null || return 1
	vgcreate -q "$VG" "$disk" >/dev/null || return 1
	lvcreate -q -T -L 3G "$VG/pool" >/dev/null || return 1
	at_exit "vgremove -q -ff -y '$VG'; pvremove -q -ff -y '$disk'"
	qvm_pool add default lvm_thin -o "volume_group=$VG,thin_pool=pool" >/dev/null
}

# revs VM:VOL: the revision ids `qvm-volume info` lists, one a line
revs() { qvm_volume info "$1" | sed -n '/^List of available revisions/,$p' | tail -n +2 | sed 's/^ *//' | grep -v '^none$'; }

# ---- data ----

# dev_of VM VOL: the device `qstor vm start` printed (saved in $WORK/dev.VM)
dev_of() { awk -v v="$2" '$1 == v { print $2 }' "$WORK/dev.$1"; }
start_vm() { qstor vm start "$1" >"$WORK/dev.$1"; }
stop_vm() { qstor vm stop "$1"; }

# write_dev DEV SEED MIB: deterministic data at offset 0
pattern() { openssl enc -aes-128-ctr -nosalt -pass "pass:$1" -pbkdf2 </dev/zero 2>/dev/null | head -c "$(($2 << 20))"; }
write_dev() { pattern "$2" "$3" | dd of="$1" bs=1M oflag=direct conv=notrunc status=none && sync; }
sum_dev() { head -c "$(($2 << 20))" "$1" | sha256sum | cut -d' ' -f1; }
sum_pattern() { pattern "$1" "$2" | sha256sum | cut -d' ' -f1; }

# committed_sum VM:VOL MIB: checksum of the committed state (via export)
committed_sum() {
	local p
	p=$(qvm_volume export "$1") || { echo "export-failed"; return; }
	sum_dev "$p" "$2"
}

# snapshot of everything on disk + catalog, to prove "nothing changed"
pool_fingerprint() {
	{
		qvm_volume list 2>&1
		qstor vm list 2>&1
		if [ -n "${POOL_DIR:-}" ]; then
			(cd "$POOL_DIR" && find . -type f -printf '%p %s\n' | sort)
		fi
		if [ -n "${VG:-}" ]; then lvs --noheadings -o lv_name,lv_size "$VG" 2>&1 | sort; fi
	} | sha256sum | cut -d' ' -f1
}

# leftovers: temporaries or import objects on disk
leftovers() {
	if [ -n "${POOL_DIR:-}" ]; then
		find "$POOL_DIR" \( -name '*~*' -o -name '*-import.img' \) -print
	fi
	if [ -n "${VG:-}" ]; then
		lvs --noheadings -o lv_name "$VG" 2>/dev/null | grep -E -- '-(tmp|import)$'
	fi
	true
}

# ---- disk use ----

# du_json: `qstor du --json --bytes` into $WORK/du.json
du_json() { qstor du --json --bytes >"$WORK/du.json"; }
# duf VM [VOL] FIELD: a figure from $WORK/du.json (the VM's own without VOL)
duf() {
	python3 - "$WORK/du.json" "$@" <<'EOF'
import json, sys
d = {v["vm"]: v for v in json.load(open(sys.argv[1]))}
vm = d[sys.argv[2]]
if len(sys.argv) == 5:
    vm = next(x for x in vm["volumes"] if x["volume"] == sys.argv[3])
print(vm[sys.argv[-1]])
EOF
}
# poolf FIELD: the pool totals, from any VM of $WORK/du.json
poolf() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["pools"][0][sys.argv[2]])' \
		"$WORK/du.json" "$1"
}
