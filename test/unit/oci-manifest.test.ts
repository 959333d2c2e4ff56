import test from 'ava';
import { createHash } from 'node:crypto';
import {
  MEDIA_TYPE, checkBlob, hostPlatform, layerCompression, parseManifestOrIndex, selectManifest, type ImageIndex,
} from '../../services/storage/oci-manifest.js';

const digestOf = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const D1 = digestOf('one');
const D2 = digestOf('two');
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

test('parses an OCI manifest with or without its mediaType, and a docker schema 2 manifest', (t) => {
  const body = { schemaVersion: 2, config: { mediaType: MEDIA_TYPE.ociConfig, digest: D1, size: 3 }, layers: [{ mediaType: MEDIA_TYPE.ociLayerGzip, digest: D2, size: 3 }] };
  const m = parseManifestOrIndex(json(body), 'manifest');
  t.is(m.kind, 'manifest');
  if (m.kind === 'manifest') {
    t.is(m.mediaType, MEDIA_TYPE.ociManifest);
    t.is(m.layers[0].digest, D2);
    t.is(layerCompression(m.layers[0]), 'gzip');
  }
  const docker = parseManifestOrIndex(json({ ...body, mediaType: MEDIA_TYPE.dockerManifest, config: { ...body.config, mediaType: MEDIA_TYPE.dockerConfig } }), 'm');
  t.is(docker.mediaType, MEDIA_TYPE.dockerManifest);
  t.is(parseManifestOrIndex(json({ schemaVersion: 2, manifests: [] }), 'i').kind, 'index');
});

test('refuses bad descriptors, schema 1, non-JSON and artifacts, each in one line naming what', (t) => {
  const ok = { mediaType: MEDIA_TYPE.ociConfig, digest: D1, size: 3 };
  const man = (patch: Record<string, unknown>) => json({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, config: ok, layers: [], ...patch });
  t.throws(() => parseManifestOrIndex(man({ config: { ...ok, digest: 'sha512:abc' } }), 'M'), { message: /^M config: digest algorithm sha512 is not supported/ });
  t.throws(() => parseManifestOrIndex(man({ config: { ...ok, digest: 'sha256:../../x' } }), 'M'), { message: /invalid digest/ });
  t.throws(() => parseManifestOrIndex(man({ config: { ...ok, size: -1 } }), 'M'), { message: /invalid size -1/ });
  t.throws(() => parseManifestOrIndex(man({ config: { ...ok, mediaType: 'application/vnd.example.thing' } }), 'M'), { message: /not an image config/ });
  t.throws(() => parseManifestOrIndex(man({ layers: [{ digest: D2, size: 1 }] }), 'M'), { message: /M layers\[0\]: the descriptor has no mediaType/ });
  t.throws(() => parseManifestOrIndex(json({ schemaVersion: 1, fsLayers: [] }), 'M'), { message: /schema 1 is not supported/ });
  t.throws(() => parseManifestOrIndex(Buffer.from('{not json'), 'M'), { message: /^M is not JSON/ });
  t.throws(() => parseManifestOrIndex(json({ schemaVersion: 2, mediaType: 'text/x-nope' }), 'M'), { message: /media type text\/x-nope is neither/ });
});

test('layer media types: plain and gzip taken, zstd and others refused by name', (t) => {
  t.is(layerCompression({ mediaType: MEDIA_TYPE.ociLayer, digest: D1, size: 1 }), 'none');
  t.is(layerCompression({ mediaType: MEDIA_TYPE.dockerLayerGzip, digest: D1, size: 1 }), 'gzip');
  t.throws(() => layerCompression({ mediaType: MEDIA_TYPE.ociLayerZstd, digest: D1, size: 1 }), { message: /layer media type application\/vnd\.oci\.image\.layer\.v1\.tar\+zstd is not supported/ });
  t.throws(() => layerCompression({ mediaType: 'application/vnd.oci.image.layer.v1.tar+encrypted', digest: D1, size: 1 }), { message: /tar\+encrypted is not supported/ });
});

test('selectManifest picks linux and the architecture, prefers the variant, skips attestations, names what there is', (t) => {
  const entry = (digest: string, architecture: string, variant?: string, os = 'linux') => ({ mediaType: MEDIA_TYPE.ociManifest, digest, size: 1, platform: variant ? { os, architecture, variant } : { os, architecture } });
  const index: ImageIndex = {
    kind: 'index', mediaType: MEDIA_TYPE.ociIndex,
    manifests: [entry(digestOf('a'), 'arm64'), entry(digestOf('b'), 'arm64', 'v8'), entry(digestOf('c'), 'amd64'), entry(digestOf('w'), 'amd64', undefined, 'windows'),
      { ...entry(digestOf('att'), 'unknown', undefined, 'unknown'), annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } }],
  };
  t.is(selectManifest(index, 'x', { os: 'linux', architecture: 'arm64', variant: 'v8' }).digest, digestOf('b'));
  t.is(selectManifest(index, 'x', { os: 'linux', architecture: 'amd64' }).digest, digestOf('c'));
  t.throws(() => selectManifest(index, 'img', { os: 'linux', architecture: 's390x' }), { message: 'img: no image for linux/s390x (it has linux/arm64, linux/arm64/v8, linux/amd64, windows/amd64)' });
  const single: ImageIndex = { kind: 'index', mediaType: MEDIA_TYPE.ociIndex, manifests: [{ mediaType: MEDIA_TYPE.ociManifest, digest: D1, size: 1 }] };
  t.is(selectManifest(single, 'x').digest, D1);
  t.is(hostPlatform('x64').architecture, 'amd64');
  t.deepEqual(hostPlatform('arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
});

test('checkBlob checks size then digest', (t) => {
  const desc = { mediaType: MEDIA_TYPE.ociConfig, digest: D1, size: 3 };
  t.notThrows(() => checkBlob(Buffer.from('one'), desc, 'config'));
  t.throws(() => checkBlob(Buffer.from('onex'), desc, 'config'), { message: /size 4 does not match its descriptor's 3/ });
  t.throws(() => checkBlob(Buffer.from('two'), desc, 'config'), { message: /config: content does not match its digest/ });
});
