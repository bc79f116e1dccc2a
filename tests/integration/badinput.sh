#!/bin/bash
# Bad input (SPEC 6): every case gets a message naming what was wrong,
# exit code 1, and the pool and catalog unchanged (fingerprint and data).
# Usage: badinput.sh xfs|btrfs|lvm:DISK
. "$(dirname "$0")/lib.sh"

kind=${1:?usage: badinput.sh xfs|btrfs|lvm:DISK}
case $kind in
xfs | btrfs) make_fs_pool "$kind" ;;
lvm:*) make_lvm_pool "${kind#lvm:}" || { echo "cannot make lvm pool"; exit 1; } ;;
esac

qstor vm create tpl --class template --root-size 8Mi --private-size 8Mi --volatile-size 8Mi >/dev/null
qstor vm create work --class app --template tpl --private-size 8Mi --volatile-size 8Mi >/dev/null
start_vm work && write_dev "$(dev_of work private)" w 4 && stop_vm work
pattern short 1 >"$WORK/short.img"
pattern long 9 >"$WORK/long.img"

before=$(pool_fingerprint)
sum_before=$(committed_sum work:private 8)
long=$(printf 'x%.0s' $(seq 1 65))
bad_names=("a/b" ".." "." "a b" "-rf" "$long" $'a\tb' $'a\x01b' "")

T=0
bad() { T=$((T + 1)); refuse "$@"; }

for name in "${bad_names[@]}"; do
	label=$(printf '%q' "$name")
	# a leading '-' is taken for an option, and refused as one
	case $name in -*) NAMEPAT="unknown option '$name" ;; *) NAMEPAT="invalid" ;; esac
	bad "vm create $label" "$NAMEPAT" qstor vm create "$name" --class standalone
	bad "vm start $label" "$NAMEPAT" qstor vm start "$name"
	bad "vm stop $label" "$NAMEPAT" qstor vm stop "$name"
	bad "vm remove $label" "$NAMEPAT" qstor vm remove "$name"
	bad "vm clone to $label" "$NAMEPAT" qstor vm clone work "$name"
	bad "info $label:private" "$NAMEPAT" qvm_volume info "$name:private"
	bad "info work:$label" "invalid" qvm_volume info "work:$name"
	bad "revert $label" "$NAMEPAT" qvm_volume revert "$name:private"
	bad "resize $label" "$NAMEPAT" qvm_volume resize "$name:private" 16Mi
	bad "import $label" "$NAMEPAT" qvm_volume import "$name:private" "$WORK/short.img"
	bad "pool add $label" "$NAMEPAT" qvm_pool add "$name" file-reflink -o dir_path=/nonexistent
	bad "pool info $label" "$NAMEPAT" qvm_pool info "$name"
	bad "du $label" "$NAMEPAT" qstor du "$name"
done

# unknown objects
bad "unknown vm" "no such vm 'ghost'" qstor vm start ghost
bad "unknown volume" "no such volume 'work:ghost'" qvm_volume info work:ghost
bad "unknown pool" "no such pool 'ghost'" qvm_pool info ghost
bad "unknown pool for create" "no such pool 'ghost'" qstor vm create x1 --class standalone --pool ghost
bad "unknown driver" "unknown driver 'ghost'" qvm_pool add p2 ghost -o dir_path=/tmp
bad "unknown option" "unknown option 'colour'" qvm_pool add p2 file-reflink -o dir_path=/tmp,colour=red
bad "missing option" "needs option 'dir_path'" qvm_pool add p2 file-reflink
bad "unknown revision" "no revision 'nope'" qvm_volume revert work:private nope
bad "revision with slash" "no revision" qvm_volume revert work:private ../../etc
bad "unknown property" "invalid property 'colour'" qvm_volume config work:private colour red
bad "bad rw value" "invalid value 'maybe'" qvm_volume config work:private rw maybe
bad "bad rtk value" "invalid value 'x'" qvm_volume config work:private revisions_to_keep x
bad "unknown class" "class" qstor vm create x2 --class ghost
bad "app without template" "template" qstor vm create x3 --class app
bad "template not a template" "not a template" qstor vm create x4 --class app --template work

# sizes
for size in 0 -1 abc 1.5G 10Q 18446744073709551616 99999999999999999999999 9223372036854775808 ""; do
	bad "size '$size'" "size" qvm_volume resize work:private "$size"
	bad "create size '$size'" "size" qstor vm create x5 --class standalone --private-size "$size"
done
bad "size beyond pool" "can hold" qvm_volume resize work:private 1000Ti

# import length
bad "short import" "shorter" qvm_volume import --no-resize work:private "$WORK/short.img"
bad "long import" "longer" qvm_volume import --no-resize work:private "$WORK/long.img"
bad "missing import file" "ghost.img" qvm_volume import work:private "$WORK/ghost.img"

eq "pool unchanged by bad input" "$before" "$(pool_fingerprint)"

# operations refused by state (start and stop commit a new state: compare
# while running)
start_vm work
before=$(pool_fingerprint)
bad "revert running" "running" qvm_volume revert work:private
bad "import running" "running" qvm_volume import --no-resize work:private "$WORK/short.img"
bad "resize shrink running" "force" qvm_volume resize work:private 4Mi
bad "start running" "already running" qstor vm start work
bad "remove running" "running" qstor vm remove work
eq "pool unchanged around running refusals" "$before" "$(pool_fingerprint)"
stop_vm work
before=$(pool_fingerprint)

# unknown commands and options
bad "unknown command" "ghost" qstor ghost
bad "unknown vm subcommand" "ghost" qstor vm ghost
bad "unknown qvm-volume action" "ghost" qvm_volume ghost work:private
bad "unknown qvm-pool action" "ghost" qvm_pool ghost
bad "missing argument" "" qvm_volume info

eq "pool unchanged by bad commands" "$before" "$(pool_fingerprint)"
eq "data unchanged by bad input" "$sum_before" "$(committed_sum work:private 8)"
echo "bad inputs tried: $T"
finish
