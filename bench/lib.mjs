// Pieces the benchmarks share: medians, finding a peer tool, a private nestbox instance's
// environment, timing one shell command, the API's run, and peer bundles (runc, bwrap) of a root
// file system, built with nestbox's own OCI spec so all run the same namespaces and mounts.
import { spawnSync } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const cliPath = join(root, 'dist', 'cli', 'nestbox.cjs');

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const fmt = (ms) => `${ms.toFixed(1)} ms`;

/** The path of `cmd` in the usual bin dirs, or undefined. */
export function which(cmd) {
  for (const d of ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    try { if (lstatSync(join(d, cmd))) return join(d, cmd); } catch { /* next */ }
  }
  return undefined;
}

/** The environment of a private instance in `base` (its runtime dir and data root; split services unless `embedded`). */
export function instanceEnv(base, mode = 'split') {
  const env = { ...process.env, NESTBOX_RUNTIME_DIR: join(base, 'run'), NESTBOX_DATA_ROOT: join(base, 'data') };
  delete env.NODE_EXTRA_CA_CERTS; // adds ~40 ms to every node start on this machine
  if (mode === 'embedded') env.NESTBOX_MODE = 'embedded';
  else delete env.NESTBOX_MODE;
  return env;
}

/** `nestbox ARGS` in that environment; its stdout, or a throw with its stderr. */
export function nestbox(env, args) {
  const r = spawnSync(process.execPath, [cliPath, ...args], { env, encoding: 'utf8', cwd: '/' });
  if (r.status !== 0) throw new Error(`nestbox ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/**
 * Wall time of one shell command in ms, taken by bash itself ($EPOCHREALTIME around it), so the
 * spawn of bash is not counted: what a user typing it sees. Throws on a non-zero exit.
 */
export function timeShell(command, env = process.env, timeoutMs = 120_000) {
  const r = spawnSync('bash', ['-c', `s=$EPOCHREALTIME; ${command} >/dev/null || exit $?; e=$EPOCHREALTIME; echo "$s $e"`], { env, encoding: 'utf8', cwd: '/', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`${command}: ${r.status === null ? `no end after ${timeoutMs / 1000} s` : `exit ${r.status}`}: ${(r.stderr || '').trim().split('\n').at(-1)}`);
  const [s, e] = r.stdout.trim().split('\n').at(-1).split(' ').map(Number);
  return (e - s) * 1000;
}

/** `runs` lifecycle.run requests of `true` through the API (after 3 warm-ups), each timed from request to exit. */
export async function timeApiRun(env, runs) {
  process.env.NESTBOX_RUNTIME_DIR = env.NESTBOX_RUNTIME_DIR;
  const { RpcClient } = await import(join(root, 'dist', 'lib', 'transport', 'rpc-client.js'));
  const client = new RpcClient({ service: 'lifecycle', endpoint: `ipc://${join(env.NESTBOX_RUNTIME_DIR, 'lifecycle.sock')}`, timeoutMs: 30000 });
  const request = { image: 'busybox', command: ['true'], env: [], remove: true, network: 'none' };
  const times = [];
  try {
    for (let i = 0; i < runs + 3; i++) {
      const t0 = process.hrtime.bigint();
      let code;
      for await (const chunk of client.stream('lifecycle.run', request)) if (chunk.exit) code = chunk.exit.exitCode;
      if (code !== 0) throw new Error(`API run exited ${code}`);
      if (i >= 3) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  } finally {
    client.close();
  }
  return times;
}

/** bwrap running `args` in all new namespaces as uid 0 over `rootfs` (read-only), as close to a run as bwrap goes. */
export function bwrapArgv(bwrap, rootfs, args) {
  return [bwrap, '--unshare-all', '--uid', '0', '--gid', '0', '--ro-bind', rootfs, '/', '--proc', '/proc', '--dev', '/dev', ...args];
}

/**
 * A runc bundle in `dir` running `args` over `rootfs` (read-only): nestbox's own spec for a run
 * (namespaces, id maps of this user, mounts, masks, capabilities, seccomp) with a plain root
 * instead of our overlay annotations and without the cgroup namespace. Returns the bundle dir.
 */
export async function runcBundle(dir, rootfs, args, seccompCache) {
  const { buildSpec, writeBundle } = await import(join(root, 'dist', 'services', 'namespace', 'oci-bundle.js'));
  const { hostIdMaps } = await import(join(root, 'dist', 'services', 'namespace', 'id-maps.js'));
  const req = {
    containerId: 'b'.repeat(64),
    process: { args, env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], cwd: '/', uid: 0, gid: 0 },
    rootfs: { lowerDirs: [rootfs], upperDir: '', workDir: '', mergedDir: rootfs },
    hostname: 'bench', mounts: [], cgroupPaths: [], network: 'none',
  };
  const spec = buildSpec(req, hostIdMaps(), 'kernel', seccompCache);
  delete spec.annotations;
  spec.root = { path: rootfs, readonly: true };
  spec.linux.namespaces = spec.linux.namespaces.filter((n) => n.type !== 'cgroup');
  return writeBundle(dir, spec);
}
