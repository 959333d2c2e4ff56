#!/usr/bin/env node
// The kernel x cgroup matrix: `npm run test:kernels [-- --kernels 5.10,6.1,6.12 --cgroup 1,2 --quick]`.
// Builds the project, prepares each Debian kernel and its initramfs in the cache, picks the
// accelerator, runs the suite on the host and in one qemu guest per combination, prints the
// table kernel x cgroup x user -> passed/failed/skipped and exits non-zero on any failure or
// on a guest that never reported. See vm/README.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { Cache } from './cache.mjs';
import { PrivateApt } from './debian-packages.mjs';
import { KERNELS, prepareKernel } from './kernel-cache.mjs';
import { prepareInitramfs } from './initramfs.mjs';
import { probeAccelerator, QemuRegistry, qemuVersion } from './qemu.mjs';
import { ensureHostTools } from './host-deps.mjs';
import { runGuest, runHost } from './combination.mjs';
import { renderTable } from './report.mjs';
import { buildProjectImage } from './project-image.mjs';

const PROJECT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const USAGE = `usage: npm run test:kernels -- [options]
  --kernels LIST   host,5.10,6.1,6.12 (default: all of them)
  --cgroup LIST    1,2 (default: both; v1 only where the kernel has it)
  --quick          only the kernel-sensitive integration tests (QUICK_FILES below)
  --dist DIR       compiled tree to test (default dist; e.g. dist-vm builds into another outDir)
  --no-build       test what is built already
  --jobs N         guests booted at the same time (default 2, 1 on a single-CPU host)
  --smp N          guest CPUs (default 2 with KVM, 1 under TCG: there a second vCPU starves
                   qemu's 9p server and makes the guest ~2x slower)
  --mem MB         guest memory (default 2048)
  --timeout MIN    per combination (default 6 with --quick, else 20; x1.6 with --jobs 2)
  --cache DIR      default <project>/.vm-cache
  --refresh        ask apt for newer kernels than the cached ones
  --concurrent     run each test file's tests concurrently in the guests even under TCG
                   (the default there is ava --serial: see vm/README.md)
  --command CMD    debugging: run CMD (a shell word list, in the project dir) in each guest
                   instead of the suite, and print its output`;

function parse() {
  const { values } = parseArgs({
    options: {
      kernels: { type: 'string', default: ['host', ...Object.keys(KERNELS)].join(',') },
      cgroup: { type: 'string', default: '1,2' },
      quick: { type: 'boolean', default: false },
      dist: { type: 'string', default: 'dist' },
      'no-build': { type: 'boolean', default: false },
      // two guests at once: 454 s instead of 558 s for the five quick guests on 2 cores (TCG)
      jobs: { type: 'string', default: String(Math.min(2, availableParallelism())) },
      smp: { type: 'string' },
      mem: { type: 'string', default: '2048' },
      timeout: { type: 'string' },
      cache: { type: 'string', default: join(PROJECT, '.vm-cache') },
      refresh: { type: 'boolean', default: false },
      command: { type: 'string' },
      concurrent: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const kernels = values.kernels.split(',').map((s) => s.trim()).filter(Boolean);
  for (const k of kernels) if (k !== 'host' && !KERNELS[k]) throw new Error(`--kernels: unknown ${k} (known: host, ${Object.keys(KERNELS).join(', ')})`);
  const cgroups = values.cgroup.split(',').map(Number);
  for (const c of cgroups) if (c !== 1 && c !== 2) throw new Error('--cgroup takes 1, 2 or 1,2');
  // The dist dir is removed and rebuilt: accept only dist or dist-SOMETHING inside the project.
  if (!/^dist(-[A-Za-z0-9_.]+)?$/.test(values.dist)) throw new Error('--dist must be dist or dist-NAME (a directory in the project)');
  if (/\s/.test(PROJECT)) throw new Error(`the project path must not contain white space: ${PROJECT}`);
  const int = (name) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} takes a positive integer`);
    return n;
  };
  return {
    kernels, cgroups, quick: values.quick, dist: values.dist, build: !values['no-build'],
    jobs: int('jobs'), smp: values.smp === undefined ? undefined : int('smp'), memMb: int('mem'), refresh: values.refresh, command: values.command, concurrent: values.concurrent,
    // Measured under TCG: the quick subset ~1.5-2 min per guest, the whole suite ~11 min; two
    // guests at once make each ~1.6x slower.
    timeoutMs: Number(values.timeout ?? (values.quick ? 6 : 20) * Math.max(1, 0.8 * Number(values.jobs))) * 60_000,
    cacheDir: resolve(values.cache),
  };
}

const readText = (f) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
const log = (msg) => console.log(`test:kernels: ${msg}`);

function build(opts) {
  const steps = opts.dist === 'dist'
    ? [['npm', ['run', '-s', 'build']]]
    : [['npm', ['run', '-s', 'build:native']], ['rm', ['-rf', opts.dist]], ['npx', ['tsc', '-p', 'tsconfig.json', '--outDir', opts.dist]]];
  for (const [cmd, args] of steps) {
    log(`build: ${cmd} ${args.join(' ')}`);
    const r = spawnSync(cmd, args, { cwd: PROJECT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`build failed: ${cmd} ${args.join(' ')}`);
  }
}

/** What the host runs: cgroup v1 (legacy/hybrid) or v2 (unified), for the table. */
function hostCgroup() {
  return existsSync('/sys/fs/cgroup/cgroup.controllers') ? 2 : 1;
}

function plan(opts) {
  const combos = [];
  for (const k of opts.kernels) {
    if (k === 'host') { combos.push({ kernel: 'host' }); continue; }
    for (const cg of opts.cgroups) {
      if (cg === 1 && !KERNELS[k].cgroupV1) combos.push({ kernel: k, cgroup: 1, skip: KERNELS[k].noV1Why });
      else combos.push({ kernel: k, cgroup: cg });
    }
  }
  return combos;
}

/*
 * --quick: the integration files whose outcome depends on the kernel or the cgroup version
 * (namespaces, overlay and its fuse fallback, whiteout devices and xattrs in layers, id maps, setns, seccomp, devpts, cgroup and OOM
 * records, both cgroup drivers with limits, stats and freeze, the kernel's cgroup delegation rules, escapes). Left out, as the same on every kernel: native-init (signal forwarding in
 * our init), seccomp-cache and seccomp-exec (our cache file and exec's use of it), worker-stage
 * (file copying) and runc-compare (Debian's runc). All of them run in the full matrix.
 */
export const QUICK_FILES = ['cgroup-delegated', 'cgroup-manager', 'escape', 'namespaces', 'native-exec', 'native-fuse', 'native-keeper', 'native-layer', 'native-pty',
  'native-runtime', 'native-shim', 'seccomp'];

function testFiles(opts) {
  if (!opts.quick) return [];
  const dir = join(PROJECT, opts.dist, 'test', 'integration');
  const files = QUICK_FILES.map((f) => `${f}.test.js`);
  const missing = files.filter((f) => !existsSync(join(dir, f)));
  if (missing.length) throw new Error(`--quick: ${missing.join(', ')} missing in ${opts.dist}/test/integration (build first, or drop --no-build)`);
  return files.map((f) => `${opts.dist}/test/integration/${f}`);
}

/** Runs `tasks` (functions returning promises) with at most `n` at a time, in order. */
async function pool(tasks, n) {
  const out = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, worker));
  return out;
}

async function main() {
  const t0 = Date.now();
  const opts = parse();
  const combos = plan(opts);
  const vmCombos = combos.filter((c) => c.kernel !== 'host' && !c.skip);
  if (process.getuid() !== 0) log('warning: not root; the suite drives its rootless tests through setpriv from root, so many will be skipped');
  ensureHostTools(log, { vm: vmCombos.length > 0 });

  const cache = new Cache(opts.cacheDir);
  const unlock = cache.lock();
  const registry = new QemuRegistry();
  const onSignal = (sig) => {
    log(`${sig}: stopping`);
    registry.killAll();
    rmSync(cache.path('runs', 'project.img'), { force: true });
    unlock();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const timings = {};
  try {
    if (opts.build) build(opts);
    timings.build = Date.now() - t0;
    const files = testFiles(opts);

    // Kernels and initramfs images (downloads only what the cache lacks or holds corrupted).
    const t1 = Date.now();
    const apt = new PrivateApt(cache.path('apt'), vmCombos.map((c) => KERNELS[c.kernel].suite), log);
    const kernels = {};
    for (const key of [...new Set(vmCombos.map((c) => c.kernel))]) {
      const k = await prepareKernel(cache, apt, key, { refresh: opts.refresh, log });
      k.initrd = await prepareInitramfs(cache, k, log);
      kernels[key] = k;
    }
    timings.prepare = Date.now() - t1;

    let projectImage;
    if (vmCombos.length) {
      mkdirSync(cache.path('runs'), { recursive: true });
      const img = buildProjectImage({ project: PROJECT, dist: opts.dist, image: cache.path('runs', 'project.img'), workDir: cache.path('runs') });
      projectImage = img.image;
      timings.image = img.ms;
      log(`project image: ${img.files} files, ${Math.round(img.bytes / 2 ** 20)} MiB in ${(img.ms / 1000).toFixed(1)} s`);
    }

    let accel;
    if (vmCombos.length) {
      const t2 = Date.now();
      const first = kernels[vmCombos[0].kernel];
      accel = await probeAccelerator({ kernel: first.vmlinuz, initrd: first.initrd, serialLog: cache.path('accel-probe.log'), registry, log });
      timings.probe = Date.now() - t2;
      log(`accelerator: ${accel.name} -cpu ${accel.cpu} (${accel.why}); ${qemuVersion()}`);
    }
    // Under emulation a test file can sit minutes in one test; ava's idle timeout must allow it.
    const avaTimeout = accel?.name === 'kvm' ? '3m' : `${Math.max(3, Math.round(opts.timeoutMs / 60000) - 1)}m`;
    // One emulated CPU gains nothing from 58 concurrent tests, and their fixed waits (10 s for a
    // container to print) then expire: under TCG the guests run each file's tests one by one.
    const serial = accel?.name === 'tcg' && !opts.concurrent;
    const common = {
      serial,
      cache, project: PROJECT, dist: opts.dist, files, accel, memMb: opts.memMb, smp: opts.smp ?? (accel?.name === 'kvm' ? 2 : 1),
      timeoutMs: opts.timeoutMs, avaTimeout, concurrency: 2, registry, log, command: opts.command, projectImage,
    };

    const results = [];
    for (const c of combos.filter((x) => x.kernel === 'host')) {
      log(`[host] running ${opts.quick ? 'the quick subset' : 'the whole suite'} on the host (${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()})`);
      const r = await runHost({ ...common, hostCgroup: hostCgroup() });
      log(`[host] ${r.status}${r.reason ? ` (${r.reason})` : ''} in ${Math.round(r.ms / 1000)} s`);
      results.push(r);
    }
    const tasks = vmCombos.map((c) => async () => {
      const k = kernels[c.kernel];
      log(`[${c.kernel}-v${c.cgroup}] booting ${k.package} ${k.version} (${accel.name}, ${common.smp} cpu, ${opts.memMb} MiB)`);
      const r = await runGuest(k, c.cgroup, { ...common, initrd: k.initrd });
      if (opts.command) process.stdout.write(`--- ${c.kernel}-v${c.cgroup}: ${opts.command}\n${readText(join(r.dir, 'tap.txt'))}${readText(join(r.dir, 'stderr.txt'))}---\n`);
      log(`[${c.kernel}-v${c.cgroup}] ${r.status}${r.reason ? ` (${r.reason})` : ''} in ${Math.round(r.ms / 1000)} s${r.bootMs ? ` (boot to tests ${(r.bootMs / 1000).toFixed(1)} s)` : ''}`);
      return r;
    });
    timings.t3 = Date.now();
    results.push(...(await pool(tasks, opts.jobs)));
    timings.vms = Date.now() - timings.t3;
    for (const c of combos.filter((x) => x.skip)) results.push({ kernel: c.kernel, cgroup: c.cgroup, status: 'n/a', reason: c.skip });

    const order = (r) => (r.kernel === 'host' ? -1 : Object.keys(KERNELS).indexOf(r.kernel)) * 10 + (r.cgroup ?? 0);
    results.sort((a, b) => order(a) - order(b));
    console.log(`\n${renderTable(results)}\n`);
    const sec = (ms) => `${Math.round((ms ?? 0) / 1000)} s`;
    log(`wall time ${sec(Date.now() - t0)} (build ${sec(timings.build)}, kernels+initramfs ${sec(timings.prepare)}, project image ${sec(timings.image)}, accelerator probe ${sec(timings.probe)}, guests ${sec(timings.vms)} with --jobs ${opts.jobs}); logs in ${join(opts.cacheDir, 'runs')}`);
    const bad = results.filter((r) => r.status !== 'ok' && r.status !== 'n/a');
    if (bad.length) log(`FAILED: ${bad.map((r) => `${r.kernel}${r.cgroup ? `/v${r.cgroup}` : ''} ${r.status}`).join(', ')}`);
    return bad.length ? 1 : 0;
  } finally {
    registry.killAll();
    rmSync(cache.path('runs', 'project.img'), { force: true });
    unlock();
  }
}

main().then((code) => process.exit(code), (err) => {
  console.error(`test:kernels: ${err.message}`);
  process.exit(2);
});
