#!/usr/bin/env bash
# podman_rootless.sh start DIR | stop DIR | podman DIR ARGS...
#   start: serves a rootless Podman's Docker-compatible API on DIR/podman.sock and prints the
#          socket path. Run as a user other than root, that user's Podman is used; run as root,
#          a user lbsync-rootless is made for it (with subordinate ids), and removed by stop.
#          Rootless networking (slirp4netns) opens /dev/net/tun: where it is root's only (0600,
#          as on some VMs), it is opened to all as Debian ships it (0666) and put back by stop.
#          Builds the offline test image (busybox httpd FROM scratch) into that user's store.
#   podman: runs podman as that user (`podman_rootless.sh podman DIR ps -a`).
#   stop:   stops the service; as root, also removes the user, its store, and what start changed.
# The containers' network addresses are in the user's network namespace: a balancer on the host
# reaches them by their published ports (`--address published`).
set -euo pipefail
SCRIPTS=$(cd "$(dirname "$0")" && pwd)
ACTION=${1:?usage: podman_rootless.sh start|stop|podman DIR [ARGS...]}
DIR=${2:?usage: podman_rootless.sh start|stop|podman DIR [ARGS...]}
shift 2
IMAGE=${ENGINE_IMAGE:-lbsync-test/httpd:latest}
USER_NAME=lbsync-rootless
log() { echo "[podman-rootless +${SECONDS}s] $*" >&2; }

# as_user CMD...: runs CMD as the rootless user, in a login environment (XDG_RUNTIME_DIR, HOME)
as_user() {
  if [ "$(id -u)" != 0 ]; then "$@"; return; fi
  local uid
  uid=$(id -u "$USER_NAME")
  mkdir -p "/run/user/$uid" && chown "$USER_NAME" "/run/user/$uid" && chmod 700 "/run/user/$uid"
  # from /: the caller's directory may be one the user cannot enter (a private temp clone)
  (cd / && runuser -u "$USER_NAME" -- env HOME="$(getent passwd "$USER_NAME" | cut -d: -f6)" \
    XDG_RUNTIME_DIR="/run/user/$uid" PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@")
}

start() {
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  if [ "$(id -u)" = 0 ]; then
    for tool in podman newuidmap slirp4netns; do
      command -v "$tool" >/dev/null || {
        log "installing podman, uidmap, slirp4netns"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
          podman uidmap slirp4netns >&2
        break
      }
    done
    if ! id "$USER_NAME" >/dev/null 2>&1; then
      useradd --create-home --shell /usr/sbin/nologin "$USER_NAME"
      touch "$DIR/made-user"
    fi
    grep -q "^$USER_NAME:" /etc/subuid || echo "$USER_NAME:300000:65536" >>/etc/subuid
    grep -q "^$USER_NAME:" /etc/subgid || echo "$USER_NAME:300000:65536" >>/etc/subgid
    if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
      stat -c %a /dev/net/tun >"$DIR/tun-mode"
      chmod 0666 /dev/net/tun
    fi
    chown "$USER_NAME" "$DIR"
  fi
  SOCK=$DIR/podman.sock
  answers() { curl -sf --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; }
  if ! answers; then
    rm -f "$SOCK"
    # a user's first podman command sets up its store and namespace: done here, to its end, so
    # that the service only has to listen
    as_user podman info >/dev/null 2>>"$DIR/podman.log" ||
      { log "podman info failed: $(tail -n 3 "$DIR/podman.log")"; exit 1; }
    as_user podman system service --time=0 "unix://$SOCK" >>"$DIR/podman.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$DIR/podman.pid"
    # up to 60 s while the service runs (a busy machine starts it slowly); at once if it exits
    for _ in $(seq 1 600); do
      answers && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    answers || { log "rootless podman service did not answer: $(tail -n 3 "$DIR/podman.log")"; exit 1; }
  fi
  [ "$(as_user podman info --format '{{.Host.Security.Rootless}}')" = true ] ||
    { log "podman as $(as_user id -un) is not rootless"; exit 1; }
  if ! as_user podman image exists "$IMAGE"; then
    log "building $IMAGE"
    bash "$SCRIPTS/test_image_context.sh" "$DIR/image" >&2
    [ "$(id -u)" = 0 ] && chown -R "$USER_NAME" "$DIR/image"
    as_user podman build -q -t "$IMAGE" "$DIR/image" >&2
  fi
  log "ready: DOCKER_HOST=unix://$SOCK (rootless)"
  echo "$SOCK"
}

stop() {
  if [ -f "$DIR/podman.pid" ]; then
    pid=$(cat "$DIR/podman.pid")
    pkill -P "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$DIR/podman.pid" "$DIR/podman.sock"
  fi
  if [ -f "$DIR/made-user" ]; then
    as_user podman system reset --force >/dev/null 2>&1 || true
    pkill -u "$USER_NAME" 2>/dev/null || true
    for _ in $(seq 1 50); do pgrep -u "$USER_NAME" >/dev/null || break; sleep 0.1; done
    pkill -9 -u "$USER_NAME" 2>/dev/null || true
    rm -rf "/run/user/$(id -u "$USER_NAME")"
    userdel --remove "$USER_NAME" 2>/dev/null || true
    sed -i "/^$USER_NAME:/d" /etc/subuid /etc/subgid
    rm -f "$DIR/made-user"
  fi
  if [ -f "$DIR/tun-mode" ]; then
    chmod "$(cat "$DIR/tun-mode")" /dev/net/tun
    rm -f "$DIR/tun-mode"
  fi
}

case "$ACTION" in
  start) start ;;
  stop) stop ;;
  podman) as_user podman "$@" ;;
  *) echo "usage: podman_rootless.sh start|stop|podman DIR [ARGS...]" >&2; exit 2 ;;
esac
