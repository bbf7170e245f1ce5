#!/usr/bin/env bash
# The quick checks CI runs before the suite: formatting, lint, types.
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1
deno fmt --check >/dev/null 2>&1 || { deno fmt --check 2>&1 | tail -20; exit 1; }
deno lint >/dev/null 2>&1 || { deno lint 2>&1 | tail -30; exit 1; }
deno task check >/dev/null 2>&1 || { deno task check 2>&1 | grep -A4 ERROR | head -30; exit 1; }
deno doc --lint mod.ts >/dev/null 2>&1 || { deno doc --lint mod.ts 2>&1 | head -30; exit 1; }
echo "fmt, lint, check, doc lint: clean"
