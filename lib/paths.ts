/**
 * Where nestbox keeps its sockets and its state, per user (DESIGN.md "Processes", "State on disk").
 * NESTBOX_RUNTIME_DIR / NESTBOX_DATA_ROOT override both (like podman's --runroot / --root): tests
 * use them to run an isolated instance they can remove afterwards.
 */
import { mkdirSync, statSync, chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { NestboxError } from './errors.js';

export const SERVICE_NAMES = ['namespace', 'storage', 'network', 'cgroup', 'lifecycle'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
export type EndpointName = ServiceName | 'supervisor';

const uid = () => process.getuid?.() ?? 0;

export function runtimeDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NESTBOX_RUNTIME_DIR) return env.NESTBOX_RUNTIME_DIR;
  const id = uid();
  if (id === 0) return '/run/nestbox';
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'nestbox');
  const userRun = `/run/user/${id}`;
  try {
    if (statSync(userRun).uid === id) return join(userRun, 'nestbox');
  } catch {
    /* no per-user runtime dir (no logind): fall back to /tmp */
  }
  return `/tmp/nestbox-${id}`;
}

export function dataRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NESTBOX_DATA_ROOT) return env.NESTBOX_DATA_ROOT;
  if (uid() === 0) return '/var/lib/nestbox';
  const base = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
  return join(base, 'nestbox');
}

/**
 * Creates (or checks) a directory that only its owner may use. A directory that exists but
 * belongs to someone else is refused: in /tmp that would let another user serve our sockets.
 */
export function ensurePrivateDir(dir: string, mode = 0o700): string {
  mkdirSync(dir, { recursive: true, mode });
  const st = statSync(dir);
  if (st.uid !== uid()) {
    throw new NestboxError('FAILED_PRECONDITION', `${dir} belongs to uid ${st.uid}, not to you (uid ${uid()})`);
  }
  if ((st.mode & 0o777) !== mode) chmodSync(dir, mode);
  return dir;
}

/** ipc endpoint of a service in the runtime dir; `inproc` when all services share one process. */
export function endpointOf(name: EndpointName, opts: { inproc?: boolean; env?: NodeJS.ProcessEnv } = {}): string {
  if (opts.inproc) return `inproc://nestbox-${name}`;
  const path = join(runtimeDir(opts.env), `${name}.sock`);
  if (path.length > 107) {
    throw new NestboxError('INVALID_ARGUMENT', `socket path too long for ipc (${path.length} > 107 characters): ${path}`);
  }
  return `ipc://${path}`;
}

/** The project root, from this file's compiled location (dist/lib/paths.js). */
export function projectRoot(): string {
  return join(new URL('.', import.meta.url).pathname, '..', '..');
}

export function nativeBin(name: 'nestbox-runtime' | 'nestbox-shim'): string {
  const override = name === 'nestbox-runtime' ? process.env.NESTBOX_RUNTIME_BIN : process.env.NESTBOX_SHIM_BIN;
  return override || join(projectRoot(), 'native', 'build', name);
}
