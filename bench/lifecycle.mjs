#!/usr/bin/env node
// Lifecycle verbs side by side with the peers installed here (issue: lifecycle and CLI,
// acceptance 9), in one run, medians of N (default 15), each timed from the shell as a user types
// it ($EPOCHREALTIME in bash: node start-up of our CLI included), tools taking turns run by run:
//   - `run --rm IMAGE true`;
//   - `exec C true` into a running container;
//   - the cycle `run -d IMAGE sleep 600` + `stop -t 0` + `rm` (runc: `run -d` + `delete -f`): no
//     grace, as a TERM sent right after `run -d` may come before any handler is set (pid 1 of a
//     pid namespace ignores what it has no handler for), which would measure the grace.
// Peers, probed, a missing one skipped with a line saying so: podman (`--network none` as ours,
// its own storage in the bench's directory; as root with lower rlimits, nofile and nproc 1024,
// because runc 1.1 fails to set podman's defaults in some hosts' limits), runc (a bundle of nestbox's own spec: the same
// namespaces, id maps, mounts and seccomp), bwrap (`run --rm` only: it has no exec nor detached
// containers). All run the same busybox: the image nestbox builds, exported once; podman imports
// that tar, runc and bwrap use it extracted. Then the targets and whether each is met, and where
// nestbox's time goes (node start-up, a CLI round trip, the run through the API).
// As root it measures root, then the unprivileged user (--user, through setpriv); as a user, itself.
// Everything (instance, containers, peers' state, podman's pause process) is removed at the end.
// Usage: npm run build && npm run bench:lifecycle [-- --runs N] [--user NAME]
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stopKeeper } from './keeper.mjs';
import { bwrapArgv, cliPath, fmt, instanceEnv, median, nestbox, runcBundle, timeApiRun, timeShell, which } from './lib.mjs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    user: { type: 'string', default: 'nbxtest' },
    worker: { type: 'boolean', default: false }, // internal: the unprivileged half, run as the user
  },
});
const RUNS = Number(values.runs);
if (!Number.isInteger(RUNS) || RUNS < 3) throw new Error('--runs takes an integer >= 3');

const TARGETS = { run: 60, exec: 50, podmanRatio: 4 };
const METRICS = [['run', 'run --rm true'], ['exec', 'exec true (running)'], ['cycle', 'run -d, stop -t 0, rm']];
const progress = (line) => process.stderr.write(`bench: ${line}\n`);
const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
const sh = (argv) => argv.map(q).join(' ');
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** The exported busybox, extracted; as root shifted to container root's host ids (our spec maps them). */
async function extractRootfs(tar, dir) {
  mkdirSync(dir);
  const r = spawnSync('tar', ['-xf', tar, '-C', dir, '--numeric-owner'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar -xf ${tar}: ${r.stderr.trim()}`);
  if (process.getuid() !== 0) return;
  const { hostIdMaps } = await import(join(fileURLToPath(new URL('..', import.meta.url)), 'dist', 'services', 'namespace', 'id-maps.js'));
  const ids = hostIdMaps();
  const shift = (path) => {
    const st = lstatSync(path);
    if (st.isDirectory()) for (const e of readdirSync(path)) shift(join(path, e));
    lchownSync(path, ids.rootUid + st.uid, ids.rootGid + st.gid);
  };
  shift(dir);
}

/** Each tool's commands (shell text) for the metrics it has, and how to set up and clean up. */
function nestboxTool(env) {
  const cli = `${q(process.execPath)} ${q(cliPath)}`;
  return {
    name: 'nestbox',
    setup: () => nestbox(env, ['run', '-d', '--name', 'nbx-bench-exec', 'busybox', 'sleep', '600']),
    run: `${cli} run --rm busybox true`,
    exec: `${cli} exec nbx-bench-exec true`,
    cycle: `id=$(${cli} run -d busybox sleep 600) && ${cli} stop -t 0 $id && ${cli} rm $id`,
    // every container of the instance (a failed cycle may leave one)
    cleanup: () => spawnSync('bash', ['-c', `ids=$(${cli} ps -aq) && [ -n "$ids" ] && ${cli} rm -f $ids`], { env }),
  };
}

function podmanTool(podman, base, tar) {
  const dir = join(base, 'podman');
  for (const d of ['root', 'run', 'tmp', 'xdg', 'home']) mkdirSync(join(dir, d), { recursive: true, mode: 0o700 });
  // its storage, state, config and caches in the bench's directory; the rootless pause process's pid file in tmp
  const p = sh([podman, '--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'), '--cgroup-manager', 'cgroupfs']);
  const home = join(dir, 'home');
  const env = { ...process.env, HOME: home, XDG_RUNTIME_DIR: join(dir, 'xdg'), XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local', 'share'), XDG_CACHE_HOME: join(home, '.cache') };
  // as root with cgroupfs it makes libpod_parent (and its conmon) in every hierarchy: removed after, unless there before
  const parents = process.getuid() === 0 ? readdirSync('/sys/fs/cgroup').map((c) => join('/sys/fs/cgroup', c, 'libpod_parent')).filter((d) => !existsSync(d)) : [];
  const shell = (cmd) => spawnSync('bash', ['-c', cmd], { env, encoding: 'utf8' });
  const image = 'localhost/nbx-bench-busybox';
  const run = `${p} run --network none${process.getuid() === 0 ? ' --ulimit nofile=1024:1024 --ulimit nproc=1024:1024' : ''}`;
  return {
    name: 'podman', env,
    setup: () => {
      for (const cmd of [`${p} import ${q(tar)} ${image}`, `${run} -d --name nbx-bench-exec ${image} sleep 600`]) {
        const r = shell(`${cmd} >/dev/null`);
        if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr.trim().split('\n').at(-1)}`);
      }
    },
    run: `${run} --rm ${image} true`,
    exec: `${p} exec nbx-bench-exec true`,
    cycle: `id=$(${run} -d ${image} sleep 600) && ${p} stop -t 0 $id && ${p} rm $id`,
    cleanup: () => {
      shell(`${p} rm -af -t 0; ${p} system reset -f`);
      for (const d of parents) for (const empty of [join(d, 'conmon'), d]) try { rmdirSync(empty); } catch { /* not made, or not empty */ }
      try {
        process.kill(Number(readFileSync(join(dir, 'tmp', 'pause.pid'), 'utf8')), 'SIGKILL');
      } catch { /* root has none, or it is gone */ }
    },
  };
}

async function runcTool(runc, base, rootfs) {
  const state = join(base, 'runc-state');
  const r = sh([runc, '--root', state]);
  const cache = join(base, 'seccomp-cache');
  const once = await runcBundle(join(base, 'runc-true'), rootfs, ['/bin/true'], cache);
  const kept = await runcBundle(join(base, 'runc-sleep'), rootfs, ['sleep', '600'], cache);
  return {
    name: 'runc',
    setup: () => {
      const s = spawnSync('bash', ['-c', `${r} run -d --bundle ${q(kept)} nbx-bench-exec </dev/null >/dev/null 2>&1`], { encoding: 'utf8' });
      if (s.status !== 0) throw new Error(`runc run -d: exit ${s.status}`);
    },
    run: `${r} run --bundle ${q(once)} nbx-bench-run`,
    exec: `${r} exec nbx-bench-exec true`,
    // stop -t 0 and rm in one: KILL, wait for it, delete
    cycle: `${r} run -d --bundle ${q(kept)} nbx-bench-cycle </dev/null >/dev/null 2>&1 && ${r} delete -f nbx-bench-cycle`,
    cleanup: () => spawnSync('bash', ['-c', `for c in nbx-bench-exec nbx-bench-cycle nbx-bench-run; do ${r} delete -f $c; done 2>/dev/null`]),
  };
}

function bwrapTool(bwrap, rootfs) {
  return { name: 'bwrap', setup: () => undefined, run: sh(bwrapArgv(bwrap, rootfs, ['/bin/true'])), cleanup: () => undefined };
}

async function measure(label) {
  const base = mkdtempSync('/tmp/nbx-bench-lc-');
  chmodSync(base, 0o711); // container root (a subordinate uid) walks to its layers
  const env = instanceEnv(base);
  const tools = [];
  const skipped = [];
  const loadBefore = load();
  try {
    progress(`${label}: starting nestbox, exporting its busybox for the peers`);
    nestbox(env, ['run', '--rm', 'busybox', 'true']); // starts the services, builds the default image
    nestbox(env, ['run', '--name', 'nbx-bench-src', 'busybox', 'true']);
    const tar = join(base, 'busybox.tar');
    nestbox(env, ['export', '-o', tar, 'nbx-bench-src']);
    nestbox(env, ['rm', 'nbx-bench-src']);
    const rootfs = join(base, 'rootfs');
    await extractRootfs(tar, rootfs);

    tools.push(nestboxTool(env));
    const podman = which('podman');
    if (podman) tools.push(podmanTool(podman, base, tar));
    else skipped.push('podman: not installed, skipped (package podman)');
    const runc = which('runc');
    if (runc) tools.push(await runcTool(runc, base, rootfs));
    else skipped.push('runc: not installed, skipped (package runc)');
    const bwrap = which('bwrap');
    if (bwrap) tools.push(bwrapTool(bwrap, rootfs));
    else skipped.push('bwrap: not installed, skipped (package bubblewrap)');

    const medians = {};
    for (const tool of [...tools]) {
      try {
        tool.setup();
      } catch (err) {
        tools.splice(tools.indexOf(tool), 1);
        skipped.push(`${tool.name}: does not work here, skipped: ${err.message.trim().split('\n').at(-1)}`);
      }
    }
    for (const [metric, title] of METRICS) {
      const those = tools.filter((t) => t[metric]);
      const ms = new Map(those.map((t) => [t.name, []]));
      progress(`${label}: ${title}: ${those.map((t) => t.name).join(', ')}`);
      for (let i = -1; i < RUNS; i++) {
        for (const t of [...those]) {
          try {
            const took = timeShell(t[metric], t.env ?? env);
            if (i >= 0) ms.get(t.name).push(took); // the first round warms up
          } catch (err) {
            // one tool failing is a line of the report, not the end of the bench
            those.splice(those.indexOf(t), 1);
            ms.delete(t.name);
            skipped.push(`${t.name}: ${title} failed: ${err.message.trim().split('\n').at(-1)}`);
          }
        }
      }
      for (const [name, xs] of ms) (medians[name] ??= {})[metric] = median(xs);
    }
    progress(`${label}: nestbox's breakdown`);
    // where nestbox's run goes: node itself, a CLI round trip to the services, the run without the CLI
    const breakdown = {
      node: median(Array.from({ length: RUNS }, () => timeShell(`${q(process.execPath)} -e 0`, env))),
      ps: median(Array.from({ length: RUNS }, () => timeShell(`${q(process.execPath)} ${q(cliPath)} ps -q`, env))),
      api: median(await timeApiRun(env, RUNS)),
    };
    return { label, tools: tools.map((t) => t.name), skipped, medians, breakdown, load: [loadBefore, load()] };
  } finally {
    for (const t of tools) t.cleanup();
    spawnSync(process.execPath, [cliPath, 'rm', '-f', 'nbx-bench-src'], { env });
    spawnSync(process.execPath, [cliPath, 'system', 'stop'], { env });
    stopKeeper(env.NESTBOX_RUNTIME_DIR);
    rmSync(base, { recursive: true, force: true });
  }
}

function report(r) {
  const names = r.tools;
  console.log(`\n${r.label}: median of ${RUNS}, load average ${r.load[0]} before, ${r.load[1]} after`);
  console.log(`  ${''.padEnd(22)}${names.map((n) => n.padStart(12)).join('')}`);
  for (const [metric, title] of METRICS) {
    console.log(`  ${title.padEnd(22)}${names.map((n) => (r.medians[n]?.[metric] === undefined ? 'n/a' : fmt(r.medians[n][metric])).padStart(12)).join('')}`);
  }
  for (const s of r.skipped) console.log(`  ${s}`);
  const ours = r.medians.nestbox;
  const verdict = (ok) => (ok ? 'met' : 'MISSED');
  console.log('  targets:');
  console.log(`    run --rm true <= ${TARGETS.run} ms: ${fmt(ours.run)}: ${verdict(ours.run <= TARGETS.run)}`);
  const podman = r.medians.podman?.run;
  console.log(`    run --rm true >= ${TARGETS.podmanRatio}x faster than podman: ${podman === undefined ? 'not checked (no working podman)' : `${(podman / ours.run).toFixed(1)}x: ${verdict(podman / ours.run >= TARGETS.podmanRatio)}`}`);
  console.log(`    exec true <= ${TARGETS.exec} ms: ${fmt(ours.exec)}: ${verdict(ours.exec <= TARGETS.exec)}`);
  const b = r.breakdown;
  console.log(`  nestbox's run --rm true: node start-up alone ${fmt(b.node)}, CLI round trip (ps -q) ${fmt(b.ps)}, lifecycle.run through the API (no CLI) ${fmt(b.api)}`);
}

if (values.worker) {
  process.stdout.write(JSON.stringify(await measure(`${process.env.USER ?? `uid ${process.getuid()}`} (rootless)`)));
  process.exit(0);
}
const results = [await measure(process.getuid() === 0 ? 'root' : `uid ${process.getuid()} (rootless)`)];
if (process.getuid() === 0) {
  const id = spawnSync('id', ['-u', values.user], { encoding: 'utf8' });
  if (id.status === 0) {
    const uid = id.stdout.trim();
    const gid = spawnSync('id', ['-g', values.user], { encoding: 'utf8' }).stdout.trim();
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', HOME: `/home/${values.user}`, USER: values.user };
    const r = spawnSync('setpriv', ['--reuid', uid, '--regid', gid, '--init-groups', '--', process.execPath, fileURLToPath(import.meta.url), '--runs', String(RUNS), '--worker'],
      { env, encoding: 'utf8', cwd: '/', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status === 0) results.push(JSON.parse(r.stdout));
    else console.log(`${values.user}: the rootless half failed (exit ${r.status}; its error is above)`);
  } else console.log(`no user ${values.user}: the rootless half is skipped`);
}
console.log(`lifecycle verbs from the shell (${new Date().toISOString()}, kernel ${spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim()}, ${RUNS} runs each, NODE_EXTRA_CA_CERTS unset)`);
for (const r of results) report(r);
