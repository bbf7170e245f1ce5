#!/usr/bin/env bash
# nginx_proxy_suite.sh [PYTEST ARGS...]: runs nginx-proxy's own pytest suite (its test/ folder)
# against lbsync's drop-in image (contrib/nginx-proxy/Dockerfile, built from this checkout and
# tagged nginxproxy/nginx-proxy:test, the name the suite runs). pytest runs on this host and
# reaches the containers at their addresses. PYTEST ARGS are added to pytest's (e.g. a folder:
# `test_headers`, or `-k name`); without them every in-scope folder runs.
#
# Environment:
#   NGINX_PROXY_GIT  nginx-proxy's repository, a git dir or a clone (default
#                    /work/.mirror/nginx-proxy+nginx-proxy/repo); NGINX_PROXY_REF (HEAD) is read
#                    from it at run time: none of its code is kept in this project
#   DOCKER_HOST      the engine (default unix:///tmp/lbsync-engine/docker.sock, scripts/engine_start.sh's)
#   NP_SUITE_OUT     where the report goes (default /tmp/np-suite-report.<time>, printed):
#                    pytest.log (with, for each failure, the proxy's log and generated config,
#                    as conftest.py adds them) and junit.xml
#   NP_SUITE_TIMEOUT seconds for the whole pytest run (default 3600); NP_SUITE_TEST_TIMEOUT per
#                    test (default 180, pytest-timeout); NP_SUITE_READY_S (30) the proxy's start
#   KEEP_IMAGES=1    keep the images built for the suite (see below)
#
# Needs (Debian packages): docker.io, docker-compose (v1: conftest.py's DOCKER_COMPOSE is set to
# it), mmdebstrap, python3-pytest, python3-pytest-timeout, python3-docker, python3-requests,
# python3-backoff, python3-packaging, python3-yaml; deno. Nothing is pulled or pip-installed:
#   - base: Debian minbase + ca-certificates + this deno (mmdebstrap), kept as
#     lbsync-np-suite/base:<deno version>-<recipe hash> so later runs skip mmdebstrap (about a
#     minute); `docker rmi` removes it;
#   - nginxproxy/nginx-proxy:test: contrib/nginx-proxy/Dockerfile on that base, from a context
#     with a Deno cache (as tests/container_image_test.ts makes it);
#   - web: the suite's test/requirements/web with its FROM python:3-alpine replaced by the base
#     plus Debian's python3 (in the extracted copy);
#   - nginx:alpine: Debian's nginx in its place (nginx_proxy_suite/nginx-alpine.Dockerfile).
#   These three carry the label org.lbsync.nginx-proxy-suite and are removed at the end unless
#   KEEP_IMAGES=1; a tag of that name not made here stops the run instead of being replaced.
#
# The extracted compose files are adapted to this machine by nginx_proxy_suite/prepare.py (the
# engine's socket in place of /var/run/docker.sock, published ports only for test_raw-ip-vhost,
# `$` escaped for docker-compose v1), and nginx_proxy_suite/np_suite_plugin.py stands in
# for pytest-ignore-flaky and bounds the wait for the proxy's start.
#
# Out of scope (not run): test_http3 (Debian's nginx 1.22 has no http_v3), test_debug-endpoint,
# test_logs, test_dockergen (docker-gen as a separate container), test_build (nginx-proxy's own
# image build).
#
# The compose projects are brought down by the suite itself; whatever of them is left (pytest
# stopped, a timeout) is removed at the end: containers and networks of the suite's projects
# (labelled com.docker.compose.project=<test module>) and of the images above, and the
# temporary directories. Exits with pytest's code (0: all passed).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
support=$here/nginx_proxy_suite
np_git=${NGINX_PROXY_GIT:-/work/.mirror/nginx-proxy+nginx-proxy/repo}
np_ref=${NGINX_PROXY_REF:-HEAD}
export DOCKER_HOST=${DOCKER_HOST:-unix:///tmp/lbsync-engine/docker.sock}
socket=${DOCKER_HOST#unix://}
out=${NP_SUITE_OUT:-}
run_timeout=${NP_SUITE_TIMEOUT:-3600}
test_timeout=${NP_SUITE_TEST_TIMEOUT:-180}
LABEL=org.lbsync.nginx-proxy-suite
OUT_OF_SCOPE=(test_http3 test_debug-endpoint test_logs test_dockergen test_build)
PROXY_IMAGE=nginxproxy/nginx-proxy:test
IMAGES=("$PROXY_IMAGE" web nginx:alpine)
# Debian's CLI, the daemon's version (the one on PATH may be a newer one without buildx)
DOCKER=/usr/bin/docker
PY=/usr/bin/python3

say() { echo "nginx_proxy_suite: $*" >&2; }
die() {
  say "$*"
  exit 2
}
dk() { "$DOCKER" "$@"; }

[ -S "$socket" ] || die "no engine at $DOCKER_HOST (scripts/engine_start.sh starts one)"
for tool in "$DOCKER" docker-compose mmdebstrap deno git timeout; do
  command -v "$tool" >/dev/null || die "$tool is missing (see the header of $0)"
done
"$PY" -c 'import pytest, pytest_timeout, docker, requests, backoff, packaging, yaml' 2>/dev/null ||
  die "python3 modules missing: apt-get install -y python3-pytest python3-pytest-timeout python3-docker python3-requests python3-backoff python3-packaging python3-yaml"
git --git-dir="$np_git" rev-parse --verify -q "$np_ref^{commit}" >/dev/null 2>&1 ||
  git -C "$np_git" rev-parse --verify -q "$np_ref^{commit}" >/dev/null 2>&1 ||
  die "no commit $np_ref in $np_git (NGINX_PROXY_GIT)"
for image in "${IMAGES[@]}"; do
  if dk image inspect "$image" >/dev/null 2>&1 &&
    [ -z "$(dk image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$image")" ]; then
    die "an image $image not made by this script exists: not replacing it"
  fi
done

work=$(mktemp -d /tmp/np-suite.XXXXXX)
[ -n "$out" ] || out=$work/report
mkdir -p "$out"
started=$(date +%s)
cleanup() {
  local code=$?
  set +e
  # what the suite's projects left behind (it brings each one down itself when it can)
  local modules ids nets
  modules=$(cd "$work/test" 2>/dev/null && find . -name 'test_*.py' -printf '%f\n' | sed 's/\.py$//')
  for m in $modules; do
    ids=$(dk ps -aq --filter "label=com.docker.compose.project=$m")
    [ -n "$ids" ] && dk rm -f $ids >/dev/null
    nets=$(dk network ls -q --filter "label=com.docker.compose.project=$m")
    [ -n "$nets" ] && dk network rm $nets >/dev/null
  done
  if [ "${KEEP_IMAGES:-0}" != 1 ]; then
    for image in "${IMAGES[@]}"; do
      if [ -n "$(dk image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$image" 2>/dev/null)" ]; then
        dk rmi "$image" >/dev/null 2>&1 || say "image $image still in use: kept"
      fi
    done
  fi
  case $out in "$work"/*) cp -a "$out" "/tmp/np-suite-report.$started" && out=/tmp/np-suite-report.$started ;; esac
  rm -rf "$work"
  say "report in $out"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- nginx-proxy's test folder, from its repository (a copy, rewritten for this machine) ---
if [ -d "$np_git/objects" ]; then gitdir=(--git-dir="$np_git"); else gitdir=(-C "$np_git"); fi
# test/, and the RFC 7919 groups some compose files mount from ../../app/dhparam
git "${gitdir[@]}" archive "$np_ref" test app/dhparam | tar -x -C "$work"
commit=$(git "${gitdir[@]}" rev-parse "$np_ref")
say "nginx-proxy $commit ($(git "${gitdir[@]}" describe --tags --always "$np_ref" 2>/dev/null))"
# test_raw-ip-vhost asks the host's own address: ports 80 and 443 are published for it alone,
# when both are free here (else that test fails)
publish=--publish-raw-ip
if ss -Htln '( sport = :80 or sport = :443 )' 2>/dev/null | grep -q .; then
  say "port 80 or 443 in use on this host: no ports published (test_raw-ip-vhost will fail)"
  publish=
fi
"$PY" "$support/prepare.py" "$work/test" "$socket" $publish

# --- the base: Debian minbase, ca-certificates and this deno (kept for later runs) ---
deno_bin=$(deno eval 'console.log(Deno.execPath())')
deno_version=$(deno eval 'console.log(Deno.version.deno)')
recipe=(--variant=minbase --include=ca-certificates
  "--dpkgopt=path-exclude=/usr/share/man/*" "--dpkgopt=path-exclude=/usr/share/doc/*"
  "--dpkgopt=path-include=/usr/share/doc/*/copyright" "--dpkgopt=path-exclude=/usr/share/locale/*"
  bookworm)
base=lbsync-np-suite/base:$deno_version-$(printf '%s\n' "${recipe[@]}" | sha256sum | cut -c1-8)
if ! dk image inspect "$base" >/dev/null 2>&1; then
  say "making $base (mmdebstrap, about a minute)"
  timeout 600 mmdebstrap --quiet "${recipe[@]:0:${#recipe[@]}-1}" \
    "--customize-hook=cp '$deno_bin' \"\$1/usr/local/bin/deno\"" bookworm - |
    dk import - "$base" >/dev/null
fi

# --- the images: lbsync's drop-in, the suite's web backend, nginx:alpine's stand-in ---
build() { # DOCKERFILE CONTEXT TAG
  DOCKER_BUILDKIT=1 timeout 900 "$DOCKER" build -q -f "$1" --build-arg "BASE=$base" \
    --label "$LABEL=1" -t "$3" "$2" >/dev/null
}
ctx=$work/context
mkdir -p "$ctx"
find "$root" -mindepth 1 -maxdepth 1 ! -name .git ! -name dist ! -name node_modules \
  -exec cp -a {} "$ctx/" \;
(cd "$ctx" && DENO_DIR=$ctx/dist/deno-dir timeout 600 deno cache --quiet --frozen main.ts &&
  DENO_DIR=$ctx/dist/deno-dir timeout 600 deno task -q bundle)
say "building $PROXY_IMAGE from $root ($(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ', with local changes'))"
build "$ctx/contrib/nginx-proxy/Dockerfile" "$ctx" "$PROXY_IMAGE"

webdir=$work/test/requirements/web
# the syntax line would have BuildKit pull its frontend; bash is in the base already
sed -i -e '/^# syntax=/d' -e 's|^FROM python:3-alpine$|ARG BASE\nFROM ${BASE}|' \
  -e 's|^RUN apk add --no-cache bash$|RUN apt-get update -q \&\& DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3 \&\& rm -rf /var/lib/apt/lists/*|' \
  "$webdir/Dockerfile"
grep -q '^FROM ${BASE}$' "$webdir/Dockerfile" || die "test/requirements/web/Dockerfile: no FROM python:3-alpine to replace"
build "$webdir/Dockerfile" "$webdir" web
build "$support/nginx-alpine.Dockerfile" "$support" nginx:alpine
say "images ready in $(($(date +%s) - started)) s"

# --- the suite ---
ignores=()
for t in "${OUT_OF_SCOPE[@]}"; do ignores+=("--ignore=$t"); done
set +e
# requests lets REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE override the suite's own CA (its session's
# verify), so every HTTPS request would fail verification: both are unset for the suite
(cd "$work/test" && unset REQUESTS_CA_BUNDLE CURL_CA_BUNDLE && PYTHONPATH=$support PYTHONDONTWRITEBYTECODE=1 DOCKER_COMPOSE=docker-compose \
  timeout -k 30 "$run_timeout" "$PY" -m pytest -p np_suite_plugin -p no:cacheprovider \
  --color=no -rfEsxX --timeout="$test_timeout" --junitxml="$out/junit.xml" \
  "${ignores[@]}" "$@") 2>&1 | tee "$out/pytest.log"
code=${PIPESTATUS[0]}
set -e
say "pytest exited $code after $(($(date +%s) - started)) s; out of scope: ${OUT_OF_SCOPE[*]}"
exit "$code"
