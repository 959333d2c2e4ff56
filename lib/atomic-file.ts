/**
 * Every write of state is atomic: a temp file in the same directory, fsync, rename. `sync: false`
 * skips the fsync (1-2 ms each on a VM disk) for files that need not outlive the machine: made
 * again at every container start (its bundle, /etc/hosts), or a --rm container's record after its
 * first write. The rename still makes every write all-or-nothing for a crash of the process.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync, unlinkSync, chownSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface AtomicWriteOptions {
  mode?: number;
  owner?: { uid: number; gid: number };
  /** fsync before the rename (default true) */
  sync?: boolean;
}

export function writeFileAtomic(path: string, data: string | Buffer, opts: AtomicWriteOptions = {}): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', opts.mode ?? 0o644);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    if (opts.sync !== false) fsyncSync(fd);
    closeSync(fd);
    if (opts.owner) chownSync(tmp, opts.owner.uid, opts.owner.gid);
    renameSync(tmp, path);
  } catch (err) {
    try { closeSync(fd); } catch { /* already closed */ }
    try { unlinkSync(tmp); } catch { /* never created or already renamed */ }
    throw err;
  }
}

export function writeJsonAtomic(path: string, value: unknown, opts: Omit<AtomicWriteOptions, 'owner'> = {}): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n', opts);
}
