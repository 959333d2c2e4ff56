/**
 * The input of `nestbox load`, read in place and never extracted: a tar file (docker-archive or
 * an OCI layout as a tar) whose members are located by one scan of its headers (seeking over
 * their data), or an OCI layout directory. A member is handed out as a byte range of the file
 * (layer-copy.ts streams it from there into a temporary file of our own) or read into memory
 * when small (manifests, configs). Member names are only ever looked up, never used as paths,
 * except a directory's, which are built from names refused when absolute or holding `..`.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { NestboxError } from '../../lib/errors.js';
import type { FileRange } from './layer-copy.js';

const BLOCK = 512;
/** an archive with more entries than this is not an image archive (bounds the index in memory) */
const MAX_ENTRIES = 200_000;

interface Entry { kind: 'file' | 'symlink' | 'hardlink' | 'other'; start: number; size: number; target?: string }

const invalid = (message: string) => new NestboxError('INVALID_ARGUMENT', message);

/** A member name as tar tools write it (`./index.json`, `dir/`) in one canonical form. */
function canonical(name: string): string {
  return name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

/**
 * Refuses a name an archive's own index (manifest.json) gives that could leave the archive if it
 * were ever used as a path: absolute, `..` components, empty. Returns its canonical form.
 */
export function safeMemberName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name === '') throw invalid(`${what}: member name must be a non-empty string`);
  if (name.startsWith('/') || name.split('/').includes('..') || name.includes('\0')) {
    throw invalid(`${what}: member name ${JSON.stringify(name.slice(0, 200))} is absolute or contains '..': refused`);
  }
  return canonical(posix.normalize(name));
}

export abstract class ImageArchive {
  constructor(readonly path: string) {}
  abstract has(name: string): boolean;
  /** the member's bytes, or NOT_FOUND naming it ("missing blob") */
  abstract range(name: string, what: string): FileRange;

  /** A small member (manifest, index, config) read whole; larger than `cap` is refused. */
  read(name: string, cap: number, what: string): Buffer {
    const r = this.range(name, what);
    if (r.size > cap) throw invalid(`${what} ${name}: ${r.size} bytes is more than the ${cap} such a file may have`);
    const buf = Buffer.alloc(r.size);
    const fd = openSync(r.file, 'r');
    try {
      let off = 0;
      while (off < r.size) {
        const n = readSync(fd, buf, off, r.size - off, r.start + off);
        if (n === 0) throw invalid(`${what} ${name}: the archive is truncated`);
        off += n;
      }
    } finally {
      closeSync(fd);
    }
    return buf;
  }
}

/** A regular file starting with gzip's magic (docker load takes `docker save | gzip`): decompressed first. */
export function isGzipFile(path: string): boolean {
  let fd: number;
  try {
    if (!statSync(path).isFile()) return false;
    fd = openSync(path, 'r');
  } catch {
    return false; // openImageArchive says why
  }
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** Opens `path` as a directory (an OCI layout) or a tar; anything else is refused in one line. */
export function openImageArchive(path: string): ImageArchive {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NestboxError('NOT_FOUND', 'no such file or directory');
    if (code === 'EACCES') throw new NestboxError('FAILED_PRECONDITION', `permission denied (read as uid ${process.getuid?.()})`);
    throw invalid(`cannot open it: ${(err as Error).message}`);
  }
  if (st.isDirectory()) return new DirArchive(path);
  if (!st.isFile()) throw invalid('is not a regular file nor a directory');
  return new TarArchive(path);
}

class DirArchive extends ImageArchive {
  has(name: string): boolean {
    try {
      return statSync(join(this.path, canonical(name))).isFile();
    } catch {
      return false;
    }
  }

  range(name: string, what: string): FileRange {
    const file = join(this.path, safeMemberName(name, what));
    let st;
    try {
      st = statSync(file);
    } catch {
      throw new NestboxError('NOT_FOUND', `${what}: missing ${name} in the layout directory`);
    }
    if (!st.isFile()) throw invalid(`${what}: ${name} in the layout directory is not a regular file`);
    return { file, start: 0, size: st.size };
  }
}

class TarArchive extends ImageArchive {
  private readonly entries = new Map<string, Entry>();

  constructor(path: string) {
    super(path);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES') throw new NestboxError('FAILED_PRECONDITION', `permission denied (read as uid ${process.getuid?.()})`);
      throw invalid(`cannot open it: ${(err as Error).message}`);
    }
    try {
      this.scan(fd, fstatSync(fd).size);
    } finally {
      closeSync(fd);
    }
  }

  has(name: string): boolean {
    return this.entries.has(canonical(name));
  }

  range(name: string, what: string): FileRange {
    let key = canonical(name);
    for (let hops = 0; ; hops++) {
      const e = this.entries.get(key);
      if (!e) throw new NestboxError('NOT_FOUND', `${what}: missing ${key === canonical(name) ? name : `${name} (a link to ${key})`} in the archive`);
      if (e.kind === 'file') return { file: this.path, start: e.start, size: e.size };
      // docker's save writes a layer shared by two images once and links the second to it
      if ((e.kind === 'symlink' || e.kind === 'hardlink') && hops < 8 && e.target) {
        const target = e.kind === 'symlink' ? posix.join(posix.dirname(key), e.target) : e.target;
        key = safeMemberName(target, `${what}: ${name} links to`);
        continue;
      }
      throw invalid(`${what}: ${name} in the archive is not a regular file`);
    }
  }

  /** One pass over the headers: ustar/GNU/pax names, base-256 sizes; data ranges past the end are truncation. */
  private scan(fd: number, fileSize: number): void {
    const header = Buffer.alloc(BLOCK);
    let pos = 0;
    let longName: string | undefined;
    let longLink: string | undefined;
    let pax: Record<string, string> = {};
    for (;;) {
      const n = readSync(fd, header, 0, BLOCK, pos);
      if (n === 0 && pos > 0) throw invalid('the archive is truncated (it ends without the end-of-archive blocks)');
      if (n < BLOCK) throw invalid(pos === 0 ? 'not a tar archive (nor an OCI layout directory): too short' : `the archive is truncated (a header at byte ${pos} is cut)`);
      if (header.every((b) => b === 0)) return; // end of archive
      if (!checksumOk(header)) {
        throw invalid(pos === 0 ? `not a tar archive (nor an OCI layout directory)${compressionOf(header)}` : `the archive is damaged (bad header checksum at byte ${pos})`);
      }
      const size = numeric(header.subarray(124, 136));
      if (size === undefined) throw invalid(`the archive is damaged (bad size field at byte ${pos})`);
      const type = String.fromCharCode(header[156] || 0x30);
      const dataStart = pos + BLOCK;
      const dataSize = type === '5' || type === '2' || type === '1' ? 0 : size;
      if (dataStart + dataSize > fileSize) throw invalid(`the archive is truncated (a member at byte ${pos} ends past its end)`);
      const next = dataStart + Math.ceil(dataSize / BLOCK) * BLOCK;
      const small = () => (size > 1 << 20 ? undefined : this.readAt(fd, dataStart, size));
      if (type === 'L' || type === 'K' || type === 'x') {
        const data = small();
        if (data === undefined) throw invalid(`the archive is damaged (a ${size}-byte long-name header at byte ${pos})`);
        if (type === 'L') longName = cString(data);
        else if (type === 'K') longLink = cString(data);
        else pax = parsePax(data);
        pos = next;
        continue;
      }
      if (type !== 'g') {
        const magic = header.toString('latin1', 257, 262);
        const prefix = magic === 'ustar' ? cString(header.subarray(345, 500)) : '';
        const raw = pax.path ?? longName ?? (prefix ? `${prefix}/${cString(header.subarray(0, 100))}` : cString(header.subarray(0, 100)));
        const target = pax.linkpath ?? longLink ?? cString(header.subarray(157, 257));
        const realSize = pax.size !== undefined ? Number(pax.size) : size;
        const kind = type === '0' || type === '7' ? 'file' : type === '2' ? 'symlink' : type === '1' ? 'hardlink' : 'other';
        if (this.entries.size >= MAX_ENTRIES) throw invalid(`more than ${MAX_ENTRIES} entries: not an image archive`);
        if (kind === 'file' && (!Number.isSafeInteger(realSize) || dataStart + realSize > fileSize)) throw invalid(`the archive is truncated (a member at byte ${pos} ends past its end)`);
        this.entries.set(canonical(raw), { kind, start: dataStart, size: kind === 'file' ? realSize : 0, target });
        pos = kind === 'file' ? dataStart + Math.ceil(realSize / BLOCK) * BLOCK : next;
      } else {
        pos = next;
      }
      longName = longLink = undefined;
      pax = {};
    }
  }

  private readAt(fd: number, start: number, size: number): Buffer {
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, start + off);
      if (n === 0) throw invalid('the archive is truncated');
      off += n;
    }
    return buf;
  }
}

function checksumOk(h: Buffer): boolean {
  const stored = numeric(h.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return stored === sum;
}

/** An octal field, or base-256 (GNU, for sizes over 8 GiB). */
function numeric(field: Buffer): number | undefined {
  if (field[0] & 0x80) {
    let v = 0;
    for (let i = 1; i < field.length; i++) v = v * 256 + field[i];
    return Number.isSafeInteger(v) ? v : undefined;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : undefined;
}

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.toString('utf8', 0, end < 0 ? b.length : end);
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    const len = space < 0 ? NaN : Number(data.toString('latin1', pos, space));
    if (!Number.isSafeInteger(len) || len <= 0 || pos + len > data.length) throw invalid('the archive is damaged (a bad pax header)');
    const record = data.toString('utf8', space + 1, pos + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

/** Says what a file that is not a tar looks like, when it is a compression docker also reads. */
function compressionOf(head: Buffer): string {
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return ': it is xz-compressed (decompress it first)';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return ': it is bzip2-compressed (decompress it first)';
  if (head.readUInt32LE(0) === 0xfd2fb528) return ': it is zstd-compressed (decompress it first)';
  return '';
}
