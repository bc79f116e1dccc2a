#!/bin/bash
# Permissions (SPEC: the catalog names every VM, images hold their data):
# with the loosest umask, the state directory is 0700, the catalog (and its
# WAL files) 0600, and on file-reflink every VM directory 0700 and every
# volume file (committed, running, revisions, imports, exports) 0600: no
# file of the pool is readable by others. A non-root user gets "must be
# root" and exit 1 from every tool and command, not a crash, and changes
# nothing.
# Usage: permissions.sh [xfs|btrfs]   (default xfs)
. "$(dirname "$0")/lib.sh"

need_cmd setpriv
umask 000
make_fs_pool "${1:-xfs}"
id nobody >/dev/null 2>&1 || { echo "SKIP: no user nobody"; exit $SKIP; }
nogroup=$(id -gn nobody)

# every kind of object: template, app, running copies, revisions, import
check "create template" qstor vm create tpl --class template --root-size 8Mi --private-size 8Mi --volatile-size 8Mi
check "create app" qstor vm create app --class app --template tpl --private-size 8Mi --volatile-size 8Mi
check "create standalone" qstor vm create sa --class standalone --root-size 8Mi --private-size 8Mi --volatile-size 8Mi
for vm in tpl app sa; do
	start_vm $vm && write_dev "$(dev_of $vm private)" p$vm 1 && stop_vm $vm || fail "cycle $vm"
done
pattern imp 8 >"$WORK/imp.img"
check "import" qvm_volume import --no-resize sa:private "$WORK/imp.img"
check "clone" qvm_volume clone -f app:private sa:private
check "start app" start_vm app
check "start sa" start_vm sa
exported=$(qvm_volume export tpl:root)

mode() { stat -c '%a' "$1"; }
eq "state dir 0700" 700 "$(mode "$STATE")"
for f in "$STATE"/catalog*; do
	eq "catalog file $(basename "$f") 0600" 600 "$(mode "$f")"
done
n=0
while read -r d; do
	n=$((n + 1))
	eq "VM directory ${d#"$POOL_DIR"/} 0700" 700 "$(mode "$d")"
done < <(find "$POOL_DIR"/appvms "$POOL_DIR"/vm-templates -mindepth 1 -type d)
eq "VM directories found" 3 "$n"
n=0
while read -r f; do
	n=$((n + 1))
	eq "volume file ${f#"$POOL_DIR"/} 0600" 600 "$(mode "$f")"
done < <(find "$POOL_DIR" -type f -name '*.img*')
[ "$n" -ge 10 ] && pass || fail "only $n volume files found"
eq "no file of the pool readable by others" "" "$(find "$POOL_DIR" "$STATE" -type f -perm /o+rwx)"
eq "no file of the pool accessible to its group" "" "$(find "$POOL_DIR" "$STATE" -type f -perm /g+rwx)"
case $exported in
"$POOL_DIR"/*) eq "export is not world-readable" 0 "$(($(stat -c '%#a' "$exported") & 7))" ;;
esac
qvm_volume export --end tpl:root >/dev/null 2>&1

# ---- not root ----
# the tools where nobody can run them ($WORK is 0700)
BIN=$(mktemp -d /tmp/qstor-perm-bin.XXXXXX)
at_exit "rm -rf '$BIN'"
chmod 755 "$BIN"
cp "$QSTOR_BIN/qstor" "$QSTOR_BIN/qvm-volume" "$QSTOR_BIN/qvm-pool" "$BIN/"
chmod 755 "$BIN"/*
as_nobody() { setpriv --reuid=nobody --regid="$nogroup" --clear-groups --inh-caps=-all "$@"; }
before=$(pool_fingerprint)
T=0
user_refused() { # DESC TOOL ARGS...   (STATE_ENV= to leave QSTOR_STATE_DIR unset)
	local d=$1 tool=$2 rc
	shift 2
	T=$((T + 1))
	as_nobody env -u QSTOR_STATE_DIR ${STATE_ENV-QSTOR_STATE_DIR=$STATE} "$BIN/$tool" "$@" \
		>"$WORK/out" 2>"$WORK/err" </dev/null
	rc=$?
	if [ $rc -ne 1 ]; then fail "non-root $d: exit $rc, expected 1: $(cat "$WORK/err")"; return; fi
	if ! grep -q 'must be root' "$WORK/err"; then fail "non-root $d: message '$(cat "$WORK/err")'"; return; fi
	if [ "$(wc -l <"$WORK/err")" -ne 1 ]; then fail "non-root $d: more than one line: $(cat "$WORK/err")"; return; fi
	pass
}
user_refused "vm list" qstor vm list
user_refused "vm create" qstor vm create x --class standalone
user_refused "vm start" qstor vm start sa
user_refused "vm stop" qstor vm stop sa
user_refused "vm clone" qstor vm clone sa sb
user_refused "vm remove" qstor vm remove sa
user_refused "recover" qstor recover
user_refused "du" qstor du
STATE_ENV= user_refused "default state dir" qstor vm list
user_refused "own state dir" qstor --state-dir /tmp/qstor-nobody-state vm list
user_refused "volume list" qvm-volume list
user_refused "volume info" qvm-volume info sa:private
user_refused "volume revert" qvm-volume revert sa:private
user_refused "volume resize" qvm-volume resize sa:private 16Mi
user_refused "volume import" qvm-volume import sa:private -
user_refused "volume export" qvm-volume export tpl:root
user_refused "volume config" qvm-volume config sa:private rw False
user_refused "pool list" qvm-pool list
user_refused "pool info" qvm-pool info default
user_refused "pool add" qvm-pool add p2 file-reflink -o dir_path=/tmp
user_refused "pool remove" qvm-pool remove default
# listing the drivers reads nothing of the state: allowed
T=$((T + 1))
check "non-root pool drivers lists them" as_nobody "$BIN/qvm-pool" drivers
grep -q file-reflink "$WORK/out" && pass || fail "non-root pool drivers: '$(cat "$WORK/out")'"
eq "non-root made no state dir of its own" "" "$(ls -d /tmp/qstor-nobody-state 2>/dev/null)"
eq "nothing changed by non-root attempts" "$before" "$(pool_fingerprint)"
# the data is out of nobody's reach too
for f in $(find "$POOL_DIR" -type f -name '*.img' | head -3) "$STATE/catalog.db"; do
	T=$((T + 1))
	if as_nobody cat "$f" >/dev/null 2>&1; then fail "nobody can read $f"; else pass; fi
done
stop_vm app
stop_vm sa
echo "non-root attempts: $T"
finish
