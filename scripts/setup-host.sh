#!/usr/bin/env bash
# Prepares a Debian host for nestbox (run as root, idempotent): the packages the native runtime,
# the default image and rootless networking need, subordinate id ranges for root and for the
# unprivileged test user, and the standard modes of /dev/net/tun and /dev/fuse.
set -euo pipefail
TEST_USER=${NESTBOX_TEST_USER:-nbxtest}
SOLO_USER=${NESTBOX_SOLO_USER:-nbxsolo}  # has no subordinate range: single-id mapping

if [ "$(id -u)" != 0 ]; then echo "setup-host: run as root" >&2; exit 1; fi

export DEBIAN_FRONTEND=noninteractive
# skopeo and docker-registry: the image transport tests (load of an OCI layout skopeo wrote, pull from a
# registry on loopback that skopeo pushed to)
# runc: the bundle comparison test runs one generated bundle under it (crun 1.8 refuses hybrid cgroups)
# procps: `top` runs the host's ps, as docker does
pkgs=(gcc make libc6-dev libjansson-dev libseccomp-dev busybox-static uidmap iproute2 fuse-overlayfs slirp4netns util-linux mount runc skopeo docker-registry openssl procps)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Distributions ship these 0666; rootless networking and fuse-overlayfs need it.
for dev in /dev/net/tun /dev/fuse; do [ -e "$dev" ] && chmod 0666 "$dev"; done

touch /etc/subuid /etc/subgid
# A free 65536-id range above everything already allocated in both files.
next_free() {
  awk -F: 'BEGIN{m=1000000} {e=$2+$3; if (e>m) m=e} END{print m}' /etc/subuid /etc/subgid
}
add_range() { # user
  local u=$1 start
  if ! grep -q "^$u:" /etc/subuid || ! grep -q "^$u:" /etc/subgid; then
    start=$(next_free)
    grep -q "^$u:" /etc/subuid || echo "$u:$start:65536" >> /etc/subuid
    grep -q "^$u:" /etc/subgid || echo "$u:$start:65536" >> /etc/subgid
  fi
}
# Container root is never host root: root's containers map into root's own subordinate range.
add_range root
if ! id -u "$TEST_USER" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash "$TEST_USER"
fi
add_range "$TEST_USER"
if ! id -u "$SOLO_USER" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash "$SOLO_USER"
fi
# useradd may have allocated ranges on its own: this user must have none
sed -i "/^$SOLO_USER:/d" /etc/subuid /etc/subgid
echo "setup-host: ok (test user $TEST_USER, $(grep -c . /etc/subuid) subuid ranges)"
