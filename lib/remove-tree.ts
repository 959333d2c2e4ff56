/**
 * Removes a directory tree that may hold files owned by subordinate ids (written by a container
 * as a non-root user). An unprivileged user cannot unlink those directly; inside a user namespace
 * mapping its subordinate range (util-linux `unshare --map-auto`, like `podman unshare`) it can.
 */
import { chmodSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { NestboxError } from './errors.js';

export function removeTree(path: string): void {
  const denied = (err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code;
    if (process.getuid?.() === 0 || (code !== 'EACCES' && code !== 'EPERM')) throw err;
  };
  try {
    rmSync(path, { recursive: true, force: true });
    return;
  } catch (err) {
    denied(err);
  }
  // Overlay leaves its work dirs mode 000 (work/work, and incompat/volatile after a volatile
  // mount), owned by us: searchable again, they go without a user namespace.
  try {
    searchableOwnDirs(path);
    rmSync(path, { recursive: true, force: true });
    return;
  } catch (err) {
    denied(err);
  }
  const r = spawnSync('unshare', ['--map-root-user', '--map-auto', '--', 'rm', '-rf', '--', path], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new NestboxError('INTERNAL', `cannot remove ${path}: ${(r.stderr || r.error?.message || 'unshare failed').trim().split('\n')[0]}`);
  }
}

/** chmod u+rwx on every directory of the tree that this user owns and can reach. */
function searchableOwnDirs(dir: string): void {
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== process.getuid?.()) return;
  if ((st.mode & 0o700) !== 0o700) chmodSync(dir, st.mode | 0o700);
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) searchableOwnDirs(join(dir, e.name));
}
