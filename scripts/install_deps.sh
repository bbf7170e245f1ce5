#!/usr/bin/env bash
# install_deps.sh: installs what lbsync's suite needs on a Debian machine with Node and npm:
# Deno (from npm), nginx with the stream module, HAProxy, Docker Engine, Podman, busybox-static, wrk,
# pebble (a local ACME server for the HTTPS tests), stress-ng (scripts/ci_under_load.sh),
# mmdebstrap and docker-compose (the container image tests build a Debian base and run the compose
# file), systemd (systemd-analyze verifies the units in contrib/; nothing is started) and
# etcd-server and etcd-client (the --store tests run a cluster on loopback; installing starts none).
# Idempotent: installs only what is missing. Needs root for apt-get.
set -euo pipefail
log() { echo "[install_deps +${SECONDS}s] $*" >&2; }

if ! command -v deno >/dev/null 2>&1; then
  log "installing deno from npm"
  npm install -g deno@2 >&2
fi
deno --version | head -n 1 >&2

pkg_ok() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
missing=()
for p in nginx libnginx-mod-stream haproxy docker.io podman uidmap slirp4netns busybox-static wrk curl jq openssl pebble stress-ng iproute2 util-linux mmdebstrap docker-compose systemd etcd-server etcd-client; do
  pkg_ok "$p" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi
# Debian starts nothing on install here, but stop a system nginx/haproxy if one runs:
# tests start private instances on their own ports.
log "ready"
