/**
 * Tar headers for layer archives: ustar, preceded by a PAX extended header when ustar cannot say
 * it all (long paths or link targets, large ids or sizes, extended attributes as
 * `SCHILY.xattr.NAME` records with raw values, as GNU tar and docker write them). Imported by the
 * commit worker (no imports of this project).
 */
export type LayerEntryType = 'file' | 'hardlink' | 'symlink' | 'dir' | 'char' | 'block' | 'fifo';

export interface LayerEntry {
  type: LayerEntryType;
  /** relative, without `./`; a directory's without its trailing slash */
  path: string;
  mode: number;
  uid: number;
  gid: number;
  /** seconds since the epoch */
  mtime: number;
  size?: number;
  /** a symlink's target, or the path a hard link links to */
  linkpath?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
}

export const BLOCK = 512;
const TYPEFLAG: Record<LayerEntryType, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };
const MAX_OCTAL_ID = 0o7777777;
const MAX_OCTAL_SIZE = 0o77777777777;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** One PAX record, "LEN key=value\n", LEN counting its own digits (bytes). */
function paxRecord(key: string, value: Buffer): Buffer {
  const rest = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = rest.length + 1;
  while (String(len).length + rest.length !== len) len = String(len).length + rest.length;
  return Buffer.concat([Buffer.from(String(len)), rest]);
}

/** ustar's name and prefix for `path`, or undefined when it does not fit (a PAX path then). */
function splitName(path: string): { name: string; prefix: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  for (let cut = path.indexOf('/'); cut > 0; cut = path.indexOf('/', cut + 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return { name, prefix };
  }
  return undefined;
}

function block(fields: { name: string; prefix: string; mode: number; uid: number; gid: number; size: number; mtime: number; type: string; linkpath: string; devmajor: number; devminor: number }): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(fields.name, 0, 100, 'utf8');
  h.write(octal(fields.mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(Math.min(fields.uid, MAX_OCTAL_ID), 8), 108, 'ascii');
  h.write(octal(Math.min(fields.gid, MAX_OCTAL_ID), 8), 116, 'ascii');
  h.write(octal(Math.min(fields.size, MAX_OCTAL_SIZE), 12), 124, 'ascii');
  h.write(octal(Math.max(0, Math.min(fields.mtime, MAX_OCTAL_SIZE)), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // the checksum counts as spaces while summing
  h.write(fields.type, 156, 'ascii');
  h.write(fields.linkpath, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(octal(fields.devmajor, 8), 329, 'ascii');
  h.write(octal(fields.devminor, 8), 337, 'ascii');
  h.write(fields.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

/** Zero bytes that round `size` up to whole blocks. */
export const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/** The header block(s) of `e`: a PAX header and its records first when needed. */
export function entryHeader(e: LayerEntry): Buffer {
  const path = e.type === 'dir' ? `${e.path}/` : e.path;
  const size = e.type === 'file' ? e.size ?? 0 : 0;
  const linkpath = e.linkpath ?? '';
  const records: Buffer[] = [];
  const split = splitName(path);
  if (!split) records.push(paxRecord('path', Buffer.from(path)));
  if (Buffer.byteLength(linkpath) > 100) records.push(paxRecord('linkpath', Buffer.from(linkpath)));
  if (e.uid > MAX_OCTAL_ID) records.push(paxRecord('uid', Buffer.from(String(e.uid))));
  if (e.gid > MAX_OCTAL_ID) records.push(paxRecord('gid', Buffer.from(String(e.gid))));
  if (size > MAX_OCTAL_SIZE) records.push(paxRecord('size', Buffer.from(String(size))));
  for (const [name, value] of e.xattrs ?? []) records.push(paxRecord(`SCHILY.xattr.${name}`, value));
  const ustar = block({
    name: split?.name ?? path.slice(0, 100), prefix: split?.prefix ?? '', mode: e.mode, uid: e.uid, gid: e.gid, size,
    mtime: e.mtime, type: TYPEFLAG[e.type], linkpath: linkpath.slice(0, 100), devmajor: e.devmajor ?? 0, devminor: e.devminor ?? 0,
  });
  if (records.length === 0) return ustar;
  const body = Buffer.concat(records);
  const paxName = `PaxHeaders/${path.replace(/\/$/, '').split('/').at(-1)!.slice(0, 80)}`;
  const pax = block({ name: paxName, prefix: '', mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: e.mtime, type: 'x', linkpath: '', devmajor: 0, devminor: 0 });
  return Buffer.concat([pax, body, padding(body.length), ustar]);
}

/** The end of an archive: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
