#!/bin/sh
exec "$(dirname "$0")/concurrency.sh" xfs
