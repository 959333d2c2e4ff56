/**
 * Writes a container's upper dir as a layer tar to stdout (a file), run inside the keeper
 * namespace as its uid 0 (`nestbox-runtime join --pid KEEPER -- node commit-worker.js --dir UPPER
 * --runtime RUNTIME`), so owners are the container's own ids (uid 1000 inside is 1000 in the tar).
 * Overlay's own forms become the image forms:
 *  - a whiteout (char device 0/0 of either driver; a `.wh.NAME` file fuse-overlayfs makes where it
 *    cannot mknod; a zero-size file with user.overlay.whiteout) -> an empty `.wh.NAME` entry;
 *  - an opaque dir (user.overlay.opaque / trusted.overlay.opaque / user.fuseoverlayfs.opaque = y,
 *    or fuse-overlayfs's `.wh..wh..opq` file) -> the dir, then its `.wh..wh..opq` entry.
 * Modes with set-id bits, symlinks, hard links (by inode), devices and FIFOs, mtimes (seconds)
 * and the xattrs user.* (overlay's own left out) and security.capability (read with
 * `RUNTIME layer xattrs`, one process) are kept; sockets are skipped with a warning on stderr.
 * Empty files at `--mount-point PATH` (the runtime's mount points for /etc/hosts...) are left out.
 * Entries in name order. A file that shrinks while read (a running container) is padded with
 * zeros to its recorded size, as GNU tar does. Exit 1 with one line on stderr on failure.
 */
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, writeSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { isOverlayXattr, readLayerXattrs } from './layer-attrs.js';
import { END_OF_ARCHIVE, entryHeader, padding, type LayerEntry } from './layer-tar.js';

const OPAQUE_XATTRS = ['user.overlay.opaque', 'trusted.overlay.opaque', 'user.fuseoverlayfs.opaque'];
const OPAQUE_FILE = '.wh..wh..opq';
const CHUNK = 1 << 20;

function argValue(name: string, what: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v) throw new Error(`${name} ${what} is required`);
  return v;
}

/** Buffered writes to stdout (a regular file: writeSync is whole and in order). */
class Out {
  private buf = Buffer.allocUnsafe(CHUNK);
  private used = 0;

  put(data: Buffer): void {
    if (this.used + data.length > this.buf.length) this.flush();
    if (data.length >= this.buf.length) return this.write(data);
    data.copy(this.buf, this.used);
    this.used += data.length;
  }

  flush(): void {
    if (this.used > 0) this.write(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  private write(data: Buffer): void {
    for (let off = 0; off < data.length; ) off += writeSync(1, data, off, data.length - off);
  }
}

const isWhiteoutDevice = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;
const isOpaque = (xattrs: Map<string, Buffer> | undefined) => OPAQUE_XATTRS.some((n) => xattrs?.get(n)?.[0] === 0x79 /* y */);

/** The xattrs an image carries: user.* but overlay's own, and file capabilities. */
function imageXattrs(all: Map<string, Buffer> | undefined): Map<string, Buffer> | undefined {
  if (!all) return undefined;
  const kept = new Map([...all].filter(([n]) => (n.startsWith('user.') && !isOverlayXattr(n)) || n === 'security.capability'));
  return kept.size > 0 ? kept : undefined;
}

function main(): void {
  const dir = argValue('--dir', 'DIR');
  const mountPoints = new Set(process.argv.flatMap((a, i) => (process.argv[i - 1] === '--mount-point' ? [a] : [])));
  const xattrs = readLayerXattrs(argValue('--runtime', 'RUNTIME'), dir);
  const out = new Out();
  const inodes = new Map<string, string>();
  const chunk = Buffer.allocUnsafe(CHUNK);

  const meta = (rel: string, st: Stats) => ({ path: rel, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) });
  const whiteout = (parent: string, name: string, st: Stats) => {
    out.put(entryHeader({ ...meta(parent ? `${parent}/.wh.${name}` : `.wh.${name}`, st), type: 'file', mode: 0o644, size: 0 }));
  };
  const fileContent = (abs: string, size: number) => {
    let fd: number;
    try {
      fd = openSync(abs, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      out.put(Buffer.alloc(size)); // removed since it was listed (a running container): as if it shrank
      out.put(padding(size));
      return;
    }
    try {
      let done = 0;
      while (done < size) {
        const n = readSync(fd, chunk, 0, Math.min(CHUNK, size - done), null);
        if (n === 0) break; // shrank while read: padded below
        out.put(chunk.subarray(0, n));
        done += n;
      }
      if (done < size) out.put(Buffer.alloc(size - done));
    } finally {
      closeSync(fd);
    }
    out.put(padding(size));
  };

  const walk = (parent: string) => {
    const abs = parent ? join(dir, parent) : dir;
    let raw: Buffer[];
    try {
      raw = readdirSync(abs, { encoding: 'buffer' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // removed since it was listed
      throw err;
    }
    const names = raw.map((b) => {
      const name = b.toString();
      // node names files by strings: such a name could not be opened, and must not vanish silently
      if (!Buffer.from(name).equals(b)) throw new Error(`${JSON.stringify(parent ? `${parent}/${name}` : name)}: a file name that is not UTF-8, which commit cannot write`);
      return name;
    }).sort();
    for (const name of names) {
      const rel = parent ? `${parent}/${name}` : name;
      const at = join(abs, name);
      const st = statIfThere(at);
      if (!st) continue; // removed since it was listed (a running container)
      const own = xattrs.get(rel);
      if (name === OPAQUE_FILE) continue; // fuse-overlayfs's marker: its dir was written opaque already
      if (mountPoints.has(rel) && st.isFile() && st.size === 0) continue;
      if (isWhiteoutDevice(st) || (st.isFile() && st.size === 0 && own?.has('user.overlay.whiteout'))) {
        whiteout(parent, name, st);
        continue;
      }
      const entry: LayerEntry = { ...meta(rel, st), type: 'file', xattrs: imageXattrs(own) };
      if (st.isDirectory()) {
        out.put(entryHeader({ ...entry, type: 'dir' }));
        if (isOpaque(own) || safeExists(join(at, OPAQUE_FILE))) out.put(entryHeader({ ...meta(`${rel}/${OPAQUE_FILE}`, st), type: 'file', mode: 0o644, size: 0 }));
        walk(rel);
      } else if (st.isSymbolicLink()) {
        out.put(entryHeader({ ...entry, type: 'symlink', linkpath: readlinkSync(at) }));
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? inodes.get(key) : undefined;
        if (first !== undefined) {
          out.put(entryHeader({ ...entry, type: 'hardlink', linkpath: first }));
          continue;
        }
        if (st.nlink > 1) inodes.set(key, rel);
        out.put(entryHeader({ ...entry, size: st.size }));
        fileContent(at, st.size);
      } else if (st.isFIFO()) {
        out.put(entryHeader({ ...entry, type: 'fifo' }));
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const devmajor = Number((BigInt(st.rdev) >> 8n) & 0xfffn) | Number((BigInt(st.rdev) >> 32n) & ~0xfffn);
        const devminor = Number(BigInt(st.rdev) & 0xffn) | Number((BigInt(st.rdev) >> 12n) & ~0xffn);
        out.put(entryHeader({ ...entry, type: st.isCharacterDevice() ? 'char' : 'block', devmajor, devminor }));
      } else {
        process.stderr.write(`warning: ${JSON.stringify(rel)}: a socket, not written to the layer\n`);
      }
    }
  };
  walk('');
  out.put(END_OF_ARCHIVE);
  out.flush();
}

function statIfThere(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function safeExists(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`${(err as Error).message.split('\n')[0]}\n`);
  process.exit(1);
}
