#!/usr/bin/env bash
# capture_example.sh: re-captures examples/containers.json (docker inspect output) from the
# private test engine: a small shop behind one balancer. Usage: bash scripts/capture_example.sh
set -euo pipefail
cd "$(dirname "$0")/.."
sock=$(bash scripts/engine_start.sh)
img=lbsync-test/httpd:latest
dk() { /usr/bin/docker -H "unix://$sock" "$@"; }
names=(shop-web-1 shop-web-2 shop-maintenance shop-api-1 shop-api-2 docs-1 shop-postgres shop-admin)
cleanup() { dk rm -f "${names[@]}" >/dev/null 2>&1 || true; dk network rm shop_default >/dev/null 2>&1 || true; }
cleanup; trap cleanup EXIT
dk network create shop_default >/dev/null
run() { local name=$1; shift; dk run -d --name "$name" --network shop_default "$@" "$img" >/dev/null; }
L=lbsync
web=(-l $L.service=web -l $L.host=shop.example.com,www.shop.example.com -l $L.health=/)
run shop-web-1 "${web[@]}"
sleep 1.1
run shop-web-2 "${web[@]}"
run shop-maintenance "${web[@]}" -l $L.backup=true
run shop-api-1 -e PATHS=/api -l $L.service=api -l $L.host=shop.example.com -l $L.path=/api -l $L.health=/api/
run shop-api-2 -e PATHS=/api -l $L.service=api -l $L.host=shop.example.com -l $L.path=/api -l $L.health=/api/ -l $L.weight=2
run docs-1 -l com.docker.compose.service=docs -l $L.enable=true -l "$L.host=*.docs.example.com"
run shop-postgres -l $L.service=postgres -l $L.mode=tcp -l $L.listen=5432
run shop-admin -l $L.service=admin -l "$L.host=admin.example.com;return 200 pwned"
dk inspect "${names[@]}" >examples/containers.json
echo "captured $(jq length examples/containers.json) containers into examples/containers.json" >&2
