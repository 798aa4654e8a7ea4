#!/usr/bin/env bash
# Build a minimal OCI bundle rootfs from Debian's busybox-static.
#
#   scripts/make-busybox-bundle.sh DIR
#
# Creates DIR/rootfs with bin/busybox, a symlink per applet (`busybox --list-full`, so
# /bin/sh, /usr/bin/env, /sbin/... all exist), /etc/passwd and /etc/group (root, nobody,
# user uid 1000) and empty proc sys dev tmp root home/user. Does not write config.json:
# run `runts spec --bundle DIR` for that. Idempotent: re-running refreshes the same tree.
# Installs busybox-static with apt-get when no static /bin/busybox exists (needs root).
set -euo pipefail

usage() {
  echo "usage: $0 DIR   (builds DIR/rootfs; config.json is left to 'runts spec')" >&2
  exit 2
}
[[ $# -eq 1 && -n "$1" && "$1" != -* ]] || usage

bundle="$1"
busybox=/bin/busybox

is_static() {
  [[ -x "$1" ]] && ! ldd "$1" >/dev/null 2>&1
}

install_busybox_static() {
  if [[ "$(id -u)" != 0 ]]; then
    echo "make-busybox-bundle: $busybox (static) is missing; as root run:" \
      "apt-get install -y busybox-static" >&2
    exit 1
  fi
  echo "make-busybox-bundle: installing busybox-static with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends busybox-static >&2; then
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends busybox-static >&2
  fi
}

is_static "$busybox" || install_busybox_static
if ! is_static "$busybox"; then
  echo "make-busybox-bundle: $busybox is not a static executable after installing" \
    "busybox-static" >&2
  exit 1
fi

rootfs="$bundle/rootfs"
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home/user,var/tmp}
chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
chmod 700 "$rootfs/root"

# Copy the binary only when it differs (keeps hardlinked copies intact on re-runs).
if ! cmp -s "$busybox" "$rootfs/bin/busybox"; then
  rm -f "$rootfs/bin/busybox"
  cp "$busybox" "$rootfs/bin/busybox"
  chmod 755 "$rootfs/bin/busybox"
fi

# One symlink per applet at its usual path, all made by one process (perl-base is
# Essential in Debian; a fork per applet costs seconds on a busy machine).
mapfile -t applets < <("$busybox" --list-full)
perl -e '
  my $root = shift;
  for my $a (@ARGV) {
    next if $a eq "bin/busybox" || $a eq "linuxrc";
    my $l = "$root/$a";
    next if (readlink($l) // "") eq "/bin/busybox";
    unlink $l;
    symlink("/bin/busybox", $l) or die "make-busybox-bundle: symlink $l: $!\n";
  }' "$rootfs" "${applets[@]}"

printf '%s\n' \
  'root:x:0:0:root:/root:/bin/sh' \
  'user:x:1000:1000:test user:/home/user:/bin/sh' \
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$rootfs/etc/passwd"
printf '%s\n' \
  'root:x:0:' \
  'user:x:1000:' \
  'nogroup:x:65534:' >"$rootfs/etc/group"
chown 1000:1000 "$rootfs/home/user" 2>/dev/null || true
