#!/usr/bin/env bash
# pebble_start.sh DIR HTTP_PORT ACME_PORT MGMT_PORT DNS_PORT
# Starts Debian's pebble (the RFC 8555 test ACME server) and pebble-challtestsrv (a DNS server
# that answers every name with 127.0.0.1), for tests without the internet. Pebble validates
# HTTP-01 challenges on 127.0.0.1:HTTP_PORT; its directory is https://127.0.0.1:ACME_PORT/dir,
# served with DIR/tls.pem (made here, trust it with --acme-ca-file); the roots of the
# certificates it issues are at https://127.0.0.1:MGMT_PORT/roots/0. Writes DIR/pids.
# Installs pebble when missing (apt-get). Stop with scripts/pebble_stop.sh DIR.
set -euo pipefail
DIR=$1 HTTP_PORT=$2 ACME_PORT=$3 MGMT_PORT=$4 DNS_PORT=$5
log() { echo "[pebble +${SECONDS}s] $*" >&2; }

if ! command -v pebble >/dev/null || ! command -v pebble-challtestsrv >/dev/null; then
  log "installing pebble"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q pebble >&2 || { apt-get update -q >&2 && apt-get install -y -q pebble >&2; }
fi
mkdir -p "$DIR"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$DIR/tls.key" -out "$DIR/tls.pem" 2>/dev/null
cat >"$DIR/config.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$ACME_PORT", "managementListenAddress": "127.0.0.1:$MGMT_PORT",
  "certificate": "$DIR/tls.pem", "privateKey": "$DIR/tls.key", "httpPort": $HTTP_PORT, "tlsPort": 5001,
  "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dns01 "127.0.0.1:$DNS_PORT" \
  -http01 "" -https01 "" -tlsalpn01 "" -management "127.0.0.1:$((DNS_PORT + 1))" \
  >"$DIR/challtestsrv.log" 2>&1 </dev/null &
echo $! >"$DIR/pids"
# no sleeping before validations, no nonces refused at random: tests stay fast and certain
PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 pebble -config "$DIR/config.json" \
  -dnsserver "127.0.0.1:$DNS_PORT" >"$DIR/pebble.log" 2>&1 </dev/null &
echo $! >>"$DIR/pids"
for _ in $(seq 1 100); do                    # up to 10 s
  if curl -sf --cacert "$DIR/tls.pem" "https://127.0.0.1:$ACME_PORT/dir" >/dev/null; then
    log "ready: https://127.0.0.1:$ACME_PORT/dir"
    exit 0
  fi
  sleep 0.1
done
log "pebble did not answer; log:"; tail -5 "$DIR/pebble.log" >&2
exit 1
