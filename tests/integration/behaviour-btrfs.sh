#!/bin/sh
exec "$(dirname "$0")/behaviour.sh" btrfs
