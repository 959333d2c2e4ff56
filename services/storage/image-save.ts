/**
 * `nestbox save`: images as a docker archive, the layout docker 25+ writes: the config and the
 * layers (uncompressed tars, the store's own blobs) under `blobs/sha256/<hex>`, `manifest.json`
 * (Config, RepoTags, Layers per image) and the legacy `repositories`. The config is written as
 * stored, byte for byte, so `load` gives back the same image id; every entry has mtime 0 and
 * owner 0, so one image always saves to the same bytes. The target is a file written under a
 * temporary name and renamed when complete, or the caller's FIFO (rootfs-export.ts's targets).
 */
import { open } from 'node:fs/promises';
import { statSync, write } from 'node:fs';
import { promisify } from 'node:util';
import { NestboxError } from '../../lib/errors.js';
import { type ImageStore, type StoredImage } from './image-store.js';
import { openTarget, type ExportTarget } from './rootfs-export.js';
import { tarHeader } from './tar-writer.js';

const writeAt = promisify(write);
const BLOCK = 512;
const CHUNK = 1 << 20;

interface SavedImage { image: StoredImage; refs: string[] }

/** The images named, each once, with the refs they were named by (docker writes those as RepoTags). */
function resolve(images: ImageStore, names: string[]): SavedImage[] {
  const byId = new Map<string, SavedImage>();
  for (const name of names) {
    // rmi's lookup (a reference, an id or a unique id prefix); its NOT_FOUND is docker's "No such image"
    const found = images.lookup(name);
    const image = images.byId(found.id)!;
    const saved = byId.get(image.id) ?? { image, refs: [] };
    byId.set(image.id, saved);
    // an id or a digest reference names no tag: docker writes none for it
    const named = found.ref === undefined || found.ref.includes('@') ? undefined : found.ref;
    if (named !== undefined && !saved.refs.includes(named)) saved.refs.push(named);
  }
  return [...byId.values()];
}

/** `started` once the target is open (a FIFO's reader may read from then on), `done` once complete. */
export async function* saveImages(images: ImageStore, names: string[], target: ExportTarget): AsyncGenerator<{ started: true } | { done: true }> {
  const saved = resolve(images, names);
  const blobs = new Map<string, string>(); // hex -> stored file, each written once
  const need = (digest: string, what: string) => {
    const path = images.blobPath(digest);
    if (!path) throw new NestboxError('NOT_FOUND', `save: the blob of ${what} ${digest} is missing from the store`);
    blobs.set(digest.slice('sha256:'.length), path);
  };
  const manifest = saved.map(({ image, refs }) => {
    need(image.id, 'the config of');
    for (const d of image.config.rootfs.diff_ids) need(d, 'layer');
    return {
      Config: `blobs/sha256/${image.id.slice(7)}`,
      RepoTags: refs.length ? refs : null,
      Layers: image.config.rootfs.diff_ids.map((d) => `blobs/sha256/${d.slice(7)}`),
    };
  });
  const repositories: Record<string, Record<string, string>> = {};
  for (const { image, refs } of saved) {
    for (const ref of refs) {
      const colon = ref.lastIndexOf(':');
      (repositories[ref.slice(0, colon)] ??= {})[ref.slice(colon + 1)] = image.id.slice(7);
    }
  }

  const out = openTarget(target, 'save');
  let complete = false;
  try {
    yield { started: true };
    const put = async (buf: Buffer) => {
      for (let off = 0; off < buf.length;) off += (await writeAt(out.fd, buf, off, buf.length - off)).bytesWritten;
    };
    await put(tarHeader({ type: 'dir', path: 'blobs', mode: 0o755 }, 0));
    await put(tarHeader({ type: 'dir', path: 'blobs/sha256', mode: 0o755 }, 0));
    for (const [hex, path] of blobs) {
      const size = statSync(path).size;
      await put(tarHeader({ type: 'file', path: `blobs/sha256/${hex}`, mode: 0o644, content: Buffer.alloc(0) }, 0, size));
      await copyInto(path, size, put);
      if (size % BLOCK) await put(Buffer.alloc(BLOCK - (size % BLOCK)));
    }
    for (const [name, value] of [['manifest.json', manifest], ['repositories', repositories]] as const) {
      const content = Buffer.from(JSON.stringify(value));
      await put(tarHeader({ type: 'file', path: name, mode: 0o644, content }, 0));
      await put(content);
      if (content.length % BLOCK) await put(Buffer.alloc(BLOCK - (content.length % BLOCK)));
    }
    await put(Buffer.alloc(2 * BLOCK));
    out.commit();
    complete = true;
  } catch (err) {
    if (err instanceof NestboxError) throw err;
    throw new NestboxError('INTERNAL', `save: writing the archive: ${(err as Error).message}`);
  } finally {
    if (!complete) out.abandon(); // also when the caller went away mid-way (the generator is closed)
  }
  yield { done: true };
}

/** Exactly `size` bytes of a stored blob (blobs never change: a short read is a damaged store). */
async function copyInto(path: string, size: number, put: (b: Buffer) => Promise<void>): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(CHUNK, Math.max(size, 1)));
    for (let done = 0; done < size;) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, size - done), done);
      if (bytesRead === 0) throw new NestboxError('INTERNAL', `save: blob ${path} is shorter than it was`);
      await put(buf.subarray(0, bytesRead));
      done += bytesRead;
    }
  } finally {
    await handle.close();
  }
}
