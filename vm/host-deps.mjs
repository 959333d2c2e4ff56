// What the host needs for the matrix. As root on a fresh Debian machine the missing packages are
// installed with the host's own apt (as scripts/setup-host.sh does); otherwise the runner stops
// and names them. The guest runs the host's userland, so the guest-side tools (node, uidmap,
// fuse-overlayfs, busybox) must be on the host too.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const NEEDS = [
  { what: 'qemu-system-x86_64', pkg: 'qemu-system-x86', why: 'boots the guests' },
  { what: 'depmod', pkg: 'kmod', why: 'module index for the Debian kernels; modprobe inside the guests' },
  { what: 'dpkg-deb', pkg: 'dpkg', why: 'unpacks the kernel packages' },
  { what: 'apt-get', pkg: 'apt', why: 'downloads the kernel packages' },
  { what: 'busybox', pkg: 'busybox-static', why: 'the initramfs' },
  { what: 'xz', pkg: 'xz-utils', why: 'decompresses .ko.xz modules (Debian 13)' },
  { what: 'mke2fs', pkg: 'e2fsprogs', why: 'the project snapshot disk image' },
  { what: 'newuidmap', pkg: 'uidmap', why: 'rootless id maps (host and guests)' },
  { what: 'fuse-overlayfs', pkg: 'fuse-overlayfs', why: 'the overlay fallback on kernels before 5.11' },
  { what: 'runc', pkg: 'runc', why: 'the bundle comparison test (test/integration/runc-compare)' },
];
const BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function have(cmd) {
  return BIN_DIRS.some((d) => existsSync(`${d}/${cmd}`));
}

/** Returns [] when all is there; installs what is missing when root; else throws with the list. */
export function ensureHostTools(log = () => {}, { vm = true } = {}) {
  const missing = NEEDS.filter((n) => (vm || ['newuidmap', 'fuse-overlayfs'].includes(n.what)) && !have(n.what));
  if (missing.length === 0) return [];
  const pkgs = [...new Set(missing.map((m) => m.pkg))];
  const list = missing.map((m) => `${m.what} (package ${m.pkg}: ${m.why})`).join('; ');
  if (process.getuid() !== 0) throw new Error(`missing on this host: ${list}. As root: apt-get install ${pkgs.join(' ')}`);
  log(`installing ${pkgs.join(' ')} with the host's apt (${list})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['-qq', 'update'], { stdio: 'inherit', env });
  const install = update.status === 0 && spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env });
  if (!install || install.status !== 0) throw new Error(`apt-get install ${pkgs.join(' ')} failed; install them by hand`);
  const still = missing.filter((m) => !have(m.what));
  if (still.length) throw new Error(`still missing after install: ${still.map((m) => m.what).join(', ')}`);
  return pkgs;
}
