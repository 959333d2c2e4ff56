#!/bin/sh
# PID 1 of a matrix guest, in two stages.
#
# Stage 1 runs from the initramfs (busybox): loads the early modules, mounts the HOST's root
# (shared read-only over 9p, tag "hostroot") as the lower layer of an overlay whose upper layer
# is a tmpfs, and switch_roots into it. The guest thus runs the host's own node, uidmap,
# fuse-overlayfs, users and the built project, and may write anywhere without touching the host.
#
# Stage 2 runs in that root (/nbx-init stage2): the usual mounts, the module tree (9p tag
# "modules") at /lib/modules/$(uname -r) so the kernel can load modules on demand, /dev/fuse,
# the cgroup layout chosen on the kernel command line (nbx.cgroup=1: v1 controllers plus
# cgroup2 at unified, as systemd's hybrid mode; nbx.cgroup=2: cgroup2 only), then the test
# command from the results share (tag "results", job.env) in the project (a snapshot disk
# image mounted over the project's path when job.env names one), and powers off.
#
# The host reads results/: tap.txt, stderr.txt, rc, guest.log, dmesg.txt. Lines starting with
# "NBX-" on the console mark progress and failures in the serial log.

BB=/bin/busybox
P9="trans=virtio,version=9p2000.L,msize=262144"

param() { # value of nbx.NAME= on the kernel command line
  for w in $(cat /proc/cmdline); do
    case "$w" in "nbx.$1="*) echo "${w#*=}"; return ;; esac
  done
}

fail() {
  echo "NBX-FAIL: $*"
  [ -d /nbx-results ] && echo "$*" >> /nbx-results/fail 2>/dev/null
  $BB sync
  $BB poweroff -f
  sleep 60
}

stage1() {
  $BB --install -s /bin
  export PATH=/bin
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mount -t devtmpfs devtmpfs /dev
  echo "NBX-STAGE1 $(uname -r)"
  if [ "$(param probe)" = 1 ]; then # accelerator probe: booting this far is the answer
    echo "NBX-PROBE-OK $(uname -r)"
    poweroff -f
    sleep 60
  fi
  while read -r m; do
    [ -n "$m" ] || continue
    insmod "/modules/$m" || fail "insmod $m"
  done < /modules/order

  mkdir -p /lower /up
  # cache=loose: the host root is read-only for the guest's lifetime, so caching is safe and
  # saves a 9p round trip per lookup (node opens thousands of files).
  p9cache=$(param p9cache)
  mount -t 9p -o "$P9,ro,cache=${p9cache:-loose}" hostroot /lower || fail "mount 9p hostroot"
  mount -t tmpfs -o mode=0755 tmpfs /up || fail "mount tmpfs upper"
  mkdir -p /up/upper /up/work
  mount -t overlay -o lowerdir=/lower,upperdir=/up/upper,workdir=/up/work overlay /newroot || fail "mount overlay root"
  cp /init /newroot/nbx-init && cp $BB /newroot/nbx-busybox || fail "copy init into the new root"
  mount --move /dev /newroot/dev || fail "move /dev"
  umount /proc /sys
  exec switch_root /newroot /nbx-init stage2
}

cgroups_v2() {
  mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || fail "mount cgroup2"
  # Everything runs in the root cgroup (as in a container with its own cgroup namespace);
  # the root may hand all controllers to its children.
  for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
    echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control || echo "NBX-WARN: cannot enable $c"
  done
}

cgroups_v1() {
  mount -t tmpfs -o mode=0755 tmpfs /sys/fs/cgroup || fail "mount tmpfs at /sys/fs/cgroup"
  # One hierarchy per enabled controller (as on this project's CI host), a named systemd one,
  # and cgroup2 without controllers at unified: systemd's hybrid layout.
  while read -r name _ _ enabled; do
    case "$name" in '#'*) continue ;; esac
    [ "$enabled" = 1 ] || continue
    mkdir -p "/sys/fs/cgroup/$name"
    mount -t cgroup -o "$name" cgroup "/sys/fs/cgroup/$name" || fail "mount cgroup v1 $name (this kernel lacks it)"
  done < /proc/cgroups
  mkdir -p /sys/fs/cgroup/systemd /sys/fs/cgroup/unified
  mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd || fail "mount name=systemd"
  mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified || fail "mount cgroup2 at unified"
}

stage2() {
  export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mkdir -p /dev/pts /dev/shm /nbx-results
  mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts
  mount -t tmpfs -o mode=1777 tmpfs /dev/shm
  for l in fd:/proc/self/fd stdin:/proc/self/fd/0 stdout:/proc/self/fd/1 stderr:/proc/self/fd/2; do
    [ -e "/dev/${l%%:*}" ] || ln -s "${l#*:}" "/dev/${l%%:*}"
  done
  mount -t tmpfs -o mode=1777 tmpfs /tmp
  mount -t tmpfs -o mode=0755 tmpfs /run
  # results: no cache, so the host sees the TAP stream while the tests run
  mount -t 9p -o "$P9" results /nbx-results || fail "mount 9p results"
  exec 3>>/nbx-results/guest.log
  log() { echo "$*" >&3; echo "NBX: $*"; }
  kver=$(uname -r)
  mkdir -p "/lib/modules/$kver"
  mount -t 9p -o "$P9,ro,cache=loose" modules "/lib/modules/$kver" || fail "mount 9p modules"
  # fuse: fuse-overlayfs (the overlay fallback before 5.11); veth/bridge/tun: networking.
  for m in fuse veth bridge tun loop; do modprobe "$m" 2>&3 || log "modprobe $m failed"; done
  for d in /dev/fuse /dev/net/tun; do [ -e "$d" ] && chmod 0666 "$d"; done
  hostname "nbx-$(param kernel || echo guest)"
  $BB ip link set lo up || log "lo up failed"

  cg=$(param cgroup)
  case "$cg" in
    1) cgroups_v1 ;;
    2) cgroups_v2 ;;
    *) fail "nbx.cgroup must be 1 or 2, not '$cg'" ;;
  esac
  log "kernel $kver, cgroup v$cg, $(grep -c ^processor /proc/cpuinfo) cpu, $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"
  mount | grep -E 'cgroup|overlay|9p' >&3

  [ -r /nbx-results/job.env ] || fail "no job.env in the results share"
  . /nbx-results/job.env
  if [ -n "$NBX_PROJECT_DEV" ]; then # the project snapshot disk (vm/project-image.mjs)
    modprobe virtio_blk 2>&3; modprobe ext4 2>&3
    n=0; while [ ! -b "$NBX_PROJECT_DEV" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
    mkdir -p "$NBX_PROJECT"
    mount -t ext4 "$NBX_PROJECT_DEV" "$NBX_PROJECT" || fail "mount the project image $NBX_PROJECT_DEV at $NBX_PROJECT"
  fi
  cd "$NBX_PROJECT" || fail "no project at $NBX_PROJECT"
  log "running: $NBX_COMMAND"
  echo "NBX-TESTS-START"
  # A clean environment like a login shell's; PID 1 (this shell) reaps orphans while it waits.
  # shellcheck disable=SC2086
  env -i PATH="$PATH" HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM=dumb $NBX_ENV \
    $NBX_COMMAND > /nbx-results/tap.txt 2> /nbx-results/stderr.txt < /dev/null &
  pid=$!
  wait "$pid"
  rc=$?
  echo "$rc" > /nbx-results/rc
  echo "NBX-TESTS-DONE rc=$rc"
  dmesg > /nbx-results/dmesg.txt 2>&1
  exec 3>&-
  sync
  umount /nbx-results
  $BB poweroff -f
  sleep 60
}

case "$1" in
  stage2) stage2 ;;
  *) stage1 ;;
esac
