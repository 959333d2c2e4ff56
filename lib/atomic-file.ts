/** Every write of state is atomic: a temp file in the same directory, fsync, rename. */
import { closeSync, fsyncSync, openSync, renameSync, writeSync, unlinkSync, chownSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export function writeFileAtomic(path: string, data: string | Buffer, opts: { mode?: number; owner?: { uid: number; gid: number } } = {}): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', opts.mode ?? 0o644);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    if (opts.owner) chownSync(tmp, opts.owner.uid, opts.owner.gid);
    renameSync(tmp, path);
  } catch (err) {
    try { closeSync(fd); } catch { /* already closed */ }
    try { unlinkSync(tmp); } catch { /* never created or already renamed */ }
    throw err;
  }
}

export function writeJsonAtomic(path: string, value: unknown, opts: { mode?: number } = {}): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n', opts);
}
