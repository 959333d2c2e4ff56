#!/usr/bin/env node
// exec latency (issue: namespace service and native runtime in depth): the median wall time of
//   nestbox-runtime exec --pid PID -- true
// next to
//   nsenter -a -t PID true        (rootless: -U -m -u -i -n -p -C, -a wants the time namespace too)
// over N runs each (default 30), into a running busybox container (`sleep`), as root and as the
// test user (rootless, through setpriv). Timed in one bash loop ($EPOCHREALTIME around each
// command), so no node spawn cost is counted. Both join all namespaces; only the runtime also
// joins the cgroups, sets up the process (identity, capabilities, rlimits) and reports a status.
// Then, as root, the same `true` through the API: one lifecycle.exec request over ZeroMQ, timed
// from the request to its exit chunk (lifecycle -> namespace -> nestbox-runtime exec), and the
// whole `nestbox exec C true` (node start-up of the CLI included), into a `run -d` busybox of a
// private instance (its own runtime dir and data root, stopped at the end).
// Usage: npm run build && node bench/exec-latency.mjs [--runs N] [--api-only]    (as root)
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopKeeper } from './keeper.mjs';
import { median } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 30;
const USER = process.env.NESTBOX_TEST_USER || 'nbxtest';

const id = (flag, name) => Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
const subid = (name) => Number(readFileSync('/etc/subuid', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`)).split(':')[1]);

function bundle(mode, base) {
  const lower = join(base, 'lower');
  for (const d of ['bundle', 'upper', 'work', 'merged']) mkdirSync(join(base, d));
  for (const d of ['bin', 'proc', 'dev', 'tmp', 'sys']) mkdirSync(join(lower, d), { recursive: true });
  copyFileSync('/bin/busybox', join(lower, 'bin', 'busybox'));
  chmodSync(join(lower, 'bin', 'busybox'), 0o755);
  for (const a of ['sh', 'sleep', 'true']) symlinkSync('busybox', join(lower, 'bin', a));
  const uid = id('-u', USER);
  const maps = mode === 'root' ? [{ containerID: 0, hostID: subid('root'), size: 65536 }]
    : [{ containerID: 0, hostID: uid, size: 1 }, { containerID: 1, hostID: subid(USER), size: 65535 }];
  writeFileSync(join(base, 'bundle', 'config.json'), JSON.stringify({
    ociVersion: '1.0.2',
    process: { args: ['sleep', '600'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } },
    root: { path: join(base, 'merged') },
    hostname: 'bench',
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/dev', type: 'tmpfs', source: 'tmpfs' }],
    linux: { namespaces: ['pid', 'network', 'ipc', 'uts', 'mount', 'user', 'cgroup'].map((type) => ({ type })), uidMappings: maps, gidMappings: maps },
    annotations: { 'io.nestbox.overlay.lowerdir': lower, 'io.nestbox.overlay.upperdir': join(base, 'upper'), 'io.nestbox.overlay.workdir': join(base, 'work') },
  }));
  const owner = mode === 'root' ? subid('root') : uid;
  spawnSync('chown', ['-R', `${owner}:${owner}`, base]);
  chmodSync(base, 0o755);
}

const asUser = (mode, cmd) => (mode === 'root' ? cmd : ['setpriv', '--reuid', USER, '--regid', USER, '--init-groups', '--', ...cmd]);

async function measure(mode) {
  const base = mkdtempSync('/tmp/nbx-bench-exec-');
  let runtime = join(root, 'native', 'build', 'nestbox-runtime');
  if (mode === 'rootless') {
    cpSync(runtime, join(base, 'nestbox-runtime'));
    runtime = join(base, 'nestbox-runtime');
  }
  bundle(mode, base);
  const cmd = asUser(mode, [runtime, 'run', '--bundle', join(base, 'bundle'), '--pid-file', join(base, 'pid'), 'bench']);
  const container = spawn(cmd[0], cmd.slice(1), { stdio: 'ignore' });
  try {
    let pid;
    for (let i = 0; i < 500 && !pid; i++) {
      try { pid = Number(readFileSync(join(base, 'pid'), 'utf8')); } catch { await new Promise((r) => setTimeout(r, 10)); }
    }
    const time = (command) => {
      const script = `for i in $(seq ${RUNS}); do s=$EPOCHREALTIME; ${command} >/dev/null || exit 1; e=$EPOCHREALTIME; echo "$s $e"; done`;
      const c = asUser(mode, ['bash', '-c', script]);
      const r = spawnSync(c[0], c.slice(1), { encoding: 'utf8' });
      if (r.status !== 0) return `failed: ${r.stderr.trim().split('\n').at(-1)}`;
      const ms = r.stdout.trim().split('\n').map((l) => { const [s, e] = l.split(' ').map(Number); return (e - s) * 1000; });
      return `${median(ms).toFixed(1)} ms`;
    };
    const exec = `${runtime} exec --pid ${pid} -- true`;
    // -a also joins the time namespace, which (not the container's own: it has none) an
    // unprivileged user may not: rootless, the seven the container has are listed instead.
    const flags = mode === 'root' ? '-a' : '-U -m -u -i -n -p -C';
    const nsenter = `nsenter ${flags} -t ${pid} true`;
    console.log(`${mode}: nestbox-runtime exec: ${time(exec)}   nsenter ${flags}: ${time(nsenter)}   (median of ${RUNS})`);
  } finally {
    container.kill('SIGKILL');
    await new Promise((r) => container.on('close', r));
    rmSync(base, { recursive: true, force: true });
  }
}

async function measureApi() {
  const base = mkdtempSync('/tmp/nbx-bench-api-');
  chmodSync(base, 0o711);
  process.env.NESTBOX_RUNTIME_DIR = join(base, 'run');
  process.env.NESTBOX_DATA_ROOT = join(base, 'data');
  const cli = (...args) => spawnSync(process.execPath, [join(root, 'dist', 'cli', 'nestbox.cjs'), ...args], { encoding: 'utf8', cwd: '/' });
  const { RpcClient } = await import(join(root, 'dist', 'lib', 'transport', 'rpc-client.js'));
  const { endpointOf } = await import(join(root, 'dist', 'lib', 'paths.js'));
  let client;
  try {
    const run = cli('run', '-d', 'busybox', 'sleep', '600');
    if (run.status !== 0) throw new Error(`run -d failed: ${run.stderr.trim()}`);
    const id = run.stdout.trim();
    client = new RpcClient({ service: 'lifecycle', endpoint: endpointOf('lifecycle'), timeoutMs: 30_000 });
    const once = async () => {
      const t0 = process.hrtime.bigint();
      let code;
      for await (const chunk of client.stream('lifecycle.exec', { container: id, args: ['true'], env: [] })) {
        if ('exit' in chunk) code = chunk.exit.exitCode;
      }
      if (code !== 0) throw new Error(`exec true gave ${code}`);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    const ns = new RpcClient({ service: 'namespace', endpoint: endpointOf('namespace'), timeoutMs: 30_000 });
    const direct = async () => {
      const t0 = process.hrtime.bigint();
      for await (const chunk of ns.stream('namespace.exec', { containerId: id, args: ['true'] })) void chunk;
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    for (let i = 0; i < 3; i++) await direct();
    const nsTimes = [];
    for (let i = 0; i < RUNS; i++) nsTimes.push(await direct());
    ns.close();
    console.log(`root: namespace.exec request to exit (no lifecycle hop): ${median(nsTimes).toFixed(1)} ms (median of ${RUNS})`);
    for (let i = 0; i < 3; i++) await once(); // warm: connections, the services' first calls
    const api = [];
    for (let i = 0; i < RUNS; i++) api.push(await once());
    const whole = [];
    for (let i = 0; i < Math.min(RUNS, 10); i++) {
      const t0 = process.hrtime.bigint();
      if (cli('exec', id, 'true').status !== 0) throw new Error('nestbox exec failed');
      whole.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    console.log(`root: lifecycle.exec request to exit: ${median(api).toFixed(1)} ms (median of ${RUNS})   nestbox exec C true: ${median(whole).toFixed(1)} ms (median of ${whole.length})`);
    cli('rm', '-f', id);
  } finally {
    client?.close();
    cli('system', 'stop');
    // `system stop` leaves the keeper (as podman its pause process); a bench must not
    stopKeeper(join(base, 'run'));
    rmSync(base, { recursive: true, force: true });
  }
}

if (!process.argv.includes('--api-only')) for (const mode of ['root', 'rootless']) await measure(mode);
await measureApi();
process.exit(0);
