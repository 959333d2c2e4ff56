/**
 * `nestbox load` and `nestbox save`: docker archives in both of docker's layouts (plain and gzip
 * layers, from -i, a pipe and `< FILE`), OCI layouts written by skopeo (a directory and a tar of
 * it), a save -> load round trip that keeps the image id and that skopeo reads, layer reuse, and
 * hostile or broken archives refused in one line leaving nothing behind. Root and rootless.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, createReadStream, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import test from 'ava';
import { DataLayout } from '../../lib/data-layout.js';
import { eachInstance } from '../helpers/each-instance.js';
import type { CliResult, NestboxInstance } from '../helpers/nestbox.js';
import {
  HOST_PLATFORM, baseLayer, dockerArchiveEntries, hex, imageConfig, layerOf, ociLayoutEntries, ociNestedEntries, rawTar, sha256, topLayer, type Layer,
} from '../helpers/image-archives.js';

const each = eachInstance();
const work = mkdtempSync('/tmp/nbx-load-');
chmodSync(work, 0o755);
test.after.always(() => rmSync(work, { recursive: true, force: true }));

function writeArchive(name: string, bytes: Buffer): string {
  const file = join(work, name);
  writeFileSync(file, bytes, { mode: 0o644 });
  return file;
}

const base = baseLayer();
const top = topLayer();
const config = imageConfig([base, top], 'two');
const imageId = sha256(config);
const legacy = writeArchive('legacy.tar', rawTar(dockerArchiveEntries([{ config, layers: [base, top], repoTags: ['two:legacy'] }], 'legacy')));
const legacyGz = writeArchive('legacy.tar.gz', gzipSync(readFileSync(legacy)));
const gzConfig = imageConfig([base, topLayer('gzip')], 'gz');
const blobsGzip = writeArchive('blobs-gzip.tar', rawTar(dockerArchiveEntries([{ config: gzConfig, layers: [base, topLayer('gzip')] }], 'blobs', true)));

/**
 * skopeo's OCI layout of an archive, as a directory and as a tar of it, and its image's id: skopeo
 * rewrites the config for OCI (and gzips the layers), so the id is its OCI config's digest.
 */
function skopeoLayout(from: string, name: string, ref: string): { dir: string; tar: string; id: string } {
  const dir = join(work, name);
  execFileSync('skopeo', ['copy', '-q', `docker-archive:${from}`, `oci:${dir}:${ref}`]);
  execFileSync('chmod', ['-R', 'a+rX', dir]);
  const tar = join(work, `${name}.tar`);
  execFileSync('tar', ['-C', dir, '-cf', tar, '.']);
  chmodSync(tar, 0o644);
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(readFileSync(join(dir, 'blobs/sha256', hex(index.manifests[0].digest)), 'utf8')) as { config: { digest: string } };
  return { dir, tar, id: manifest.config.digest };
}

const state = (nb: NestboxInstance) => {
  const layout = new DataLayout(nb.dataRoot);
  return { layers: readdirSync(layout.layers).sort(), tmp: readdirSync(layout.tmp) };
};

/** `nestbox load` with the archive on stdin through a pipe (not a file) */
function loadFromPipe(nb: NestboxInstance, file: string): Promise<CliResult> {
  const [cmd, argv, env] = nb.command(['load']);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env: nb.kind === 'root' ? env : { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: '/', stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.on('error', () => undefined); // a CLI that stops reading fails the test by its result, not by EPIPE here
    createReadStream(file).pipe(child.stdin);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `nestbox load < FILE` (stdin a regular file) */
function loadFromFileStdin(nb: NestboxInstance, file: string): Promise<CliResult> {
  const [cmd, argv, env] = nb.command(['load']);
  const fd = openSync(file, 'r');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env: nb.kind === 'root' ? env : { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: '/', stdio: [fd, 'pipe', 'pipe'] });
    closeSync(fd);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

each('a two-layer docker archive (docker < 25 layout) loads under its RepoTags with the config digest as id', async (t, nb) => {
  const r = await nb.cli(['load', '-i', legacy]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'Loaded image: two:legacy\n');
  t.is(r.stderr, '');
  const images = await nb.cli(['images']);
  t.regex(images.stdout, new RegExp(`^two +legacy +${hex(imageId).slice(0, 12)} `, 'm'));
  const run = await nb.cli(['run', '--rm', 'two:legacy', 'cat', '/etc/added', '/etc/kept']);
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, 'added\nkept\n');
  t.deepEqual(state(nb).tmp, [], 'no temporary file left');
});

// needs the whiteout extraction of the extraction worker (branch commit)
each('the .wh. entry of layer 2 deletes the file of layer 1', async (t, nb) => {
  const run = await nb.cli(['run', '--rm', 'two:legacy', 'sh', '-c', 'ls -a /etc; test ! -e /etc/gone && test ! -e /etc/.wh.gone']);
  t.is(run.code, 0, `${run.stdout}${run.stderr}`);
});

each('loading the same image again, also gzip-compressed, stores nothing new and extracts nothing', async (t, nb) => {
  const before = state(nb);
  const r = await nb.cli(['load', '-i', legacy]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'Loaded image: two:legacy\n');
  t.deepEqual(state(nb), before);
  const gz = await loadFromPipe(nb, legacyGz);
  t.is(gz.code, 0, gz.stderr);
  t.is(gz.stdout, 'Loaded image: two:legacy\n');
  t.deepEqual(state(nb), before, 'the decompressed copy is gone too');
});

each('docker 25\'s layout with gzip layers, untagged, from a pipe and from < FILE', async (t, nb) => {
  const piped = await loadFromPipe(nb, blobsGzip);
  t.is(piped.code, 0, piped.stderr);
  t.is(piped.stdout, `Loaded image ID: ${sha256(gzConfig)}\n`);
  const redirected = await loadFromFileStdin(nb, blobsGzip);
  t.is(redirected.code, 0, redirected.stderr);
  t.is(redirected.stdout, `Loaded image ID: ${sha256(gzConfig)}\n`);
  const images = await nb.cli(['images']);
  t.regex(images.stdout, new RegExp(`^<none> +<none> +${hex(sha256(gzConfig)).slice(0, 12)} `, 'm'));
  t.deepEqual(state(nb).tmp, []);
});

each('an OCI layout written by skopeo (gzip layers) loads as a directory and as a tar, named or not', async (t, nb) => {
  const named = skopeoLayout(legacy, `oci-named-${nb.kind}`, 'localhost/oci-img:v1');
  const fromDir = await nb.cli(['load', '-i', named.dir]);
  t.is(fromDir.code, 0, fromDir.stderr);
  t.is(fromDir.stdout, 'Loaded image: localhost/oci-img:v1\n');
  const images = await nb.cli(['images']);
  t.regex(images.stdout, new RegExp(`^localhost/oci-img +v1 +${hex(named.id).slice(0, 12)} `, 'm'));
  const run = await nb.cli(['run', '--rm', 'localhost/oci-img:v1', 'cat', '/etc/added']);
  t.is(run.stdout, 'added\n', run.stderr);

  const bare = skopeoLayout(legacy, `oci-bare-${nb.kind}`, 'v1');
  const fromTar = await nb.cli(['load', '-i', bare.tar]);
  t.is(fromTar.code, 0, fromTar.stderr);
  t.is(bare.id, named.id);
  t.is(fromTar.stdout, `Loaded image ID: ${bare.id}\n`);
  t.is(fromTar.stderr, 'nestbox: warning: org.opencontainers.image.ref.name "v1" is a tag without a repository: the image is loaded untagged\n');
  t.deepEqual(state(nb).tmp, []);
});

each('an OCI index of platforms: this host\'s manifest is taken (the others\' blobs are not needed); containerd\'s name', async (t, nb) => {
  const [a, b] = [base, topLayer('multi')];
  const cfg = imageConfig([a, b], 'multi');
  const layers = [a, b].map((l) => ({ blob: l.tar, mediaType: 'application/vnd.oci.image.layer.v1.tar' }));
  const names = { 'io.containerd.image.name': 'docker.io/library/multi:2', 'org.opencontainers.image.ref.name': '2' };
  const file = writeArchive(`multi-${nb.kind}.tar`, rawTar(ociNestedEntries(cfg, layers, ['linux/s390x', HOST_PLATFORM, 'linux/arm/v7'], HOST_PLATFORM, names)));
  const r = await nb.cli(['load', '-i', file]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'Loaded image: multi:2\n');
  const run = await nb.cli(['run', '--rm', 'multi:2', 'cat', '/etc/added']);
  t.is(run.stdout, 'multi\n', run.stderr);

  const before = state(nb);
  const none = writeArchive(`none-${nb.kind}.tar`, rawTar(ociNestedEntries(cfg, layers, ['linux/s390x', 'windows/amd64'], HOST_PLATFORM, names)));
  const refused = await nb.cli(['load', '-i', none]);
  t.is(refused.code, 125);
  t.regex(refused.stderr, new RegExp(`^nestbox: load \\S+: index sha256:[0-9a-f]{64}: no image for ${HOST_PLATFORM} \\(it has linux/s390x, windows/amd64\\)\\n$`));
  t.deepEqual(state(nb), before);
});

each('save -> load keeps the image id; skopeo reads the archive; stdout and -o write the same bytes', async (t, nb) => {
  const out = join(nb.base, 'saved.tar');
  const r = await nb.cli(['save', '-o', out, 'two:legacy']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, '');
  t.deepEqual(readdirSync(nb.base).filter((f) => f.startsWith('.saved.tar')), [], 'no temporary file beside it');
  const [cmd, argv, env] = nb.command(['save', 'two:legacy']);
  const piped = execFileSync(cmd, argv, { env: nb.kind === 'root' ? env : { PATH: process.env.PATH ?? '/usr/bin:/bin' }, maxBuffer: 64 << 20 });
  t.true(piped.equals(readFileSync(out)), 'the same archive on stdout');

  const manifest = JSON.parse(execFileSync('tar', ['-xOf', out, 'manifest.json'], { encoding: 'utf8' })) as { Config: string; RepoTags: string[]; Layers: string[] }[];
  t.deepEqual(manifest, [{ Config: `blobs/sha256/${hex(imageId)}`, RepoTags: ['two:legacy'], Layers: [base, top].map((l) => `blobs/sha256/${hex(l.diffId)}`) }]);
  const inspected = JSON.parse(execFileSync('skopeo', ['inspect', `docker-archive:${out}`], { encoding: 'utf8' })) as { Labels: Record<string, string>; Layers: string[] };
  t.is(inspected.Labels.note, 'two');
  t.is(inspected.Layers.length, 2);

  const again = await nb.cli(['load', '-i', out]);
  t.is(again.code, 0, again.stderr);
  t.is(again.stdout, 'Loaded image: two:legacy\n');
  const images = await nb.cli(['images']);
  t.regex(images.stdout, new RegExp(`^two +legacy +${hex(imageId).slice(0, 12)} `, 'm'));
});

each('save of the built-in busybox and of an image by id; an unknown image refused, nothing written', async (t, nb) => {
  t.is((await nb.cli(['run', '--rm', 'busybox', 'true'])).code, 0);
  const out = join(nb.base, 'two.tar');
  const r = await nb.cli(['save', '-o', out, 'busybox', hex(imageId).slice(0, 12)]);
  t.is(r.code, 0, r.stderr);
  const manifest = JSON.parse(execFileSync('tar', ['-xOf', out, 'manifest.json'], { encoding: 'utf8' })) as { RepoTags: string[] | null }[];
  t.deepEqual(manifest.map((m) => m.RepoTags), [['busybox:latest'], null]);
  const back = await nb.cli(['load', '-i', out]);
  t.is(back.stdout, `Loaded image: busybox:latest\nLoaded image ID: ${imageId}\n`, back.stderr);
  const missing = await nb.cli(['save', '-o', join(nb.base, 'none.tar'), 'nosuch:1']);
  t.is(missing.code, 125);
  t.is(missing.stderr, 'nestbox: No such image: nosuch:1\n');
  t.false(readdirSync(nb.base).some((f) => f.includes('none.tar')), 'nothing written');
});

/** a base layer no other test stores, so a refusal that stored it would show */
function freshLayers(tag: string): [Layer, Layer] {
  return [layerOf([{ path: 'fresh', content: Buffer.from(`${tag}\n`) }]), topLayer(tag)];
}

const refusals: [string, () => string, RegExp][] = [
  ['a layer whose content does not match its diffID', () => {
    const [a, b] = freshLayers('mismatch');
    const entries = dockerArchiveEntries([{ config: imageConfig([a, b]), layers: [a, b], repoTags: ['bad:1'] }], 'legacy');
    const second = entries.find((e) => e.path.endsWith('/layer.tar') && e.content!.equals(b.tar))!;
    second.content = topLayer('tampered').tar;
    return writeArchive('mismatch.tar', rawTar(entries));
  }, /^nestbox: load \S+: layer [0-9a-f]{64}\/layer\.tar: layer content does not match its diffID: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}\n$/],
  ['an OCI blob whose bytes do not match its digest', () => {
    const [a, b] = freshLayers('oci-mismatch');
    const entries = ociLayoutEntries(imageConfig([a, b]), [a, b].map((l) => ({ blob: l.tar, mediaType: 'application/vnd.oci.image.layer.v1.tar' })), 'x/y:1');
    const layer = entries.find((e) => e.content?.equals(b.tar))!;
    layer.content = Buffer.from(b.tar.toString('latin1').replace('oci-mismatch', 'oci-mismatcH'), 'latin1');
    return writeArchive('oci-mismatch.tar', rawTar(entries));
  }, new RegExp(`^nestbox: load \\S+: layer sha256:[0-9a-f]{64}: blob sha256:[0-9a-f]{64}: content does not match its digest and size \\(got sha256:[0-9a-f]{64}, \\d+ bytes\\)\\n$`)],
  ['a manifest.json naming ../x', () => {
    const [a] = freshLayers('dotdot');
    const entries = dockerArchiveEntries([{ config: imageConfig([a]), layers: [a] }], 'legacy');
    const manifest = entries.find((e) => e.path === 'manifest.json')!;
    const m = JSON.parse(manifest.content!.toString()) as { Layers: string[] }[];
    m[0].Layers[0] = '../x';
    manifest.content = Buffer.from(JSON.stringify(m));
    return writeArchive('dotdot.tar', rawTar(entries));
  }, /^nestbox: load \S+: manifest.json\[0\] Layers\[0\]: member name "\.\.\/x" is absolute or contains '\.\.': refused\n$/],
  ['a missing blob', () => {
    const [a, b] = freshLayers('missing');
    const entries = dockerArchiveEntries([{ config: imageConfig([a, b]), layers: [a, b] }], 'blobs');
    return writeArchive('missing.tar', rawTar(entries.filter((e) => e.path !== `blobs/sha256/${hex(b.diffId)}`)));
  }, /^nestbox: load \S+: layer: missing blobs\/sha256\/[0-9a-f]{64} in the archive\n$/],
  ['a zstd layer', () => {
    const [a, b] = freshLayers('zstd');
    const layers = [{ blob: a.tar, mediaType: 'application/vnd.oci.image.layer.v1.tar' }, { blob: b.tar, mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' }];
    return writeArchive('zstd.tar', rawTar(ociLayoutEntries(imageConfig([a, b]), layers, 'x/z:1')));
  }, /^nestbox: load \S+: blob sha256:[0-9a-f]{64}: layer media type application\/vnd\.oci\.image\.layer\.v1\.tar\+zstd is not supported \(plain tar or tar\+gzip only\)\n$/],
  ['a truncated archive', () => {
    const [a, b] = freshLayers('truncated');
    const whole = rawTar(dockerArchiveEntries([{ config: imageConfig([a, b]), layers: [a, b], repoTags: ['cut:1'] }], 'legacy'));
    return writeArchive('truncated.tar', whole.subarray(0, Math.floor(whole.length / 2) + 100));
  }, /^nestbox: load \S+: the archive is truncated \(.*\)\n$/],
  ['not an archive at all', () => writeArchive('text.tar', Buffer.from('just some text, not a tar\n'.repeat(40))),
    /^nestbox: load \S+: not a tar archive \(nor an OCI layout directory\)\n$/],
];

each('broken and hostile archives are refused in one line, leaving no image, layer or temporary file', async (t, nb) => {
  const before = state(nb);
  const images = (await nb.cli(['images'])).stdout;
  for (const [what, make, expected] of refusals) {
    const r = await nb.cli(['load', '-i', make()]);
    t.is(r.code, 125, what);
    t.regex(r.stderr, expected, what);
    t.is(r.stdout, '', what);
    t.deepEqual(state(nb), before, `${what}: nothing stored`);
  }
  const [a, b] = freshLayers('capped');
  const big = writeArchive(`capped-${nb.kind}.tar`, rawTar(dockerArchiveEntries([{ config: imageConfig([a, b]), layers: [a, b], repoTags: ['big:1'] }], 'legacy')));
  const capped = await nb.cli(['load', '-i', big], { env: { NESTBOX_MAX_LAYER_BYTES: '2048' } });
  t.is(capped.code, 125);
  t.regex(capped.stderr, /^nestbox: load \S+: layer [0-9a-f]{64}\/layer\.tar: the uncompressed archive is larger than the cap of 2048 bytes \(NESTBOX_MAX_LAYER_BYTES\)\n$/);
  t.deepEqual(state(nb), before, 'the cap: nothing stored');
  t.is((await nb.cli(['images'])).stdout, images, 'no image recorded');
  t.true(statSync(legacy).isFile(), 'the inputs are only read');
});
