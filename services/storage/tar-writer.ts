/**
 * Writes a POSIX ustar archive from a list of entries with exactly the owners, modes and mtimes
 * given (node-tar takes them from the file system, which makes an image built by an unprivileged
 * user claim that user's uid). Used to make reproducible layers such as the default image.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync, fsyncSync } from 'node:fs';

export type TarEntry =
  | { type: 'file'; path: string; mode: number; content: Buffer; uid?: number; gid?: number }
  | { type: 'dir'; path: string; mode: number; uid?: number; gid?: number }
  | { type: 'symlink'; path: string; target: string; uid?: number; gid?: number };

const BLOCK = 512;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** One ustar header; `size` overrides a file's (its content then comes from elsewhere: a streamed blob). */
export function tarHeader(e: TarEntry, mtime: number, size?: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  let name = e.type === 'dir' && !e.path.endsWith('/') ? `${e.path}/` : e.path;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 2);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
    if (Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) throw new Error(`tar path too long: ${e.path}`);
  }
  size ??= e.type === 'file' ? e.content.length : 0;
  const mode = e.type === 'symlink' ? 0o777 : e.mode;
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(e.uid ?? 0, 8), 108, 'ascii');
  h.write(octal(e.gid ?? 0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // checksum field counts as spaces while summing
  h.write(e.type === 'file' ? '0' : e.type === 'dir' ? '5' : '2', 156, 'ascii');
  if (e.type === 'symlink') h.write(e.target, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(e.uid ? String(e.uid) : 'root', 265, 32, 'ascii');
  h.write(e.gid ? String(e.gid) : 'root', 297, 32, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

/** Writes the archive to `file` and returns its sha256 digest (`sha256:...`) and size. */
export function writeTar(file: string, entries: TarEntry[], mtime: number): { digest: string; size: number } {
  const hash = createHash('sha256');
  const fd = openSync(file, 'wx', 0o644);
  let size = 0;
  const put = (buf: Buffer) => {
    hash.update(buf);
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    size += buf.length;
  };
  try {
    for (const e of entries) {
      put(tarHeader(e, mtime));
      if (e.type === 'file' && e.content.length > 0) {
        put(e.content);
        const pad = (BLOCK - (e.content.length % BLOCK)) % BLOCK;
        if (pad) put(Buffer.alloc(pad));
      }
    }
    put(Buffer.alloc(BLOCK * 2));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}
