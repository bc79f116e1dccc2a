#!/bin/sh
exec "$(dirname "$0")/badinput.sh" btrfs
