#!/bin/bash
# Pool full (SPEC 5) on file-reflink, where the filesystem's free space is
# the reserve's measure: a VM fills a small pool past its reserve with its
# own writes; then create, start, import and clone (VM and volume) are
# refused with the figures in the message (free, size, reserve), change
# nothing, and the running VM keeps running (writes, reads back, stops and
# commits). Removing data makes room again.
# Usage: pool-full.sh xfs|btrfs
. "$(dirname "$0")/lib.sh"

kind=${1:-xfs}
# XFS' smallest filesystem is 300 MiB; the reserve is 40% of it
make_fs_pool "$kind" 320M
check "reserve 40%" qvm_pool set default -o reserve_data=40

check "create filler" qstor vm create filler --class standalone --root-size 8Mi --private-size 256Mi --volatile-size 8Mi
check "create other" qstor vm create other --class standalone --root-size 8Mi --private-size 8Mi --volatile-size 8Mi
check "create spare" qstor vm create spare --class standalone --root-size 8Mi --private-size 8Mi --volatile-size 8Mi
start_vm other && write_dev "$(dev_of other private)" o 4 && stop_vm other

# free and size as qstor sees them (statvfs of dir_path)
fs_size() { echo $(($(stat -f -c '%b * %S' "$POOL_DIR"))); }
fs_free() { echo $(($(stat -f -c '%f * %S' "$POOL_DIR"))); }
size=$(fs_size)
reserve=$((size * 40 / 100))

check "start filler" start_vm filler
dev=$(dev_of filler private)
# write until free space is under the reserve (leave 16 MiB of real room)
free=$(fs_free)
mib=$(((free - reserve) / 1048576 + 4))
[ "$mib" -le 250 ] || { fail "pool too large to fill: $mib MiB"; finish; }
check "VM writes ${mib} MiB" write_dev "$dev" fill "$mib"
free=$(fs_free)
[ "$free" -lt "$reserve" ] && pass || fail "free $free not under reserve $reserve"
[ "$free" -gt $((8 << 20)) ] && pass || fail "pool really full ($free bytes free): the VM could not go on"
echo "pool: $size bytes, reserve $reserve, free $free"

before=$(pool_fingerprint)
full() { # DESC CMD...: refused, exit 1, with the figures
	refuse "$1" "full" "${@:2}"
	grep -qE "[0-9.]+ [KMGT]?i?B free of $size bytes" "$WORK/err" && grep -q "reserve" "$WORK/err" &&
		pass || fail "$1: message lacks the figures: $(cat "$WORK/err")"
}
pattern imp 8 >"$WORK/imp.img"
full "create refused" qstor vm create n1 --class standalone --root-size 8Mi --private-size 8Mi --volatile-size 8Mi
echo "refusal: $(cat "$WORK/err")"
full "start refused" qstor vm start other
full "import refused" qvm_volume import --no-resize other:private "$WORK/imp.img"
full "import from stdin refused" qvm_volume import --no-resize other:private - <"$WORK/imp.img"
full "vm clone refused" qstor vm clone other other2
full "volume clone refused" qvm_volume clone -f other:private spare:private
eq "refusals changed nothing" "$before" "$(pool_fingerprint)"
eq "refused data unchanged" "$(sum_pattern o 4)" "$(committed_sum other:private 4)"
refuse "refused VM was not created" "no such vm" qvm_volume info n1:private

# the running VM keeps running: it writes more, reads back, stops, commits
eq "filler still running" running "$(qstor vm list | awk '$1 == "filler" { print $5 }')"
check "running VM writes on" sh -c "pattern() { openssl enc -aes-128-ctr -nosalt -pass pass:more -pbkdf2 </dev/zero 2>/dev/null | head -c \$((4 << 20)); }; pattern | dd of='$dev' bs=1M seek=$mib oflag=direct conv=notrunc status=none"
eq "running VM reads its data" "$(sum_pattern fill "$mib")" "$(sum_dev "$dev" "$mib")"
check "running VM stops (commit)" stop_vm filler
eq "filler's writes committed" "$(sum_pattern fill "$mib")" "$(committed_sum filler:private "$mib")"
full "start of the filler refused now" qstor vm start filler

# room again once data goes
check "remove filler" qstor vm remove filler
check "create works again" qstor vm create n1 --class standalone --root-size 8Mi --private-size 8Mi --volatile-size 8Mi
check "start works again" start_vm other
check "stop" stop_vm other
finish
