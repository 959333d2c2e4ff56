/**
 * Image manifests and indexes as they come from outside (an OCI image layout, a docker archive,
 * a registry): parses and validates them, shared by `nestbox load` and `nestbox pull`.
 *
 * - `parseManifestOrIndex(bytes, what)`: an OCI or docker schema 2 image manifest, or an OCI index /
 *   docker manifest list; every descriptor validated (media type, `sha256:` digest, size); docker
 *   schema 1 and unknown media types refused in one line naming them.
 * - `layerCompression(desc)`: 'none' | 'gzip' for the layer media types nestbox stores; zstd and
 *   the rest refused naming the media type.
 * - `hostPlatform()` / `selectManifest(index, what)`: the index entry for linux and this host's
 *   architecture (variant preferred when given); attestation entries are skipped; one line naming
 *   the platforms there are when none matches.
 * - `checkBlob(bytes, desc, what)`: a small blob (manifest, config) against its descriptor's
 *   digest and size. Large blobs (layers) are hashed while streamed by their reader.
 */
import { createHash } from 'node:crypto';
import { NestboxError } from '../../lib/errors.js';

export const MEDIA_TYPE = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerForeignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

/** the annotation naming an image inside an OCI layout (a tag, or a whole reference) */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
/** containerd's (and docker 25+ `save`'s) annotation with the whole reference */
export const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name';

/** What the `Accept` header of a registry request lists (pull), most wanted first. */
export const MANIFEST_MEDIA_TYPES = [MEDIA_TYPE.ociIndex, MEDIA_TYPE.dockerManifestList, MEDIA_TYPE.ociManifest, MEDIA_TYPE.dockerManifest] as const;

/** Manifests and indexes larger than this are refused before parsing (registries cap them at 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 2 ** 20;

export interface Platform { os: string; architecture: string; variant?: string }

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
}

export interface ImageManifest { kind: 'manifest'; mediaType: string; config: Descriptor; layers: Descriptor[]; annotations?: Record<string, string> }
export interface ImageIndex { kind: 'index'; mediaType: string; manifests: Descriptor[]; annotations?: Record<string, string> }

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const LAYER_COMPRESSION: Record<string, 'none' | 'gzip'> = {
  [MEDIA_TYPE.ociLayer]: 'none',
  [MEDIA_TYPE.ociLayerNondistributable]: 'none',
  [MEDIA_TYPE.dockerLayer]: 'none',
  [MEDIA_TYPE.ociLayerGzip]: 'gzip',
  [MEDIA_TYPE.ociLayerNondistributableGzip]: 'gzip',
  [MEDIA_TYPE.dockerLayerGzip]: 'gzip',
  [MEDIA_TYPE.dockerLayerForeignGzip]: 'gzip',
};
const MANIFEST_TYPES = new Set<string>([MEDIA_TYPE.ociManifest, MEDIA_TYPE.dockerManifest]);
const INDEX_TYPES = new Set<string>([MEDIA_TYPE.ociIndex, MEDIA_TYPE.dockerManifestList]);
const CONFIG_TYPES = new Set<string>([MEDIA_TYPE.ociConfig, MEDIA_TYPE.dockerConfig]);

function invalid(message: string): NestboxError {
  return new NestboxError('INVALID_ARGUMENT', message);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function stringMap(v: unknown, what: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v) || Object.values(v).some((x) => typeof x !== 'string')) throw invalid(`${what}: annotations must map strings to strings`);
  return v as Record<string, string>;
}

/** One descriptor, checked: a media type, a sha256 digest (other algorithms are refused by name), a size. */
export function validateDescriptor(value: unknown, what: string): Descriptor {
  if (!isRecord(value)) throw invalid(`${what}: a descriptor must be an object`);
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== 'string' || mediaType === '') throw invalid(`${what}: the descriptor has no mediaType`);
  if (typeof digest !== 'string') throw invalid(`${what}: the descriptor has no digest`);
  if (!DIGEST.test(digest)) {
    const algorithm = /^([a-z0-9+._-]+):/.exec(digest)?.[1];
    throw invalid(algorithm && algorithm !== 'sha256'
      ? `${what}: digest algorithm ${algorithm} is not supported (sha256 only)`
      : `${what}: invalid digest ${JSON.stringify(digest.slice(0, 100))}`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(`${what}: invalid size ${JSON.stringify(size)} of ${digest}`);
  const d: Descriptor = { mediaType, digest, size };
  const annotations = stringMap(value.annotations, `${what} ${digest}`);
  if (annotations) d.annotations = annotations;
  if (value.platform !== undefined) d.platform = validatePlatform(value.platform, `${what} ${digest}`);
  if (value.urls !== undefined) {
    if (!Array.isArray(value.urls) || value.urls.some((u) => typeof u !== 'string')) throw invalid(`${what} ${digest}: urls must be a list of strings`);
    d.urls = value.urls as string[];
  }
  return d;
}

function validatePlatform(v: unknown, what: string): Platform {
  if (!isRecord(v) || typeof v.os !== 'string' || typeof v.architecture !== 'string') throw invalid(`${what}: platform needs os and architecture`);
  if (v.variant !== undefined && typeof v.variant !== 'string') throw invalid(`${what}: platform variant must be a string`);
  return v.variant ? { os: v.os, architecture: v.architecture, variant: v.variant } : { os: v.os, architecture: v.architecture };
}

/**
 * An image manifest or an index, told by its mediaType (the body's, else `declaredMediaType`
 * from the descriptor or the registry's Content-Type) or, for OCI documents that name none, by
 * its shape. `what` names the document in every error.
 */
export function parseManifestOrIndex(bytes: Buffer, what: string, declaredMediaType?: string): ImageManifest | ImageIndex {
  if (bytes.length > MAX_MANIFEST_BYTES) throw invalid(`${what}: ${bytes.length} bytes is larger than a manifest may be (${MAX_MANIFEST_BYTES})`);
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalid(`${what} is not JSON: ${(err as Error).message}`);
  }
  if (!isRecord(doc)) throw invalid(`${what} is not a JSON object`);
  const bodyType = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  if (doc.schemaVersion === 1 || bodyType === MEDIA_TYPE.dockerSchema1 || bodyType === MEDIA_TYPE.dockerSchema1Signed) {
    throw invalid(`${what}: docker image manifest schema 1 is not supported (deprecated; schema 2 and OCI only)`);
  }
  if (doc.schemaVersion !== 2) throw invalid(`${what}: schemaVersion ${JSON.stringify(doc.schemaVersion)} is not 2`);
  const genericDeclared = declaredMediaType === undefined || /^(application\/json|application\/octet-stream|text\/plain)\b/.test(declaredMediaType);
  let mediaType = bodyType ?? (genericDeclared ? undefined : declaredMediaType);
  if (mediaType === undefined) {
    // OCI allows leaving mediaType out: the shape says which
    if (Array.isArray(doc.manifests)) mediaType = MEDIA_TYPE.ociIndex;
    else if (isRecord(doc.config) && Array.isArray(doc.layers)) mediaType = MEDIA_TYPE.ociManifest;
    else throw invalid(`${what} is neither an image manifest nor an index`);
  }
  const annotations = stringMap(doc.annotations, what);
  const extra = annotations ? { annotations } : {};
  if (INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw invalid(`${what}: the index has no manifests list`);
    const manifests = doc.manifests.map((m, i) => validateDescriptor(m, `${what} manifests[${i}]`));
    return { kind: 'index', mediaType, manifests, ...extra };
  }
  if (MANIFEST_TYPES.has(mediaType)) {
    const config = validateDescriptor(doc.config, `${what} config`);
    if (!CONFIG_TYPES.has(config.mediaType)) throw invalid(`${what}: config media type ${config.mediaType} is not an image config (an artifact, not an image?)`);
    if (!Array.isArray(doc.layers)) throw invalid(`${what}: the manifest has no layers list`);
    const layers = doc.layers.map((l, i) => validateDescriptor(l, `${what} layers[${i}]`));
    return { kind: 'manifest', mediaType, config, layers, ...extra };
  }
  throw invalid(`${what}: media type ${mediaType} is neither an image manifest nor an index`);
}

/** How a layer blob is stored, from its media type; any other (zstd, encrypted, foreign formats) is refused by name. */
export function layerCompression(desc: Descriptor, what = `layer ${desc.digest}`): 'none' | 'gzip' {
  const compression = LAYER_COMPRESSION[desc.mediaType];
  if (compression === undefined) {
    throw invalid(`${what}: layer media type ${desc.mediaType} is not supported (plain tar or tar+gzip only)`);
  }
  return compression;
}

/** linux and this host's architecture in OCI's (GOARCH) names; arm's variant from node's build. */
export function hostPlatform(arch: string = process.arch): Platform {
  const names: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64', mips64el: 'mips64le' };
  const architecture = names[arch] ?? arch;
  if (architecture === 'arm64') return { os: 'linux', architecture, variant: 'v8' };
  if (architecture === 'arm') {
    const v = (process.config.variables as Record<string, unknown>).arm_version;
    return v ? { os: 'linux', architecture, variant: `v${String(v)}` } : { os: 'linux', architecture };
  }
  return { os: 'linux', architecture };
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** buildkit's attestation entries are manifests of platform unknown/unknown, marked by this annotation */
const ATTESTATION = 'vnd.docker.reference.type';

/**
 * The index entry to use on `platform`: os and architecture must match; an entry with the same
 * variant wins over one without a variant, which wins over none (arm64's variant is often left
 * out). An index whose single entry names no platform (an OCI layout written by a copy tool) is
 * taken as it is. Nested indexes are returned like manifests: the caller follows them.
 */
export function selectManifest(index: ImageIndex, what: string, platform: Platform = hostPlatform()): Descriptor {
  const images = index.manifests.filter((m) => m.annotations?.[ATTESTATION] === undefined);
  if (images.length === 1 && images[0].platform === undefined) return images[0];
  const candidates = images.filter((m) => m.platform?.os === platform.os && m.platform.architecture === platform.architecture);
  const rank = (m: Descriptor) => (m.platform?.variant === platform.variant ? 2 : m.platform?.variant === undefined ? 1 : 0);
  const best = candidates.filter((m) => rank(m) > 0).sort((a, b) => rank(b) - rank(a))[0];
  if (best) return best;
  const there = [...new Set(images.map((m) => (m.platform ? formatPlatform(m.platform) : 'no platform')))];
  throw new NestboxError('NOT_FOUND', `${what}: no image for ${formatPlatform(platform)} (it has ${there.length ? there.join(', ') : 'no images'})`);
}

/** A small blob against its descriptor: the size first (cheap), then the sha256. */
export function checkBlob(bytes: Buffer, desc: Descriptor, what: string): void {
  if (bytes.length !== desc.size) throw invalid(`${what} ${desc.digest}: size ${bytes.length} does not match its descriptor's ${desc.size}`);
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (digest !== desc.digest) throw invalid(`${what}: content does not match its digest ${desc.digest} (it is ${digest})`);
}
