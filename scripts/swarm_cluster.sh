#!/usr/bin/env bash
# swarm_cluster.sh up|down|status|kill N|start N|promote N|env
#
# A real multi-node Docker Swarm on one Linux machine, for lbsync's Swarm tests and benchmarks.
# Each node is a dockerd (Debian's docker.io 20.10) in a network namespace of its own (lbswN),
# wired by veth pairs to a bridge in the namespace lbswlan, 10.78.0.0/24:
#   node N = 10.78.0.N; lbswlan (where the balancer and the clients run) = 10.78.0.254.
# The host's network, iptables and dockerd are not touched. node1 starts the swarm as its
# manager; the others join as workers (`promote N` makes one a manager).
#   env: NODES (default 3), BASE (default /tmp/lbsync-swarm), IMAGE (lbsync-test/httpd:latest)
# Needs root, dockerd, busybox-static and iproute2. `up` takes about 10 s.
set -euo pipefail
SCRIPTS=$(cd "$(dirname "$0")" && pwd)
NODES=${NODES:-3}
BASE=${BASE:-/tmp/lbsync-swarm}
IMAGE=${IMAGE:-lbsync-test/httpd:latest}
NET=10.78.0
DOCKER=/usr/bin/docker # the 20.10 CLI that matches the daemons
[ -x "$DOCKER" ] || DOCKER=docker
log() { echo "[swarm_cluster +${SECONDS}s] $*" >&2; }
dk() {
  local n=$1
  shift
  "$DOCKER" -H "unix://$BASE/node$n/docker.sock" "$@"
}
# A zombie counts as dead: PID 1 on these machines reaps orphans about once a second.
alive() {
  local s
  s=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$s" ] && [ "${s#Z}" = "$s" ]
}

start_node() { # (re)starts the dockerd of node $1 in its namespace; waits until it answers
  local n=$1 d=$BASE/node$1 i cpid
  mkdir -p "$d"
  rm -f "$d/docker.pid"
  # dockerd reuses the containerd named here if that pid looks alive (a zombie does)
  cpid=$d/exec/containerd/containerd.pid
  if [ -s "$cpid" ] && ! alive "$(cat "$cpid")"; then rm -f "$cpid"; fi
  # `ip netns exec` mounts a fresh /sys, without the cgroup hierarchies dockerd needs: mount
  # the host's again. A UTS namespace gives each node its own host name. With
  # DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 tasks use the local image without a registry lookup.
  DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 ip netns exec "lbsw$n" unshare --uts sh -c '
    hostname "lbswnode$1"
    awk '\''$2 ~ "^/sys/fs/cgroup" {print $1, $2, $3, $4}'\'' /proc/1/mounts |
    while read -r src mp type opts; do mkdir -p "$mp"; mount -t "$type" -o "$opts" "$src" "$mp"; done
    exec dockerd --host "unix://$0/docker.sock" --data-root "$0/data" --exec-root "$0/exec" \
      --pidfile "$0/docker.pid" ${DOCKERD_ARGS:-}' "$d" "$n" >>"$d/dockerd.log" 2>&1 </dev/null &
  echo $! >"$d/launcher.pid"
  for i in $(seq 1 300); do # up to 30 s
    dk "$n" version >/dev/null 2>&1 && return 0
    alive "$(cat "$d/launcher.pid")" || {
      tail -n 20 "$d/dockerd.log" >&2
      return 1
    }
    sleep 0.1
  done
  log "node$n: dockerd did not answer in 30 s"
  return 1
}

build_image() { # the test image (scripts/test_image_context.sh), on node1
  bash "$SCRIPTS/test_image_context.sh" "$BASE/image-context"
  DOCKER_BUILDKIT=0 dk 1 build -q -t "$IMAGE" "$BASE/image-context" >/dev/null
}

up() {
  [ "$(id -u)" = 0 ] || {
    log "must run as root"
    exit 1
  }
  command -v dockerd >/dev/null || {
    log "needs dockerd (scripts/install_deps.sh)"
    exit 1
  }
  down 2>/dev/null || true
  mkdir -p "$BASE"
  ip netns add lbswlan
  ip -n lbswlan link set lo up
  ip -n lbswlan link add lbswbr0 type bridge
  ip -n lbswlan addr add "$NET.254/24" dev lbswbr0
  ip -n lbswlan link set lbswbr0 up
  local n i tok
  for n in $(seq 1 "$NODES"); do
    ip netns add "lbsw$n"
    ip -n lbswlan link add "lbveth$n" type veth peer name eth0 netns "lbsw$n"
    ip -n lbswlan link set "lbveth$n" master lbswbr0 up
    ip -n "lbsw$n" link set lo up
    ip -n "lbsw$n" addr add "$NET.$n/24" dev eth0
    ip -n "lbsw$n" link set eth0 up
    # no default route: a registry lookup fails at once instead of waiting on DNS
  done
  for n in $(seq 1 "$NODES"); do start_node "$n" & done
  wait
  for n in $(seq 1 "$NODES"); do dk "$n" version >/dev/null; done
  build_image
  for n in $(seq 2 "$NODES"); do dk 1 save "$IMAGE" | dk "$n" load -q >/dev/null; done
  dk 1 swarm init --advertise-addr "$NET.1" --listen-addr "$NET.1:2377" >/dev/null
  tok=$(dk 1 swarm join-token -q worker)
  for n in $(seq 2 "$NODES"); do
    dk "$n" swarm join --token "$tok" --advertise-addr "$NET.$n" --listen-addr "$NET.$n:2377" \
      "$NET.1:2377" >/dev/null
  done
  for i in $(seq 1 120); do # up to 60 s for every node to be Ready
    [ "$(dk 1 node ls --format '{{.Status}}' | grep -c '^Ready$')" = "$NODES" ] && break
    sleep 0.5
  done
  [ "$(dk 1 node ls --format '{{.Status}}' | grep -c '^Ready$')" = "$NODES" ] || {
    dk 1 node ls >&2
    log "not every node is Ready"
    exit 1
  }
  log "swarm of $NODES nodes up (node1 manager)"
}

promote() { # makes node $1 a manager, through any manager; waits until it answers as one
  local n=$1 m i
  for m in $(seq 1 "$NODES"); do
    dk "$m" node promote "lbswnode$n" >/dev/null 2>&1 && break
  done
  for i in $(seq 1 120); do # up to 60 s for its manager role (certificate, raft) to start
    if dk "$n" node ls >/dev/null 2>&1 && settled; then
      log "node$n is a manager"
      return 0
    fi
    sleep 0.5
  done
  log "node$n did not become a manager"
  return 1
}

settled() { # every manager answers as one, and one of them is the leader (raft has settled)
  local m control leader=0
  for m in $(seq 1 "$NODES"); do
    control=$(dk "$m" info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null) || continue
    [ "$control" = "true" ] || continue
    dk "$m" node ls >/dev/null 2>&1 || return 1
    dk "$m" node inspect self --format '{{.ManagerStatus.Leader}}' 2>/dev/null | grep -qx true &&
      leader=1
  done
  [ "$leader" = 1 ]
}

down() {
  local n pid i d
  for n in $(seq 1 9); do
    d=$BASE/node$n
    [ -d "$d" ] || continue
    pid=$(cat "$d/docker.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && alive "$pid"; then
      dk "$n" swarm leave --force >/dev/null 2>&1 || true
      dk "$n" ps -q | xargs -r "$DOCKER" -H "unix://$d/docker.sock" kill >/dev/null 2>&1 || true
      kill "$pid" 2>/dev/null || true
      for i in $(seq 1 150); do alive "$pid" || break; sleep 0.1; done
      alive "$pid" && kill -9 "$pid"
    fi
    # shims of this node, found by its own containerd socket path
    for pid in $(pgrep -f -- "-address $d/exec/containerd/containerd.sock" || true); do
      kill -9 "$pid" 2>/dev/null || true
    done
    ip netns del "lbsw$n" 2>/dev/null || true
  done
  ip netns del lbswlan 2>/dev/null || true
  awk -v d="$BASE/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$BASE"
  log "down"
}

case ${1:-} in
up) up ;;
down) down ;;
start) start_node "${2:?node number}" ;;
kill) kill -9 "$(cat "$BASE/node${2:?node number}/docker.pid")" ;;
promote) promote "${2:?node number}" ;;
status) dk "${2:-1}" node ls ;;
env) for n in $(seq 1 "$NODES"); do echo "node$n unix://$BASE/node$n/docker.sock $NET.$n"; done ;;
*)
  echo "usage: $0 up|down|status [N]|kill N|start N|promote N|env" >&2
  exit 2
  ;;
esac
