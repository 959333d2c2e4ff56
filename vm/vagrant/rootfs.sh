#!/usr/bin/env bash
# Builds the root file system of an offline Vagrant box: debootstrap of a Debian release from the
# machine's own apt mirror, plus what Vagrant needs (sshd, sudo, the vagrant user with Vagrant's
# documented insecure key, DHCP on the first NIC, rsync for the synced folder), a kernel with its
# initramfs, the packages scripts/setup-host.sh would install (the guest has no network, so its apt
# cannot fetch them), and the host's Node.js (Debian 11/12 ship Node < 20).
#
#   rootfs.sh SUITE TARGET_DIR DEB_CACHE_DIR      (as root)
set -euo pipefail
suite=$1 target=$2 debcache=$3
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

if [ "$(id -u)" != 0 ]; then echo "rootfs: run as root (debootstrap and chroot)" >&2; exit 1; fi

# debootstrap mounts /proc, /sys and friends inside the target while it configures packages; if it
# is interrupted they stay mounted. Unmount whatever is mounted below the target, deepest first.
unmount_below() {
  local m
  findmnt -rn -o TARGET | awk -v t="$(realpath -m "$target")" 'index($0, t "/") == 1' | sort -r |
    while read -r m; do umount -l "$m" || true; done
}
trap unmount_below EXIT

mirror=$(bash "$here/apt-mirror.sh")
# The project's own package list, taken from setup-host.sh so the two cannot drift apart.
project_pkgs=$(sed -n 's/^pkgs=(\(.*\))$/\1/p' "$repo/scripts/setup-host.sh")
[ -n "$project_pkgs" ] || { echo "rootfs: no pkgs=(...) line in scripts/setup-host.sh" >&2; exit 1; }
box_pkgs="systemd-sysv udev dbus openssh-server sudo rsync linux-image-amd64 initramfs-tools kmod
  iproute2 procps less netbase"
include=$(echo $box_pkgs $project_pkgs | tr ' ' ',')

case $(basename "$target") in rootfs*) ;; *) echo "rootfs: target must be a directory named rootfs*" >&2; exit 1;; esac
unmount_below  # a run interrupted earlier may have left /proc or /dev mounted in there
rm -rf --one-file-system "$target"
mkdir -p "$target" "$debcache"
echo "rootfs: debootstrap $suite from the apt configuration's mirror"
debootstrap --variant=minbase --include="$include" --cache-dir="$(realpath "$debcache")" \
  "$suite" "$target" "$mirror" > "$target.debootstrap.log" 2>&1 ||
  { tail -20 "$target.debootstrap.log" >&2; exit 1; }
unmount_below

in_root() { chroot "$target" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

echo "rootfs: configuring"
echo nestbox > "$target/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tnestbox\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$target/etc/hosts"
# Whole-disk ext4 (no partition table): the kernel gets root=/dev/vda from the box's Vagrantfile.
echo '/dev/vda / ext4 defaults,errors=remount-ro 0 1' > "$target/etc/fstab"
# Empty: each VM made from the box generates its own id at first boot (and so its own DHCP
# client id and lease).
: > "$target/etc/machine-id"
rm -f "$target/var/lib/dbus/machine-id"
# The guest has no route out and must not try: no resolver, no time sync, no apt timers.
: > "$target/etc/resolv.conf"

# DHCP on whatever the virtio NIC is called; vagrant-libvirt finds the VM by its lease.
cat > "$target/etc/systemd/network/10-vagrant.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
EOF
in_root systemctl enable systemd-networkd.service >/dev/null 2>&1
in_root systemctl mask systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer \
  e2scrub_all.timer fstrim.timer >/dev/null 2>&1

# sshd host keys must differ per VM: drop the ones the package made, generate at first boot.
rm -f "$target"/etc/ssh/ssh_host_*
cat > "$target/etc/systemd/system/ssh-hostkeys.service" <<'EOF'
[Unit]
Description=Generate missing sshd host keys
Before=ssh.service

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
RequiredBy=ssh.service
EOF
in_root systemctl enable ssh-hostkeys.service >/dev/null 2>&1
echo 'UseDNS no' > "$target/etc/ssh/sshd_config.d/vagrant.conf"

# The vagrant user, as every Vagrant base box has it: passwordless sudo and Vagrant's public
# insecure key (Vagrant replaces it with a fresh key pair on the first `vagrant up`).
pubkey=${VAGRANT_INSECURE_PUBKEY:-$(find /usr/share/rubygems-integration /opt/vagrant /usr/lib/ruby /var/lib/gems \
  -path '*/vagrant-*/keys/vagrant.pub' 2>/dev/null | head -1 || true)}
[ -f "$pubkey" ] || { echo "rootfs: Vagrant's keys/vagrant.pub not found (set VAGRANT_INSECURE_PUBKEY)" >&2; exit 1; }
in_root useradd --create-home --shell /bin/bash vagrant
# useradd gave vagrant the first subordinate id range; it needs none, and leaving 100000 free
# makes the first user created in the VM (setup-host.sh's test user) get it, as on a fresh host.
sed -i '/^vagrant:/d' "$target/etc/subuid" "$target/etc/subgid"
in_root usermod -p '*' vagrant  # no password, but not locked
install -d -m 0700 "$target/home/vagrant/.ssh"
install -m 0600 "$pubkey" "$target/home/vagrant/.ssh/authorized_keys"
in_root chown -R vagrant:vagrant /home/vagrant/.ssh
echo 'vagrant ALL=(ALL) NOPASSWD: ALL' > "$target/etc/sudoers.d/vagrant"
chmod 0440 "$target/etc/sudoers.d/vagrant"

# Node.js >= 20 (package.json engines). Debian 11/12 ship older ones and the guest reaches no
# registry, so install the host's node and npm (this is a Debian host: the userland matches).
node_bin=$(realpath "$(command -v node)")
npm_dir=$(realpath "$(dirname "$(realpath "$(command -v npm)")")/..")
node_major=$("$node_bin" -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || { echo "rootfs: host node is $("$node_bin" --version), need >= 20" >&2; exit 1; }
install -D -m 0755 "$node_bin" "$target/usr/local/bin/node"
mkdir -p "$target/usr/local/lib/node_modules"
cp -a "$npm_dir" "$target/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$target/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$target/usr/local/bin/npx"
in_root /usr/local/bin/node --version > /dev/null

in_root apt-get clean
rm -rf "$target"/var/lib/apt/lists/* "$target"/var/log/*.log "$target"/tmp/* "$target"/root/.bash_history
echo "rootfs: ok ($(du -sh "$target" | cut -f1), kernel $(ls "$target"/boot | sed -n 's/^vmlinuz-//p'))"
