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
# lvm_thin runs in the TCG VM (a command costs ~0.5-1 s there): the names
# that could reach an LVM command line; the parsing is the same as on the
# filesystems, where all run
case $kind in lvm:*) [ "${BADINPUT_FULL:-0}" = 1 ] || bad_names=("a/b" "a b" "-rf" $'a\tb') ;; esac

T=0
bad() { T=$((T + 1)); refuse "$@"; }
# where the time goes (the lvm run in the TCG VM is slow)
phase() { echo "badinput: $1 at +${SECONDS}s, $T cases so far"; }
phase "bad names"

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

phase "unknown objects"
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

phase "sizes"
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

phase "operations refused by state"
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

phase "hostile values"
# ---- hostile values in every argument position ----
# Each: exit 1, one line on stderr naming the tool, no raw control
# character, bounded length (a 100 kB argument is not echoed whole).
long4k=$(head -c 4096 /dev/zero | tr '\0' 'n')
long100k=$(head -c 100000 /dev/zero | tr '\0' 'n')
hostile=("$long4k" "$long100k" "café" "名前" $'\u202eevil' "💾" "--" "-y" "--yes" "--force"
	"a b" "a'b" 'a"b' "x --yes" "vg -y" '$(id)' ';rm' $'a\nb' "*" "~" "%s%n" "1/2" "/"
	"a/../b" "-" "." ".." "-- -y" $'\e[31m' $'a\tb' $'\e]0;title\a' $'\xc2\x9b2J')
# make check: the control characters and a dozen others, once (the table
# is the same on every filesystem, the control characters also run on
# btrfs); BADINPUT_FULL=1 (scripts/check-extra.sh): all, everywhere
if [ "${BADINPUT_FULL:-0}" != 1 ]; then
	hostile=($'\e[31m' $'a\nb' $'a\tb')
	[ "$kind" = btrfs ] || hostile+=("$long4k" "café" $'\u202eevil' $'\xc2\x9b2J' "--" "-y" "a b"
		"a'b" "x --yes" '$(id)' "a/../b" "-")
	# lvm_thin (in the TCG test VM, where each command costs ~150 ms): the
	# values aimed at LVM command lines; the rest is the same parsing
	# as on the filesystems
	case $kind in lvm:*) hostile=("-y" "x --yes" $'a\nb') ;; esac
fi
# What a message quoting VALUE must show: the escaped form of the first
# control character of VALUE and what follows it (e.g. 'a\x0ab'), or
# nothing to look for when VALUE has none.
escaped_form() { # VALUE
	local LC_ALL=C v=$1 out="" c i   # bytes, ASCII classes
	case $v in *[[:cntrl:]]*) ;; *) return ;; esac
	for ((i = 0; i < ${#v} && i < 24; i++)); do
		c=${v:i:1}
		case $c in
		[[:cntrl:]]) out+=$(printf '\\x%02x' "'$c") ;;
		*) out+=$c ;;
		esac
	done
	printf '%s' "$out"
}
# clearly: exit 1 with one line "prog: ..." on stderr, no raw control
# character in it (a newline or an escape sequence from the argument),
# at most 700 bytes (a 100 kB argument is not echoed whole), and, when
# NEEDLE is not empty, NEEDLE in it (the bad value, escaped).
clearly() { # DESC NEEDLE CMD...
	local d=$1 needle=$2 rc
	shift 2
	T=$((T + 1))
	"$@" >"$WORK/out" 2>"$WORK/err" </dev/null
	rc=$?
	if [ $rc -ne 1 ]; then fail "$d: exit $rc, expected 1: $(head -c 300 "$WORK/err")"; return; fi
	if ! grep -qE '^(qstor|qvm-volume|qvm-pool): ' "$WORK/err"; then fail "$d: '$(head -c 300 "$WORK/err")'"; return; fi
	if [ "$(wc -l <"$WORK/err")" -ne 1 ]; then
		fail "$d: not one line: $(head -c 300 "$WORK/err" | cat -v)"; return
	fi
	if LC_ALL=C grep -q '[[:cntrl:]]' <(head -c -1 "$WORK/err"); then
		fail "$d: raw control character: $(head -c 300 "$WORK/err" | cat -v)"; return
	fi
	# C1 controls and bidi overrides are valid UTF-8: look for their bytes
	if LC_ALL=C grep -qE $'\xc2[\x80-\x9f]|\xe2\x80[\xa8-\xae]|\xe2\x81[\xa6-\xa9]' "$WORK/err"; then
		fail "$d: raw C1 control or bidi override: $(head -c 300 "$WORK/err" | cat -v)"; return
	fi
	if [ "$(wc -c <"$WORK/err")" -gt 700 ]; then fail "$d: $(wc -c <"$WORK/err") bytes"; return; fi
	if [ -n "$needle" ] && ! grep -qF -- "$needle" "$WORK/err"; then
		fail "$d: message '$(head -c 300 "$WORK/err")' does not show '$needle'"; return
	fi
	pass
}
# every argument position; @ is the hostile value
positions=(
	"qstor vm create @ --class standalone"
	"qstor vm create x6 --class @"
	"qstor vm create x6 --class app --template @"
	"qstor vm create x6 --class standalone --pool @"
	"qstor vm create x6 --class standalone --root-size @"
	"qstor vm create x6 --class standalone --private-size @"
	"qstor vm create x6 --class standalone --volatile-size @"
	"qstor vm start @" "qstor vm stop @" "qstor vm remove @"
	"qstor vm clone @ x7" "qstor vm clone work @" "qstor vm clone work x7 --pool @"
	"qstor du @" "qstor --state-dir @ vm start work" "qstor @"
	"qvm_volume list -p @" "qvm_volume list @"
	"qvm_volume info @" "qvm_volume info @:private" "qvm_volume info work:@" "qvm_volume info work:private @"
	"qvm_volume config @:private rw True" "qvm_volume config work:@ rw True"
	"qvm_volume config work:private @ True" "qvm_volume config work:private rw @"
	"qvm_volume config work:private revisions_to_keep @"
	"qvm_volume resize @:private 16Mi" "qvm_volume resize work:@ 16Mi" "qvm_volume resize work:private @"
	"qvm_volume revert @:private" "qvm_volume revert work:@" "qvm_volume revert work:private @"
	"qvm_volume import --size @ work:private $WORK/short.img" "qvm_volume import work:@ $WORK/short.img"
	"qvm_volume import @:private $WORK/short.img" "qvm_volume import --no-resize work:private $WORK/@"
	"qvm_volume clone @:private work:private" "qvm_volume clone work:private @:private"
	"qvm_volume clone work:@ work:private" "qvm_volume clone -f work:private work:@"
	"qvm_volume clear -f @:private" "qvm_volume clear -f work:@" "qvm_volume export work:@" "qvm_volume @"
	"qvm_pool info @" "qvm_pool remove @" "qvm_pool @"
	"qvm_pool add @ file-reflink -o dir_path=$WORK/nope" "qvm_pool add p2 @ -o dir_path=$WORK/nope"
	"qvm_pool add p2 file-reflink -o dir_path=@" "qvm_pool add p2 file-reflink -o @=x,dir_path=$WORK/nope"
	"qvm_pool add p3 lvm_thin -o volume_group=@,thin_pool=pool"
	"qvm_pool add p3 lvm_thin -o volume_group=qubes_dom0,thin_pool=@"
	"qvm_pool set default -o revisions_to_keep=@" "qvm_pool set default -o reserve_data=@"
	"qvm_pool set @ -o revisions_to_keep=1"
)
H=0
E=0
mkdir -p "$WORK/scratch/sub"
chmod 755 "$WORK/scratch" "$WORK/scratch/sub"
for pos in "${positions[@]}"; do
	for v in "${hostile[@]}"; do
		read -r -a words <<<"$pos"
		for i in "${!words[@]}"; do
			w=${words[i]}
			words[i]=${w//@/$v}
		done
		# "--" last is the end of the options, and what is left a valid
		# command (`qvm-volume revert work:private --` reverts)
		[ "$v" = "--" ] && [ "${pos##* }" = "@" ] && continue
		H=$((H + 1))
		if [[ $pos == *--state-dir* ]]; then
			# a path: relative ones only, from a scratch directory whose
			# mode must not change (qstor_open chmods an existing
			# directory it is given: never give it '/' here)
			[[ $v == /* ]] && continue
			# (a valid directory name there: the refusal is that of
			# the command, which need not name it)
			pushd "$WORK/scratch/sub" >/dev/null
			clearly "$(printf '%q' "$pos") with $(printf '%q' "${v:0:20}")" "" "${words[@]}"
			popd >/dev/null
		else
			clearly "$(printf '%q' "$pos") with $(printf '%q' "${v:0:20}")" \
				"$(escaped_form "$v")" "${words[@]}"
			[ -n "$(escaped_form "$v")" ] && E=$((E + 1))
		fi
	done
done
eq "--state-dir with hostile values: scratch directories keep their modes" "755 755" \
	"$(stat -c %a "$WORK/scratch") $(stat -c %a "$WORK/scratch/sub")"
echo "state directories made by --state-dir with hostile values: $(find "$WORK/scratch" -mindepth 2 -maxdepth 2 -type d | wc -l)"
echo "hostile values x positions: ${#hostile[@]} x ${#positions[@]}: $H cases, $E of them checked to name a control character escaped"

phase "64-bit sizes"
# sizes at the edges of 64 bits, with and without units
for size in 9223372036854775807 9223372036854775808 18446744073709551615 18446744073709551616 \
	8388608Ti 8388607Ti 16777216Ti 9007199254740992Ki 18446744073709551616B 0x10 1e9 ' 1G' '1G ' 1GiBB; do
	bad "resize to '$size'" "size" qvm_volume resize work:private "$size"
	bad "import --size '$size'" "size" qvm_volume import --size "$size" work:private "$WORK/short.img"
	bad "create with '$size'" "size" qstor vm create x8 --class standalone --private-size "$size"
done

phase "stdin imports"
# stdin imports: NUL bytes in the data are data; a wrong length is refused
head -c 1000 /dev/zero >"$WORK/nul-short"
bad "stdin import of NULs, short" "shorter" qvm_volume import --no-resize work:private - <"$WORK/nul-short"
{ head -c $((8 << 20)) /dev/zero; printf 'x\0y'; } >"$WORK/nul-long"
bad "stdin import of NULs, long" "longer" qvm_volume import --no-resize work:private - <"$WORK/nul-long"
bad "stdin import, empty" "shorter" qvm_volume import --no-resize work:private - </dev/null
bad "stdin import, --size mismatch" "" qvm_volume import --size 4Mi --no-resize work:private - <"$WORK/nul-long"

eq "pool unchanged by hostile values" "$before" "$(pool_fingerprint)"
eq "pool unchanged by bad commands" "$before" "$(pool_fingerprint)"
eq "data unchanged by bad input" "$sum_before" "$(committed_sum work:private 8)"
echo "bad inputs tried: $T ($H of them hostile values in every argument position)"
finish
