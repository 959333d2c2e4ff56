import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fullName, isInsecureRegistry, isLoopbackHost, parseImageRef, registryHost, storedName } from '../../lib/image-ref.js';
import { IMAGE_REF } from '../../lib/contracts/validators.js';
import { normalizeRef } from '../../services/storage/image-store.js';
import { parseChallenge, readCredentials } from '../../services/storage/registry-auth.js';
import { PullPrinter, humanSize } from '../../cli/commands/pull.js';

const D = `sha256:${'a'.repeat(64)}`;

test('docker\'s normalisation: Hub names, library/, default tag, registries with ports, digests', (t) => {
  t.deepEqual(parseImageRef('busybox'), { domain: 'docker.io', path: 'library/busybox', tag: 'latest' });
  t.is(fullName(parseImageRef('busybox')), 'docker.io/library/busybox:latest');
  t.is(fullName(parseImageRef('user/app:1.0')), 'docker.io/user/app:1.0');
  t.is(fullName(parseImageRef('index.docker.io/library/busybox')), 'docker.io/library/busybox:latest');
  t.deepEqual(parseImageRef('localhost:5000/a/b:v1'), { domain: 'localhost:5000', path: 'a/b', tag: 'v1' });
  t.deepEqual(parseImageRef('localhost/app'), { domain: 'localhost', path: 'app', tag: 'latest' });
  t.deepEqual(parseImageRef(`name@${D}`), { domain: 'docker.io', path: 'library/name', digest: D });
  t.deepEqual(parseImageRef(`127.0.0.1:5000/x:t@${D}`), { domain: '127.0.0.1:5000', path: 'x', tag: 't', digest: D });
  t.deepEqual(parseImageRef('[::1]:5000/x'), { domain: '[::1]:5000', path: 'x', tag: 'latest' });
  t.is(registryHost(parseImageRef('busybox')), 'registry-1.docker.io');
  t.is(registryHost(parseImageRef('h.example:443/x')), 'h.example:443');
});

test('stored names are familiar, so docker.io/library/busybox finds busybox:latest', (t) => {
  t.is(storedName(parseImageRef('docker.io/library/busybox')), 'busybox:latest');
  t.is(storedName(parseImageRef('docker.io/user/app')), 'user/app:latest');
  t.is(storedName(parseImageRef(`127.0.0.1:5000/x:t@${D}`)), `127.0.0.1:5000/x@${D}`);
  t.is(normalizeRef('docker.io/library/busybox:latest'), 'busybox:latest');
  t.is(normalizeRef('imported:1'), 'imported:1');
  t.is(normalizeRef('localhost:5000/app'), 'localhost:5000/app:latest');
});

test('bad references are one line naming them', (t) => {
  for (const [ref, why] of [
    ['', /empty/], ['Busybox', /lowercase/], ['a/B', /lowercase/], ['a:b:c', /repository name/], ['x@sha256:12', /digest/],
    ['x:-t', /tag/], ['a//b', /repository name/], ['-a', /repository name/], [`${'a'.repeat(256)}`, /longer than 255/],
  ] as const) {
    const err = t.throws(() => parseImageRef(ref), undefined, ref);
    t.regex(err!.message, new RegExp(`^invalid reference format: ${JSON.stringify(ref).replace(/[[\]\\^$.|?*+()]/g, '\\$&')}: `), ref);
    t.regex(err!.message, why, ref);
    t.false(err!.message.includes('\n'));
  }
});

test('the wire validator takes what the grammar takes', (t) => {
  for (const ok of ['busybox', 'a/b:1', 'localhost:5000/a/b:v1', '127.0.0.1:5000/test/img:1', `x@${D}`, 'a__b/c--d.e']) t.regex(ok, IMAGE_REF, ok);
  for (const bad of ['Busybox', 'a b', 'a/../b', 'x:/y']) t.notRegex(bad, IMAGE_REF, bad);
});

test('plain HTTP: loopback names and addresses, and listed registries only', (t) => {
  t.true(isInsecureRegistry('localhost:5000', []));
  t.true(isInsecureRegistry('127.0.0.1:5000', []));
  t.true(isInsecureRegistry('127.3.2.1', []));
  t.true(isInsecureRegistry('[::1]:5000', []));
  t.false(isInsecureRegistry('10.0.0.1:5000', []));
  t.true(isInsecureRegistry('10.0.0.1:5000', ['10.0.0.1:5000']));
  t.false(isInsecureRegistry('10.0.0.1:5001', ['10.0.0.1:5000']));
  t.false(isInsecureRegistry('localhost.evil:5000', []));
});

test('loopback hosts: with or without a port, IPv6 bracketed or bare', (t) => {
  for (const h of ['localhost', 'localhost:5000', '127.0.0.1', '127.9.9.9:443', '[::1]', '[::1]:5000', '::1']) t.true(isLoopbackHost(h), h);
  for (const h of ['10.0.0.1', '192.0.2.1:5000', '[::2]:5000', '::2', 'localhost.evil', '127.0.0.1.evil:5000', '0.0.0.0']) t.false(isLoopbackHost(h), h);
});

test('credentials from a docker config: base64 auth, keys with or without scheme, the Hub\'s v1 key', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbx-dockercfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  t.is(readCredentials(dir, 'x:1'), undefined, 'no file: anonymous');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: {
    'https://index.docker.io/v1/': { auth: b64('hub:pw') },
    'http://127.0.0.1:5000/v2/': { auth: b64('u:p:with:colons') },
    'reg.example': { auth: b64('nocolon') },
  } }));
  t.deepEqual(readCredentials(dir, 'docker.io'), { username: 'hub', password: 'pw' });
  t.deepEqual(readCredentials(dir, '127.0.0.1:5000'), { username: 'u', password: 'p:with:colons' });
  t.is(readCredentials(dir, '127.0.0.1:5001'), undefined);
  t.throws(() => readCredentials(dir, 'reg.example'), { message: /auth entry for reg\.example is not base64 of user:password/ });
  writeFileSync(join(dir, 'config.json'), '{');
  t.throws(() => readCredentials(dir, 'docker.io'), { message: /config\.json is not JSON/ });
});

test('WWW-Authenticate challenges: quoted values with commas, bare values, Basic', (t) => {
  t.deepEqual(parseChallenge('Bearer realm="https://a/token",service="reg",scope="repository:x/y:pull,push"'),
    { scheme: 'bearer', params: { realm: 'https://a/token', service: 'reg', scope: 'repository:x/y:pull,push' } });
  t.deepEqual(parseChallenge('Basic realm=Registry'), { scheme: 'basic', params: { realm: 'Registry' } });
  t.is(parseChallenge(undefined), undefined);
});

test('progress: docker\'s sizes; a terminal redraws a layer\'s line, elsewhere only finished layers print', (t) => {
  t.is(humanSize(512), '512B');
  t.is(humanSize(12_345_678), '12.3MB');
  t.is(humanSize(1_050), '1.05kB');
  let tty = '';
  const p = new PullPrinter(true, (s) => (tty += s));
  p.show({ layer: 'aaaaaaaaaaaa', status: 'Pulling fs layer' });
  p.show({ layer: 'bbbbbbbbbbbb', status: 'Already exists' });
  p.show({ layer: 'aaaaaaaaaaaa', status: 'Downloading', current: 1_000_000, total: 2_000_000 });
  t.is(tty, 'aaaaaaaaaaaa: Pulling fs layer\nbbbbbbbbbbbb: Already exists\n\x1b[2A\r\x1b[2Kaaaaaaaaaaaa: Downloading  1MB/2MB\r\x1b[2B');
  let plain = '';
  const q = new PullPrinter(false, (s) => (plain += s));
  for (const status of ['Pulling fs layer', 'Downloading', 'Extracting', 'Pull complete'] as const) q.show({ layer: 'aaaaaaaaaaaa', status, current: 1, total: 2 });
  q.show({ layer: 'bbbbbbbbbbbb', status: 'Already exists' });
  t.is(plain, 'aaaaaaaaaaaa: Pull complete\nbbbbbbbbbbbb: Already exists\n');
});
