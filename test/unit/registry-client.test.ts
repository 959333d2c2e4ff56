/**
 * The registry client against small servers on loopback: a Basic challenge answered with the
 * user's credentials, a redirected blob (no credentials sent to the other host), a blob longer
 * than its descriptor, a TLS server whose certificate is not trusted, a refused connection.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryClient } from '../../services/storage/registry-client.js';

const dir = mkdtempSync(join(tmpdir(), 'nbx-regclient-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const blob = Buffer.from('layer bytes');
const desc = { digest: `sha256:${createHash('sha256').update(blob).digest('hex')}`, size: blob.length };

async function serve(handler: http.RequestListener, server: http.Server = http.createServer()): Promise<{ host: string; close: () => Promise<void> }> {
  server.on('request', handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

test('a Basic challenge is answered with the credentials; a redirect elsewhere goes without them', async (t) => {
  const seen: string[] = [];
  const other = await serve((req, res) => {
    seen.push(`other ${req.url} ${req.headers.authorization ?? '-'}`);
    res.end(blob);
  });
  const reg = await serve((req, res) => {
    seen.push(`reg ${req.url} ${req.headers.authorization ?? '-'}`);
    if (req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="r"' });
      return res.end();
    }
    res.writeHead(307, { Location: `http://${other.host}/storage/blob` });
    res.end();
  });
  t.teardown(async () => { await reg.close(); await other.close(); });
  const client = new RegistryClient({ host: reg.host, repository: 'a/b', insecure: true, credentials: { username: 'u', password: 'p' } });
  const bytes = await client.blobBytes(desc);
  t.deepEqual(bytes, blob);
  t.deepEqual(seen.filter((s) => !s.startsWith('reg /v2/ ')), [
    `reg /v2/a/b/blobs/${desc.digest} -`,
    `reg /v2/a/b/blobs/${desc.digest} Basic dTpw`,
    'other /storage/blob -',
  ]);
});

test('a Basic challenge without credentials, and a blob larger than its descriptor, are one line each', async (t) => {
  const reg = await serve((req, res) => {
    if (req.url?.includes('/secret/')) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="r"' });
      return res.end();
    }
    res.end(Buffer.concat([blob, Buffer.from('more')]));
  });
  t.teardown(() => reg.close());
  const anon = new RegistryClient({ host: reg.host, repository: 'secret/x', insecure: true });
  await t.throwsAsync(anon.blobBytes(desc), { message: `unauthorized: authentication required (no credentials for it in the docker config) (registry ${reg.host})` });
  const client = new RegistryClient({ host: reg.host, repository: 'a/b', insecure: true });
  const file = join(dir, 'too-long');
  await t.throwsAsync(client.downloadBlob(desc, file, () => undefined), { message: `blob ${desc.digest} is larger than its descriptor's ${desc.size} bytes` });
});

test('TLS is verified for a registry that is not insecure; a refused connection names host:port', async (t) => {
  const key = join(dir, 'k.pem');
  const cert = join(dir, 'c.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { encoding: 'utf8' });
  if (made.status !== 0 || !existsSync(cert)) return t.fail(`openssl: ${made.stderr}`);
  const tls = await serve((_req, res) => res.end('{}'), https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }));
  const host = tls.host;
  await tls.close().catch(() => undefined);
  const again = await serve((_req, res) => res.end('{}'), https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }));
  t.teardown(() => again.close());
  const strict = new RegistryClient({ host: again.host, repository: 'a', insecure: false });
  await t.throwsAsync(strict.manifest('latest', ['x'], 'manifest'), { message: new RegExp(`^TLS error talking to ${again.host}: self[- ]signed certificate .*\\(DEPTH_ZERO_SELF_SIGNED_CERT\\)$`) });
  const refused = new RegistryClient({ host, repository: 'a', insecure: true });
  await t.throwsAsync(refused.manifest('latest', ['x'], 'manifest'), { message: `connection refused by ${host}` });
});

test('loopback only (NESTBOX_REGISTRY_LOOPBACK_ONLY=1, as test instances set it): any other host is refused before a connection', async (t) => {
  const seen: string[] = [];
  // TEST-NET-1 (RFC 5737): nothing answers there; a connection attempt would time out, not fail at once
  const away = '192.0.2.1:5000';
  const reg = await serve((req, res) => {
    seen.push(req.url ?? '');
    if (req.url?.includes('/moved/')) {
      res.writeHead(307, { Location: `http://${away}/storage/blob` });
      return res.end();
    }
    if (req.url?.includes('/token/')) {
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="https://${away}/token",service="reg"` });
      return res.end();
    }
    res.end(blob);
  });
  t.teardown(() => reg.close());
  const refused = `refusing to contact ${away}: NESTBOX_REGISTRY_LOOPBACK_ONLY=1 allows loopback registries only`;
  const started = Date.now();
  await t.throwsAsync(new RegistryClient({ host: away, repository: 'a', insecure: true, loopbackOnly: true }).manifest('latest', ['x'], 'manifest'), { message: refused });
  await t.throwsAsync(new RegistryClient({ host: away, repository: 'a', insecure: false, loopbackOnly: true }).blobBytes(desc), { message: refused });
  t.true(Date.now() - started < 5_000, 'refused without trying');
  // a loopback registry is reached; where it sends the client elsewhere (a redirect, a token realm), it is refused
  t.deepEqual(await new RegistryClient({ host: reg.host, repository: 'a/b', insecure: true, loopbackOnly: true }).blobBytes(desc), blob);
  await t.throwsAsync(new RegistryClient({ host: reg.host, repository: 'moved/b', insecure: true, loopbackOnly: true }).blobBytes(desc), { message: refused });
  await t.throwsAsync(new RegistryClient({ host: reg.host, repository: 'token/b', insecure: true, loopbackOnly: true }).blobBytes(desc), { message: refused });
  t.true(seen.some((u) => u.includes('/moved/')) && seen.some((u) => u.includes('/token/')), 'the loopback registry was asked');

  // the environment variable is the default (a client reaching elsewhere without it is no test to make here)
  process.env.NESTBOX_REGISTRY_LOOPBACK_ONLY = '1';
  try {
    await t.throwsAsync(new RegistryClient({ host: away, repository: 'a', insecure: true }).manifest('latest', ['x'], 'manifest'), { message: refused });
    t.deepEqual(await new RegistryClient({ host: `localhost:${reg.host.split(':')[1]}`, repository: 'a/b', insecure: true }).blobBytes(desc), blob);
  } finally {
    delete process.env.NESTBOX_REGISTRY_LOOPBACK_ONLY;
  }
});
