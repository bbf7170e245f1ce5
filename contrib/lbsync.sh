#!/bin/sh
# lbsync in the images of contrib/ (installed as /usr/local/bin/lbsync): the single-file bundle
# with its npm dependencies cached beside it at build time (DENO_DIR) and pinned by the lock file
# the cache was made with. --cached-only: nothing is fetched at run time. The V8 flags cap the
# heap of the long-running watch and keep its young generation at 1 MB (see README).
exec deno run --v8-flags=--max-old-space-size=64,--max-semi-space-size=1 \
  --cached-only --lock=/opt/lbsync/deno.lock --frozen \
  --allow-read --allow-write --allow-net --allow-env --allow-run \
  /opt/lbsync/lbsync.js "$@"
