#!/usr/bin/env bash
# podman_start.sh [DIR]: serves Podman's Docker-compatible API on DIR/podman.sock (Debian's
# podman 4.3, rootful, `podman system service --time=0`), builds the offline test image (busybox
# httpd FROM scratch) into Podman's store, and prints the socket path on stdout. Idempotent.
# Podman here needs low rlimits in containers (ENGINES.md): run them with
# --ulimit nofile=1024:1024 --ulimit nproc=1024:1024. Stop with podman_stop.sh [DIR].
set -euo pipefail
SCRIPTS=$(cd "$(dirname "$0")" && pwd)
DIR=${1:-${PODMAN_DIR:-/tmp/lbsync-podman}}
IMAGE=${ENGINE_IMAGE:-lbsync-test/httpd:latest}
log() { echo "[podman-start +${SECONDS}s] $*" >&2; }

command -v podman >/dev/null || {
  log "installing podman"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends podman >&2 ||
    { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends podman >&2; }
}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
SOCK=$DIR/podman.sock
answers() { curl -sf --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; }

if ! answers; then
  rm -f "$SOCK"
  podman system service --time=0 "unix://$SOCK" >>"$DIR/podman.log" 2>&1 </dev/null &
  echo $! >"$DIR/podman.pid"
  for _ in $(seq 1 100); do answers && break; sleep 0.1; done # up to 10 s
  answers || { log "podman service did not answer; see $DIR/podman.log"; exit 1; }
fi
if ! podman image exists "$IMAGE"; then
  log "building $IMAGE"
  bash "$SCRIPTS/test_image_context.sh" "$DIR/image" >&2
  podman build -q -t "$IMAGE" "$DIR/image" >&2
fi
log "ready: DOCKER_HOST=unix://$SOCK"
echo "$SOCK"
