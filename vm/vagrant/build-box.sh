#!/usr/bin/env bash
# Builds the offline Vagrant box nestbox/SUITE-KERNEL for the libvirt provider from Debian packages
# (rootfs.sh), caches it as .vm-cache/vagrant/nestbox-SUITE.box with its sha256, and adds it to
# Vagrant. A cached box is re-used while its recipe (these scripts, the suite, the mirror, the
# project's package list, the host's node) is unchanged and its sha256 still matches.
#
#   vm/vagrant/build-box.sh [bookworm|bullseye|trixie]      (as root; default bookworm)
#   NESTBOX_BOX_SIZE_GB=8  NESTBOX_VAGRANT_CACHE=DIR  NESTBOX_BOX_REBUILD=1
#
# The image is one ext4 file system over the whole disk with no boot loader: the box's own
# Vagrantfile boots it with vagrant-libvirt's direct kernel boot (lv.kernel/lv.initrd/lv.cmd_line,
# files shipped inside the box), which is also how a machine picks cgroup v1 or v2 (cmd_line).
set -euo pipefail
suite=${1:-bookworm}
case $suite in
  bullseye) kver=5.10 ;;
  bookworm) kver=6.1 ;;
  trixie) kver=6.12 ;;
  *) echo "build-box: unknown suite $suite (bullseye, bookworm, trixie)" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${NESTBOX_VAGRANT_CACHE:-$repo/.vm-cache/vagrant}
size_gb=${NESTBOX_BOX_SIZE_GB:-8}
name=nestbox/$suite-$kver
box=$cache/nestbox-$suite.box
work=$cache/work-$suite

if [ "$(id -u)" != 0 ]; then echo "build-box: run as root (debootstrap and chroot)" >&2; exit 1; fi
for tool in debootstrap mke2fs qemu-img vagrant sha256sum; do
  command -v "$tool" >/dev/null || { echo "build-box: $tool missing (see vm/vagrant/README.md)" >&2; exit 1; }
done
mkdir -p "$cache"
t0=$(date +%s)
stamp() { echo "build-box: $1 ($(( $(date +%s) - t0 )) s)"; }

recipe=$({
  cat "$here/build-box.sh" "$here/rootfs.sh" "$here/apt-mirror.sh"
  echo "$suite $size_gb"
  bash "$here/apt-mirror.sh"
  grep '^pkgs=' "$repo/scripts/setup-host.sh"
  node --version
} | sha256sum | cut -c1-16)

cached_ok() {
  [ -z "${NESTBOX_BOX_REBUILD:-}" ] && [ -f "$box" ] && [ -f "$box.sha256" ] &&
    [ "$(cat "$box.recipe" 2>/dev/null)" = "$recipe" ] &&
    (cd "$cache" && sha256sum --check --quiet "$(basename "$box").sha256")
}

build() {
  rm -rf "$work"
  mkdir -p "$work/box"
  bash "$here/rootfs.sh" "$suite" "$work/rootfs" "$cache/debs"
  stamp "root file system ready"

  local kernel initrd
  kernel=$(ls "$work"/rootfs/boot/vmlinuz-* | sort -V | tail -1)
  initrd=$work/rootfs/boot/initrd.img-${kernel##*/vmlinuz-}
  case ${kernel##*/vmlinuz-} in
    "$kver".*) ;;
    *) echo "build-box: warning: $suite brought kernel ${kernel##*/vmlinuz-}, expected $kver.x" >&2 ;;
  esac
  cp "$kernel" "$work/box/vmlinuz"
  cp "$initrd" "$work/box/initrd.img"

  # mke2fs -d fills the file system straight from the directory: no loop device, no mount.
  truncate -s "${size_gb}G" "$work/root.raw"
  mke2fs -q -t ext4 -L nestbox-root -d "$work/rootfs" "$work/root.raw"
  qemu-img convert -c -O qcow2 "$work/root.raw" "$work/box/box.img"
  rm -rf "$work/root.raw" "$work/rootfs"
  stamp "disk image ready ($(du -h "$work/box/box.img" | cut -f1) qcow2)"

  printf '{"provider": "libvirt", "format": "qcow2", "virtual_size": %d}\n' "$size_gb" > "$work/box/metadata.json"
  cat > "$work/box/Vagrantfile" <<'EOF'
# Box Vagrantfile written by nestbox's vm/vagrant/build-box.sh. The disk has no boot loader: boot
# the kernel and initramfs shipped beside it. A project Vagrantfile that sets lv.cmd_line must
# keep "root=/dev/vda rw".
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    lv.kernel = File.expand_path("vmlinuz", __dir__)
    lv.initrd = File.expand_path("initrd.img", __dir__)
    lv.cmd_line = "root=/dev/vda rw console=ttyS0"
  end
end
EOF
  echo "$recipe" > "$work/box/nestbox-recipe"
  # A .box is a tar of these files; the qcow2 inside is already compressed.
  tar -C "$work/box" -cf "$box.tmp" .
  mv "$box.tmp" "$box"
  (cd "$cache" && sha256sum "$(basename "$box")" > "$(basename "$box").sha256")
  echo "$recipe" > "$box.recipe"
  rm -rf "$work"
  stamp "box written: $box ($(du -h "$box" | cut -f1))"
}

if cached_ok; then
  stamp "cached box is current: $box"
else
  build
fi

# Add it unless Vagrant already has this very recipe.
vagrant_home=${VAGRANT_HOME:-$HOME/.vagrant.d}
installed=$vagrant_home/boxes/${name//\//-VAGRANTSLASH-}/0/libvirt/nestbox-recipe
if [ "$(cat "$installed" 2>/dev/null)" != "$recipe" ]; then
  vagrant box add --force --name "$name" "$box"
  stamp "box added to Vagrant as $name"
else
  stamp "Vagrant already has $name from this recipe"
fi

# The Vagrantfile reads lv.driver from here (kvm, or qemu where KVM cannot run a stock kernel).
if [ ! -s "$cache/libvirt-driver" ]; then
  driver=$(bash "$here/probe-accel.sh" "$(dirname "$installed")/vmlinuz" "$cache/libvirt-driver")
  stamp "accelerator probe: lv.driver = $driver"
fi
