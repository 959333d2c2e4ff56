/**
 * `nestbox load`: the images of a docker archive (`docker save`: manifest.json naming each
 * image's config and layer tars) or of an OCI image layout (a directory or a tar of one:
 * index.json -> manifest, or an index of manifests chosen by platform) into the store.
 *
 * Everything is planned first (every name, descriptor, config and member checked, nothing
 * written), then every layer not stored yet is copied out of the archive and verified (OCI:
 * the blob's digest and size; both: the config's diffID), then all of them are extracted, and
 * the images are recorded last: a refused archive leaves no image and no layer. The archive is
 * only read: members are byte ranges of it (image-archive.ts) copied into temporary files of
 * our own in the data root's tmp dir, removed on every way out (a gzip-compressed archive is
 * first decompressed into one there, under the same cap as a layer).
 */
import { createHash } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import { NestboxError } from '../../lib/errors.js';
import { parseImageRef, storedName } from '../../lib/image-ref.js';
import type { OciImageConfig } from './image-store.js';
import { copyLayerTar, type FileRange, type LayerCopy } from './layer-copy.js';
import type { Owner } from './layer-store.js';
import type { BlobRef, Storage } from './storage.js';
import { ImageArchive, isGzipFile, openImageArchive, safeMemberName } from './image-archive.js';
import {
  CONTAINERD_NAME_ANNOTATION, MAX_MANIFEST_BYTES, REF_NAME_ANNOTATION, checkBlob, layerCompression, parseManifestOrIndex, selectManifest,
  type Descriptor,
} from './oci-manifest.js';

/** configs carry the image's history: larger than manifests, still small */
const MAX_CONFIG_BYTES = 32 * 2 ** 20;
const SHA256 = /^sha256:[0-9a-f]{64}$/;

export interface LoadResult {
  /** docker's lines: `Loaded image: REF` per tag, `Loaded image ID: sha256:...` for an untagged image */
  loaded: string[];
  /** warning lines (entries skipped or owners squashed by extraction, names not taken) */
  warnings: string[];
}

interface PlannedLayer { diffId: string; source: FileRange; blob?: BlobRef; name: string }
interface PlannedImage { configBytes: Buffer; refs: string[]; layers: PlannedLayer[] }

const invalid = (message: string) => new NestboxError('INVALID_ARGUMENT', message);
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function loadImages(storage: Storage, source: string, owner: Owner, maxBytes: number): Promise<LoadResult> {
  const warnings: string[] = [];
  const copies = new Map<string, LayerCopy>();
  let unpacked: string | undefined;
  try {
    // a gzip-compressed archive is decompressed into tmp first (under the cap, as one layer)
    if (isGzipFile(source)) unpacked = (await copyLayerTar(source, storage.layout.tmp, maxBytes)).file;
    const archive = openImageArchive(unpacked ?? source);
    let plans: PlannedImage[];
    if (archive.has('manifest.json')) plans = planDockerArchive(archive);
    else if (archive.has('index.json')) plans = planOciLayout(archive, warnings);
    else throw invalid('neither a docker archive (no manifest.json) nor an OCI image layout (no index.json)');

    for (const layer of plans.flatMap((p) => p.layers)) {
      if (copies.has(layer.diffId) || storage.hasLayer(layer.diffId)) continue; // stored once, reused
      try {
        copies.set(layer.diffId, await storage.verifyLayer(layer.source, maxBytes, layer.diffId, layer.blob));
      } catch (err) {
        throw named(err, `layer ${layer.name}`);
      }
    }
    for (const [diffId, copy] of copies) {
      try {
        warnings.push(...(await storage.commitLayer(copy, owner)).warnings);
      } catch (err) {
        throw named(err, `layer ${diffId}`);
      } finally {
        copies.delete(diffId);
      }
    }
    const loaded: string[] = [];
    for (const plan of plans) {
      const layers = plan.layers.map((l) => ({ digest: l.diffId, size: statSync(storage.images.blobPath(l.diffId) ?? missingBlob(l.diffId)).size }));
      if (plan.refs.length === 0) {
        loaded.push(`Loaded image ID: ${storage.images.tag(undefined, plan.configBytes, layers).id}`);
      }
      for (const ref of plan.refs) {
        storage.images.tag(ref, plan.configBytes, layers);
        loaded.push(`Loaded image: ${ref}`);
      }
    }
    return { loaded, warnings };
  } catch (err) {
    throw named(err, `load ${source}`);
  } finally {
    for (const copy of copies.values()) rmSync(copy.file, { force: true });
    if (unpacked !== undefined) rmSync(unpacked, { force: true });
  }
}

function named(err: unknown, what: string): NestboxError {
  const e = err instanceof NestboxError ? err : new NestboxError('INTERNAL', (err as Error).message);
  return new NestboxError(e.code, `${what}: ${e.message}`);
}

function missingBlob(diffId: string): never {
  throw new NestboxError('INTERNAL', `the blob of layer ${diffId} is missing from the store`);
}

/** docker's manifest.json: [{Config, RepoTags, Layers}], names relative to the archive's root. */
function planDockerArchive(archive: ImageArchive): PlannedImage[] {
  let entries: unknown;
  try {
    entries = JSON.parse(archive.read('manifest.json', MAX_MANIFEST_BYTES, 'manifest.json').toString('utf8'));
  } catch (err) {
    if (err instanceof NestboxError) throw err;
    throw invalid(`manifest.json is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(entries) || entries.length === 0) throw invalid('manifest.json must be a non-empty list of images');
  return entries.map((entry, i) => {
    const what = `manifest.json[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw invalid(`${what} is not an object`);
    const { Config, RepoTags, Layers } = entry as Record<string, unknown>;
    const configName = safeMemberName(Config, `${what} Config`);
    if (!Array.isArray(Layers)) throw invalid(`${what}: Layers must be a list`);
    const layerNames = Layers.map((l, j) => safeMemberName(l, `${what} Layers[${j}]`));
    if (RepoTags !== undefined && RepoTags !== null && (!Array.isArray(RepoTags) || RepoTags.some((t) => typeof t !== 'string'))) {
      throw invalid(`${what}: RepoTags must be a list of strings`);
    }
    const configBytes = archive.read(configName, MAX_CONFIG_BYTES, 'config');
    // docker names the config by its digest (<hex>.json, blobs/sha256/<hex>): it is the image id
    const named = /(?:^|\/)([0-9a-f]{64})(?:\.json)?$/.exec(configName)?.[1];
    if (named !== undefined && sha256(configBytes) !== `sha256:${named}`) {
      throw invalid(`config ${configName}: content does not match its digest (it is ${sha256(configBytes)})`);
    }
    const diffIds = diffIdsOf(configBytes, `config ${configName}`);
    if (diffIds.length !== layerNames.length) throw invalid(`${what}: ${layerNames.length} layers, but its config names ${diffIds.length} diffIDs`);
    const layers = layerNames.map((name, j): PlannedLayer => {
      const source = archive.range(name, 'layer');
      const hex = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(name)?.[1];
      // docker 25+ names layers by their blob digest: check that too
      return { diffId: diffIds[j], source, name, ...(hex ? { blob: { digest: `sha256:${hex}`, size: source.size } } : {}) };
    });
    const refs = ((RepoTags ?? []) as string[]).map((t) => imageRef(t, `${what} RepoTags`));
    return { configBytes, refs: [...new Set(refs)], layers };
  });
}

/** An OCI layout: each entry of index.json is an image (an index among them chooses by platform). */
function planOciLayout(archive: ImageArchive, warnings: string[]): PlannedImage[] {
  let layout: unknown;
  try {
    layout = JSON.parse(archive.read('oci-layout', 4096, 'oci-layout').toString('utf8'));
  } catch (err) {
    if (err instanceof NestboxError && err.code === 'NOT_FOUND') throw invalid('an index.json but no oci-layout file: not an OCI image layout');
    if (err instanceof NestboxError) throw err;
    throw invalid(`oci-layout is not JSON: ${(err as Error).message}`);
  }
  const version = (layout as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
  if (typeof version !== 'string' || !/^1\./.test(version)) throw invalid(`oci-layout: imageLayoutVersion ${JSON.stringify(version)} is not 1.x`);
  const index = parseManifestOrIndex(archive.read('index.json', MAX_MANIFEST_BYTES, 'index.json'), 'index.json');
  if (index.kind !== 'index') throw invalid('index.json is an image manifest, not an index');
  if (index.manifests.length === 0) throw invalid('index.json lists no images');
  // entries that are all platforms of one unnamed image (no names): choose one, as an index
  const platformsOnly = index.manifests.every((m) => m.platform !== undefined && refAnnotation(m) === undefined);
  const entries = platformsOnly && index.manifests.length > 1 ? [selectManifest(index, 'index.json')] : index.manifests;
  const blob = (desc: Descriptor, cap: number, what: string) => {
    const bytes = archive.read(blobName(desc.digest), cap, what);
    checkBlob(bytes, desc, what);
    return bytes;
  };
  return entries.map((entry): PlannedImage => {
    let desc = entry;
    for (let depth = 0; ; depth++) {
      const doc = parseManifestOrIndex(blob(desc, MAX_MANIFEST_BYTES, 'manifest'), `manifest ${desc.digest}`, desc.mediaType);
      if (doc.kind === 'index') {
        if (depth >= 4) throw invalid(`index ${desc.digest}: indexes nested deeper than 4`);
        desc = selectManifest(doc, `index ${desc.digest}`);
        continue;
      }
      const configBytes = blob(doc.config, MAX_CONFIG_BYTES, 'config');
      const diffIds = diffIdsOf(configBytes, `config ${doc.config.digest}`);
      if (diffIds.length !== doc.layers.length) throw invalid(`manifest ${desc.digest}: ${doc.layers.length} layers, but its config names ${diffIds.length} diffIDs`);
      const layers = doc.layers.map((l, j): PlannedLayer => {
        layerCompression(l, `blob ${l.digest}`);
        const source = archive.range(blobName(l.digest), 'layer');
        if (source.size !== l.size) throw invalid(`blob ${l.digest}: ${source.size} bytes, its descriptor says ${l.size}`);
        return { diffId: diffIds[j], source, blob: { digest: l.digest, size: l.size }, name: l.digest };
      });
      const ref = ociRef(entry, warnings);
      return { configBytes, refs: ref ? [ref] : [], layers };
    }
  });
}

function blobName(digest: string): string {
  return `blobs/sha256/${digest.slice('sha256:'.length)}`;
}

function refAnnotation(desc: Descriptor): string | undefined {
  return desc.annotations?.[CONTAINERD_NAME_ANNOTATION] ?? desc.annotations?.[REF_NAME_ANNOTATION];
}

/**
 * The OCI entry's name: containerd's whole reference (docker 25+ writes it) first, then
 * ref.name when it is a whole reference (`name:tag`, `host/name:tag`). A bare ref.name is a tag
 * of no repository (the layout's own name for the image, e.g. skopeo's `oci:DIR:v1`): the image
 * is loaded untagged, said in a warning.
 */
function ociRef(desc: Descriptor, warnings: string[]): string | undefined {
  const containerd = desc.annotations?.[CONTAINERD_NAME_ANNOTATION];
  if (containerd) return imageRef(containerd, `${desc.digest} annotation ${CONTAINERD_NAME_ANNOTATION}`);
  const name = desc.annotations?.[REF_NAME_ANNOTATION];
  if (name === undefined) return undefined;
  if (!name.includes('/') && !name.includes(':')) {
    warnings.push(`${REF_NAME_ANNOTATION} "${name}" is a tag without a repository: the image is loaded untagged`);
    return undefined;
  }
  return imageRef(name, `${desc.digest} annotation ${REF_NAME_ANNOTATION}`);
}

/** docker's familiar form (`docker.io/library/busybox:latest` is `busybox:latest`), by docker's grammar (lib/image-ref.ts). */
function imageRef(raw: string, what: string): string {
  let ref;
  try {
    ref = parseImageRef(raw);
  } catch {
    ref = undefined;
  }
  if (!ref || ref.digest) throw invalid(`${what}: ${JSON.stringify(raw.slice(0, 200))} is not an image reference (name:tag)`);
  return storedName(ref);
}

function diffIdsOf(configBytes: Buffer, what: string): string[] {
  let config: OciImageConfig;
  try {
    config = JSON.parse(configBytes.toString('utf8')) as OciImageConfig;
  } catch (err) {
    throw invalid(`${what} is not JSON: ${(err as Error).message}`);
  }
  const ids = config?.rootfs?.diff_ids;
  if (!Array.isArray(ids)) throw invalid(`${what} has no rootfs.diff_ids`);
  ids.forEach((d, i) => {
    if (typeof d !== 'string' || !SHA256.test(d)) throw invalid(`${what}: rootfs.diff_ids[${i}] ${JSON.stringify(d)} is not a sha256 digest`);
  });
  return ids;
}
