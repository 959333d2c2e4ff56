/**
 * Reads a layer archive given by path (`nestbox import`): a plain tar or a gzip-compressed one,
 * told by its magic bytes. One pass decompresses it, hashes the uncompressed tar (its diffID)
 * and copies it into a temporary file, stopping at a cap on the uncompressed size (a gzip bomb
 * ends there, not when the disk is full). The copy is what gets extracted and stored.
 */
import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { NestboxError } from '../../lib/errors.js';

/** 64 GiB: larger than any sane layer, small enough to stop a bomb before it fills a disk */
export const DEFAULT_MAX_LAYER_BYTES = 64 * 2 ** 30;

export interface LayerCopy {
  /** the uncompressed tar, in the data root's tmp dir (the caller moves or removes it) */
  file: string;
  diffId: string;
  size: number;
  /** digest and size of the bytes read (the compressed blob; the same as diffID and size when plain) */
  blob: { digest: string; size: number };
}

/** A layer stored inside a larger file (a member of an image archive): `size` bytes from `start`. */
export interface FileRange { file: string; start: number; size: number }

/** magic bytes of compressions this reader does not take, named in the refusal */
const OTHER_COMPRESSIONS: [string, number[]][] = [
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['bzip2', [0x42, 0x5a, 0x68]],
];

export async function copyLayerTar(source: string | FileRange, tmpDir: string, maxBytes: number): Promise<LayerCopy> {
  const range = typeof source === 'string' ? undefined : source;
  const handle = await openSource(typeof source === 'string' ? source : source.file);
  const start = range?.start ?? 0;
  const file = join(tmpDir, `import-${randomBytes(6).toString('hex')}.tar`);
  try {
    const head = Buffer.alloc(range ? Math.min(6, range.size) : 6);
    const { bytesRead } = await handle.read(head, 0, head.length, start);
    const magic = head.subarray(0, bytesRead);
    const starts = (bytes: number[]) => bytes.every((b, i) => magic[i] === b);
    const other = OTHER_COMPRESSIONS.find(([, bytes]) => starts(bytes));
    if (other) throw new NestboxError('INVALID_ARGUMENT', `compressed with ${other[0]}: import reads a plain or gzip-compressed tar`);
    const gzip = starts([0x1f, 0x8b]);

    const blobHash = createHash('sha256');
    let blobSize = 0;
    const blobMeter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        blobSize += chunk.length;
        blobHash.update(chunk);
        done(null, chunk);
      },
    });
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > maxBytes) {
          return done(new NestboxError('TOO_LARGE', `the uncompressed archive is larger than the cap of ${maxBytes} bytes (NESTBOX_MAX_LAYER_BYTES)`));
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const input = range?.size === 0 ? Readable.from([]) : handle.createReadStream({ start, end: range ? start + range.size - 1 : undefined, autoClose: false });
    const output = createWriteStream(file, { flags: 'wx', mode: 0o600 });
    const stages: (Readable | Transform | NodeJS.WritableStream)[] = gzip ? [input, blobMeter, createGunzip(), meter, output] : [input, blobMeter, meter, output];
    try {
      await pipeline(stages as unknown as [Readable, ...Transform[], NodeJS.WritableStream]);
    } catch (err) {
      if (err instanceof NestboxError) throw err;
      const e = err as NodeJS.ErrnoException;
      if (e.code?.startsWith('Z_')) throw new NestboxError('INVALID_ARGUMENT', `the gzip stream is damaged or truncated (${e.message})`);
      throw new NestboxError('INTERNAL', `reading it: ${e.message}`);
    }
    return { file, diffId: `sha256:${hash.digest('hex')}`, size, blob: { digest: `sha256:${blobHash.digest('hex')}`, size: blobSize } };
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  } finally {
    await handle.close();
  }
}

/** The service runs as the calling user: it reads what that user may read, and says so. */
async function openSource(source: string) {
  let handle;
  try {
    handle = await open(source, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NestboxError('NOT_FOUND', 'no such file');
    if (code === 'EACCES') throw new NestboxError('FAILED_PRECONDITION', `permission denied (read as uid ${process.getuid?.()})`);
    throw new NestboxError('INVALID_ARGUMENT', `cannot open it: ${(err as Error).message}`);
  }
  const st = await handle.stat();
  if (!st.isFile()) {
    await handle.close();
    throw new NestboxError('INVALID_ARGUMENT', st.isDirectory() ? 'is a directory, not a tar archive' : 'is not a regular file');
  }
  return handle;
}
