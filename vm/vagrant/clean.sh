#!/usr/bin/env bash
# Puts the host back as it was before the Vagrant machines (as root): destroys every machine of
# the project's Vagrantfile that exists, deletes the box images vagrant-libvirt uploaded into the
# storage pool (it never deletes them itself, not even on `vagrant box remove`), stops the libvirt
# daemons libvirt-up.sh started, and lists what libvirt still holds.
#
#   vm/vagrant/clean.sh [--remove-boxes]    also forget the nestbox/* boxes in Vagrant
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
export VAGRANT_CHECKPOINT_DISABLE=1
v() { virsh -q -c qemu:///system "$@"; }

if v version >/dev/null 2>&1; then
  for m in $(vagrant status --machine-readable 2>/dev/null |
             awk -F, '$3 == "state" && $4 != "not_created" { print $2 }'); do
    vagrant destroy -f "$m"
  done
  for vol in $(v vol-list default 2>/dev/null | awk '$1 ~ /^nestbox-VAGRANTSLASH-/ { print $1 }'); do
    v vol-delete --pool default "$vol" >/dev/null && echo "clean: deleted pool image $vol"
  done
fi

if [ "${1:-}" = --remove-boxes ]; then
  for b in $(vagrant box list 2>/dev/null | awk '$1 ~ /^nestbox\// { print $1 }'); do
    vagrant box remove --force --all "$b"
  done
fi

bash "$here/libvirt-down.sh"
