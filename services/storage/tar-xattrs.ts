/**
 * The extended attributes of a tar's entries (PAX `SCHILY.xattr.NAME` records, as GNU tar,
 * libarchive and docker write them), read byte for byte from the stream node-tar extracts:
 * node-tar decodes PAX values as UTF-8 text, which would corrupt binary values such as
 * security.capability. A pass-through Transform that follows the archive's headers as node-tar
 * does (node-tar's own Header and Pax parse path, size and type) and records, for each entry
 * node-tar hands to its filter, its path and xattrs, in order. Imported by the extraction
 * worker (no imports of this project).
 */
import { Transform } from 'node:stream';
import * as tar from 'tar';

export interface EntryXattrs { path: string; xattrs: Map<string, Buffer> }

const BLOCK = 512;
/** node-tar ignores larger meta entries (its maxMetaEntrySize default); so do we */
const MAX_META = 1024 * 1024;
const META = new Set(['NextFileHasLongLinkpath', 'NextFileHasLongPath', 'OldGnuLongPath', 'GlobalExtendedHeader', 'ExtendedHeader', 'OldExtendedHeader']);
/** the types node-tar passes to the filter (others it ignores without asking) */
const KNOWN = new Set(['File', 'OldFile', 'Link', 'SymbolicLink', 'CharacterDevice', 'BlockDevice', 'Directory', 'FIFO', 'ContiguousFile', 'GNUDumpDir']);
const PREFIX = 'SCHILY.xattr.';

/** The SCHILY.xattr records of a PAX body ("LEN key=value\n" records, LEN counting bytes). */
export function paxXattrs(body: Buffer): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    const len = space > at ? Number(body.subarray(at, space).toString('latin1')) : NaN;
    if (!Number.isInteger(len) || len <= space - at || at + len > body.length) break; // node-tar stops there too
    const record = body.subarray(space + 1, at + len - 1); // without the trailing newline
    const eq = record.indexOf(0x3d);
    if (eq > 0) {
      const key = record.subarray(0, eq).toString('utf8');
      if (key.startsWith(PREFIX) && key.length > PREFIX.length) found.set(key.slice(PREFIX.length), Buffer.from(record.subarray(eq + 1)));
    }
    at += len;
  }
  return found;
}

export class TarXattrScanner extends Transform {
  /** one per entry node-tar filters, in archive order (xattrs empty when it has none) */
  readonly entries: EntryXattrs[] = [];
  private buf: Buffer = Buffer.alloc(0);
  /** bytes of the current entry's body still to pass */
  private skip = 0;
  private meta?: { type: string; size: number; chunks: Buffer[]; got: number };
  private ex?: Record<string, unknown>;
  private gex?: Record<string, unknown>;
  private exXattrs = new Map<string, Buffer>();
  private gexXattrs = new Map<string, Buffer>();

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length > 0) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, this.buf.length);
        if (this.meta && this.meta.size <= MAX_META) this.meta.chunks.push(this.buf.subarray(0, Math.min(n, this.meta.size - this.meta.got)));
        if (this.meta) this.meta.got += n;
        this.skip -= n;
        this.buf = this.buf.subarray(n);
        if (this.skip === 0 && this.meta) this.endMeta();
        continue;
      }
      if (this.buf.length < BLOCK) break;
      this.header(this.buf.subarray(0, BLOCK));
      this.buf = this.buf.subarray(BLOCK);
    }
    done(null, chunk);
  }

  private header(block: Buffer): void {
    let h: tar.Header;
    try {
      h = new tar.Header(block, 0, this.ex as never, this.gex as never);
    } catch {
      return; // node-tar warns (and the worker fails the layer)
    }
    if (h.nullBlock || !h.cksumValid || !h.path || !h.type) return;
    const size = h.size ?? 0;
    const padded = BLOCK * Math.ceil(size / BLOCK);
    if (META.has(h.type)) {
      this.meta = { type: h.type, size, chunks: [], got: 0 };
      this.skip = padded;
      if (padded === 0) this.endMeta();
      return;
    }
    this.skip = padded;
    if (KNOWN.has(h.type)) {
      const xattrs = new Map([...this.gexXattrs, ...this.exXattrs]);
      this.entries.push({ path: h.path, xattrs });
    }
    this.ex = undefined;
    this.exXattrs = new Map();
  }

  private endMeta(): void {
    const m = this.meta!;
    this.meta = undefined;
    if (m.size > MAX_META || m.size === 0) return;
    const body = Buffer.concat(m.chunks).subarray(0, m.size);
    const text = body.toString();
    switch (m.type) {
      case 'NextFileHasLongPath':
      case 'OldGnuLongPath':
        this.ex = { ...(this.ex ?? {}), path: text.replace(/\0.*/s, '') };
        break;
      case 'NextFileHasLongLinkpath':
        this.ex = { ...(this.ex ?? {}), linkpath: text.replace(/\0.*/s, '') };
        break;
      case 'ExtendedHeader':
      case 'OldExtendedHeader':
        this.ex = tar.Pax.parse(text, this.ex as never, false) as unknown as Record<string, unknown>;
        for (const [k, v] of paxXattrs(body)) this.exXattrs.set(k, v);
        break;
      case 'GlobalExtendedHeader':
        this.gex = tar.Pax.parse(text, this.gex as never, true) as unknown as Record<string, unknown>;
        for (const [k, v] of paxXattrs(body)) this.gexXattrs.set(k, v);
        break;
    }
  }
}
