#!/usr/bin/env bash
# ci_under_load.sh [RUNS] [REPO]: runs `bash .ci/run` RUNS times (default 3) in a row, each on a
# fresh clone of REPO's main (default: this repository), while stress-ng keeps both CPU cores
# busy. Prints one line per run (exit code, duration) and exits non-zero if any run failed.
# Logs: /tmp/lbsync-ci-under-load/run-N.log.
set -uo pipefail
RUNS=${1:-3}
REPO=${2:-$(cd "$(dirname "$0")/.." && pwd)}
OUT=/tmp/lbsync-ci-under-load
mkdir -p "$OUT"
command -v stress-ng >/dev/null || {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q stress-ng >&2 ||
    { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q stress-ng >&2; }
}
stress-ng --cpu 2 --timeout 2h --quiet &
STRESS=$!
trap 'kill $STRESS 2>/dev/null' EXIT
failed=0
for n in $(seq 1 "$RUNS"); do
  clone=$(mktemp -d /tmp/lbsync-ci-clone-XXXXXX)
  git clone -q --branch main "$REPO" "$clone"
  start=$SECONDS
  (cd "$clone" && CI=true bash .ci/run) >"$OUT/run-$n.log" 2>&1
  rc=$?
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$OUT/run-$n.log" | grep -aE '^(ok|FAILED) \|' | tail -1)
  echo "run $n: exit $rc in $((SECONDS - start)) s: ${summary:-no summary} (log $OUT/run-$n.log)"
  [ $rc = 0 ] || failed=1
  rm -rf "$clone"
done
exit $failed
