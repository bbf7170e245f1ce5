#!/bin/bash
# The entry of contrib/nginx-proxy's image: nginx in the foreground and `lbsync watch --compat
# nginx-proxy` writing /etc/nginx/conf.d/default.conf, checked by `nginx -t` and applied by
# `nginx -s reload`. Arguments are added to lbsync's (e.g. --status-listen 0.0.0.0:9090).
# The engine is DOCKER_HOST's (unix:///tmp/docker.sock in the image, as nginx-proxy's).
#
# nginx-proxy's settings, read here:
#   DEFAULT_HOST  --default-host       HTTP_PORT  --listen       HTTPS_PORT  --https-listen
#   TRUST_DOWNSTREAM_PROXY (true unless "false", as nginx-proxy's) --trust-downstream-proxy
#   ACME_HTTP_CHALLENGE_LOCATION (true unless "false") --acme-webroot /usr/share/nginx/html
#   (--acme-webroot-opt-in when false), ACME_HTTP_CHALLENGE_ACCEPT_UNKNOWN_HOST
#   --acme-webroot-unknown-hosts: acme-companion's challenge files, as nginx-proxy serves them
#   NON_GET_REDIRECT --non-get-redirect, ENABLE_IPV6=true --enable-ipv6,
#   PREFER_IPV6_NETWORK=true --prefer-ipv6, DEFAULT_ROOT --default-root,
#   SHA1_UPSTREAM_NAME=true --sha1-upstream-names, HTTPS_METHOD --https-method,
#   TRUST_DEFAULT_CERT --trust-default-cert, ENABLE_HTTP_ON_MISSING_CERT --http-on-missing-cert
#   ENABLE_PROXY_PROTOCOL=true --proxy-protocol, RESOLVERS --resolvers (unset: the nameservers
#   of /etc/resolv.conf, as nginx-proxy's entrypoint finds them, scoped IPv6 ones left out)
#   /etc/nginx/certs --cert-dir, /etc/nginx/vhost.d --vhost-dir, /etc/nginx/htpasswd
#   --htpasswd-dir, /etc/nginx/proxy.conf --proxy-conf, /etc/nginx/network_internal.conf
#   --network-internal-conf, /usr/share/nginx/html/errors/50x.html --error-page (mount them as
#   for nginx-proxy), /etc/nginx/dhparam/dhparam.pem --dhparam: RFC 7919's group of DHPARAM_BITS
#   (2048, 3072 or 4096, the default) copied there unless a file is mounted, none with
#   DHPARAM_SKIP=true (or the older DHPARAM_GENERATION=false)
# and on each proxied container, by --compat nginx-proxy: VIRTUAL_HOST, VIRTUAL_PORT,
# VIRTUAL_PATH, VIRTUAL_PROTO, HTTPS_METHOD, HSTS, CERT_NAME, NETWORK_ACCESS (see README).
# nginx-proxy's other settings of the proxy container have no lbsync option: each one set is
# named in a warning and ignored (HSTS works on each container instead).
#
# SIGTERM or SIGINT stops lbsync (it finishes the apply in progress, 3 s at most) and nginx
# (gracefully), then exits 0. If either exits by itself, the other is stopped and the container
# exits 1, so a restart policy starts both again.
set -u

args=(watch --compat nginx-proxy -t nginx -o /etc/nginx/conf.d/default.conf
  --check-cmd "nginx -t -q" --reload-cmd "nginx -s reload"
  --cert-dir /etc/nginx/certs --vhost-dir /etc/nginx/vhost.d
  --htpasswd-dir /etc/nginx/htpasswd --proxy-conf /etc/nginx/proxy.conf
  --network-internal-conf /etc/nginx/network_internal.conf
  --error-page /usr/share/nginx/html/errors/50x.html
  --dhparam /etc/nginx/dhparam/dhparam.pem)
# this container, as nginx-proxy finds its own: a proxied container on several networks is
# reached on one this container is on (the engine's mount of its hostname file names its id)
self=$(grep -oE '/containers/[0-9a-f]{64}/' /proc/self/mountinfo 2>/dev/null | head -n 1 | cut -d/ -f3)
self=${self:-${HOSTNAME:-}}
[ -n "$self" ] && args+=(--balancer-container "$self")
[ -n "${DEFAULT_HOST:-}" ] && args+=(--default-host "$DEFAULT_HOST")
[ -n "${HTTP_PORT:-}" ] && args+=(--listen "$HTTP_PORT")
[ -n "${HTTPS_PORT:-}" ] && args+=(--https-listen "$HTTPS_PORT")
[ "${TRUST_DOWNSTREAM_PROXY:-true}" != "false" ] && args+=(--trust-downstream-proxy)
[ "${ENABLE_IPV6:-false}" = "true" ] && args+=(--enable-ipv6)
[ -n "${DEFAULT_ROOT:-}" ] && args+=(--default-root "$DEFAULT_ROOT")
[ "${SHA1_UPSTREAM_NAME:-false}" = "true" ] && args+=(--sha1-upstream-names)
[ "${PREFER_IPV6_NETWORK:-false}" = "true" ] && args+=(--prefer-ipv6)
[ "${ENABLE_PROXY_PROTOCOL:-false}" = "true" ] && args+=(--proxy-protocol)
# nginx-proxy's entrypoint: RESOLVERS as given, else the nameservers of /etc/resolv.conf (an
# IPv6 one bracketed; nginx takes no scoped one)
resolvers=${RESOLVERS:-$(awk '$1 == "nameserver" && $2 !~ /%/ {
  print ($2 ~ ":") ? "[" $2 "]" : $2 }' ORS=' ' /etc/resolv.conf 2>/dev/null)}
[ -n "${resolvers// /}" ] && args+=(--resolvers "$resolvers")
args+=(--acme-webroot /usr/share/nginx/html)
[ -n "${NON_GET_REDIRECT:-}" ] && args+=(--non-get-redirect "$NON_GET_REDIRECT")
[ -n "${HTTPS_METHOD:-}" ] && args+=(--https-method "$HTTPS_METHOD")
[ -n "${TRUST_DEFAULT_CERT:-}" ] && args+=(--trust-default-cert "$TRUST_DEFAULT_CERT")
[ -n "${ENABLE_HTTP_ON_MISSING_CERT:-}" ] && args+=(--http-on-missing-cert "$ENABLE_HTTP_ON_MISSING_CERT")
[ "${ACME_HTTP_CHALLENGE_LOCATION:-true}" = "false" ] && args+=(--acme-webroot-opt-in)
[ "${ACME_HTTP_CHALLENGE_ACCEPT_UNKNOWN_HOST:-false}" = "true" ] && args+=(--acme-webroot-unknown-hosts)
for name in HSTS SSL_POLICY ENABLE_HTTP2 ENABLE_HTTP3 DISABLE_ACCESS_LOGS LOG_FORMAT \
  LOG_FORMAT_ESCAPE LOG_JSON; do
  [ -n "${!name:-}" ] &&
    echo "lbsync-nginx-proxy: warning: $name is not read (lbsync has no such setting)" >&2
done
mkdir -p /etc/nginx/certs

# nginx-proxy's spellings of a yes and a no
is_true() { case "${1,,}" in true | 1 | yes | on) return 0 ;; *) return 1 ;; esac; }
is_false() { case "${1,,}" in false | 0 | no | off) return 0 ;; *) return 1 ;; esac; }

# The Diffie-Hellman parameters nginx-proxy's users expect, with its messages (its tests read
# them): an operator's own file wins; DHPARAM_SKIP leaves DHE ciphers off
setup_dhparam() {
  local file=/etc/nginx/dhparam/dhparam.pem bits=${DHPARAM_BITS:-4096}
  if [ -f "$file" ]; then
    echo 'Warning: A custom dhparam.pem file was provided. Best practice is to use standardized RFC7919 DHE groups instead.' >&2
  elif is_true "${DHPARAM_SKIP:-false}"; then
    echo 'Skipping Diffie-Hellman parameters setup.'
  elif is_false "${DHPARAM_GENERATION:-true}"; then
    echo 'Warning: The DHPARAM_GENERATION environment variable is deprecated, please consider using DHPARAM_SKIP set to true instead.' >&2
    echo 'Skipping Diffie-Hellman parameters setup.'
  elif ! [[ $bits =~ ^(2048|3072|4096)$ ]]; then
    echo "ERROR: Unsupported DHPARAM_BITS size: ${bits}. Use: 2048, 3072, or 4096 (default)." >&2
    exit 1
  else
    echo 'Setting up DH Parameters..'
    mkdir -p /etc/nginx/dhparam && cp "/app/dhparam/ffdhe${bits}.pem" "$file"
  fi
}
setup_dhparam

nginx=
lbsync=
stop() {
  trap '' TERM INT
  [ -n "$lbsync" ] && kill -TERM "$lbsync" 2>/dev/null
  [ -n "$nginx" ] && kill -QUIT "$nginx" 2>/dev/null
  wait
}
trap 'stop; exit 0' TERM INT

# a pid file left by a killed nginx would have the reload signal another process
rm -f /run/nginx.pid
nginx -g "daemon off;" &
nginx=$!
# lbsync reloads through the pid file, which nginx writes once it listens (bounded: 10 s)
for _ in $(seq 100); do
  [ -s /run/nginx.pid ] && break
  kill -0 "$nginx" 2>/dev/null || break
  sleep 0.1
done
if ! [ -s /run/nginx.pid ]; then
  echo "lbsync-nginx-proxy: nginx did not start" >&2
  stop
  exit 1
fi
lbsync "${args[@]}" "$@" &
lbsync=$!

wait -n "$nginx" "$lbsync"
code=$?
echo "lbsync-nginx-proxy: $(kill -0 "$nginx" 2>/dev/null && echo lbsync || echo nginx)" \
  "exited ($code): stopping" >&2
stop
exit 1
