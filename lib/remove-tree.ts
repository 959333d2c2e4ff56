/**
 * Removes a directory tree that may hold files owned by subordinate ids (written by a container
 * as a non-root user). An unprivileged user cannot unlink those directly; inside a user namespace
 * mapping its subordinate range (util-linux `unshare --map-auto`, like `podman unshare`) it can.
 */
import { rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { NestboxError } from './errors.js';

export function removeTree(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (process.getuid?.() === 0 || (code !== 'EACCES' && code !== 'EPERM')) throw err;
  }
  const r = spawnSync('unshare', ['--map-root-user', '--map-auto', '--', 'rm', '-rf', '--', path], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new NestboxError('INTERNAL', `cannot remove ${path}: ${(r.stderr || r.error?.message || 'unshare failed').trim().split('\n')[0]}`);
  }
}
