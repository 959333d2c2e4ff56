/**
 * `nestbox pull REF`: resolves the reference in its registry (an index or manifest list to the
 * manifest of linux and this host's architecture), fetches the config, then each layer the store
 * does not hold yet (its diffID from the config tells), verifying every blob against its
 * descriptor's digest and size while it downloads into the data root's tmp dir; stores each
 * through Storage.storeLayer (decompressed, checked against its diffID, extracted in the
 * keeper) and records the image only once every layer is stored, its id the registry's config
 * digest. Yields docker's progress as it goes (PullChunk).
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { PullChunk } from '../../lib/contracts/types.js';
import { NestboxError } from '../../lib/errors.js';
import { fullName, isInsecureRegistry, parseImageRef, registryHost, storedName } from '../../lib/image-ref.js';
import {
  MANIFEST_MEDIA_TYPES, checkBlob, formatPlatform, hostPlatform, layerCompression, parseManifestOrIndex, selectManifest,
  type ImageManifest, type Platform,
} from './oci-manifest.js';
import type { Owner } from './layer-store.js';
import { LayerDownloads, shortId } from './layer-downloads.js';
import { readCredentials } from './registry-auth.js';
import { RegistryClient } from './registry-client.js';
import type { Storage } from './storage.js';

export interface PullOptions {
  ref: string;
  /** directory of the user's docker config.json (credentials), if any */
  dockerConfig?: string;
  /** host:port entries allowed over plain HTTP besides loopback */
  insecureRegistries: string[];
  owner: Owner;
  /** cap on each layer's uncompressed size */
  maxBytes: number;
  platform?: Platform;
  /** how often a download's byte count is reported */
  progressIntervalMs?: number;
  /** layers downloaded at once (docker's default: 3) */
  concurrency?: number;
}

/** an index may point at an index; docker follows one level, this allows two */
const MAX_INDEX_DEPTH = 2;
const MAX_CONFIG_BYTES = 16 * 2 ** 20;

export async function* pullImage(storage: Storage, opts: PullOptions): AsyncGenerator<PullChunk> {
  const ref = parseImageRef(opts.ref);
  const name = fullName(ref);
  yield { pulling: { reference: ref.digest ?? ref.tag ?? 'latest', repository: ref.path } };
  const client = new RegistryClient({
    host: registryHost(ref),
    repository: ref.path,
    insecure: isInsecureRegistry(ref.domain, opts.insecureRegistries),
    credentials: readCredentials(opts.dockerConfig, ref.domain),
  });

  const top = await client.manifest(ref.digest ?? ref.tag!, [...MANIFEST_MEDIA_TYPES], `manifest for ${name}`);
  const digest = `sha256:${createHash('sha256').update(top.bytes).digest('hex')}`;
  if (ref.digest && digest !== ref.digest) {
    throw new NestboxError('INVALID_ARGUMENT', `manifest for ${name} failed verification: its content has digest ${digest}`);
  }
  const platform = opts.platform ?? hostPlatform();
  const manifest = await resolveManifest(client, parseManifestOrIndex(top.bytes, `manifest for ${name}`, top.mediaType), name, platform);
  manifest.layers.forEach((l, i) => layerCompression(l, `${name} layer ${i + 1} (${l.digest})`)); // zstd & co refused before anything is fetched

  if (manifest.config.size > MAX_CONFIG_BYTES) throw new NestboxError('INVALID_ARGUMENT', `the config of ${name} is ${manifest.config.size} bytes, more than ${MAX_CONFIG_BYTES}`);
  // a config already stored (the same image pulled before) is not fetched again
  const storedConfig = storage.images.blobPath(manifest.config.digest);
  const configBytes = storedConfig ? readFileSync(storedConfig) : await client.blobBytes(manifest.config);
  if (storedConfig) checkBlob(configBytes, manifest.config, `the stored config of ${name}`);
  const { diffIds, warning } = readConfig(configBytes, name, platform);
  if (diffIds.length !== manifest.layers.length) {
    throw new NestboxError('INVALID_ARGUMENT', `${name}: the config lists ${diffIds.length} layers (rootfs.diff_ids), the manifest ${manifest.layers.length}`);
  }
  const stored = storedName(ref);
  const upToDate = storage.images.find(stored)?.id === manifest.config.digest && diffIds.every((d) => storage.hasLayer(d));

  const missing = manifest.layers.map((_, i) => !upToDate && !storage.hasLayer(diffIds[i]));
  const abort = new AbortController();
  client.abortWith(abort.signal);
  const downloads = new LayerDownloads((desc, file, onBytes) => client.downloadBlob(desc, file, onBytes), storage.layout.tmp, opts.concurrency ?? 3);
  if (!upToDate) {
    for (const [i, layer] of manifest.layers.entries()) {
      if (!missing[i]) yield { layer: shortId(layer), status: 'Already exists' };
      else if (downloads.add(layer)) yield { layer: shortId(layer), status: 'Pulling fs layer' };
    }
  }
  const interval = opts.progressIntervalMs ?? 100;
  const warnings: string[] = warning ? [warning] : [];
  const layers: { digest: string; size: number }[] = [];
  const storedNow = new Map<string, { digest: string; size: number }>();
  let storing: Promise<unknown> | undefined;
  let finished = false;
  try {
    for (const waiting of downloads.start()) yield { layer: shortId(waiting), status: 'Waiting' };
    for (const [i, layer] of manifest.layers.entries()) {
      const again = storedNow.get(layer.digest);
      if (!missing[i] || again) {
        layers.push(again ?? { digest: diffIds[i], size: statSync(storage.images.blobPath(diffIds[i])!).size });
        continue;
      }
      // extraction is in order; later layers download meanwhile and report as they go
      const file = downloads.file(layer.digest);
      for await (const _ of ticks(file, interval)) yield* downloads.changes();
      yield { layer: shortId(layer), status: 'Extracting' };
      const store = storage.storeLayer(await file, opts.owner, opts.maxBytes, diffIds[i]).catch((err: unknown) => {
        const e = err instanceof NestboxError ? err : new NestboxError('INTERNAL', (err as Error).message);
        throw new NestboxError(e.code, `${name} layer ${layer.digest}: ${e.message}`);
      });
      storing = store;
      for await (const _ of ticks(store, interval)) yield* downloads.changes();
      const result = await store;
      downloads.release(layer.digest);
      warnings.push(...result.warnings);
      storedNow.set(layer.digest, { digest: result.diffId, size: result.size });
      layers.push({ digest: result.diffId, size: result.size });
      yield { layer: shortId(layer), status: 'Pull complete' };
    }
    finished = true;
  } finally {
    if (!finished) abort.abort(); // failed, or the caller went away: stop the other downloads
    await storing?.catch(() => undefined); // a failed download must not leave an extraction running on
    await downloads.cleanup();
  }
  const image = upToDate ? storage.images.find(stored)! : storage.images.tag(stored, configBytes, layers);
  yield { done: { digest, id: image.id, upToDate, ref: name, warnings } };
}

/** Follows an index (or manifest list) to the image manifest for `platform`, each step verified. */
async function resolveManifest(client: RegistryClient, doc: ReturnType<typeof parseManifestOrIndex>, name: string, platform: Platform): Promise<ImageManifest> {
  for (let depth = 0; doc.kind === 'index'; depth++) {
    if (depth >= MAX_INDEX_DEPTH) throw new NestboxError('INVALID_ARGUMENT', `${name}: indexes nested more than ${MAX_INDEX_DEPTH} deep`);
    const entry = selectManifest(doc, name, platform);
    const what = `manifest ${entry.digest} of ${name}`;
    const got = await client.manifest(entry.digest, [entry.mediaType, ...MANIFEST_MEDIA_TYPES], what);
    checkBlob(got.bytes, entry, what);
    doc = parseManifestOrIndex(got.bytes, what, entry.mediaType);
  }
  return doc;
}

/** The config's diffIDs, and a warning when its platform is not this host's (docker warns too, and runs it). */
function readConfig(configBytes: Buffer, name: string, platform: Platform): { diffIds: string[]; warning?: string } {
  let config: { rootfs?: { diff_ids?: unknown }; os?: unknown; architecture?: unknown; variant?: unknown };
  try {
    config = JSON.parse(configBytes.toString('utf8')) as typeof config;
  } catch (err) {
    throw new NestboxError('INVALID_ARGUMENT', `the config of ${name} is not JSON: ${(err as Error).message}`);
  }
  const ids = config?.rootfs?.diff_ids;
  if (!Array.isArray(ids) || ids.some((d) => typeof d !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(d))) {
    throw new NestboxError('INVALID_ARGUMENT', `the config of ${name} has no valid rootfs.diff_ids (sha256 digests)`);
  }
  const { os, architecture } = config;
  if (typeof os === 'string' && typeof architecture === 'string' && (os !== platform.os || architecture !== platform.architecture)) {
    const theirs = formatPlatform({ os, architecture, ...(typeof config.variant === 'string' ? { variant: config.variant } : {}) });
    return { diffIds: ids as string[], warning: `the image's platform (${theirs}) does not match this host's (${formatPlatform(platform)})` };
  }
  return { diffIds: ids as string[] };
}

/** Yields every `intervalMs` while `task` runs, and once more when it has settled; rethrows its failure. */
async function* ticks(task: Promise<unknown>, intervalMs: number): AsyncGenerator<void> {
  let settled = false;
  const done = task.finally(() => (settled = true));
  done.catch(() => undefined); // awaited below
  while (!settled) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, intervalMs)))]);
    clearTimeout(timer);
    if (!settled) yield;
  }
  await done;
  yield;
}
