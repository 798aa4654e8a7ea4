#!/usr/bin/env bash
# Find (or install) the pinned Deno and print its path.
#
#   DENO="$(scripts/bootstrap.sh)"   # executed: prints the path of a usable deno
#   source scripts/bootstrap.sh      # sourced: exports DENO and DENO_DIR
#
# The pinned version lives in scripts/deno-version. A `deno` on PATH is used when its
# major.minor matches; otherwise deno@<pin> is installed from the npm registry into
# <repo>/.deno/ and its platform binary is used directly (no node at run time).
# DENO_DIR is set to <repo>/.cache/deno so runs do not depend on ~/.cache.
# The chosen path is remembered in <repo>/.cache/deno-path (read by scripts/runts).

set -euo pipefail

runts_bootstrap_repo() {
  local src="${BASH_SOURCE[0]}"
  if [[ -L "$src" ]]; then src="$(readlink -f -- "$src")"; fi
  local dir="${src%/*}"
  [[ "$dir" == "$src" ]] && dir="."
  (cd -- "$dir/.." && pwd -P)
}

# Prints "major.minor.patch" of the deno binary $1, or nothing.
runts_bootstrap_version_of() {
  local out
  out="$("$1" --version 2>/dev/null)" || return 0
  out="${out#deno }"
  printf '%s\n' "${out%% *}"
}

runts_bootstrap_platform_pkg() {
  case "${HOSTTYPE:-$(uname -m)}" in
    x86_64) echo "@deno/linux-x64-glibc" ;;
    aarch64 | arm64) echo "@deno/linux-arm64-glibc" ;;
    *)
      echo "bootstrap: unsupported architecture ${HOSTTYPE:-?} (need x86_64 or aarch64)" >&2
      return 1
      ;;
  esac
}

runts_bootstrap_find() {
  local repo="$1" pin="$2" pkg local_bin path_bin v
  pkg="$(runts_bootstrap_platform_pkg)"
  local_bin="$repo/.deno/node_modules/$pkg/deno"

  if [[ -x "$local_bin" ]]; then
    v="$(runts_bootstrap_version_of "$local_bin")"
    if [[ "$v" == "$pin" ]]; then
      echo "$local_bin"
      return 0
    fi
  fi

  if path_bin="$(command -v deno 2>/dev/null)" && [[ -n "$path_bin" ]]; then
    v="$(runts_bootstrap_version_of "$path_bin")"
    if [[ "${v%.*}" == "${pin%.*}" ]]; then
      echo "$path_bin"
      return 0
    fi
  fi

  if ! command -v npm >/dev/null 2>&1; then
    printf '%s\n' \
      "bootstrap: Deno $pin is needed: no matching 'deno' on PATH and npm is not installed." \
      "bootstrap: install npm (Debian: apt-get install -y npm) or put deno $pin on PATH." >&2
    return 1
  fi
  echo "bootstrap: installing deno@$pin from the npm registry into $repo/.deno" >&2
  mkdir -p "$repo/.deno"
  # npm trusts only its bundled CAs; a host whose registry access needs the system's
  # CA store (as on these machines) works when Node is pointed at it.
  if [[ -z "${NODE_EXTRA_CA_CERTS:-}" && -r /etc/ssl/certs/ca-certificates.crt ]]; then
    export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
  fi
  if ! npm install --prefix "$repo/.deno" --no-save --no-audit --no-fund --ignore-scripts \
    --loglevel=error "deno@$pin" >&2; then
    echo "bootstrap: npm install deno@$pin failed" >&2
    return 1
  fi
  if [[ ! -f "$local_bin" ]]; then
    echo "bootstrap: npm installed deno@$pin but $local_bin is missing" >&2
    return 1
  fi
  chmod +x "$local_bin"
  v="$(runts_bootstrap_version_of "$local_bin")"
  if [[ "$v" != "$pin" ]]; then
    echo "bootstrap: $local_bin reports version '${v:-?}', expected $pin" >&2
    return 1
  fi
  echo "$local_bin"
}

runts_bootstrap_main() {
  local repo pin deno
  repo="$(runts_bootstrap_repo)"
  read -r pin <"$repo/scripts/deno-version"
  deno="$(runts_bootstrap_find "$repo" "$pin")"
  # Remembering the choice is an optimisation: a read-only checkout still works.
  mkdir -p "$repo/.cache/deno" 2>/dev/null || true
  { printf '%s\n' "$deno" >"$repo/.cache/deno-path"; } 2>/dev/null || true
  DENO="$deno"
  DENO_DIR="$repo/.cache/deno"
  export DENO DENO_DIR
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  runts_bootstrap_main
  printf '%s\n' "$DENO"
else
  runts_bootstrap_main || return 1
fi
