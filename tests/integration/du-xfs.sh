#!/bin/sh
exec "$(dirname "$0")/du.sh" xfs
