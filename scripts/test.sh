#!/usr/bin/env bash
# Run every check and test of runts; works on a fresh Debian 12 machine as root.
#
#   sudo ./scripts/test.sh
#
# 1. Deno: the pinned version (scripts/bootstrap.sh; installs npm with apt when needed).
# 2. Packages the tests use, when missing (root only): busybox-static, and runc /
#    iproute2 when integration tests mention them.
# 3. deno fmt --check, deno lint, deno check (a failing check counts as one failure).
# 4. deno test tests/unit; as root also tests/integration and tests/e2e.
# The last line is the summary the CI harness reads: `N passed, M failed[, K skipped]`.
set -euo pipefail

repo="$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd -P)"
cd "$repo"
export NO_COLOR=1

is_root=false
[[ "$(id -u)" == 0 ]] && is_root=true

log() { printf '==> %s\n' "$*"; }

# apt_install PKG...: quietly (full output in tests/.work/logs/apt.log, shown on failure);
# `apt-get update` first when there are no package lists, or when the install fails.
apt_updated=false
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  local aptlog="$repo/tests/.work/logs/apt.log"
  mkdir -p "${aptlog%/*}"
  apt_q() { apt-get -q -o Dpkg::Progress-Fancy=0 "$@" >>"$aptlog" 2>&1; }
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    apt_q update || true
    apt_updated=true
  fi
  if apt_q install -y --no-install-recommends "$@"; then return 0; fi
  if [[ "$apt_updated" == false ]]; then
    apt_q update || true
    apt_updated=true
    if apt_q install -y --no-install-recommends "$@"; then return 0; fi
  fi
  tail -n 20 "$aptlog" >&2
  echo "apt-get install $* failed (log: $aptlog)" >&2
  return 1
}

# --- 1. Deno -----------------------------------------------------------------------------
if ! DENO="$(scripts/bootstrap.sh)"; then
  if [[ "$is_root" == true ]] && ! command -v npm >/dev/null 2>&1; then
    log "installing npm (to fetch Deno from the npm registry)"
    apt_install npm ca-certificates
    DENO="$(scripts/bootstrap.sh)"
  else
    exit 1
  fi
fi
export DENO_DIR="$repo/.cache/deno"
export DENO_TLS_CA_STORE="${DENO_TLS_CA_STORE:-system,mozilla}"
log "deno: $DENO ($("$DENO" --version | head -n1))"

# --- 2. test dependencies ----------------------------------------------------------------
if [[ "$is_root" == true ]]; then
  need=()
  if [[ ! -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then
    need+=(busybox-static)
  fi
  mentions() { [[ -d tests/integration ]] && grep -rqE "$1" tests/integration tests/e2e 2>/dev/null; }
  if mentions '"runc"' && ! command -v runc >/dev/null 2>&1; then need+=(runc); fi
  if mentions '"ip"' && ! command -v ip >/dev/null 2>&1; then need+=(iproute2); fi
  # Commands the tests and scripts/runts use that a minimal Debian may lack.
  for pair in ps:procps script:bsdutils flock:util-linux unshare:util-linux python3:python3; do
    if ! command -v "${pair%%:*}" >/dev/null 2>&1; then need+=("${pair#*:}"); fi
  done
  # The systemd cgroup driver's tests: a private dbus-daemon and a python3-dbus mock systemd.
  if mentions 'mock_systemd'; then
    command -v dbus-daemon >/dev/null 2>&1 || need+=(dbus-daemon)
    /usr/bin/python3 -c 'import dbus' >/dev/null 2>&1 || need+=(python3-dbus)
    /usr/bin/python3 -c 'import gi' >/dev/null 2>&1 || need+=(python3-gi)
  fi
  if [[ ${#need[@]} -gt 0 ]]; then
    log "installing: ${need[*]}"
    apt_install "${need[@]}"
  fi
fi

# --- 3. static checks --------------------------------------------------------------------
failed_checks=()
check() {
  local name="$1"
  shift
  log "$name"
  if ! "$@" </dev/null; then failed_checks+=("$name"); fi
}
check_paths=()
for p in main.ts src tests scripts; do [[ -e "$p" ]] && check_paths+=("$p"); done
check "deno fmt --check" "$DENO" fmt --check
check "deno lint" "$DENO" lint
check "deno check" "$DENO" check "${check_paths[@]}"
# The bundle the launcher (and so every integration test) runs: built once, up front.
check "bundle (dist/runts.js)" env DENO="$DENO" scripts/bundle.sh

# --- 4. tests ----------------------------------------------------------------------------
passed=0 failed=0 skipped=0
log_dir="$repo/tests/.work/logs"
mkdir -p "$log_dir"

# run_tests NAME DIR TIMEOUT_S: deno test, then add its `N passed | M failed | K ignored`.
run_tests() {
  local name="$1" dir="$2" limit="$3" out="$log_dir/$1.log" line rc=0
  if [[ ! -d "$dir" || -z "$(find "$dir" -name '*test.ts' -print -quit)" ]]; then
    log "$name: no test files in $dir"
    return 0
  fi
  log "$name tests ($dir)"
  timeout -k 30 "$limit" "$DENO" test --allow-all --no-check "$dir" </dev/null 2>&1 |
    tee "$out" || rc=$?
  line="$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$out" | tail -n1 || true)"
  if [[ -z "$line" ]]; then
    echo "$name: deno test ended without a summary (exit $rc; 124 = timed out after ${limit}s)"
    failed=$((failed + 1))
    return 0
  fi
  local p f i
  p="$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$line")"
  f="$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line")"
  i="$(sed -nE 's/.* ([0-9]+) ignored.*/\1/p' <<<"$line")"
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  skipped=$((skipped + ${i:-0}))
  if [[ "$rc" != 0 && "${f:-0}" == 0 ]]; then
    echo "$name: deno test exited $rc with no failed test"
    failed=$((failed + 1))
  fi
}

run_tests unit tests/unit 300
if [[ "$is_root" == true ]]; then
  run_tests integration tests/integration 900
  run_tests e2e tests/e2e 300
else
  log "integration and e2e tests skipped: they need root (sudo ./scripts/test.sh)"
fi

# --- summary -----------------------------------------------------------------------------
for c in "${failed_checks[@]}"; do echo "failed check: $c"; done
failed=$((failed + ${#failed_checks[@]}))
summary="$passed passed, $failed failed"
[[ "$skipped" -gt 0 ]] && summary+=", $skipped skipped"
echo "$summary"
[[ "$failed" -eq 0 ]]
