#!/usr/bin/env bash
# engine_tls.sh start|stop [DIR]
# A second private dockerd that listens on TCP with --tlsverify, for TLS tests. Makes a CA,
# a server certificate for 127.0.0.1 and a client certificate with openssl under DIR/certs
# (ca.pem, cert.pem, key.pem: the DOCKER_CERT_PATH layout). It gets a bridge of its own
# (lbsynctls0) and no iptables rules, so it never touches the main test engine's docker0
# (dockerd --bridge none would delete docker0). start prints "tcp://127.0.0.1:PORT DIR/certs".
# Env: TLS_ENGINE_PORT (default 23760).
set -euo pipefail
cmd=${1:?usage: $0 start|stop [DIR]}
DIR=${2:-/tmp/lbsync-tls-engine}
PORT=${TLS_ENGINE_PORT:-23760}
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$s" ] && [ "${s#Z}" = "$s" ]; }
log() { echo "[engine_tls +${SECONDS}s] $*" >&2; }

case $cmd in
start)
  mkdir -p "$DIR/certs"
  c=$DIR/certs
  if [ ! -s "$c/key.pem" ]; then
    log "making certificates"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=lbsync-test-ca \
      -keyout "$c/ca-key.pem" -out "$c/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$c/server-key.pem" \
      -out "$c/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$c/server.ext"
    openssl x509 -req -in "$c/server.csr" -CA "$c/ca.pem" -CAkey "$c/ca-key.pem" -CAcreateserial \
      -days 2 -extfile "$c/server.ext" -out "$c/server-cert.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=lbsync-client -keyout "$c/key.pem" \
      -out "$c/client.csr" 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' >"$c/client.ext"
    openssl x509 -req -in "$c/client.csr" -CA "$c/ca.pem" -CAkey "$c/ca-key.pem" -CAcreateserial \
      -days 2 -extfile "$c/client.ext" -out "$c/cert.pem" 2>/dev/null
  fi
  if [ -s "$DIR/docker.pid" ] && alive "$(cat "$DIR/docker.pid")"; then
    log "already running"
  else
    if ! ip link show lbsynctls0 >/dev/null 2>&1; then
      ip link add name lbsynctls0 type bridge
      ip addr add 172.31.254.1/24 dev lbsynctls0
      ip link set lbsynctls0 up
    fi
    cpid=$DIR/exec/containerd/containerd.pid
    if [ -s "$cpid" ] && ! alive "$(cat "$cpid")"; then rm -f "$cpid"; fi
    dockerd --host "unix://$DIR/docker.sock" --host "tcp://127.0.0.1:$PORT" --tlsverify \
      --tlscacert "$c/ca.pem" --tlscert "$c/server-cert.pem" --tlskey "$c/server-key.pem" \
      --data-root "$DIR/data" --exec-root "$DIR/exec" --pidfile "$DIR/docker.pid" \
      --bridge lbsynctls0 --iptables=false --ip-masq=false \
      >>"$DIR/dockerd.log" 2>&1 </dev/null &
    for _ in $(seq 1 300); do
      /usr/bin/docker -H "unix://$DIR/docker.sock" version >/dev/null 2>&1 && break
      sleep 0.1
    done
    /usr/bin/docker -H "unix://$DIR/docker.sock" version >/dev/null 2>&1 ||
      { log "dockerd failed:"; tail -n 20 "$DIR/dockerd.log" >&2; exit 1; }
    log "up on tcp://127.0.0.1:$PORT"
  fi
  echo "tcp://127.0.0.1:$PORT $c"
  ;;
stop)
  pid=$(cat "$DIR/docker.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && alive "$pid"; then
    kill -TERM "$pid"
    for _ in $(seq 1 200); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && kill -KILL "$pid"
  fi
  rm -f "$DIR/docker.pid"
  ip link del lbsynctls0 2>/dev/null || true
  ;;
*) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
