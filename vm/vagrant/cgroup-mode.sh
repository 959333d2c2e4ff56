#!/usr/bin/env bash
# Selects cgroup v1 or v2 for the next boot of a public box (as root in the guest), by putting
# systemd.unified_cgroup_hierarchy=0|1 on the kernel command line of its boot loader. The
# Vagrantfile reboots the machine after this script (shell provisioner `reboot: true`).
#
#   cgroup-mode.sh 1|2
# v1 means systemd's hybrid layout (v1 controllers, cgroup2 at /sys/fs/cgroup/unified); systemd
# >= 256 refuses v1 altogether, and Debian's 6.12 kernels lack the v1 memory controller.
set -euo pipefail
want=$1
case $want in 1) flag=systemd.unified_cgroup_hierarchy=0 ;; 2) flag=systemd.unified_cgroup_hierarchy=1 ;;
  *) echo "cgroup-mode: 1 or 2" >&2; exit 2 ;; esac

if command -v grubby >/dev/null; then  # Fedora
  grubby --update-kernel=ALL --remove-args=systemd.unified_cgroup_hierarchy --args="$flag"
elif [ -d /etc/default ] && command -v update-grub >/dev/null; then  # Debian, Ubuntu
  # A drop-in read after /etc/default/grub (and after Ubuntu's cloud-image drop-ins).
  mkdir -p /etc/default/grub.d
  echo "GRUB_CMDLINE_LINUX=\"\$GRUB_CMDLINE_LINUX $flag\"" > /etc/default/grub.d/99-nestbox-cgroup.cfg
  update-grub 2>&1 | tail -1
else
  echo "cgroup-mode: no grubby or update-grub here; add $flag to the kernel command line by hand" >&2
  exit 1
fi
echo "cgroup-mode: next boot gets $flag (now: $(stat -fc %T /sys/fs/cgroup))"
