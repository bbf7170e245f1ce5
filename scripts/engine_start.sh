#!/usr/bin/env bash
# start-engine.sh [DIR]
# Starts a private Docker Engine (Debian's docker.io) listening on DIR/docker.sock,
# builds an offline test image (busybox httpd on port 8080, FROM scratch), and prints
# the socket path on stdout. All other output goes to stderr / DIR/dockerd.log.
# Idempotent: reuses a running daemon and an existing image. Needs root.
#   env: ENGINE_DIR (default DIR, /tmp/lbsync-engine), ENGINE_IMAGE (default
#        lbsync-test/httpd:latest), DOCKERD_ARGS (extra dockerd flags).
set -euo pipefail
SCRIPTS=$(cd "$(dirname "$0")" && pwd)

DIR=${1:-${ENGINE_DIR:-/tmp/lbsync-engine}}
IMAGE=${ENGINE_IMAGE:-lbsync-test/httpd:latest}
log() { echo "[start-engine +${SECONDS}s] $*" >&2; }

[ "$(id -u)" = 0 ] || { log "must run as root"; exit 1; }
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
SOCK=$DIR/docker.sock
PIDFILE=$DIR/docker.pid

# 1. Install (needs only the Debian mirror).
pkg_ok() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
pkgs=()
command -v dockerd >/dev/null || pkgs+=(docker.io)
pkg_ok busybox-static || pkgs+=(busybox-static)
if [ ${#pkgs[@]} -gt 0 ]; then
  log "installing ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2 ||
    { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2; }
fi
DOCKER=/usr/bin/docker             # the CLI that matches the daemon
[ -x "$DOCKER" ] || DOCKER=docker
dk() { "$DOCKER" -H "unix://$SOCK" "$@"; }
# A zombie counts as dead: PID 1 on these VMs reaps orphans only about once a second.
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$s" ] && [ "${s#Z}" = "$s" ]; }

# 2. Start dockerd unless ours is already answering.
start_dockerd() {
  rm -f "$PIDFILE"
  # dockerd reuses the containerd named in this file if that pid looks alive (even a zombie).
  local cpid=$DIR/exec/containerd/containerd.pid
  if [ -s "$cpid" ] && ! alive "$(cat "$cpid")"; then rm -f "$cpid"; fi
  # shellcheck disable=SC2086
  dockerd --host "unix://$SOCK" --data-root "$DIR/data" --exec-root "$DIR/exec" \
    --pidfile "$PIDFILE" "$@" ${DOCKERD_ARGS:-} >>"$DIR/dockerd.log" 2>&1 </dev/null &
  local pid=$! i
  for i in $(seq 1 300); do                  # up to 30 s
    dk version >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || return 1   # daemon exited
    sleep 0.1
  done
  kill "$pid" 2>/dev/null; return 1
}
if [ -s "$PIDFILE" ] && alive "$(cat "$PIDFILE")" && dk version >/dev/null 2>&1; then
  log "dockerd already running (pid $(cat "$PIDFILE"))"
else
  log "starting dockerd (log: $DIR/dockerd.log)"
  if ! start_dockerd; then
    if tail -n 5 "$DIR/dockerd.log" | grep -q 'graphdriver'; then
      log "overlay2 unusable here, retrying with --storage-driver vfs"
      start_dockerd --storage-driver vfs || { log "dockerd failed:"; tail -n 20 "$DIR/dockerd.log" >&2; exit 1; }
    else
      log "dockerd failed:"; tail -n 20 "$DIR/dockerd.log" >&2; exit 1
    fi
  fi
  log "dockerd up (pid $(cat "$PIDFILE"))"
fi

# 3. Build the test image (no registry needed).
if ! dk image inspect "$IMAGE" >/dev/null 2>&1; then
  log "building $IMAGE"
  ctx=$DIR/image-context
  bash "$SCRIPTS/test_image_context.sh" "$ctx"
  # BuildKit is quicker (no intermediate containers); the legacy builder is the fallback.
  DOCKER_BUILDKIT=1 dk build -q -t "$IMAGE" "$ctx" >&2 2>/dev/null ||
    DOCKER_BUILDKIT=0 dk build -q -t "$IMAGE" "$ctx" >&2
fi

log "ready: export DOCKER_HOST=unix://$SOCK  (image $IMAGE)"
echo "$SOCK"
