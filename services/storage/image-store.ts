/**
 * Images as an OCI image layout (images/oci-layout, index.json, blobs/sha256/...): refs are
 * annotations on the index's manifest descriptors, so the directory can be read by any OCI tool.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { NestboxError } from '../../lib/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../../lib/atomic-file.js';
import type { ImageConfig } from '../../lib/contracts/types.js';
import { DataLayout } from '../../lib/data-layout.js';
import { parseImageRef, storedName } from '../../lib/image-ref.js';

const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;
const REF_NAME = 'org.opencontainers.image.ref.name';
/** a reference as text (validators.ts IMAGE_REF, without a digest) */
const IMAGE_REF_TEXT = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/;

interface Descriptor { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }
interface Index { schemaVersion: 2; manifests: Descriptor[] }
/** an index entry with what its manifest names: `id` is the config digest */
interface IndexEntry { ref?: string; id: string; manifest: string; blobs: string[] }
export interface OciImageConfig {
  architecture: string;
  os: string;
  created?: string;
  config: ImageConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: { created_by: string; created?: string; author?: string; comment?: string }[];
  /** docker's: who made it and why (commit -a, -m), from which container */
  author?: string;
  comment?: string;
  container?: string;
}

export interface StoredImage {
  /** digest of the config, as docker's image id */
  id: string;
  /** none for an image recorded without one (docker's `<none>`, e.g. `nestbox import FILE`) */
  ref?: string;
  config: OciImageConfig;
}

/**
 * docker's short names: `busybox` is `busybox:latest`, and so is `docker.io/library/busybox`
 * (references are stored by their familiar name, as docker lists them).
 */
export function normalizeRef(ref: string): string {
  try {
    return storedName(parseImageRef(ref));
  } catch { /* not docker's grammar: kept as given, with docker's default tag */ }
  const lastSlash = ref.lastIndexOf('/');
  if (ref.includes('@')) return ref;
  return ref.slice(lastSlash + 1).includes(':') ? ref : `${ref}:latest`;
}

export class ImageStore {
  /**
   * Blobs this process stored (and layers Storage.storeLayer extracted, by diffID), with when,
   * until an image names them: an import, load or pull stores them before the index names
   * them, so garbage collection keeps these a while (image-gc.ts).
   */
  readonly written = new Map<string, number>();
  /** manifest digest -> what it names (manifestOf) */
  private readonly manifests = new Map<string, { config: string; layers: string[] }>();
  private indexCache?: { key: string; index: Index; entries?: IndexEntry[] };

  constructor(private readonly layout: DataLayout) {}

  init(): void {
    const ociLayout = `${this.layout.images}/oci-layout`;
    if (!existsSync(ociLayout)) writeJsonAtomic(ociLayout, { imageLayoutVersion: '1.0.0' });
    if (!existsSync(this.indexPath)) writeJsonAtomic(this.indexPath, { schemaVersion: 2, manifests: [] });
  }

  find(ref: string): (StoredImage & { ref: string }) | undefined {
    const name = normalizeRef(ref);
    const desc = this.currentIndex().manifests.find((m) => m.annotations?.[REF_NAME] === name);
    return desc ? { ...this.load(desc), ref: name } : undefined;
  }

  /**
   * An image named as docker's rmi and inspect take it: a reference (`busybox` is
   * `busybox:latest`), a full id (`sha256:<hex>` or the bare hex) or a unique id prefix.
   * `ref` is set when it was named by reference; `refs` are all of the image's tags.
   */
  lookup(text: string): { id: string; refs: string[]; ref?: string } {
    const entries = this.indexEntries();
    const tagsOf = (id: string) => entries.filter((e) => e.id === id && e.ref).map((e) => e.ref!);
    const full = /^(sha256:)?([0-9a-f]{64})$/.exec(text);
    if (full) {
      const id = `sha256:${full[2]}`;
      if (entries.some((e) => e.id === id)) return { id, refs: tagsOf(id) };
    } else {
      const name = IMAGE_REF_TEXT.test(text) ? normalizeRef(text) : undefined;
      const byRef = name === undefined ? undefined : entries.find((e) => e.ref === name);
      if (byRef) return { id: byRef.id, refs: tagsOf(byRef.id), ref: name };
      const prefix = /^(?:sha256:)?([0-9a-f]{1,63})$/.exec(text);
      if (prefix) {
        const ids = [...new Set(entries.map((e) => e.id).filter((id) => id.startsWith(`sha256:${prefix[1]}`)))];
        if (ids.length > 1) throw new NestboxError('INVALID_ARGUMENT', `image id prefix "${text}" is ambiguous: it matches ${ids.length} images`);
        if (ids.length === 1) return { id: ids[0], refs: tagsOf(ids[0]) };
      }
    }
    throw new NestboxError('NOT_FOUND', `No such image: ${text}`);
  }

  /** Every image in the index, tagged or not. */
  list(): StoredImage[] {
    return this.currentIndex().manifests.map((m) => this.load(m));
  }

  /**
   * The image with this id (its config digest) while the index names it, untagged as far as this
   * answer goes (the caller names it): reads the index and that one config, not every image's.
   */
  byId(id: string): StoredImage | undefined {
    const entry = this.indexEntries().find((e) => e.id === id);
    return entry ? { id, config: this.readConfig(id) } : undefined;
  }

  /** The index's entries with the blobs each one names (its manifest, config and layers): what garbage collection keeps. */
  entries(): { ref?: string; id: string; manifest: string; blobs: string[]; config: OciImageConfig }[] {
    return this.indexEntries().map(({ ref, id, manifest, blobs }) => ({ ...(ref ? { ref } : {}), id, manifest, blobs: [...blobs], config: this.readConfig(id) }));
  }

  /** The index's entries with what their manifests name, no config read: lookup's and byId's view (not to change). */
  private indexEntries(): readonly IndexEntry[] {
    const current = this.current();
    return (current.entries ??= current.index.manifests.map((m) => {
      const manifest = this.manifestOf(m.digest);
      const ref = m.annotations?.[REF_NAME];
      return { ...(ref ? { ref } : {}), id: manifest.config, manifest: m.digest, blobs: [m.digest, manifest.config, ...manifest.layers] };
    }));
  }

  /** A manifest's config and layer digests; kept once read, as a blob's content never changes under its digest. */
  private manifestOf(digest: string): { config: string; layers: string[] } {
    let known = this.manifests.get(digest);
    if (!known) {
      const manifest = JSON.parse(this.readBlob(digest).toString('utf8')) as { config: Descriptor; layers?: Descriptor[] };
      known = { config: manifest.config.digest, layers: (manifest.layers ?? []).map((l) => l.digest) };
      this.manifests.set(digest, known);
    }
    return known;
  }

  private readConfig(digest: string): OciImageConfig {
    return JSON.parse(this.readBlob(digest).toString('utf8')) as OciImageConfig;
  }

  /**
   * Removes the tag `ref` (normalized). When no other entry keeps its image and `keepUntagged`,
   * the image stays as an untagged (`<none>`) entry (docker's dangling image). True if it was there.
   */
  untag(ref: string, keepUntagged: boolean): boolean {
    const name = normalizeRef(ref);
    const index = this.readIndex();
    const desc = index.manifests.find((m) => m.annotations?.[REF_NAME] === name);
    if (!desc) return false;
    index.manifests = index.manifests.filter((m) => m !== desc);
    if (keepUntagged && !index.manifests.some((m) => m.digest === desc.digest)) index.manifests.push({ mediaType: desc.mediaType, digest: desc.digest, size: desc.size });
    this.writeIndex(index);
    return true;
  }

  /** Removes every entry of the image with this id (config digest), tagged or not; returns the tags it had. */
  remove(id: string): string[] {
    const index = this.readIndex();
    const mine = new Set(this.indexEntries().filter((e) => e.id === id).map((e) => e.manifest));
    const refs = index.manifests.filter((m) => mine.has(m.digest)).flatMap((m) => m.annotations?.[REF_NAME] ?? []);
    index.manifests = index.manifests.filter((m) => !mine.has(m.digest));
    this.writeIndex(index);
    return refs;
  }

  /** Digests of the blobs in the store (files named by 64 hex characters). */
  storedBlobs(): string[] {
    return readdirSync(this.layout.blobs).filter((n) => /^[0-9a-f]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  /** Removes a blob file (garbage collection); a missing one is no error. */
  removeBlob(digest: string): void {
    rmSync(this.layout.blob(digest), { force: true });
    this.manifests.delete(digest);
  }

  /** The config of an image by id, while its config blob is stored (a container's image after untagging). */
  configOf(id: string): OciImageConfig | undefined {
    const path = this.blobPath(id);
    if (!path) return undefined;
    try {
      return parseConfig(readFileSync(path));
    } catch {
      return undefined;
    }
  }

  private load(desc: Descriptor): StoredImage {
    const id = this.manifestOf(desc.digest).config;
    const config = this.readConfig(id);
    const ref = desc.annotations?.[REF_NAME];
    return ref ? { id, ref, config } : { id, config };
  }

  /** Stores a blob by content; returns its descriptor fields. */
  putBlob(data: Buffer): { digest: string; size: number } {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const path = this.layout.blob(digest);
    this.written.set(digest, Date.now());
    if (!existsSync(path)) writeFileAtomic(path, data, { mode: 0o644 });
    return { digest, size: data.length };
  }

  /** The stored blob's file, or undefined when the store does not hold it. */
  blobPath(digest: string): string | undefined {
    const path = this.layout.blob(digest);
    return existsSync(path) ? path : undefined;
  }

  /** Moves an already verified file into the blob store under its digest. */
  adoptBlob(file: string, digest: string): string {
    const path = this.layout.blob(digest);
    this.written.set(digest, Date.now());
    if (!existsSync(path)) renameSync(file, path);
    return path;
  }

  /**
   * Records an image (config + layer blobs already stored) under `ref`, replacing an older one;
   * without `ref`, as an untagged image (once per manifest). A config given as bytes (load, pull)
   * is stored as it came, so the image keeps the id (config digest) it has everywhere else.
   */
  tag(ref: string | undefined, configOrBytes: OciImageConfig | Buffer, layers: { digest: string; size: number }[]): StoredImage {
    const name = ref === undefined ? undefined : normalizeRef(ref);
    const raw = Buffer.isBuffer(configOrBytes) ? configOrBytes : Buffer.from(JSON.stringify(configOrBytes));
    const config = Buffer.isBuffer(configOrBytes) ? parseConfig(configOrBytes) : configOrBytes;
    const cfg = this.putBlob(raw);
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: { mediaType: MEDIA.config, ...cfg },
      layers: layers.map((l) => ({ mediaType: MEDIA.layer, ...l })),
    };
    const man = this.putBlob(Buffer.from(JSON.stringify(manifest)));
    const index = this.readIndex();
    if (name !== undefined) {
      const displaced = index.manifests.find((m) => m.annotations?.[REF_NAME] === name);
      index.manifests = index.manifests.filter((m) => m !== displaced);
      // docker: the image the tag moved away from stays, untagged (`<none>`), unless another entry keeps it
      if (displaced && displaced.digest !== man.digest && !index.manifests.some((m) => m.digest === displaced.digest)) {
        index.manifests.push({ mediaType: displaced.mediaType, digest: displaced.digest, size: displaced.size });
      }
      index.manifests = index.manifests.filter((m) => m.digest !== man.digest || m.annotations?.[REF_NAME]);
      index.manifests.push({ mediaType: MEDIA.manifest, ...man, annotations: { [REF_NAME]: name } });
    } else if (!index.manifests.some((m) => m.digest === man.digest && !m.annotations?.[REF_NAME])) {
      index.manifests.push({ mediaType: MEDIA.manifest, ...man });
    }
    this.writeIndex(index);
    // named by the index now: no longer kept as fresh (image-gc.ts)
    for (const d of [cfg.digest, man.digest, ...layers.map((l) => l.digest), ...config.rootfs.diff_ids]) this.written.delete(d);
    return name !== undefined ? { id: cfg.digest, ref: name, config } : { id: cfg.digest, config };
  }

  private get indexPath(): string {
    return `${this.layout.images}/index.json`;
  }

  /** The index to read, not to change (writers take readIndex's fresh copy). */
  private currentIndex(): Index {
    return this.current().index;
  }

  /**
   * The index (and its entries, once asked for) kept while the file is the same one (inode, size,
   * mtime), so a lookup costs a stat, not a read and parse: every write replaces the file (atomic
   * rename), whichever process wrote it.
   */
  private current(): { index: Index; entries?: IndexEntry[] } {
    let key: string;
    try {
      const st = statSync(this.indexPath, { bigint: true });
      key = `${st.ino}:${st.size}:${st.mtimeNs}`;
    } catch {
      return { index: this.readIndex() }; // missing (empty) or unreadable (its error)
    }
    if (this.indexCache?.key !== key) {
      const index = this.readIndex();
      Object.freeze(index.manifests);
      this.indexCache = { key, index };
    }
    return this.indexCache;
  }

  private writeIndex(index: Index): void {
    this.indexCache = undefined; // our own write, however fast the next: never a stale hit
    writeJsonAtomic(this.indexPath, index);
  }

  private readIndex(): Index {
    try {
      return JSON.parse(readFileSync(this.indexPath, 'utf8')) as Index;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { schemaVersion: 2, manifests: [] };
      throw new NestboxError('INTERNAL', `image index ${this.indexPath} is unreadable: ${(err as Error).message}`);
    }
  }

  private readBlob(digest: string): Buffer {
    try {
      return readFileSync(this.layout.blob(digest));
    } catch {
      throw new NestboxError('INTERNAL', `blob ${digest} is missing from ${this.layout.blobs}`);
    }
  }
}


function parseConfig(bytes: Buffer): OciImageConfig {
  let config: OciImageConfig;
  try {
    config = JSON.parse(bytes.toString('utf8')) as OciImageConfig;
  } catch (err) {
    throw new NestboxError('INVALID_ARGUMENT', `the image config is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(config?.rootfs?.diff_ids)) throw new NestboxError('INVALID_ARGUMENT', 'the image config has no rootfs.diff_ids');
  return config;
}
