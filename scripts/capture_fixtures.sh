#!/usr/bin/env bash
# capture_fixtures.sh: re-captures tests/fixtures/*.json from a real Docker Engine.
# Starts the private test engine (scripts/engine_start.sh), runs a fixed set of labelled
# containers (see tests/fixtures/README.md), saves what the Engine API answers, then removes
# the containers and the network it made. Usage: bash scripts/capture_fixtures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
sock=$(bash scripts/engine_start.sh)
out=tests/fixtures
img=lbsync-test/httpd:latest
dk() { /usr/bin/docker -H "unix://$sock" "$@"; }
api() { curl -sf --unix-socket "$sock" "http://engine/v1.41$1"; }

names=(fx-web-1 fx-web-2 fx-web-backup fx-api-1 fx-static fx-db fx-shop-7 fx-two-nets fx-bad-host
  fx-bad-port fx-disabled fx-stopped fx-unhealthy fx-starting fx-healthy fx-multi-port)
cleanup() { dk rm -f "${names[@]}" >/dev/null 2>&1 || true; dk network rm fx-app >/dev/null 2>&1 || true; }
cleanup; trap cleanup EXIT
dk network create fx-app >/dev/null

run() { local name=$1; shift; dk run -d --name "$name" "$@" >/dev/null; }
L=lbsync
run fx-web-1 --network fx-app -l $L.service=web -l $L.host=example.com,www.example.com -l $L.health=/ "$img"
sleep 1.1 # distinct Created seconds: the oldest container's service-level labels win
run fx-web-2 --network fx-app -l $L.service=web -l $L.host=example.com -l $L.weight=3 "$img"
run fx-web-backup --network fx-app -l $L.service=web -l $L.backup=true "$img"
run fx-api-1 --network fx-app -p 127.0.0.1::8080 -e PATHS=/api -l $L.service=api \
  -l $L.host=example.com -l $L.path=/api -l $L.health=/api/ "$img"
run fx-static -p 8080 -e PATHS=/static -l com.docker.compose.service=static -l $L.enable=true \
  -l $L.path=/static "$img"
run fx-db --network fx-app -l $L.service=db -l $L.mode=tcp -l $L.listen=15432 "$img"
run fx-shop-7 "$img"
run fx-two-nets -l $L.enable=true "$img"
dk network connect fx-app fx-two-nets
run fx-bad-host -l $L.service=evil -l "$L.host=evil.example.com;include /etc/passwd" "$img"
run fx-bad-port -l $L.service=web -l "$L.port=80}" "$img"
run fx-disabled -l $L.enable=false -l $L.service=web "$img"
run fx-stopped -l $L.service=web "$img"
dk stop -t 1 fx-stopped >/dev/null
run fx-unhealthy -l $L.service=web --health-cmd false --health-interval 1s --health-retries 1 "$img"
run fx-starting -l $L.service=web --health-cmd true --health-interval 1h "$img"
run fx-healthy -l $L.service=web --health-cmd true --health-interval 1s "$img"
run fx-multi-port --expose 9000 -l $L.service=multi "$img"

for _ in $(seq 100); do # up to 10 s for the health checks to settle
  h1=$(dk inspect -f '{{.State.Health.Status}}' fx-unhealthy)
  h2=$(dk inspect -f '{{.State.Health.Status}}' fx-healthy)
  [ "$h1" = unhealthy ] && [ "$h2" = healthy ] && break
  sleep 0.1
done

filter=$(jq -cn --argjson n "$(printf '%s\n' "${names[@]}" | jq -R . | jq -cs .)" '{name: $n}')
api "/containers/json?all=1&filters=$(jq -rn --arg f "$filter" '$f|@uri')" |
  jq --argjson n "$(printf '%s\n' "${names[@]}" | jq -R . | jq -cs .)" \
    '[.[] | select(.Names[0][1:] as $x | $n | index($x))]' >"$out/containers-summary.json"
dk inspect "${names[@]}" >"$out/containers-inspect.json"
dk version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' >"$out/ENGINE_VERSION"
echo "captured $(jq length "$out/containers-summary.json") summaries and $(jq length "$out/containers-inspect.json") inspect objects" >&2
