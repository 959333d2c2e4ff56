// Debian kernels for the matrix, unpacked into the cache: the kernel image for direct boot and
// the module tree (depmod'ed) that the guest mounts at /lib/modules/<version> over 9p, so the
// kernel can load any module on demand through the host's modprobe. Once built and recorded
// in the manifest, a kernel is re-used offline; --refresh asks apt for a newer one.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, copyFileSync } from 'node:fs';
import { join, basename } from 'node:path';

/** The kernels of the matrix: Debian release whose linux-image-amd64 gives that series. */
export const KERNELS = {
  '5.10': { suite: 'bullseye', cgroupV1: true },
  '6.1': { suite: 'bookworm', cgroupV1: true },
  '6.12': { suite: 'trixie', cgroupV1: false, noV1Why: "Debian's 6.12 kernels are built without the cgroup v1 memory and cpuset controllers" },
};
const META_PACKAGE = 'linux-image-amd64';

// Module trees for hardware a guest never has: dropped so the tree is smaller to hash and share.
// Bump PRUNE_VERSION when the list changes (cached trees are then rebuilt).
const PRUNE = ['sound', 'drivers/gpu', 'drivers/media', 'drivers/infiniband', 'drivers/net/wireless', 'drivers/net/ethernet',
  'drivers/staging', 'drivers/usb', 'drivers/scsi', 'drivers/hid', 'drivers/input', 'drivers/iio', 'drivers/bluetooth',
  'drivers/isdn', 'drivers/net/can', 'net/wireless', 'net/mac80211', 'net/bluetooth'];
const PRUNE_VERSION = 1;

/**
 * Makes sure the kernel `key` ('5.10', ...) is in the cache and valid; returns
 * { key, kver, vmlinuz, modulesDir, config, package, version }.
 * `apt` is a PrivateApt (used only when something must be downloaded or --refresh is given).
 */
export async function prepareKernel(cache, apt, key, { refresh = false, log = () => {} } = {}) {
  const spec = KERNELS[key];
  if (!spec) throw new Error(`unknown kernel ${key} (known: ${Object.keys(KERNELS).join(', ')})`);
  const dirRel = join('kernels', key);
  const rel = { vmlinuz: join(dirRel, 'vmlinuz'), modules: join(dirRel, 'modules'), deb: undefined };
  const known = cache.entry(rel.vmlinuz);

  // Which package: the one recorded last time, unless asked to look for a newer one.
  let pkg = known && !refresh ? { name: known.package, version: known.version, sha256: known.debSha256, suite: spec.suite } : undefined;
  if (!pkg) pkg = apt.resolveKernel(META_PACKAGE, spec.suite);
  const facts = { package: pkg.name, version: pkg.version, debSha256: pkg.sha256, prune: PRUNE_VERSION };

  if ((await cache.valid(rel.vmlinuz, facts)) && (await cache.valid(rel.modules, facts))) {
    log(`kernel ${key}: cached ${pkg.name} ${pkg.version}`);
    return describe(cache, key, dirRel, pkg);
  }

  const deb = await ensureDeb(cache, apt, pkg, log);
  log(`kernel ${key}: unpacking ${basename(deb)}`);
  const tmp = cache.path(`${dirRel}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    run('dpkg-deb', ['-x', deb, join(tmp, 'x')]);
    // Debian 13 ships modules under usr/lib/modules (merged /usr), older releases under lib/modules.
    const modParent = ['usr/lib/modules', 'lib/modules'].map((p) => join(tmp, 'x', p)).find((p) => existsSync(p));
    if (!modParent) throw new Error(`${basename(deb)}: no lib/modules inside`);
    const kver = readdirSync(modParent)[0];
    const image = join(tmp, 'x', 'boot', `vmlinuz-${kver}`);
    if (!existsSync(image)) throw new Error(`${basename(deb)}: no boot/vmlinuz-${kver}`);
    for (const p of PRUNE) rmSync(join(modParent, kver, 'kernel', p), { recursive: true, force: true });

    const out = cache.path(dirRel);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(join(out, 'modules'), { recursive: true });
    renameSync(join(modParent, kver), join(out, 'modules', kver));
    copyFileSync(image, join(out, 'vmlinuz'));
    copyFileSync(join(tmp, 'x', 'boot', `config-${kver}`), join(out, 'config'));
    // depmod -b wants <base>/lib/modules/<kver>: a symlinked base keeps the tree where 9p shares it.
    mkdirSync(join(tmp, 'base', 'lib'), { recursive: true });
    run('ln', ['-s', join(out, 'modules'), join(tmp, 'base', 'lib', 'modules')]);
    run('depmod', ['-b', join(tmp, 'base'), kver]);
    await cache.record(rel.modules, { ...facts, kver });
    await cache.record(rel.vmlinuz, { ...facts, kver });
    log(`kernel ${key}: ${pkg.name} ${pkg.version} (${kver}) ready`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return describe(cache, key, dirRel, pkg);
}

function describe(cache, key, dirRel, pkg) {
  const kver = cache.entry(join(dirRel, 'vmlinuz')).kver;
  return {
    key,
    kver,
    package: pkg.name,
    version: pkg.version,
    vmlinuz: cache.path(dirRel, 'vmlinuz'),
    modulesDir: cache.path(dirRel, 'modules', kver),
    config: cache.path(dirRel, 'config'),
  };
}

/** The .deb in debs/, downloaded when missing or when it no longer has apt's SHA256. */
async function ensureDeb(cache, apt, pkg, log) {
  const debsRel = 'debs';
  const recorded = Object.entries(cache.manifest.entries).find(([k, e]) => k.startsWith(`${debsRel}/`) && e.package === pkg.name && e.version === pkg.version);
  if (recorded && (await cache.valid(recorded[0], { sha256: pkg.sha256 ?? recorded[1].sha256 }))) return cache.path(recorded[0]);
  if (recorded) {
    log(`${recorded[0]}: hash differs from the manifest; downloading again`);
    rmSync(cache.path(recorded[0]), { force: true });
    cache.forget(recorded[0]);
  }
  if (!pkg.sha256) Object.assign(pkg, apt.resolveKernel(META_PACKAGE, pkg.suite));
  log(`downloading ${pkg.name} ${pkg.version} (${pkg.size ? `${Math.round(pkg.size / 1e6)} MB` : 'size unknown'}) from ${pkg.suite}`);
  const file = apt.download(pkg, cache.path(debsRel));
  const rel = join(debsRel, basename(file));
  // A newer kernel of the same release replaces the old one (--refresh); the cache does not grow.
  for (const [k, e] of Object.entries(cache.manifest.entries)) {
    if (k.startsWith(`${debsRel}/`) && k !== rel && e.suite === pkg.suite) {
      rmSync(cache.path(k), { force: true });
      cache.forget(k);
    }
  }
  const e = await cache.record(rel, { package: pkg.name, version: pkg.version, suite: pkg.suite });
  if (pkg.sha256 && e.sha256 !== pkg.sha256) {
    cache.forget(rel);
    rmSync(file, { force: true });
    throw new Error(`${basename(file)}: sha256 ${e.sha256} is not the archive's ${pkg.sha256}`);
  }
  return file;
}

/** Module load order (dependencies first) for `names`, from modules.dep; built-ins are skipped. */
export function moduleClosure(modulesDir, names) {
  const deps = new Map();
  const byName = new Map();
  for (const line of readFileSync(join(modulesDir, 'modules.dep'), 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const path = line.slice(0, i);
    deps.set(path, line.slice(i + 1).trim().split(/\s+/).filter(Boolean));
    byName.set(modName(path), path);
  }
  const builtin = new Set(readFileSync(join(modulesDir, 'modules.builtin'), 'utf8').split('\n').filter(Boolean).map(modName));
  const order = [];
  const seen = new Set();
  const visit = (path) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const d of deps.get(path) ?? []) visit(d);
    order.push(path);
  };
  for (const n of names) {
    const norm = n.replace(/-/g, '_');
    if (byName.has(norm)) visit(byName.get(norm));
    else if (!builtin.has(norm)) throw new Error(`module ${n} is neither built in nor in ${modulesDir}`);
  }
  return order;
}

function modName(path) {
  return basename(path).replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}
