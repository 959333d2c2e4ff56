/**
 * Tar archives whose entries carry extended attributes as PAX `SCHILY.xattr.NAME` records (as
 * GNU tar --xattrs and docker write them), values as raw bytes. Busybox has no setfattr, so the
 * tests bring xattrs in through such archives.
 */
import { Header } from 'tar';

export interface PaxEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink';
  content?: Buffer;
  linkpath?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  xattrs?: Record<string, Buffer>;
}

const BLOCK = 512;
const pad = (n: number) => Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);

/** One "LEN key=value\n" record, LEN counting its own digits (bytes). */
export function paxRecord(key: string, value: Buffer): Buffer {
  const rest = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = rest.length + 1;
  while (String(len).length + rest.length !== len) len = String(len).length + rest.length;
  return Buffer.concat([Buffer.from(String(len)), rest]);
}

function header(fields: ConstructorParameters<typeof Header>[0] & object): Buffer {
  const block = Buffer.alloc(BLOCK);
  new Header({ mtime: new Date(1_700_000_000_000), uid: 0, gid: 0, ...fields } as never).encode(block, 0);
  return block;
}

export function paxTar(entries: PaxEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'File';
    const content = type === 'File' ? e.content ?? Buffer.alloc(0) : Buffer.alloc(0);
    if (e.xattrs && Object.keys(e.xattrs).length > 0) {
      const body = Buffer.concat(Object.entries(e.xattrs).map(([k, v]) => paxRecord(`SCHILY.xattr.${k}`, v)));
      parts.push(header({ path: `PaxHeader/${e.path.slice(0, 80)}`, type: 'ExtendedHeader', size: body.length, mode: 0o644 } as never), body, pad(body.length));
    }
    parts.push(header({
      path: e.path, type, linkpath: e.linkpath, size: content.length,
      mode: e.mode ?? (type === 'Directory' ? 0o755 : 0o644), uid: e.uid ?? 0, gid: e.gid ?? 0,
    } as never), content, pad(content.length));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}
