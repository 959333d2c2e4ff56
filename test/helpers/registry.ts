/**
 * A private OCI registry on loopback for pull tests: Debian's docker-registry (distribution) with
 * token auth, a token server in this process that issues ES256 JWTs to one user/password (basic
 * auth to it, as Docker Hub's), signed by a key whose self-signed cert (openssl) is the registry's
 * rootcertbundle; and a proxy in front of the registry that records each request's path and can
 * corrupt chosen blobs on their way. Everything listens on 127.0.0.1; stop() ends it all and
 * removes its files.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { scaled } from './time.js';

export const REGISTRY_BIN = '/usr/bin/docker-registry';
const SERVICE = 'nbx-test-registry';
const ISSUER = 'nbx-test-token-issuer';

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** libtrust's key id, which distribution looks a JWT's `kid` up by: base32 of sha256(SPKI DER)[:30], in groups of 4. */
export function libtrustKeyId(key: KeyObject): string {
  const digest = createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{1,4}/g)!.join(':');
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

export class TestRegistry {
  /** paths of the requests that went through the proxy, in order */
  readonly proxied: string[] = [];
  /** blob digests the proxy corrupts (one byte flipped, length kept) */
  readonly tamper = new Set<string>();
  private registry?: ChildProcess;
  private registryLog = '';
  private readonly servers: http.Server[] = [];
  private key!: KeyObject;
  private kid!: string;
  registryPort = 0;
  proxyPort = 0;

  private constructor(readonly dir: string, readonly user: string, readonly password: string) {}

  /** host:port of the registry itself (pushes) and of the proxy in front of it (pulls) */
  get direct(): string { return `127.0.0.1:${this.registryPort}`; }
  get proxy(): string { return `127.0.0.1:${this.proxyPort}`; }

  static async start(user = 'nbx', password = randomBytes(9).toString('base64url')): Promise<TestRegistry> {
    const r = new TestRegistry(mkdtempSync('/tmp/nbx-registry-'), user, password);
    try {
      await r.startAll();
    } catch (err) {
      await r.stop();
      throw err;
    }
    return r;
  }

  private async startAll(): Promise<void> {
    const key = join(this.dir, 'token.key');
    const cert = join(this.dir, 'token.crt');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=nbx-test-token-signer'], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`openssl: ${made.stderr}`);
    this.key = createPrivateKey(readFileSync(key));
    this.kid = libtrustKeyId(createPublicKey(readFileSync(cert)));

    const tokens = http.createServer((req, res) => this.token(req, res));
    this.servers.push(tokens);
    const tokenPort = await listen(tokens);

    this.registryPort = await freePort();
    const config = join(this.dir, 'config.yml');
    writeFileSync(config, [
      'version: 0.1',
      'log: {level: warn, accesslog: {disabled: true}}',
      `storage: {filesystem: {rootdirectory: ${join(this.dir, 'data')}}, delete: {enabled: true}}`,
      `http: {addr: "127.0.0.1:${this.registryPort}", secret: ${randomBytes(12).toString('hex')}}`,
      'auth:',
      '  token:',
      `    realm: http://127.0.0.1:${tokenPort}/token`,
      `    service: ${SERVICE}`,
      `    issuer: ${ISSUER}`,
      `    rootcertbundle: ${cert}`,
      '',
    ].join('\n'));
    const child = (this.registry = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] }));
    child.stdout!.on('data', (d) => (this.registryLog += d));
    child.stderr!.on('data', (d) => (this.registryLog += d));

    const proxy = http.createServer((req, res) => this.forward(req, res));
    this.servers.push(proxy);
    this.proxyPort = await listen(proxy);

    for (const until = Date.now() + scaled(15_000); ;) {
      const status = await this.status('/v2/').catch(() => 0);
      if (status === 401) break;
      if (child.exitCode !== null || Date.now() > until) throw new Error(`docker-registry did not start (status ${status}): ${this.registryLog}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private status(path: string): Promise<number> {
    return new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: this.registryPort, path }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
  }

  /** Docker Hub's token endpoint, in small: basic auth of the one user, the scopes asked for granted. */
  private token(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const given = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [user, ...pw] = given ? Buffer.from(given, 'base64').toString('utf8').split(':') : [];
    if (url.pathname !== '/token' || user !== this.user || pw.join(':') !== this.password) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ details: given ? 'incorrect username or password' : 'authentication required' }));
      return;
    }
    const access = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean).map((scope) => {
      const [type, ...rest] = scope.split(':');
      const actions = rest.pop()!.split(',');
      return { type, name: rest.join(':'), actions };
    });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ token: this.jwt(user, access), expires_in: 300, issued_at: new Date().toISOString() }));
  }

  /** A token as the registry verifies it: ES256, `kid` of the rootcertbundle's key, its issuer and service. */
  jwt(subject: string, access: { type: string; name: string; actions: string[] }[]): string {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: this.kid }));
    const claims = b64url(JSON.stringify({ iss: ISSUER, sub: subject, aud: SERVICE, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
    const signature = sign('sha256', Buffer.from(`${header}.${claims}`), { key: this.key, dsaEncoding: 'ieee-p1363' });
    return `${header}.${claims}.${b64url(signature)}`;
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.proxied.push(`${req.method} ${req.url}`);
    const corrupt = [...this.tamper].some((d) => req.url?.endsWith(`/blobs/${d}`));
    const up = http.request({ host: '127.0.0.1', port: this.registryPort, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      let first = corrupt;
      upRes.on('data', (chunk: Buffer) => {
        if (first && chunk.length > 0) {
          chunk = Buffer.from(chunk);
          chunk[chunk.length - 1] ^= 0xff;
          first = false;
        }
        res.write(chunk);
      });
      upRes.on('end', () => res.end());
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  }

  /** A request straight to the registry with a token for `scope` (e.g. to PUT an index skopeo cannot make from our files). */
  async api(method: string, path: string, scope: { name: string; actions: string[] }, body?: Buffer, contentType?: string): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
    const token = this.jwt(this.user, [{ type: 'repository', ...scope }]);
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.registryPort, method, path, headers: {
        Authorization: `Bearer ${token}`,
        Accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json',
        ...(contentType ? { 'Content-Type': contentType } : {}),
      } }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), headers: res.headers }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /**
   * skopeo copy SOURCE (docker-archive:FILE, oci:DIR:TAG) to REPO:TAG in this registry, with the
   * user's credentials. Asynchronous: the token server skopeo asks lives in this process.
   */
  push(source: string, target: string): Promise<void> {
    const child = spawn('skopeo', ['copy', '--quiet', '--dest-creds', `${this.user}:${this.password}`, '--dest-tls-verify=false',
      source, `docker://${this.direct}/${target}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let said = '';
    child.stderr!.on('data', (d) => (said += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), scaled(120_000));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`skopeo copy ${source} ${target}: ${said.trim() || signal || `exit ${code}`}`));
      });
    });
  }

  async stop(): Promise<void> {
    const child = this.registry;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), scaled(5_000));
      await gone;
      clearTimeout(timer);
    }
    for (const s of this.servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
