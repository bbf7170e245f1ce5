#!/usr/bin/env bash
# pebble_stop.sh DIR: stops what scripts/pebble_start.sh DIR started.
set -uo pipefail
DIR=$1
[ -f "$DIR/pids" ] || exit 0
while read -r pid; do kill "$pid" 2>/dev/null; done <"$DIR/pids"
for _ in $(seq 1 50); do                     # up to 5 s
  alive=0
  while read -r pid; do kill -0 "$pid" 2>/dev/null && alive=1; done <"$DIR/pids"
  [ $alive = 0 ] && break
  sleep 0.1
done
rm -f "$DIR/pids"
