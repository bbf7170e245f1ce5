#!/usr/bin/env bash
# stop-engine.sh [DIR] [--purge]
# Stops the dockerd that start-engine.sh started in DIR (found by DIR/docker.pid),
# after force-removing its containers. With --purge, also deletes DIR (images, data).
# Touches nothing else: no other dockerd, no packages, no docker0 bridge/iptables rules.
set -uo pipefail

DIR=${ENGINE_DIR:-/tmp/lbsync-engine}; PURGE=0
for a in "$@"; do case $a in --purge) PURGE=1 ;; *) DIR=$a ;; esac; done
log() { echo "[stop-engine] $*" >&2; }
[ -d "$DIR" ] || { log "nothing at $DIR"; exit 0; }
DIR=$(cd "$DIR" && pwd)
SOCK=$DIR/docker.sock
PIDFILE=$DIR/docker.pid
DOCKER=/usr/bin/docker; [ -x "$DOCKER" ] || DOCKER=docker
# A zombie counts as dead: PID 1 on these VMs reaps orphans only about once a second.
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$s" ] && [ "${s#Z}" = "$s" ]; }

pid=$(cat "$PIDFILE" 2>/dev/null || true)
if [ -n "$pid" ] && alive "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
  ids=$("$DOCKER" -H "unix://$SOCK" ps -aq 2>/dev/null || true)
  # shellcheck disable=SC2086
  [ -z "$ids" ] || "$DOCKER" -H "unix://$SOCK" rm -f $ids >/dev/null 2>&1 || true
  kill -TERM "$pid"
  for _ in $(seq 1 200); do alive "$pid" || break; sleep 0.1; done   # up to 20 s
  if alive "$pid"; then log "dockerd $pid did not exit in 20 s, killing it"; kill -KILL "$pid"; sleep 0.2; fi
  log "stopped dockerd $pid"
else
  log "no dockerd running for $DIR"
fi
rm -f "$PIDFILE"

# Containers orphaned by a daemon that was killed: kill each container's init (which takes
# its whole pid namespace down) and its shim, checking both belong to this engine first.
for f in "$DIR"/exec/containerd/daemon/io.containerd.runtime.v2.task/moby/*/init.pid; do
  [ -f "$f" ] || continue
  id=$(basename "$(dirname "$f")"); p=$(cat "$f" 2>/dev/null || true)
  [ -n "$p" ] && alive "$p" && grep -q "$id" "/proc/$p/cgroup" 2>/dev/null || continue
  shim=$(ps -o ppid= -p "$p" | tr -d ' ')
  kill -KILL "$p" && log "killed orphaned container ${id:0:12} (pid $p)"
  [ "$(cat "/proc/$shim/comm" 2>/dev/null)" = containerd-shim ] && kill -KILL "$shim"
done

if [ "$PURGE" = 1 ] && [ "$DIR" != / ] && [ -e "$DIR/dockerd.log" ]; then
  # Unmount anything left below DIR (only happens after a hard kill), deepest first.
  awk -v d="$DIR/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$DIR" && log "removed $DIR"
fi
exit 0
