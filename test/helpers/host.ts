/**
 * Facts about the test host and ways to run things as the unprivileged test user.
 * The clone may sit where the test user cannot read, so rootless tests run a staged copy of the
 * built project (dist, native/build, node_modules) in a world-readable temporary directory.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, chmodSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export const isRoot = process.getuid?.() === 0;
export const TEST_USER = process.env.NESTBOX_TEST_USER || 'nbxtest';
/** a second unprivileged user that has no /etc/subuid range (single-id mapping) */
export const SOLO_USER = process.env.NESTBOX_SOLO_USER || 'nbxsolo';

export function userIds(name: string): { uid: number; gid: number } | undefined {
  const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return undefined;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Why rootless tests cannot run here, or undefined when they can. */
export function rootlessUnavailable(user = TEST_USER): string | undefined {
  if (!isRoot) return 'rootless tests are driven by root (setpriv); run the suite as root';
  if (!userIds(user)) return `test user ${user} does not exist (scripts/setup-host.sh creates it)`;
  return undefined;
}

/** The compiled tree these tests run from (dist/, or another --outDir inside the project). */
export function distRoot(): string {
  return join(new URL('.', import.meta.url).pathname, '..', '..');
}

export function projectRoot(): string {
  return join(distRoot(), '..');
}

const staged = new Map<boolean, string>();
/**
 * A world-readable copy of what is needed to run nestbox, made once per test process (and per
 * `nodeModules`: without them the copy takes milliseconds instead of seconds, enough for code
 * that imports no package). Removed by `unstage()` (call it from test.after.always).
 */
export function stageProject(opts: { nodeModules?: boolean } = {}): string {
  const withModules = opts.nodeModules ?? true;
  const done = staged.get(withModules);
  if (done) return done;
  const root = projectRoot();
  const dir = mkdtempSync(join(tmpdir(), 'nbx-stage-'));
  chmodSync(dir, 0o755);
  const parts: [string, string][] = [
    [join(root, 'package.json'), 'package.json'],
    [distRoot(), 'dist'],
    [join(root, 'native', 'build'), 'native/build'],
    ...(withModules ? [[join(root, 'node_modules'), 'node_modules'] as [string, string]] : []),
  ];
  for (const [src, dst] of parts) {
    if (!existsSync(src)) continue;
    cpSync(src, join(dir, dst), { recursive: true, preserveTimestamps: true });
  }
  makeReadable(dir);
  staged.set(withModules, dir);
  return dir;
}

function makeReadable(path: string): void {
  const st = statSync(path);
  if (st.isDirectory()) {
    chmodSync(path, 0o755);
    for (const e of readdirSync(path)) makeReadable(join(path, e));
  } else if (st.isFile()) {
    chmodSync(path, st.mode & 0o111 ? 0o755 : 0o644);
  }
}

export function unstage(): void {
  for (const dir of staged.values()) rmSync(dir, { recursive: true, force: true });
  staged.clear();
}

/** Runs a command as the test user (from root), with a clean environment plus `env`. */
export function runAsUser(cmd: string, args: string[], env: Record<string, string> = {}, opts: SpawnSyncOptions = {}) {
  const ids = userIds(TEST_USER)!;
  const base = {
    PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    HOME: `/home/${TEST_USER}`,
    USER: TEST_USER,
    LOGNAME: TEST_USER,
  };
  const envArgs = Object.entries({ ...base, ...env }).map(([k, v]) => `${k}=${v}`);
  return spawnSync('setpriv', ['--reuid', String(ids.uid), '--regid', String(ids.gid), '--init-groups', '--', 'env', '-i', ...envArgs, cmd, ...args], {
    encoding: 'utf8',
    cwd: '/',
    ...opts,
  });
}
