#!/usr/bin/env bash
# test_image_context.sh DIR: writes the build context of the test image into DIR (made anew):
# busybox httpd FROM scratch, no registry needed. Every page answers with the container's
# hostname (its short id), at / and at each prefix in $PATHS (e.g. PATHS="/api /static" serves
# /api/ and /static/), so a test sees which container a request reached. Exits 0 at once on
# docker stop. Used by engine_start.sh and swarm_cluster.sh.
set -euo pipefail
ctx=${1:?build context directory}
rm -rf "$ctx"
mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/www"
cp /bin/busybox "$ctx/rootfs/bin/busybox"
/bin/busybox --list | while read -r a; do [ "$a" = busybox ] || ln -s busybox "$ctx/rootfs/bin/$a"; done
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
ENV PATH=/bin PORT=8080 PATHS=""
EXPOSE 8080
CMD ["/bin/sh","-c","for p in / $PATHS; do mkdir -p /www$p; echo \"$HOSTNAME\" > /www$p/index.html; done; echo \"$HOSTNAME\" > /www/hostname; trap 'exit 0' TERM INT; httpd -f -p \"$PORT\" -h /www & wait"]
DOCKERFILE
