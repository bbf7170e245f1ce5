# Stands in for the official nginx:alpine image, which the suite runs as a backend (test_ipv6,
# test_virtual-proto): Debian's nginx in the foreground, its default site kept (a welcome page on
# port 80), conf.d/*.conf read as the official image's.
ARG BASE
FROM ${BASE}
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
LABEL org.lbsync.nginx-proxy-suite=1
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
