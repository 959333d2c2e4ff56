#!/usr/bin/env bash
# The offline Vagrant path end to end, timed (as root): libvirt up, the box (built cold or taken
# from the cache), `vagrant up MACHINE` (boot, rsync of the project, provisioning with the tests),
# `vagrant destroy -f`, and clean.sh so no VM, volume, network or daemon of ours is left.
# Exits with vagrant up's status; the up log is kept in .vm-cache/vagrant/logs/.
#
#   vm/vagrant/try-offline.sh [offline-6.1-v2]      NESTBOX_TESTS=quick|full|none passes through
set -uo pipefail
machine=${1:-offline-6.1-v2}
case $machine in
  offline-5.10-*) suite=bullseye ;;
  offline-6.1-*) suite=bookworm ;;
  offline-6.12-*) suite=trixie ;;
  *) echo "try-offline: not an offline machine: $machine (see the Vagrantfile)" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo" || exit 1
export VAGRANT_CHECKPOINT_DISABLE=1
logs=$repo/.vm-cache/vagrant/logs
mkdir -p "$logs"
log=$logs/$machine.log

declare -a report
timed() { # label command...  -> runs it, records "label: N s (exit S)"
  local label=$1 t rc
  shift
  t=$(date +%s)
  "$@"
  rc=$?
  report+=("$(printf '%-34s %5d s   exit %d' "$label" $(( $(date +%s) - t )) "$rc")")
  return "$rc"
}

timed "libvirt up" bash "$here/libvirt-up.sh" || exit 1
timed "box ($suite): build or cache, add" bash "$here/build-box.sh" "$suite" || exit 1
timed "vagrant up $machine" bash -c "vagrant up '$machine' --provider=libvirt 2>&1 | tr -d '\r' | tee '$log'; exit \${PIPESTATUS[0]}"
up_rc=$?
timed "vagrant destroy -f" vagrant destroy -f "$machine"
timed "clean (pool images, libvirt down)" bash "$here/clean.sh"

echo
echo "== try-offline $machine"
printf '  %s\n' "${report[@]}"
grep -E '^ +[^ ]+: ava: ' "$log" | sed 's/^ */  tests: /'
echo "  leftovers: $(pgrep -x libvirtd >/dev/null && echo 'libvirtd running' || echo 'libvirtd stopped');" \
  "VMs $(pgrep -fc "guest=$(basename "$repo")_$machine" || true)"
exit "$up_rc"
