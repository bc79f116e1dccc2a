#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# run-in-vm.sh [options] SCRIPT [ARG]...
#
# Boot Debian's stock kernel under QEMU (TCG) with the host's / as the guest
# root (read-only 9p + tmpfs overlay, see init.sh), run SCRIPT with bash in
# it, and exit with SCRIPT's exit status.  Why: the host kernel has no
# device-mapper, and the lvm-thin driver must be tested against a real one.
#
# Options:
#   --disk IMG            attach IMG (raw) as the next virtio disk: the first
#                         is /dev/vda, then /dev/vdb, ...  (repeatable)
#   --timeout SEC         kill qemu after SEC seconds (default 1200, or
#                         $QSTOR_VM_TIMEOUT); exit status is then 1
#   --kill-at-pattern S   simulated power cut: SIGKILL qemu as soon as a
#                         console line containing the fixed string S
#                         appears, and exit 137.  The guest should print S
#                         (with a newline) at its crash point and then stall
#                         (e.g. sleep) so nothing after it reaches the disk.
#   --log FILE            also write the console to FILE (default: a new
#                         file $TMPDIR/qstor-vm.XXXXXX.log, path printed)
#   --mem MB, --smp N     guest size (default 2048 MB, 2 CPUs)
#   --append ARGS         extra kernel command line (e.g. qstor.debug=1)
#
# SCRIPT is given to the guest by path, so it must be visible there: any
# host path works (host /tmp too, through the overlay) except under /run,
# /proc, /sys and /dev, which the guest mounts afresh; SCRIPT and its
# files are read as they are at boot.  The guest starts in the caller's
# working directory.  Guest writes never reach the host's files: results
# must go to the console or to a --disk image.
#
# Exit status: SCRIPT's status (from the "QSTOR-VM-EXIT=N" console line);
# 137 if --kill-at-pattern fired; 1 if the VM ended without that line
# (timeout, kernel panic, qemu error); 2 on bad usage.
#
# Cache: kernel + initramfs are built by build-kernel.sh into
# $QSTOR_VM_CACHE, default ./tests/vm/cache relative to the current
# directory (i.e. the build dir when run from it).
#
# Accelerator: always TCG (KVM hangs on the CI machines even where /dev/kvm
# exists).  Timing on 2 cores: see README.md.
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
. "$here/host-lib.sh"

usage() { sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
short_usage() {
	echo "usage: run-in-vm.sh [--disk IMG]... [--timeout SEC] [--kill-at-pattern S] [--log FILE] SCRIPT [ARG]...  (--help: details)" >&2
	exit 2
}

disks=()
timeout=${QSTOR_VM_TIMEOUT:-1200}
kill_pat=
log=
mem=2048
smp=2
extra_append=
while [ $# -gt 0 ]; do
	case $1 in
	--disk) disks+=("${2:?--disk needs a file}"); shift 2 ;;
	--disk=*) disks+=("${1#*=}"); shift ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--timeout=*) timeout=${1#*=}; shift ;;
	--kill-at-pattern) kill_pat=${2:?}; shift 2 ;;
	--kill-at-pattern=*) kill_pat=${1#*=}; shift ;;
	--log) log=${2:?}; shift 2 ;;
	--log=*) log=${1#*=}; shift ;;
	--mem) mem=${2:?}; shift 2 ;;
	--smp) smp=${2:?}; shift 2 ;;
	--append) extra_append=${2:?}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	-*) echo "run-in-vm.sh: unknown option $1" >&2; short_usage ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || short_usage
case $timeout in '' | *[!0-9]*) vm_die "--timeout wants seconds" ;; esac

script=$(realpath -e "$1") || vm_die "no such script: $1"
shift
case $script in
/run/* | /proc/* | /sys/* | /dev/*) vm_die "$script is hidden in the guest (fresh /run, /proc, /sys, /dev there)" ;;
esac
for d in "${disks[@]}"; do
	[ -f "$d" ] || [ -b "$d" ] || vm_die "no such disk image: $d"
done

cache=${QSTOR_VM_CACHE:-$PWD/tests/vm/cache}
"$here/build-kernel.sh" "$cache" || vm_die "build-kernel.sh failed"
cache=$(cd "$cache" && pwd)
vm_need qemu-system-x86_64 qemu-system-x86 || vm_die "cannot install qemu-system-x86"

# ---- kernel command line: free text base64-encoded (see init.sh) ----------
b64() { printf 'x%sx' "$1" | base64 -w0; }
append="console=ttyS0 quiet panic=-1 mitigations=off"
append+=" qstor.script=$(b64 "$script") qstor.cwd=$(b64 "$PWD") qstor.ndisks=${#disks[@]}"
if [ $# -gt 0 ]; then
	a=
	for x in "$@"; do a+="${a:+,}$(b64 "$x")"; done
	append+=" qstor.args=$a"
fi
[ -n "$extra_append" ] && append+=" $extra_append"
# x86 COMMAND_LINE_SIZE is 2048; longer lines are silently truncated.
[ ${#append} -lt 2000 ] || vm_die "arguments too long for the kernel command line"

# ---- qemu -------------------------------------------------------------------
# shellcheck disable=SC2054
qemu=(qemu-system-x86_64
	-accel tcg,thread=multi -cpu "${QSTOR_VM_CPU:-max}" -m "$mem" -smp "$smp"
	-nographic -no-reboot -nic none
	-fw_cfg name=etc/sercon-port,string=0 # SeaBIOS: keep off the console
	-kernel "$cache/vmlinuz" -initrd "$cache/initramfs.gz" -append "$append"
	-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap)
for d in "${disks[@]}"; do
	# qemu option values escape "," as ",,".  cache=unsafe: flushes are
	# dropped, but every write the guest saw complete is already in the
	# host file (raw + pwrite), so killing qemu still behaves like a power
	# cut of a disk without volatile cache.  discard=unmap keeps sparse
	# images sparse.
	qemu+=(-drive "file=${d//,/,,},format=raw,if=virtio,cache=unsafe,discard=unmap")
done

if [ -z "$log" ]; then
	log=$(mktemp "${TMPDIR:-/tmp}/qstor-vm.XXXXXX.log") || exit 1
fi
: >"$log" || vm_die "cannot write $log"
work=$(mktemp -d "${TMPDIR:-/tmp}/qstor-vm.XXXXXX") || exit 1
fifo=$work/console
mkfifo "$fifo"

qpid=
# shellcheck disable=SC2317
cleanup() {
	[ -n "$qpid" ] && kill -KILL "$qpid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "${t#0}"; }
secs() { printf '%d.%01d' $(($1 / 1000000)) $(($1 % 1000000 / 100000)); }

t0=$(now_us)
# stdin </dev/null: qemu then leaves the terminal alone (no raw mode) and
# the serial console is output-only.  Our own reader below gives us qemu's
# pid directly (needed for --kill-at-pattern) and a timeout without any
# helper process that could keep a pipe open.
"${qemu[@]}" </dev/null >"$fifo" 2>&1 &
qpid=$!
exec 3<"$fifo"
exec 4>>"$log"

status=
killed=
timedout=
t_start=
t_exit=
deadline=$((SECONDS + timeout))
emit() {
	printf '%s\n' "$1"
	printf '%s\n' "$1" >&4
}
while :; do
	rem=$((deadline - SECONDS))
	if [ $rem -le 0 ]; then
		timedout=1
		break
	fi
	line=
	if IFS= read -r -t "$rem" line <&3; then
		:
	else
		rc=$?
		[ -n "$line" ] && emit "${line%$'\r'}"
		[ $rc -gt 128 ] && timedout=1
		break # EOF: qemu exited
	fi
	line=${line%$'\r'}
	case $line in
	# qemu's fixed warning about our SeaBIOS fw_cfg knob: pure noise.
	*"externally provided fw_cfg item names"*) continue ;;
	esac
	emit "$line"
	case $line in
	*QSTOR-VM-START*) t_start=$(now_us) ;;
	esac
	if [[ $line =~ QSTOR-VM-EXIT=([0-9]+) ]]; then
		status=${BASH_REMATCH[1]}
		t_exit=$(now_us)
	fi
	if [ -n "$kill_pat" ] && [[ $line == *"$kill_pat"* ]]; then
		kill -KILL "$qpid" 2>/dev/null
		killed=1
		emit "run-in-vm: pattern '$kill_pat' seen: qemu killed (power cut)"
		# Drain what qemu had already written, for the log.
		while IFS= read -r -t 5 line <&3; do emit "${line%$'\r'}"; done
		break
	fi
done
if [ -n "$timedout" ]; then
	kill -KILL "$qpid" 2>/dev/null
	emit "run-in-vm: TIMEOUT after ${timeout}s: qemu killed"
fi
wait "$qpid" 2>/dev/null # 2>: no "Killed" job notice
qrc=$?
qpid=
t_end=$(now_us)

times="total $(secs $((t_end - t0)))s"
[ -n "$t_start" ] && times="boot $(secs $((t_start - t0)))s, $times"
[ -n "$t_start" ] && [ -n "$t_exit" ] && times="$times, script $(secs $((t_exit - t_start)))s"
if [ -n "$killed" ]; then
	emit "run-in-vm: power cut at pattern ($times); log $log"
	exit 137
fi
if [ -z "$status" ]; then
	emit "run-in-vm: no QSTOR-VM-EXIT line (qemu status $qrc, $times); log $log"
	exit 1
fi
emit "run-in-vm: script exit status $status ($times); log $log"
exit "$status"
