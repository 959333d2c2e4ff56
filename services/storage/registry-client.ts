/**
 * One repository of an OCI distribution registry, read-only: manifests by tag or digest, and
 * blobs streamed into a file while their sha256 and size are checked against the descriptor.
 * HTTPS by default; plain HTTP only for the registries docker allows it for (loopback, or listed
 * as insecure), HTTPS without verification tried first there, as docker does. Authenticates as
 * Docker Hub does: a 401's Bearer challenge is answered with a token from its realm (anonymous,
 * or with the user's basic credentials), a Basic challenge with the credentials themselves.
 * With NESTBOX_REGISTRY_LOOPBACK_ONLY=1 (the test suite's instances) no host but loopback is
 * contacted, whatever named it: the reference, a redirect or a token realm.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { NestboxError } from '../../lib/errors.js';
import { isLoopbackHost } from '../../lib/image-ref.js';
import { MAX_MANIFEST_BYTES } from './oci-manifest.js';
import { basicAuthorization, parseChallenge, type Credentials } from './registry-auth.js';

export interface BlobDescriptor { digest: string; size: number; mediaType?: string }

export interface RegistryClientOptions {
  /** host[:port] the API answers on */
  host: string;
  /** repository path, e.g. library/busybox */
  repository: string;
  /** plain HTTP (and unverified HTTPS) allowed */
  insecure: boolean;
  credentials?: Credentials;
  /** an idle connection fails after this long */
  idleTimeoutMs?: number;
  /** refuse every host that is not loopback (default: NESTBOX_REGISTRY_LOOPBACK_ONLY=1 in the environment) */
  loopbackOnly?: boolean;
}

/** set for test instances (test/helpers/nestbox.ts): tests must never reach a registry off this machine */
export const LOOPBACK_ONLY_ENV = 'NESTBOX_REGISTRY_LOOPBACK_ONLY';

const MAX_REDIRECTS = 5;
const MAX_ERROR_BODY = 64 * 1024;

export class RegistryClient {
  private base?: string;
  private authorization?: string;
  private readonly idleTimeoutMs: number;
  private readonly loopbackOnly: boolean;
  private signal?: AbortSignal;

  constructor(private readonly opts: RegistryClientOptions) {
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
    this.loopbackOnly = opts.loopbackOnly ?? process.env[LOOPBACK_ONLY_ENV] === '1';
  }

  /** Every request from now on ends when `signal` aborts (a failed pull stops its other downloads). */
  abortWith(signal: AbortSignal): void {
    this.signal = signal;
  }

  /** The manifest's bytes as served (they are what its digest is of) and its media type. */
  async manifest(reference: string, accept: string[], what: string): Promise<{ bytes: Buffer; mediaType: string }> {
    const res = await this.get(`/v2/${this.opts.repository}/manifests/${reference}`, { Accept: [...new Set(accept)].join(', ') });
    if (res.statusCode !== 200) throw await this.failure(res, what);
    const bytes = await readBody(res, MAX_MANIFEST_BYTES, what);
    const type = String(res.headers['content-type'] ?? '').split(';')[0].trim();
    return { bytes, mediaType: type };
  }

  /** A small blob (an image config) into memory, checked against its descriptor. */
  async blobBytes(desc: BlobDescriptor): Promise<Buffer> {
    const res = await this.get(`/v2/${this.opts.repository}/blobs/${desc.digest}`);
    if (res.statusCode !== 200) throw await this.failure(res, `blob ${desc.digest}`);
    const bytes = await readBody(res, desc.size + 1, `blob ${desc.digest}`, `is larger than its descriptor's ${desc.size} bytes`);
    verifyBlob(desc, bytes.length, `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    return bytes;
  }

  /**
   * Streams a blob into `file` (created, mode 0600), hashing as it goes; stops as soon as more
   * bytes come than the descriptor says. `onBytes` sees the running count. The caller removes
   * the file on failure.
   */
  async downloadBlob(desc: BlobDescriptor, file: string, onBytes: (received: number) => void): Promise<void> {
    const res = await this.get(`/v2/${this.opts.repository}/blobs/${desc.digest}`);
    if (res.statusCode !== 200) throw await this.failure(res, `blob ${desc.digest}`);
    const hash = createHash('sha256');
    let received = 0;
    const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (err: Error) => {
        if (failed) return; // destroying the response reports it aborted: the first reason stands
        failed = true;
        res.destroy();
        out.destroy();
        reject(err);
      };
      out.on('error', (err) => fail(new NestboxError('INTERNAL', `writing ${file}: ${err.message}`)));
      res.on('error', (err) => fail(networkError(err, this.opts.host)));
      res.on('aborted', () => fail(new NestboxError('UNAVAILABLE', `blob ${desc.digest}: the registry ${this.opts.host} closed the connection after ${received} bytes`)));
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > desc.size) return fail(new NestboxError('INVALID_ARGUMENT', `blob ${desc.digest} is larger than its descriptor's ${desc.size} bytes`));
        hash.update(chunk);
        if (!out.write(chunk)) {
          res.pause();
          out.once('drain', () => res.resume());
        }
        onBytes(received);
      });
      res.on('end', () => out.end(() => resolve()));
    });
    verifyBlob(desc, received, `sha256:${hash.digest('hex')}`);
  }

  /** GET with the registry's authentication: one retry after answering a 401's challenge. */
  private async get(path: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
    const base = await this.baseUrl();
    let res = await this.send(`${base}${path}`, headers, this.authorization);
    if (res.statusCode === 401) {
      const challenge = res.headers['www-authenticate'];
      res.resume();
      await this.authenticate(Array.isArray(challenge) ? challenge[0] : challenge, path);
      res = await this.send(`${base}${path}`, headers, this.authorization);
    }
    return res;
  }

  /** https://host, or http://host for an insecure registry that does not speak TLS. */
  private async baseUrl(): Promise<string> {
    if (this.base) return this.base;
    const tls = `https://${this.opts.host}`;
    if (this.opts.insecure) {
      try {
        (await this.send(`${tls}/v2/`, {}, undefined)).resume();
      } catch (err) {
        if (err instanceof NestboxError && err.code === 'UNAVAILABLE' && /TLS/.test(err.message)) return (this.base = `http://${this.opts.host}`);
        throw err;
      }
    }
    return (this.base = tls);
  }

  private async authenticate(header: string | undefined, path: string): Promise<void> {
    const challenge = parseChallenge(header);
    const creds = this.opts.credentials;
    if (challenge?.scheme === 'basic') {
      if (!creds || this.authorization?.startsWith('Basic')) throw unauthorized(this.opts.host, creds !== undefined);
      this.authorization = basicAuthorization(creds);
      return;
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) {
      throw new NestboxError('PERMISSION_DENIED', `unauthorized: the registry ${this.opts.host} asked for authentication nestbox does not speak (${header ?? 'no WWW-Authenticate'}) at ${path}`);
    }
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm);
    } catch {
      throw new NestboxError('INVALID_ARGUMENT', `the registry ${this.opts.host} named a token realm that is not a URL: ${challenge.params.realm}`);
    }
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    realm.searchParams.set('scope', challenge.params.scope ?? `repository:${this.opts.repository}:pull`);
    const res = await this.send(realm.toString(), { Accept: 'application/json' }, creds ? basicAuthorization(creds) : undefined);
    if (res.statusCode === 401 || res.statusCode === 403) {
      const said = await errorText(res);
      throw unauthorized(this.opts.host, creds !== undefined, said);
    }
    if (res.statusCode !== 200) throw new NestboxError('UNAVAILABLE', `the token service ${realm.host} of ${this.opts.host} answered ${res.statusCode}: ${await errorText(res)}`);
    const body = await readBody(res, MAX_ERROR_BODY, 'the token reply');
    let token: string | undefined;
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { token?: string; access_token?: string };
      token = parsed.token || parsed.access_token;
    } catch { /* reported below */ }
    if (!token) throw new NestboxError('UNAVAILABLE', `the token service ${realm.host} of ${this.opts.host} sent no token`);
    this.authorization = `Bearer ${token}`;
  }

  /** One request, redirects followed (a redirect elsewhere goes without our credentials). */
  private async send(url: string, headers: Record<string, string>, authorization: string | undefined): Promise<IncomingMessage> {
    let target = new URL(url);
    const origin = target.host;
    for (let hop = 0; ; hop++) {
      const auth: Record<string, string> = authorization !== undefined && target.host === origin ? { Authorization: authorization } : {};
      const res = await this.request(target, { ...headers, ...auth, 'User-Agent': 'nestbox' });
      const location = res.headers.location;
      if (![301, 302, 303, 307, 308].includes(res.statusCode ?? 0) || !location) return res;
      res.resume();
      if (hop >= MAX_REDIRECTS) throw new NestboxError('UNAVAILABLE', `the registry ${this.opts.host} redirected more than ${MAX_REDIRECTS} times`);
      target = new URL(location, target);
    }
  }

  private request(url: URL, headers: Record<string, string>): Promise<IncomingMessage> {
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') return Promise.reject(new NestboxError('INVALID_ARGUMENT', `unsupported URL scheme in ${url}`));
    if (this.loopbackOnly && !isLoopbackHost(url.host)) {
      return Promise.reject(new NestboxError('FAILED_PRECONDITION', `refusing to contact ${url.host}: ${LOOPBACK_ONLY_ENV}=1 allows loopback registries only`));
    }
    if (!secure && !this.opts.insecure) {
      return Promise.reject(new NestboxError('FAILED_PRECONDITION', `refusing plain HTTP to ${url.host}: only loopback registries and those in NESTBOX_INSECURE_REGISTRIES may be reached without TLS`));
    }
    return new Promise((resolve, reject) => {
      const options = { headers, ...(this.signal ? { signal: this.signal } : {}), ...(secure && this.opts.insecure && url.host === this.opts.host ? { rejectUnauthorized: false } : {}) };
      const req = (secure ? https : http).get(url, options, resolve);
      req.setTimeout(this.idleTimeoutMs, () => req.destroy(new NestboxError('UNAVAILABLE', `the registry ${url.host} did not answer within ${this.idleTimeoutMs / 1000} s`)));
      req.on('error', (err) => reject(networkError(err, url.host)));
    });
  }

  /** A registry error reply as one line: its first error's code and message (docker's wording). */
  private async failure(res: IncomingMessage, what: string): Promise<NestboxError> {
    const said = await errorText(res);
    if (res.statusCode === 401) return unauthorized(this.opts.host, this.opts.credentials !== undefined, said);
    if (res.statusCode === 404) return new NestboxError('NOT_FOUND', `${what} not found: ${said}`);
    if (res.statusCode === 403) return new NestboxError('PERMISSION_DENIED', `${what}: denied: ${said}`);
    return new NestboxError('UNAVAILABLE', `${what}: the registry ${this.opts.host} answered ${res.statusCode}: ${said}`);
  }
}

function verifyBlob(desc: BlobDescriptor, size: number, digest: string): void {
  if (size !== desc.size) throw new NestboxError('INVALID_ARGUMENT', `blob ${desc.digest} has ${size} bytes, its descriptor says ${desc.size}`);
  if (digest !== desc.digest) throw new NestboxError('INVALID_ARGUMENT', `blob ${desc.digest} failed verification: its content has digest ${digest}`);
}

function unauthorized(host: string, withCredentials: boolean, said?: string): NestboxError {
  const why = said || (withCredentials ? 'incorrect username or password' : 'authentication required (no credentials for it in the docker config)');
  return new NestboxError('PERMISSION_DENIED', `unauthorized: ${why} (registry ${host})`);
}

function networkError(err: Error, host: string): NestboxError {
  if (err instanceof NestboxError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'ECONNREFUSED') return new NestboxError('UNAVAILABLE', `connection refused by ${host}`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new NestboxError('UNAVAILABLE', `cannot resolve the registry host ${host}`);
  if (code === 'ECONNRESET') return new NestboxError('UNAVAILABLE', `the registry ${host} reset the connection (TLS or network)`);
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code === 'EPROTO' || /certificate|TLS|SSL/i.test(code + err.message)) {
    return new NestboxError('UNAVAILABLE', `TLS error talking to ${host}: ${err.message.split('\n')[0]}${code ? ` (${code})` : ''}`);
  }
  return new NestboxError('UNAVAILABLE', `talking to the registry ${host}: ${err.message.split('\n')[0]}`);
}

async function readBody(res: IncomingMessage, max: number, what: string, tooLarge = `is larger than ${max} bytes`): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      res.destroy();
      throw new NestboxError('INVALID_ARGUMENT', `${what} ${tooLarge}`);
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/** The registry's error body (`{"errors":[{"code","message"}]}`) as `code: message`, else its text. */
async function errorText(res: IncomingMessage): Promise<string> {
  let text: string;
  try {
    text = (await readBody(res, MAX_ERROR_BODY, 'the error reply')).toString('utf8');
  } catch {
    return `HTTP ${res.statusCode}`;
  }
  try {
    const parsed = JSON.parse(text) as { errors?: { code?: string; message?: string }[]; details?: string };
    const e = parsed.errors?.[0];
    if (e) return [e.code?.toLowerCase().replace(/_/g, ' '), e.message].filter((s, i, all) => s && (i === 0 || s !== all[0])).join(': ');
    if (parsed.details) return parsed.details;
  } catch { /* not JSON */ }
  return text.trim().split('\n')[0].slice(0, 200) || `HTTP ${res.statusCode}`;
}
