/**
 * Image archives made entry by entry for the load tests: docker archives in both of docker's
 * layouts (`<id>/layer.tar` + `<hex>.json`, and docker 25's `blobs/sha256/<hex>`) and OCI
 * layouts, as lists of tar entries a test can change (a wrong name, a missing member) before
 * writing them with rawTar.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { findStaticBusybox } from '../../services/storage/default-image.js';
import type { RawEntry } from './raw-tar.js';
import { rawTar } from './raw-tar.js';

export const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
export const hex = (digest: string) => digest.slice('sha256:'.length);
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

export interface Layer { tar: Buffer; diffId: string }

export function layerOf(entries: RawEntry[]): Layer {
  const tar = rawTar(entries);
  return { tar, diffId: sha256(tar) };
}

/** busybox and two files in /etc: the base of a two-layer image */
export function baseLayer(): Layer {
  return layerOf([
    { path: 'bin/', type: 'Directory' },
    { path: 'bin/busybox', content: readFileSync(findStaticBusybox()), mode: 0o755 },
    ...['sh', 'cat', 'ls', 'test'].map((applet): RawEntry => ({ path: `bin/${applet}`, type: 'SymbolicLink', linkpath: 'busybox' })),
    { path: 'etc/', type: 'Directory' },
    { path: 'etc/gone', content: Buffer.from('deleted by the next layer\n') },
    { path: 'etc/kept', content: Buffer.from('kept\n') },
  ]);
}

/** adds /etc/added and deletes /etc/gone with a whiteout */
export function topLayer(marker = 'added'): Layer {
  return layerOf([
    { path: 'etc/', type: 'Directory' },
    { path: 'etc/added', content: Buffer.from(`${marker}\n`) },
    { path: 'etc/.wh.gone', content: Buffer.alloc(0) },
  ]);
}

export function imageConfig(layers: Layer[], note = 'test'): Buffer {
  return json({
    architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    os: 'linux',
    created: '2026-01-01T00:00:00Z',
    config: { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], Labels: { note } },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({ created_by: note })),
  });
}

export interface ArchiveImage { config: Buffer; layers: Layer[]; repoTags?: string[] | null }

/**
 * docker save's members: `legacy` (docker < 25: `<id>/layer.tar`, `<config hex>.json`) or `blobs`
 * (docker 25+), layers gzip-compressed when asked (docker load takes both).
 */
export function dockerArchiveEntries(images: ArchiveImage[], style: 'legacy' | 'blobs', gzip = false): RawEntry[] {
  const entries = new Map<string, RawEntry>();
  const manifest = images.map((img) => {
    const configName = style === 'legacy' ? `${hex(sha256(img.config))}.json` : `blobs/sha256/${hex(sha256(img.config))}`;
    entries.set(configName, { path: configName, content: img.config });
    const layerNames = img.layers.map((l, i) => {
      const content = gzip ? gzipSync(l.tar) : l.tar;
      const name = style === 'legacy' ? `${hex(sha256(Buffer.from(`${l.diffId}${i}`)))}/layer.tar` : `blobs/sha256/${hex(sha256(content))}`;
      entries.set(name, { path: name, content });
      return name;
    });
    return { Config: configName, RepoTags: img.repoTags ?? null, Layers: layerNames };
  });
  entries.set('manifest.json', { path: 'manifest.json', content: json(manifest) });
  return [...entries.values()];
}

export interface OciLayer { blob: Buffer; mediaType: string }

/** An OCI layout's members: one image manifest under `refName`. */
export function ociLayoutEntries(config: Buffer, layers: OciLayer[], refName?: string): RawEntry[] {
  const blob = (content: Buffer, mediaType: string) => ({ mediaType, digest: sha256(content), size: content.length });
  const manifest = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: blob(config, 'application/vnd.oci.image.config.v1+json'),
    layers: layers.map((l) => blob(l.blob, l.mediaType)),
  });
  const index = json({
    schemaVersion: 2,
    manifests: [{ ...blob(manifest, 'application/vnd.oci.image.manifest.v1+json'), ...(refName ? { annotations: { 'org.opencontainers.image.ref.name': refName } } : {}) }],
  });
  return [
    { path: 'oci-layout', content: json({ imageLayoutVersion: '1.0.0' }) },
    { path: 'index.json', content: index },
    ...[config, manifest, ...layers.map((l) => l.blob)].map((c) => ({ path: `blobs/sha256/${hex(sha256(c))}`, content: c })),
  ];
}

/**
 * An OCI layout whose index.json names an index of one manifest per `platforms` entry (as
 * `docker buildx` writes them); only the manifest for `host` has its config and layers stored,
 * the others point at blobs that are not there (a loader must not need them).
 */
export function ociNestedEntries(config: Buffer, layers: OciLayer[], platforms: string[], host: string, annotations: Record<string, string>): RawEntry[] {
  const single = ociLayoutEntries(config, layers);
  const manifestOf = (entries: RawEntry[]) => {
    const index = JSON.parse(entries.find((e) => e.path === 'index.json')!.content!.toString()) as { manifests: { digest: string; size: number; mediaType: string }[] };
    return index.manifests[0];
  };
  const real = manifestOf(single);
  const manifests = platforms.map((p) => {
    const [os, architecture, variant] = p.split('/');
    const platform = variant ? { os, architecture, variant } : { os, architecture };
    if (p === host) return { ...real, platform };
    const other = json({ schemaVersion: 2, mediaType: real.mediaType, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(Buffer.from(p)), size: 1 }, layers: [] });
    return { mediaType: real.mediaType, digest: sha256(other), size: other.length, platform, content: other };
  });
  const nested = json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: manifests.map(({ content: _c, ...d }) => d) });
  const index = json({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha256(nested), size: nested.length, annotations }] });
  return [
    ...single.filter((e) => e.path !== 'index.json' && (platforms.includes(host) || !e.path.startsWith('blobs/'))),
    { path: 'index.json', content: index },
    { path: `blobs/sha256/${hex(sha256(nested))}`, content: nested },
    ...manifests.filter((m) => m.content).map((m) => ({ path: `blobs/sha256/${hex(m.digest)}`, content: m.content! })),
  ];
}

/** this host's platform in OCI's names, as the loader picks it */
export const HOST_PLATFORM = `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`;

export { rawTar };
