#!/usr/bin/env node
// The native runtime alone (no services), side by side with the tools that do the same job, in
// one run: start-to-exit of `true` in a fresh user+pid+mount+uts+ipc+net+cgroup namespace set.
//   - nestbox-runtime: the bundle the namespace service writes for `run --rm` (overlay root with
//     `volatile`, pivot_root, /proc, /dev, /sys, masks, capabilities, seccomp), without cgroups;
//     and the same for a kept container (no --rm: overlay syncs the upper's filesystem at the end);
//   - unshare(1) with the same namespaces (no root change, no mounts: the floor), and rootless
//     also with --map-auto (the subordinate ranges through newuidmap, as ours maps them);
//   - bwrap and runc where installed (runc as the unprivileged user: as root on a v1 host it
//     would create cgroups outside our own subtree).
// As root and, through setpriv, as the unprivileged test user; the commands take turns run by run.
// Prints medians and the ratio to
// the unshare that maps ids the same way. Usage (as root): npm run build && node bench/runtime.mjs [--runs N] [--user NAME]
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lchownSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bwrapArgv, median, runcBundle, which } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '30' },
    user: { type: 'string', default: 'nbxtest' },
    worker: { type: 'string' }, // internal: the rootless half, run as the user
  },
});
const RUNS = Number(values.runs);
if (!Number.isInteger(RUNS) || RUNS < 3) throw new Error('--runs takes an integer >= 3');

const runtime = join(root, 'native', 'build', 'nestbox-runtime');
const NAMESPACES = ['--user', '--map-root-user', '--pid', '--fork', '--mount', '--uts', '--ipc', '--net', '--cgroup'];


/** One run of `argv` in ms, failing on a non-zero exit. */
function once(argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${(r.stderr || '').trim().split('\n').pop()}`);
  return ms;
}

/**
 * Median wall time of each [name, argv] over RUNS runs, after one warm-up each. The commands
 * take turns (A B C A B C ...) so that load on a shared machine hits all of them alike.
 */
function timeAll(cmds) {
  // argv may be made per run (i: -1 for the warm-up), untimed
  const argvOf = (argv, i) => (typeof argv === 'function' ? argv(i) : argv);
  for (const [, argv] of cmds) once(argvOf(argv, -1));
  const ms = cmds.map(() => []);
  for (let i = 0; i < RUNS; i++) cmds.forEach(([, argv], k) => ms[k].push(once(argvOf(argv, i))));
  return new Map(cmds.map(([name], k) => [name, median(ms[k])]));
}

/** A busybox root with the directories the mounts need, owned by container root's host ids. */
function makeRootfs(dir, owner) {
  for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp', 'etc']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  for (const a of ['true', 'sh']) symlinkSync('busybox', join(dir, 'bin', a));
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  if (owner) chownTree(dir, owner);
}

function chownTree(path, owner) {
  if (lstatSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), owner);
  lchownSync(path, owner.uid, owner.gid);
}

/** Our bundle (overlay root over `lower`) and a runc bundle (plain read-only root) in `base`. */
async function makeBundles(base) {
  const { buildSpec, writeBundle } = await import(join(root, 'dist', 'services', 'namespace', 'oci-bundle.js'));
  const { hostIdMaps } = await import(join(root, 'dist', 'services', 'namespace', 'id-maps.js'));
  const ids = hostIdMaps();
  const lower = join(base, 'lower');
  makeRootfs(lower, process.getuid() === 0 ? { uid: ids.rootUid, gid: ids.rootGid } : undefined);
  // each bundle its own upper/work/merged: after a volatile mount the kernel refuses a
  // non-volatile one of the same work dir (work/work/incompat/volatile)
  const rootfs = (name) => {
    const dirs = {};
    for (const d of ['upper', 'work', 'merged']) {
      dirs[d] = join(base, `${name}-${d}`);
      mkdirSync(dirs[d]);
      if (process.getuid() === 0) chownSync(dirs[d], ids.rootUid, ids.rootGid);
    }
    return { lowerDirs: [lower], upperDir: dirs.upper, workDir: dirs.work, mergedDir: dirs.merged };
  };
  const req = {
    containerId: 'b'.repeat(64),
    process: { args: ['/bin/true'], env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0 },
    rootfs: rootfs('base'),
    hostname: 'bench', mounts: [], cgroupPaths: [], network: 'none',
    // as `run --rm` mounts it: the upper dir goes with the container, overlay skips its syncs
    volatile: true,
  };
  // the compiled filter is cached as the services cache it (their runtime dir), here in the
  // bench's own directory so that nothing is left behind
  const cache = join(base, 'seccomp-cache');
  // A volatile work dir is refused by any later mount (the kernel's work/work/incompat/volatile):
  // as for a run --rm container, each run gets a fresh upper, made before the run is timed.
  const perRun = (name, edit = () => undefined) => (i) => {
    const spec = buildSpec({ ...req, rootfs: rootfs(`${name}${i}`) }, ids, 'kernel', cache);
    edit(spec);
    return writeBundle(join(base, `${name}${i}`), spec);
  };
  const ours = perRun('ours');
  // the same compiling the filter on every run (no cache annotation)
  const noCache = perRun('no-cache', (spec) => delete spec.annotations['io.nestbox.seccomp.cache']);
  // the same without the seccomp filter: what compiling and loading it costs per run
  const noFilter = perRun('no-seccomp', (spec) => delete spec.linux.seccomp);
  // a kept container (run without --rm): overlay syncs the upper dir's filesystem at the end
  const kept = writeBundle(join(base, 'kept'), buildSpec({ ...req, volatile: false, rootfs: rootfs('kept') }, ids, 'kernel', cache));
  const runc = await runcBundle(join(base, 'runc'), lower, ['/bin/true'], cache);
  return { ours, noCache, noFilter, kept, runcBundle: runc, lower };
}

async function measure(label) {
  const base = mkdtempSync('/tmp/nbx-bench-');
  chmodSync(base, 0o755);
  const rows = [];
  try {
    const { ours, noCache, noFilter, kept, runcBundle, lower } = await makeBundles(base);
    const cmds = [['unshare (namespaces only)', ['unshare', ...NAMESPACES, 'true']]];
    // An unprivileged user's full range goes through newuidmap/newgidmap (two setuid execs), as
    // ours does; root writes its maps itself. (As root, unshare --map-auto picks a wrong range.)
    let floorName = cmds[0][0];
    if (process.getuid() !== 0) {
      floorName = 'unshare --map-auto (ranges)';
      cmds.push([floorName, ['unshare', '--map-auto', ...NAMESPACES, 'true']]);
    }
    cmds.push(['nestbox-runtime run', (i) => [runtime, 'run', '--bundle', ours(i), 'bench']]);
    cmds.push(['  compiling seccomp each run', (i) => [runtime, 'run', '--bundle', noCache(i), 'bench']]);
    cmds.push(['  without seccomp', (i) => [runtime, 'run', '--bundle', noFilter(i), 'bench']]);
    cmds.push(['  kept upper (no --rm)', [runtime, 'run', '--bundle', kept, 'bench']]);
    const notes = [];
    const bwrap = which('bwrap');
    if (bwrap) {
      cmds.push(['bwrap', bwrapArgv(bwrap, lower, ['/bin/true'])]);
    } else notes.push(['bwrap', 'not installed (package bubblewrap)']);
    const runc = which('runc');
    if (runc && process.getuid() !== 0) {
      cmds.push(['runc run (rootless)', [runc, '--root', join(base, 'runc-state'), 'run', '--bundle', runcBundle, 'bench']]);
    } else if (!runc) notes.push(['runc', 'not installed (package runc)']);
    else notes.push(['runc', 'rootless only: as root on cgroup v1 it creates cgroups outside our subtree']);
    const medians = timeAll(cmds);
    const floor = medians.get(floorName);
    rows.push(...medians, ...notes);
    return rows.map(([name, ms]) => ({ label, name, ms, ratio: typeof ms === 'number' ? ms / floor : undefined }));
  } finally {
    // overlay leaves work/work mode 000 (volatile: with incompat/volatile in it, also 000): an
    // unprivileged user must make them searchable again to remove them
    const searchable = (dir) => {
      chmodSync(dir, 0o700);
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) searchable(join(dir, e.name));
    };
    for (const e of readdirSync(base)) if (e.endsWith('-work')) searchable(join(base, e));
    rmSync(base, { recursive: true, force: true });
  }
}

if (values.worker) {
  process.stdout.write(JSON.stringify(await measure(values.worker)));
  process.exit(0);
}
if (process.getuid() !== 0) throw new Error('run as root: it measures as root and as --user through setpriv');
const results = await measure('root');
const id = spawnSync('id', ['-u', values.user], { encoding: 'utf8' });
if (id.status === 0) {
  const uid = id.stdout.trim();
  const gid = spawnSync('id', ['-g', values.user], { encoding: 'utf8' }).stdout.trim();
  const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: `/home/${values.user}` };
  const r = spawnSync('setpriv', ['--reuid', uid, '--regid', gid, '--init-groups', '--', process.execPath, fileURLToPath(import.meta.url), '--runs', String(RUNS), '--worker', 'rootless'], { env, encoding: 'utf8', cwd: '/' });
  if (r.status === 0) results.push(...JSON.parse(r.stdout));
  else results.push({ label: 'rootless', name: `failed (is ${root} readable by ${values.user}?)`, ms: (r.stderr || '').trim().split('\n').pop() });
} else results.push({ label: 'rootless', name: `no user ${values.user}`, ms: '' });

console.log(`runtime start-to-exit of true, median of ${RUNS} runs (${new Date().toISOString()})`);
for (const r of results) {
  const ms = typeof r.ms === 'number' ? `${r.ms.toFixed(2)} ms` : r.ms;
  const ratio = r.ratio === undefined ? '' : `  ${r.ratio.toFixed(2)}x ${r.label === 'root' ? 'unshare' : 'unshare --map-auto'}`;
  console.log(`  ${r.label.padEnd(9)} ${r.name.padEnd(29)} ${ms}${ratio}`);
}
