/**
 * Image references as docker parses them (its reference grammar): `busybox` is
 * `docker.io/library/busybox:latest`, `host:port/repo/name:tag`, `name@sha256:<hex>`. Pure: the
 * CLI and the storage service both use it, no NestJS.
 */
import { NestboxError } from './errors.js';

/** Docker Hub: the domain of names without one, and the host its registry API answers on */
export const DOCKER_HUB_DOMAIN = 'docker.io';
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
/** docker's older spelling of the Hub's domain, normalised to docker.io as docker does */
const LEGACY_HUB_DOMAIN = 'index.docker.io';

export interface ImageRef {
  /** registry domain as written (`docker.io` for Hub names), with its port if any */
  domain: string;
  /** repository path in the registry (`library/busybox`) */
  path: string;
  /** a tag; `latest` when neither a tag nor a digest was given */
  tag?: string;
  digest?: string;
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?$`);
const PATH = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const NAME_MAX = 255;

/** Parses REF the way docker does; a bad one is a one-line INVALID_ARGUMENT naming it. */
export function parseImageRef(ref: string): ImageRef {
  const bad = (why: string) => new NestboxError('INVALID_ARGUMENT', `invalid reference format: ${JSON.stringify(ref)}: ${why}`);
  if (ref === '') throw bad('empty');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad('a digest must be sha256:<64 lower-case hex>');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad('a tag is up to 128 of [A-Za-z0-9_.-], not starting with . or -');
  }
  if (rest.length > NAME_MAX) throw bad(`the name is longer than ${NAME_MAX} characters`);
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  let domain: string;
  let path: string;
  // docker: the first component is a registry only when it looks like a host (a dot, a port, localhost)
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[') || first !== first.toLowerCase())) {
    domain = first;
    path = rest.slice(slash + 1);
    if (!DOMAIN.test(domain)) throw bad(`"${domain}" is not a registry host[:port]`);
  } else {
    domain = DOCKER_HUB_DOMAIN;
    path = rest;
  }
  if (domain === LEGACY_HUB_DOMAIN) domain = DOCKER_HUB_DOMAIN;
  if (path !== path.toLowerCase() && PATH.test(path.toLowerCase())) throw bad('repository name must be lowercase');
  if (!PATH.test(path)) throw bad('a repository name is lower-case components of [a-z0-9] joined by . _ __ or -, separated by /');
  if (domain === DOCKER_HUB_DOMAIN && !path.includes('/')) path = `library/${path}`;
  return { domain, path, ...(tag === undefined && digest === undefined ? { tag: 'latest' } : tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** docker's familiar name: `busybox`, `user/app`, `host:5000/app` */
export function familiarName(r: ImageRef): string {
  if (r.domain !== DOCKER_HUB_DOMAIN) return `${r.domain}/${r.path}`;
  return r.path.startsWith('library/') && r.path.indexOf('/', 8) < 0 ? r.path.slice(8) : r.path;
}

/** The name an image is stored under: `busybox:latest`, `host:5000/app@sha256:...` (a digest wins over a tag, as docker records it) */
export function storedName(r: ImageRef): string {
  return r.digest ? `${familiarName(r)}@${r.digest}` : `${familiarName(r)}:${r.tag ?? 'latest'}`;
}

/** The fully qualified reference docker prints last: `docker.io/library/busybox:latest` */
export function fullName(r: ImageRef): string {
  const name = `${r.domain}/${r.path}`;
  return r.digest ? `${name}@${r.digest}` : `${name}:${r.tag ?? 'latest'}`;
}

/** Where the registry API of the reference's domain answers (Docker Hub's is its own host). */
export function registryHost(r: ImageRef): string {
  return r.domain === DOCKER_HUB_DOMAIN ? DOCKER_HUB_API_HOST : r.domain;
}

/**
 * docker's rule for plain HTTP: registries on loopback (localhost, 127.0.0.0/8, ::1) and those
 * listed (host:port, comma-separated: NESTBOX_INSECURE_REGISTRIES) may be reached without TLS.
 */
export function isInsecureRegistry(domain: string, listed: string[]): boolean {
  return listed.includes(domain) || isLoopbackHost(domain);
}

/** `localhost`, 127.0.0.0/8 or ::1, with or without a port (`[::1]:5000`, `127.0.0.1:5000`). */
export function isLoopbackHost(hostPort: string): boolean {
  const bareV6 = !hostPort.startsWith('[') && hostPort.indexOf(':') !== hostPort.lastIndexOf(':');
  const host = hostPort.startsWith('[') ? hostPort.slice(1, hostPort.indexOf(']')) : bareV6 ? hostPort : hostPort.replace(/:[0-9]+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
