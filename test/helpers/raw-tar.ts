/**
 * Tar archives built entry by entry with node-tar's Header, for the entries tar tools refuse to
 * make: `..` paths, hard links out of the tree, device nodes, a write through a symlink.
 */
import { Header } from 'tar';

export interface RawEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'FIFO';
  linkpath?: string;
  content?: Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  devmaj?: number;
  devmin?: number;
}

const BLOCK = 512;

/** The archive's bytes, ended by two zero blocks. */
export function rawTar(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'File';
    const content = type === 'File' ? e.content ?? Buffer.alloc(0) : Buffer.alloc(0);
    const block = Buffer.alloc(BLOCK);
    new Header({
      path: e.path, type, linkpath: e.linkpath, size: content.length,
      mode: e.mode ?? (type === 'Directory' ? 0o755 : 0o644), uid: e.uid ?? 0, gid: e.gid ?? 0,
      mtime: new Date(1_700_000_000_000), devmaj: e.devmaj ?? 0, devmin: e.devmin ?? 0,
    }).encode(block, 0);
    parts.push(block, content, Buffer.alloc((BLOCK - (content.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}
