#!/usr/bin/env bash
# Stops the libvirt daemons that libvirt-up.sh started (and only those), after checking that no
# VM or network of ours is still up: a network left active when libvirtd stops keeps its dnsmasq
# and bridge. Prints what libvirt still holds, so a clean host can be seen to be clean.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${NESTBOX_VAGRANT_CACHE:-$(cd "$here/../.." && pwd)/.vm-cache/vagrant}
state=$cache/libvirt-started
v() { virsh -q -c qemu:///system "$@"; }

if v version >/dev/null 2>&1; then
  echo "libvirt-down: domains:"; v list --all --name | sed '/^$/d;s/^/  /'
  echo "libvirt-down: networks (name, state):"; v net-list --all | awk 'NF { print "  " $1 " " $2 }'
  echo "libvirt-down: volumes in pool default:"; v vol-list default 2>/dev/null | awk '{print "  " $1}'
  if [ -n "$(v list --name | sed '/^$/d')" ] || [ -n "$(v net-list --name | sed '/^$/d')" ]; then
    echo "libvirt-down: a domain or network is still active: run vagrant destroy -f first" >&2
    exit 1
  fi
fi

[ -f "$state" ] || { echo "libvirt-down: libvirt-up.sh started nothing; leaving libvirt alone"; exit 0; }
# libvirtd first: it holds virtlogd's socket.
for d in libvirtd virtlogd; do
  grep -qx "$d" "$state" || continue
  pid=$(cat "/run/$d.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$d" ]; then
    kill "$pid"
    for _ in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.2; done
    echo "libvirt-down: stopped $d ($pid)"
  fi
done
rm -f "$state"

# libvirtd adds its top-level LIBVIRT_* chains when it starts a network and leaves them behind,
# empty, when it stops. Remove the empty ones (and the jumps to them); leave any that hold rules.
for ipt in iptables ip6tables; do
  command -v "$ipt" >/dev/null || continue
  for table in filter nat mangle; do
    for chain in $("$ipt" -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^LIBVIRT_/ { print $2 }'); do
      if [ "$("$ipt" -t "$table" -S "$chain" | grep -c .)" != 1 ]; then
        echo "libvirt-down: $ipt $table $chain still holds rules; left alone" >&2
        continue
      fi
      "$ipt" -t "$table" -S | awk -v c="$chain" '$1 == "-A" && $3 == "-j" && $4 == c && NF == 4 { print $2 }' |
        while read -r parent; do "$ipt" -t "$table" -D "$parent" -j "$chain"; done
      "$ipt" -t "$table" -X "$chain"
    done
  done
done
