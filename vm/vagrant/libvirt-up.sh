#!/usr/bin/env bash
# Gets libvirt ready for vagrant-libvirt (as root). Where systemd is init it starts the units;
# elsewhere (containers, CI sandboxes) it starts virtlogd and libvirtd as daemons itself and notes
# that it did, so libvirt-down.sh stops exactly those and nothing else.
#
# qemu runs as root (user/group in qemu.conf): with the default libvirt-qemu user every volume and
# kernel path needs relabelling, and on hosts without systemd each libvirt call then took ~48 s.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${NESTBOX_VAGRANT_CACHE:-$(cd "$here/../.." && pwd)/.vm-cache/vagrant}
state=$cache/libvirt-started
conf=/etc/libvirt/qemu.conf

if [ "$(id -u)" != 0 ]; then echo "libvirt-up: run as root" >&2; exit 1; fi
command -v libvirtd >/dev/null || { echo "libvirt-up: libvirtd missing (apt-get install libvirt-daemon-system)" >&2; exit 1; }
mkdir -p "$cache"

changed=
for kv in 'user = "root"' 'group = "root"'; do
  key=${kv%% *}
  if grep -qxF "$kv" "$conf"; then continue; fi
  if grep -qE "^${key}[[:space:]]*=" "$conf"; then sed -i "s/^${key}[[:space:]]*=.*/$kv/" "$conf"; else echo "$kv" >> "$conf"; fi
  changed=1
done

running() { # daemon -> true when its pid file names a live process of that name
  local pid
  pid=$(cat "/run/$1.pid" 2>/dev/null) || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ]
}

if [ "$(cat /proc/1/comm)" = systemd ]; then
  [ -n "$changed" ] && systemctl restart libvirtd
  systemctl start virtlogd libvirtd
else
  for d in virtlogd libvirtd; do
    if running "$d"; then
      [ "$d" = libvirtd ] && [ -n "$changed" ] &&
        echo "libvirt-up: warning: qemu.conf changed while libvirtd runs; restart it" >&2
      continue
    fi
    "$d" -d
    grep -qx "$d" "$state" 2>/dev/null || echo "$d" >> "$state"
    echo "libvirt-up: started $d"
  done
fi

for _ in $(seq 60); do
  virsh -q -c qemu:///system version >/dev/null 2>&1 && { echo "libvirt-up: libvirt answers"; exit 0; }
  sleep 0.5
done
echo "libvirt-up: libvirtd does not answer on qemu:///system" >&2
exit 1
