#!/bin/sh
exec "$(dirname "$0")/crash.sh" xfs
