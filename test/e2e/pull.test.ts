/**
 * `nestbox pull` from a registry on loopback (Debian's docker-registry with token auth: a token
 * server in this process, basic credentials from a test DOCKER_CONFIG), images pushed by skopeo
 * from docker archives built here: docker's lines, the image id is the config digest, `run` uses
 * it; up to date downloads nothing; wrong credentials, an unknown tag, a refused connection, a
 * zstd layer and a corrupted blob are one line each and record nothing; by digest; an index
 * picks this host's architecture; progress redrawn in place on a terminal. Root and rootless.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { DataLayout } from '../../lib/data-layout.js';
import { findStaticBusybox } from '../../services/storage/default-image.js';
import { hostPlatform, MEDIA_TYPE } from '../../services/storage/oci-manifest.js';
import { writeTar, type TarEntry } from '../../services/storage/tar-writer.js';
import { eachInstance } from '../helpers/each-instance.js';
import type { NestboxInstance } from '../helpers/nestbox.js';
import { REGISTRY_BIN, TestRegistry } from '../helpers/registry.js';
import { scaled } from '../helpers/time.js';

const missing = [REGISTRY_BIN, '/usr/bin/skopeo', '/usr/bin/openssl'].filter((f) => !existsSync(f));
const each = missing.length ? (title: string) => test.skip(`${title} (skipped: ${missing.join(', ')} missing: scripts/setup-host.sh installs them)`, () => undefined) : eachInstance();

const work = mkdtempSync('/tmp/nbx-pull-');
chmodSync(work, 0o755);
let registry: TestRegistry;
/** config digest of each pushed image, by name:tag */
const configDigest = new Map<string, string>();

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** docker config dirs the services read as the instance's user (world-readable: test credentials only) */
function dockerConfig(name: string, auths: Record<string, { auth: string }>): string {
  const dir = join(work, name);
  mkdirSync(dir, { mode: 0o755 });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths }), { mode: 0o644 });
  return dir;
}
const basic = (u: string, p: string) => ({ auth: Buffer.from(`${u}:${p}`).toString('base64') });

/** A docker archive (manifest.json, config, layer tars) of busybox plus a layer holding /marker. */
function dockerArchive(name: string, marker: string, architecture: string): { file: string; config: Buffer } {
  const dir = join(work, `${name}.d`);
  mkdirSync(dir);
  const now = 1_700_000_000;
  const base: TarEntry[] = [
    { type: 'dir', path: 'bin', mode: 0o755 }, { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'file', path: 'bin/busybox', mode: 0o755, content: readFileSync(findStaticBusybox()) },
    ...['sh', 'cat', 'ls'].map((a): TarEntry => ({ type: 'symlink', path: `bin/${a}`, target: 'busybox' })),
  ];
  const l1 = writeTar(join(dir, 'base.tar'), base, now);
  const l2 = writeTar(join(dir, 'marker.tar'), [{ type: 'file', path: 'marker', mode: 0o644, content: Buffer.from(`${marker}\n`) }], now);
  const config = Buffer.from(JSON.stringify({
    architecture, os: 'linux', created: new Date(now * 1000).toISOString(),
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: [l1.digest, l2.digest] },
  }));
  writeFileSync(join(dir, 'config.json'), config);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: [], Layers: ['base.tar', 'marker.tar'] }]));
  const file = join(work, `${name}.tar`);
  writeTar(file, ['manifest.json', 'config.json', 'base.tar', 'marker.tar'].map((f) => ({ type: 'file' as const, path: f, mode: 0o644, content: readFileSync(join(dir, f)) })), now);
  rmSync(dir, { recursive: true });
  return { file, config };
}

async function pushArchive(name: string, marker: string, target: string, architecture = hostPlatform().architecture): Promise<void> {
  const a = dockerArchive(name, marker, architecture);
  await registry.push(`docker-archive:${a.file}`, target);
  configDigest.set(target, sha256(a.config));
}

async function manifestOf(repo: string, tag: string): Promise<{ bytes: Buffer; mediaType: string }> {
  const r = await registry.api('GET', `/v2/${repo}/manifests/${tag}`, { name: repo, actions: ['pull'] });
  if (r.status !== 200) throw new Error(`GET manifest ${repo}:${tag}: ${r.status} ${r.body}`);
  return { bytes: r.body, mediaType: String(r.headers['content-type']) };
}

async function putManifest(repo: string, tag: string, doc: object, mediaType: string): Promise<void> {
  const r = await registry.api('PUT', `/v2/${repo}/manifests/${tag}`, { name: repo, actions: ['pull', 'push'] }, Buffer.from(JSON.stringify(doc)), mediaType);
  if (r.status !== 201) throw new Error(`PUT manifest ${repo}:${tag}: ${r.status} ${r.body}`);
}

let good = '';
let wrong = '';
let empty = '';
let tamperedLayer = '';

test.before(async () => {
  if (missing.length) return;
  registry = await TestRegistry.start();
  good = dockerConfig('good', { [registry.proxy]: basic(registry.user, registry.password) });
  wrong = dockerConfig('wrong', { [`http://${registry.proxy}/v2/`]: basic(registry.user, 'not-the-password') });
  empty = dockerConfig('empty', {});
  await pushArchive('img', 'one', 'test/img:1');
  await pushArchive('tty', 'tty', 'test/tty:1');
  await pushArchive('run', 'pulled by run', 'test/run:1');
  await pushArchive('tampered', 'tampered', 'test/tampered:1');
  // an index listing another architecture first, then this host's
  const other = hostPlatform().architecture === 'amd64' ? 's390x' : 'amd64';
  await pushArchive('multi-other', 'other-arch', 'test/multi:other', other);
  await pushArchive('multi-host', 'host-arch', 'test/multi:host');
  const entries = [];
  for (const [tag, architecture] of [['other', other], ['host', hostPlatform().architecture]]) {
    const m = await manifestOf('test/multi', tag);
    entries.push({ mediaType: m.mediaType, digest: sha256(m.bytes), size: m.bytes.length, platform: { os: 'linux', architecture } });
  }
  await putManifest('test/multi', '1', { schemaVersion: 2, mediaType: MEDIA_TYPE.dockerManifestList, manifests: entries }, MEDIA_TYPE.dockerManifestList);
  // the same blobs as test/img:1, but the marker layer declared zstd
  const img = JSON.parse((await manifestOf('test/img', '1')).bytes.toString()) as { config: { digest: string; size: number }; layers: { digest: string; size: number }[] };
  await putManifest('test/img', 'zstd', {
    schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest,
    config: { mediaType: MEDIA_TYPE.ociConfig, digest: img.config.digest, size: img.config.size },
    layers: img.layers.map((l, i) => ({ mediaType: i === 1 ? MEDIA_TYPE.ociLayerZstd : MEDIA_TYPE.ociLayerGzip, digest: l.digest, size: l.size })),
  }, MEDIA_TYPE.ociManifest);
  const tampered = JSON.parse((await manifestOf('test/tampered', '1')).bytes.toString()) as { layers: { digest: string }[] };
  tamperedLayer = tampered.layers[1].digest;
  registry.tamper.add(tamperedLayer);
});

test.after.always(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

const blobGets = () => registry.proxied.filter((p) => p.startsWith('GET ') && p.includes('/blobs/')).length;
const tmpEmpty = (nb: NestboxInstance) => readdirSync(new DataLayout(nb.dataRoot).tmp);
const pull = (nb: NestboxInstance, ref: string, config = good) => nb.cli(['pull', ref], { env: { DOCKER_CONFIG: config }, timeoutMs: 120_000 });

each('pull with the docker config\'s credentials: docker\'s lines, the config digest as id, run uses it', async (t, nb) => {
  const ref = `${registry.proxy}/test/img:1`;
  const r = await pull(nb, ref);
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, '');
  const lines = r.stdout.trimEnd().split('\n');
  t.is(lines[0], '1: Pulling from test/img');
  t.is(lines.length, 6, r.stdout);
  for (const l of lines.slice(1, 3)) t.regex(l, /^[0-9a-f]{12}: Pull complete$/);
  t.regex(lines[3], /^Digest: sha256:[0-9a-f]{64}$/);
  t.is(lines[4], `Status: Downloaded newer image for ${ref}`);
  t.is(lines[5], ref);
  const images = await nb.cli(['images']);
  t.regex(images.stdout, new RegExp(`^${registry.proxy.replace(/\./g, '\\.')}/test/img +1 +${configDigest.get('test/img:1')!.slice(7, 19)} `, 'm'));
  const run = await nb.cli(['run', '--rm', ref, 'cat', '/marker']);
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, 'one\n');
  t.deepEqual(tmpEmpty(nb), []);
});

each('a second pull is up to date and downloads nothing', async (t, nb) => {
  const before = blobGets();
  const r = await pull(nb, `${registry.proxy}/test/img:1`);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  t.is(lines.length, 4, r.stdout);
  t.is(lines[2], `Status: Image is up to date for ${registry.proxy}/test/img:1`);
  t.is(blobGets(), before, 'no blob fetched');
  const quiet = await nb.cli(['pull', '-q', `${registry.proxy}/test/img:1`], { env: { DOCKER_CONFIG: good } });
  t.is(quiet.stdout, `${registry.proxy}/test/img:1\n`, quiet.stderr);
});

each('pull by digest: verified, its layers already there, recorded under name@digest', async (t, nb) => {
  const m = await manifestOf('test/img', '1');
  const ref = `${registry.proxy}/test/img@${sha256(m.bytes)}`;
  const r = await pull(nb, ref);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  t.is(lines[0], `${sha256(m.bytes)}: Pulling from test/img`);
  for (const l of lines.slice(1, 3)) t.regex(l, /^[0-9a-f]{12}: Already exists$/);
  t.is(lines.at(-1), ref);
  const run = await nb.cli(['run', '--rm', ref, 'cat', '/marker']);
  t.is(run.stdout, 'one\n', run.stderr);
  const images = await nb.cli(['images']);
  t.regex(images.stdout, /\/test\/img +<none> +/);
});

each('an index: the manifest of this host\'s architecture', async (t, nb) => {
  const ref = `${registry.proxy}/test/multi:1`;
  const r = await pull(nb, ref);
  t.is(r.code, 0, r.stderr);
  const run = await nb.cli(['run', '--rm', ref, 'cat', '/marker']);
  t.is(run.stdout, 'host-arch\n', run.stderr);
  const images = await nb.cli(['images']);
  t.regex(images.stdout, new RegExp(`/test/multi +1 +${configDigest.get('test/multi:host')!.slice(7, 19)} `));
  t.is(r.stderr, '');
  // another architecture's image by itself: pulled, with docker's warning
  const foreign = await pull(nb, `${registry.proxy}/test/multi:other`);
  t.is(foreign.code, 0, foreign.stderr);
  t.regex(foreign.stderr, /^nestbox: warning: the image's platform \(linux\/[a-z0-9]+\) does not match this host's \(linux\/[a-z0-9]+(\/v8)?\)\n$/);
});

each('wrong, or no, credentials: one line saying unauthorized; nothing recorded', async (t, nb) => {
  for (const [config, why] of [[wrong, 'incorrect username or password'], [empty, 'authentication required']]) {
    const r = await pull(nb, `${registry.proxy}/test/tty:1`, config);
    t.is(r.code, 125);
    t.is(r.stderr, `nestbox: unauthorized: ${why} (registry ${registry.proxy})\n`);
  }
  const images = await nb.cli(['images']);
  t.notRegex(images.stdout, /test\/tty/);
});

each('an unknown tag, a refused connection, a bad reference: one line each', async (t, nb) => {
  const unknown = await pull(nb, `${registry.proxy}/test/img:nope`);
  t.is(unknown.code, 125);
  t.is(unknown.stderr, `nestbox: manifest for ${registry.proxy}/test/img:nope not found: manifest unknown\n`);
  const refused = await pull(nb, '127.0.0.1:1/test/img:1');
  t.is(refused.stderr, 'nestbox: connection refused by 127.0.0.1:1\n');
  const bad = await pull(nb, 'Test/Img:1');
  t.is(bad.code, 125);
  t.regex(bad.stderr, /^nestbox: invalid reference format: "Test\/Img:1": .*\n$/);
});

each('a zstd layer is refused naming its media type before anything is fetched', async (t, nb) => {
  const before = blobGets();
  const r = await pull(nb, `${registry.proxy}/test/img:zstd`);
  t.is(r.code, 125);
  t.regex(r.stderr, /^nestbox: .*layer media type application\/vnd\.oci\.image\.layer\.v1\.tar\+zstd is not supported.*\n$/);
  t.is(blobGets(), before);
});

each('a corrupted blob is refused; no image, no layer, nothing left in tmp', async (t, nb) => {
  const layersBefore = readdirSync(new DataLayout(nb.dataRoot).layers).sort();
  const r = await pull(nb, `${registry.proxy}/test/tampered:1`);
  t.is(r.code, 125);
  t.is(r.stderr.split('\n').length, 2, r.stderr);
  t.regex(r.stderr, new RegExp(`^nestbox: blob ${tamperedLayer} failed verification: its content has digest sha256:[0-9a-f]{64}\n$`));
  t.deepEqual(readdirSync(new DataLayout(nb.dataRoot).layers).sort(), layersBefore);
  t.deepEqual(tmpEmpty(nb), []);
  const images = await nb.cli(['images']);
  t.notRegex(images.stdout, /test\/tampered/);
});

each('on a terminal each layer\'s line is redrawn in place', async (t, nb) => {
  const [cmd, argv, env] = nb.command(['pull', `${registry.proxy}/test/tty:1`], { DOCKER_CONFIG: good });
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const words = nb.kind === 'root' ? ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...argv] : [cmd, ...argv];
  const child = spawn('script', ['-qec', words.map(quote).join(' '), '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), scaled(120_000));
  const code = await new Promise((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  t.is(code, 0, out);
  t.regex(out, /[0-9a-f]{12}: Already exists\r?\n/);
  t.regex(out, /\x1b\[1A\r\x1b\[2K[0-9a-f]{12}: Downloading  [\d.]+k?B\/[\d.]+k?B\r\x1b\[1B/);
  t.regex(out, /\x1b\[2K[0-9a-f]{12}: Pull complete/);
  t.regex(out, new RegExp(`Status: Downloaded newer image for ${registry.proxy.replace(/\./g, '\\.')}/test/tty:1\r?\n`));
});

each('run of an image not stored pulls it first, saying so on stderr as docker does', async (t, nb) => {
  const ref = `${registry.proxy}/test/run:1`;
  const denied = await nb.cli(['run', '--rm', ref, 'cat', '/marker'], { env: { DOCKER_CONFIG: wrong } });
  t.is(denied.code, 125);
  t.is(denied.stderr, `Unable to find image '${ref}' locally\n1: Pulling from test/run\nnestbox: unauthorized: incorrect username or password (registry ${registry.proxy})\n`);
  const r = await nb.cli(['run', '--rm', ref, 'cat', '/marker'], { env: { DOCKER_CONFIG: good }, timeoutMs: 120_000 });
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'pulled by run\n');
  const lines = r.stderr.trimEnd().split('\n');
  t.deepEqual(lines.slice(0, 2), [`Unable to find image '${ref}' locally`, '1: Pulling from test/run']);
  t.regex(lines[2], /^[0-9a-f]{12}: Already exists$/);
  t.regex(lines[3], /^[0-9a-f]{12}: Pull complete$/);
  t.regex(lines[4], /^Digest: sha256:[0-9a-f]{64}$/);
  t.is(lines[5], `Status: Downloaded newer image for ${ref}`);
  t.is(lines.length, 6, r.stderr);
  const again = await nb.cli(['run', '--rm', ref, 'cat', '/marker'], { env: { DOCKER_CONFIG: good } });
  t.is(again.stderr, '', 'stored now: no pull');
  // docker's --pull: always asks the registry (up to date here), never does not pull a missing image
  const always = await nb.cli(['run', '--rm', '--pull', 'always', ref, 'cat', '/marker'], { env: { DOCKER_CONFIG: good } });
  t.is(always.code, 0, always.stderr);
  t.regex(always.stderr, new RegExp(`^1: Pulling from test/run\nDigest: sha256:[0-9a-f]{64}\nStatus: Image is up to date for ${ref.replace(/\./g, '\\.')}\n$`));
  const never = await nb.cli(['run', '--rm', '--pull=never', `${registry.proxy}/test/tampered:1`, 'true'], { env: { DOCKER_CONFIG: good } });
  t.is(never.code, 125);
  t.is(never.stderr, `nestbox: image "${registry.proxy}/test/tampered:1" not found locally (nestbox pull ${registry.proxy}/test/tampered:1 fetches it)\n`);
  const bogus = await nb.cli(['run', '--pull', 'sometimes', ref, 'true']);
  t.is(bogus.stderr, 'nestbox: invalid pull option: \'sometimes\': must be one of "always", "missing" or "never"\n');
});

each('the suite\'s instances reach loopback registries only: run of a Hub name not stored is refused, nothing pulled', async (t, nb) => {
  const r = await nb.cli(['run', '--rm', 'nbx-never-stored', 'true']);
  t.is(r.code, 125);
  const lines = r.stderr.trimEnd().split('\n');
  t.is(lines[0], 'Unable to find image \'nbx-never-stored:latest\' locally');
  t.regex(lines.at(-1)!, /^nestbox: refusing to contact [^ ]+: NESTBOX_REGISTRY_LOOPBACK_ONLY=1 allows loopback registries only$/);
  t.deepEqual(tmpEmpty(nb), []);
});
