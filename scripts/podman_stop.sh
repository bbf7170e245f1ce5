#!/usr/bin/env bash
# podman_stop.sh [DIR]: stops the Podman API service podman_start.sh started (its containers,
# which tests remove themselves, are left to them).
set -euo pipefail
DIR=${1:-${PODMAN_DIR:-/tmp/lbsync-podman}}
[ -f "$DIR/podman.pid" ] || exit 0
pid=$(cat "$DIR/podman.pid")
kill "$pid" 2>/dev/null || true
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -9 "$pid" 2>/dev/null || true
rm -f "$DIR/podman.pid" "$DIR/podman.sock"
