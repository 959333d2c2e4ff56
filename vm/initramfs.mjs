// The guest's initramfs: the host's static busybox, vm/guest-init.sh as /init, and just the
// modules needed to reach the root file system (virtio, 9p, overlay), decompressed so busybox's
// insmod loads them on every kernel. Everything else loads later from the 9p-shared module tree.
// Written as a newc cpio by hand (no cpio binary needed, and /dev/console can be a device node
// without being root), gzip'ed; cached per kernel, keyed by the hashes of what goes in.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync, renameSync } from 'node:fs';
import { join, basename } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { moduleClosure } from './kernel-cache.mjs';
import { sha256Text } from './cache.mjs';

export const INIT_SCRIPT = fileURLToPath(new URL('./guest-init.sh', import.meta.url));
/** What must be loaded before the root can be mounted; built-ins (6.12 has virtio_pci) are skipped. */
export const EARLY_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];
const FORMAT = 2; // bump when the layout of the initramfs changes

export function findBusybox() {
  for (const p of ['/usr/bin/busybox', '/bin/busybox']) {
    if (!existsSync(p)) continue;
    const file = spawnSync('file', ['-b', realpathSync(p)], { encoding: 'utf8' }).stdout ?? '';
    // A dynamically linked busybox would need its libraries in the initramfs too.
    if (file && !/statically linked|static-pie/.test(file)) continue;
    return p;
  }
  throw new Error('a static busybox is needed for the guest initramfs: apt-get install busybox-static');
}

/** Returns the path of a valid initramfs for `kernel` (from prepareKernel), building it if needed. */
export async function prepareInitramfs(cache, kernel, log = () => {}) {
  const busybox = readFileSync(findBusybox());
  const init = readFileSync(INIT_SCRIPT);
  const mods = moduleClosure(kernel.modulesDir, EARLY_MODULES);
  const modulesSha = cache.entry(join('kernels', kernel.key, 'modules')).sha256;
  const inputs = sha256Text(String(FORMAT), busybox, init, modulesSha, mods.join(','));
  const rel = join('kernels', kernel.key, 'initramfs.cpio.gz');
  if (await cache.valid(rel, { inputs })) return cache.path(rel);

  const cpio = new Cpio();
  for (const d of ['bin', 'dev', 'proc', 'sys', 'modules', 'newroot', 'run']) cpio.dir(d);
  cpio.device('dev/console', 0o600, 5, 1);
  cpio.device('dev/null', 0o666, 1, 3);
  cpio.file('bin/busybox', 0o755, busybox);
  cpio.symlink('bin/sh', 'busybox');
  cpio.file('init', 0o755, init);
  const names = [];
  mods.forEach((m, i) => {
    const name = `${String(i).padStart(2, '0')}-${basename(m).replace(/\.ko(\.(xz|zst|gz))?$/, '')}.ko`;
    cpio.file(`modules/${name}`, 0o644, decompress(join(kernel.modulesDir, m)));
    names.push(name);
  });
  cpio.file('modules/order', 0o644, Buffer.from(`${names.join('\n')}\n`));
  const out = cache.path(rel);
  writeFileSync(`${out}.tmp`, gzipSync(cpio.finish(), { level: 6 }));
  renameSync(`${out}.tmp`, out);
  await cache.record(rel, { inputs, modules: names });
  log(`kernel ${kernel.key}: initramfs built (${names.length} modules: ${names.map((n) => n.slice(3, -3)).join(' ')})`);
  return out;
}

function decompress(path) {
  const tool = path.endsWith('.xz') ? ['xz', '-dc'] : path.endsWith('.zst') ? ['zstd', '-dcq'] : path.endsWith('.gz') ? ['gzip', '-dc'] : undefined;
  if (!tool) return readFileSync(path);
  const r = spawnSync(tool[0], [...tool.slice(1), path], { maxBuffer: 256 << 20 });
  if (r.error || r.status !== 0) throw new Error(`${tool[0]} ${path}: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

/** Minimal "newc" (SVR4 without CRC) cpio archive writer. */
class Cpio {
  constructor() {
    this.parts = [];
    this.ino = 1;
  }

  entry(name, mode, data = Buffer.alloc(0), rdev = [0, 0]) {
    const nameBuf = Buffer.from(`${name}\0`);
    const hex = (n) => n.toString(16).padStart(8, '0');
    const fields = [this.ino++, mode, 0, 0, (mode & 0o170000) === 0o040000 ? 2 : 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBuf.length, 0];
    const header = Buffer.from(`070701${fields.map(hex).join('')}`);
    this.parts.push(header, nameBuf, pad(header.length + nameBuf.length), data, pad(data.length));
  }

  dir(name) { this.entry(name, 0o040755); }
  file(name, perm, data) { this.entry(name, 0o100000 | perm, data); }
  symlink(name, target) { this.entry(name, 0o120777, Buffer.from(target)); }
  device(name, perm, major, minor) { this.entry(name, 0o020000 | perm, undefined, [major, minor]); }

  finish() {
    this.entry('TRAILER!!!', 0);
    return Buffer.concat(this.parts);
  }
}

function pad(len) {
  return Buffer.alloc((4 - (len % 4)) % 4);
}
