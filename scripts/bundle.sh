#!/usr/bin/env bash
# Bundle main.ts and everything it imports into one file, dist/runts.js: what
# scripts/runts runs and what scripts/compile.ts compiles. One module instead of ~100
# is what makes start-up fast (docs/design.md: module loading was ~50 ms of `run`).
# Atomic (temp file + rename) so concurrent launchers never see half a bundle.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DENO="${DENO:-$("$repo/scripts/bootstrap.sh")}"
export DENO_DIR="${DENO_DIR:-$repo/.cache/deno}"
# `deno bundle` fetches esbuild from the npm registry on first use; trust the system's
# CA store for that (some networks' TLS is signed by a CA only the system knows).
export DENO_TLS_CA_STORE="${DENO_TLS_CA_STORE:-system,mozilla}"
mkdir -p "$repo/dist"
tmp="$repo/dist/.runts.js.$$"
trap 'rm -f "$tmp"' EXIT
"$DENO" bundle --quiet --minify --platform deno --config "$repo/deno.json" -o "$tmp" "$repo/main.ts"
mv -f "$tmp" "$repo/dist/runts.js"
