#!/usr/bin/env bash
# Run a busybox container with runts from this checkout (as root: `sudo ./scripts/demo.sh`).
#
# Builds the bundle once in .cache/demo-bundle, writes its config.json with `runts spec`
# (an interactive shell when stdin is a terminal, else a short non-interactive script),
# then `exec scripts/runts run --bundle .cache/demo-bundle demo-<pid>`.
set -euo pipefail

repo="$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd -P)"
bundle="$repo/.cache/demo-bundle"

if [[ "$(id -u)" != 0 ]]; then
  echo "demo: containers need root: sudo $0" >&2
  exit 1
fi

if [[ ! -x "$bundle/rootfs/bin/busybox" ]]; then
  echo "demo: building a busybox bundle in $bundle" >&2
  "$repo/scripts/make-busybox-bundle.sh" "$bundle"
fi

rm -f "$bundle/config.json"
if [[ -t 0 ]]; then
  "$repo/scripts/runts" spec --bundle "$bundle"
  echo "demo: interactive busybox shell in a container; 'exit' to leave" >&2
else
  "$repo/scripts/runts" spec --bundle "$bundle" --no-tty
  # Set process.args with the same deno the launcher uses (no jq needed).
  DENO="$("$repo/scripts/bootstrap.sh")"
  DENO_DIR="$repo/.cache/deno" "$DENO" eval --quiet '
    const path = Deno.args[0];
    const spec = JSON.parse(Deno.readTextFileSync(path));
    spec.process.args = ["sh", "-c", "echo hello from runts; uname -a; id"];
    Deno.writeTextFileSync(path, JSON.stringify(spec, null, 2) + "\n");
  ' "$bundle/config.json"
fi

exec "$repo/scripts/runts" run --bundle "$bundle" "demo-$$"
