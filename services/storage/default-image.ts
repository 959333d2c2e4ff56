/**
 * The built-in default image `busybox`, made on first use from the host's static busybox
 * (Debian's busybox-static), so a fresh machine with no registry can run a sandbox. Laid out like
 * the official image: the binary and one link per applet in /bin, a minimal /etc.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { NestboxError } from '../../lib/errors.js';
import { writeTar, type TarEntry } from './tar-writer.js';
import type { OciImageConfig } from './image-store.js';

export const DEFAULT_IMAGE = 'busybox:latest';
const CANDIDATES = ['/bin/busybox', '/usr/bin/busybox', '/usr/local/bin/busybox'];
/** a fixed mtime keeps the layer digest the same wherever the same busybox is found */
const EPOCH = Date.UTC(2024, 0, 1) / 1000;

export function findStaticBusybox(): string {
  for (const path of CANDIDATES) {
    if (existsSync(path) && isStaticElf(path)) return path;
  }
  throw new NestboxError(
    'NOT_FOUND',
    'the default image needs a static busybox on the host: install Debian\'s busybox-static (apt-get install busybox-static)',
  );
}

/** A dynamically linked busybox would need the host's libc inside the image. */
function isStaticElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(64);
    readSync(fd, head, 0, 64, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2) return false; // ELF64 only
    const phoff = Number(head.readBigUInt64LE(0x20));
    const phentsize = head.readUInt16LE(0x36);
    const phnum = head.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) if (table.readUInt32LE(i * phentsize) === 3 /* PT_INTERP */) return false;
    return true;
  } finally {
    closeSync(fd);
  }
}

function appletsOf(busybox: string): string[] {
  const out = execFileSync(busybox, ['--list'], { encoding: 'utf8' });
  return out.split('\n').filter((a) => /^[a-z0-9_.\[-]+$/i.test(a) && a !== 'busybox' && a !== 'linuxrc').sort();
}

const ETC_PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/bin/false',
  'bin:x:2:2:bin:/bin:/bin/false',
  'sys:x:3:3:sys:/dev:/bin/false',
  'sync:x:4:100:sync:/bin:/bin/sync',
  'www-data:x:33:33:www-data:/var/www:/bin/false',
  'operator:x:37:37:Operator:/var:/bin/false',
  'nobody:x:65534:65534:nobody:/home:/bin/false',
  '',
].join('\n');
const ETC_GROUP = ['root:x:0:', 'daemon:x:1:', 'bin:x:2:', 'sys:x:3:', 'adm:x:4:', 'tty:x:5:', 'disk:x:6:',
  'wheel:x:10:root', 'www-data:x:33:', 'users:x:100:', 'nogroup:x:65534:', ''].join('\n');

/** Writes the layer tar of the default image into `dir`; returns its path, digest and size. */
export function buildDefaultLayer(dir: string): { file: string; digest: string; size: number } {
  const busybox = findStaticBusybox();
  const dirs = ['bin', 'dev', 'etc', 'home', 'proc', 'root', 'sys', 'tmp', 'usr', 'usr/bin', 'usr/sbin', 'var', 'var/spool', 'var/www'];
  const entries: TarEntry[] = [];
  for (const d of dirs) entries.push({ type: 'dir', path: d, mode: d === 'tmp' ? 0o1777 : d === 'root' ? 0o700 : 0o755 });
  entries.push({ type: 'file', path: 'bin/busybox', mode: 0o755, content: readFileSync(busybox) });
  for (const applet of appletsOf(busybox)) entries.push({ type: 'symlink', path: `bin/${applet}`, target: 'busybox' });
  entries.push({ type: 'file', path: 'etc/passwd', mode: 0o644, content: Buffer.from(ETC_PASSWD) });
  entries.push({ type: 'file', path: 'etc/group', mode: 0o644, content: Buffer.from(ETC_GROUP) });
  entries.push({ type: 'dir', path: 'home', mode: 0o755 });
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const unique = entries.filter((e, i) => i === 0 || e.path !== entries[i - 1].path);
  const file = join(dir, `busybox-${randomBytes(6).toString('hex')}.tar`);
  try {
    return { file, ...writeTar(file, unique, EPOCH) };
  } catch (err) {
    rmSync(file, { force: true });
    throw err;
  }
}

export function defaultImageConfig(diffId: string): OciImageConfig {
  return {
    architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    os: 'linux',
    created: new Date(EPOCH * 1000).toISOString(),
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created_by: 'nestbox: default image from the host\'s busybox-static' }],
  };
}
