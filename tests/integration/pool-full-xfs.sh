#!/bin/sh
exec "$(dirname "$0")/pool-full.sh" xfs
