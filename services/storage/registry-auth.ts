/**
 * Registry credentials and challenges as docker and skopeo read them: `auths` of the docker
 * config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`), whose `auth` entries are
 * base64 `user:password`, keyed by host[:port] with or without a scheme and path; and the
 * `WWW-Authenticate` challenge of a 401 (`Bearer realm=...,service=...,scope=...` or `Basic`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NestboxError } from '../../lib/errors.js';
import { DOCKER_HUB_DOMAIN } from '../../lib/image-ref.js';

export interface Credentials { username: string; password: string }

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** the key docker writes for the Hub in `auths` (its v1 index address); also found as docker.io */
const HUB_AUTH_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', DOCKER_HUB_DOMAIN];

/** `https://host:5000/v2/` -> `host:5000`, as docker matches `auths` keys */
function hostOfKey(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').split('/')[0].toLowerCase();
}

/**
 * The user's credentials for `domain` from the docker config in `configDir`, or undefined
 * (no file, no entry: anonymous). A file that is there but unreadable or malformed is an error
 * naming it: pulling anonymously instead would hide the reason of a later "unauthorized".
 */
export function readCredentials(configDir: string | undefined, domain: string): Credentials | undefined {
  if (!configDir) return undefined;
  const file = join(configDir, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new NestboxError('FAILED_PRECONDITION', `cannot read the docker config ${file}: ${(err as Error).message}`);
  }
  let auths: Record<string, { auth?: string; username?: string; password?: string }>;
  try {
    auths = (JSON.parse(text) as { auths?: typeof auths }).auths ?? {};
  } catch (err) {
    throw new NestboxError('INVALID_ARGUMENT', `the docker config ${file} is not JSON: ${(err as Error).message}`);
  }
  const wanted = domain === DOCKER_HUB_DOMAIN ? HUB_AUTH_KEYS.map(hostOfKey) : [domain.toLowerCase()];
  const key = Object.keys(auths).find((k) => wanted.includes(hostOfKey(k)));
  if (key === undefined) return undefined;
  const entry = auths[key] ?? {};
  if (entry.auth) {
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon <= 0) throw new NestboxError('INVALID_ARGUMENT', `the docker config ${file}: the auth entry for ${key} is not base64 of user:password`);
    return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
  }
  if (entry.username && entry.password !== undefined) return { username: entry.username, password: entry.password };
  return undefined;
}

/** Parses `Bearer realm="...",service="...",scope="..."` (quoted or bare values; commas inside quotes kept). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?\s*/g;
  for (let p = re.exec(m[2]); p && p[0] !== ''; p = re.exec(m[2])) {
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  }
  return { scheme: m[1].toLowerCase(), params };
}

export function basicAuthorization(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}
