#!/usr/bin/env bash
# Decides whether libvirt should run the boxes under KVM or under plain qemu (TCG), by trying:
# a readable /dev/kvm is not enough (a PVM /dev/kvm, for one, cannot run a stock kernel: qemu
# aborts on an MSR, or the guest hangs before its first line). Boots KERNEL under -accel kvm for
# a few seconds and looks for the kernel's banner on the serial console.
#
#   probe-accel.sh KERNEL [OUT_FILE]     prints and writes "kvm" or "qemu" (vagrant-libvirt's lv.driver)
set -euo pipefail
kernel=$1 out=${2:-}
log=$(mktemp)
pid=
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; rm -f "$log"; }
trap cleanup EXIT

driver=qemu
if [ -r /dev/kvm ] && [ -w /dev/kvm ] && command -v qemu-system-x86_64 >/dev/null; then
  exec 3>&2 2>/dev/null  # bash would report qemu's abort ("Aborted ...") as a job notice
  qemu-system-x86_64 -accel kvm -cpu host -m 256 -display none -serial "file:$log" -no-reboot \
    -kernel "$kernel" -append "console=ttyS0 panic=-1" >/dev/null 2>&1 &
  pid=$!
  # Under KVM the banner comes within a second; 15 s leaves room for a loaded host.
  for _ in $(seq 30); do
    if grep -q 'Linux version' "$log" 2>/dev/null; then driver=kvm; break; fi
    [ -d "/proc/$pid" ] || break  # qemu gave up (e.g. it could not set up the vCPU)
    sleep 0.5
  done
  exec 2>&3 3>&-
fi
echo "$driver"
[ -z "$out" ] || echo "$driver" > "$out"
