/**
 * Extracts one layer tar (on stdin) into a directory, run inside the keeper namespace as its
 * uid 0 (`nestbox-runtime join --pid KEEPER -- node extract-worker.js --dir DIR`): owners are
 * kept as the tar says, so uid 1000 in the image lands on the host id that uid 1000 maps to in
 * every container. Owners the namespace does not map (a single-id user has only 0) become 0,
 * counted in the one JSON line printed on success: {"squashed": N, "skipped": [warning lines]}.
 *
 * What node-tar alone gets wrong for images, put right here:
 *  - symlink targets are kept as written (node-tar strips a leading `/` and refuses `..` that
 *    climbs out, both normal in images where they resolve inside the container's root): the link
 *    is extracted with a placeholder target, then re-made with the real one (a hard link to such
 *    a symlink becomes a symlink with the same target);
 *  - set-user-ID and set-group-ID bits are put back at the end (writing and chown clear them);
 *  - only informational warnings (a leading `/` stripped from an entry's path) are tolerated:
 *    any entry that could not be extracted fails the layer, in one line naming it (the worker is
 *    staged as one file, so its messages live here);
 *  - device nodes (and FIFOs) are skipped with a warning: a user namespace may never mknod, for
 *    root's containers too, which also run in one (rootless podman does the same);
 *  - `.wh.NAME` entries become overlay whiteouts of NAME and `.wh..wh..opq` makes its directory
 *    opaque, in the forms both overlay drivers read (char device 0/0, user.overlay.opaque; see
 *    native/src/layer_attrs.c); the `.wh.` entries themselves are not extracted. A later entry of
 *    the same layer at NAME wins over its whiteout; one below NAME makes NAME opaque instead;
 *  - PAX `SCHILY.xattr.*` attributes (read byte for byte: tar-xattrs.ts) are set where the kernel
 *    lets container root set them (user.*, security.capability); each kind it refuses
 *    (trusted.*), and overlay's own, is one warning line, never dropped silently.
 * Whiteouts, opaque dirs and xattrs are made at the end by `RUNTIME layer apply` (--runtime), one
 * process per layer.
 * The tar is read as it comes: the caller hands over an uncompressed archive (node-tar would
 * otherwise gunzip a compressed one past the caller's size cap).
 * On failure: the directory's contents are removed (only this namespace may remove files of
 * subordinate owners), one line on stderr, exit 2 when the archive is refused, else 1.
 */
import { chmodSync, chownSync, lchownSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { applyLayerAttrs, isOverlayXattr, type LayerAttr } from './layer-attrs.js';
import { TarXattrScanner } from './tar-xattrs.js';

interface Range { first: number; count: number }
interface Link { target: string; uid: number; gid: number; mtime?: Date }

/** The ids this namespace maps, from /proc/self/{uid,gid}_map (inside id, outside id, count). */
function mappedRanges(file: string): Range[] {
  return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((line) => {
    const [first, , count] = line.trim().split(/\s+/).map(Number);
    return { first, count };
  });
}

const isMapped = (ranges: Range[], id: number) => ranges.some((r) => id >= r.first && id < r.first + r.count);

function argValue(name: string, what: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v) throw new Error(`${name} ${what} is required`);
  return v;
}

/** An entry's path inside the layer (`./a/b`, `/a/b` -> `a/b`); undefined when it leaves it. */
function layerPath(entryPath: string): string | undefined {
  const p = posix.normalize(`/${entryPath}`).replace(/^\/+/, '').replace(/\/+$/, '');
  return p === '' || p === '..' || p.startsWith('../') ? undefined : p;
}

/** What the layer's `.wh.` entries ask for: whiteouts of paths, opaque dirs (relative paths). */
class Whiteouts {
  readonly whiteouts = new Set<string>();
  readonly opaque = new Set<string>();

  /** True when `path` is a whiteout entry (recorded, not to be extracted). */
  take(path: string): boolean {
    const base = posix.basename(path);
    if (!base.startsWith('.wh.')) return false;
    const parent = posix.dirname(path);
    if (base === '.wh..wh..opq') this.opaque.add(parent);
    else if (!base.startsWith('.wh..wh.')) this.whiteouts.add(parent === '.' ? base.slice(4) : `${parent}/${base.slice(4)}`);
    // other .wh..wh. names are aufs metadata (hard link dirs): nothing for overlay
    return true;
  }

  /** An entry extracted at `path` wins over an earlier whiteout of it; one below a whited-out dir makes that dir opaque. */
  extracted(path: string): void {
    this.whiteouts.delete(path);
    for (let a = posix.dirname(path); a !== '.'; a = posix.dirname(a)) {
      if (this.whiteouts.delete(a)) this.opaque.add(a);
    }
  }
}

/**
 * PATH (relative, from the tar) inside DIR when it was extracted there and is reached without a
 * symlink on the way (node-tar refuses to extract through one; so must we); else undefined.
 */
function extractedPath(dir: string, path: string): string | undefined {
  const target = resolve(dir, path);
  if (!target.startsWith(`${dir}/`)) return undefined;
  try {
    return realpathSync(dirname(target)) === dirname(target) ? (lstatSync(target), target) : undefined;
  } catch {
    return undefined; // not extracted (refused, or removed by a later entry)
  }
}

const PLACEHOLDER = 'nestbox-link-placeholder';
/** the warnings of one layer that are shown; the rest are counted */
const MAX_SKIPPED = 20;

/** A refusal of the archive itself (exit 2), as opposed to a failure of this worker (exit 1). */
class Refused extends Error {}

/** What an entry said before node-tar touched it: its path and hard link target as written. */
interface Written { path: string; linkpath?: string }

const SKIPPED_TYPES: Record<string, string> = {
  CharacterDevice: 'a character device', BlockDevice: 'a block device', FIFO: 'a FIFO',
};

/**
 * One line naming the entry for what node-tar reported (its warnings, or the error it ends
 * with for a truncated archive). `dir` is cut from paths: they mean nothing to the user.
 */
function describe(message: string, data: Record<string, unknown>, written: WeakMap<object, Written>, dir: string): string {
  const entry = data.entry as tar.ReadEntry | undefined;
  const seen = entry ? written.get(entry) : undefined;
  const name = JSON.stringify(seen?.path ?? entry?.path ?? data.path ?? '?');
  const inLayer = (p: unknown) => JSON.stringify(String(p).startsWith(`${dir}/`) ? String(p).slice(dir.length + 1) : String(p));
  if (data.code === 'TAR_SYMLINK_ERROR') return `entry ${name}: it would be written through the symbolic link ${inLayer(data.symlink)}`;
  if (/^path contains '\.\.'/.test(message) || /escaped extraction target/.test(message)) return `entry ${name}: its path leaves the layer ('..')`;
  if (/^linkpath contains '\.\.'/.test(message)) return `entry ${name}: a hard link to ${JSON.stringify(seen?.linkpath)}, outside the layer`;
  if (/^Truncated input/.test(message)) return `entry ${name}: the archive ends inside it (truncated)`;
  if (/^Unrecognized archive format/.test(message)) return 'not a tar archive';
  if (data.code === 'ENOENT' && entry?.type === 'Link') return `entry ${name}: a hard link to ${JSON.stringify(seen?.linkpath)}, which is not in the layer before it`;
  return entry ? `entry ${name}: ${message.split(dir).join('')}` : message.split(dir).join('');
}

/**
 * Refuses a compressed (or any non-tar) stream before node-tar, which would decompress it, and
 * counts the bytes: node-tar quietly ignores an archive cut inside a header block.
 */
function tarOnly(): Transform & { bytes: number } {
  let head: Buffer | undefined = Buffer.alloc(0);
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      stream.bytes += chunk.length;
      if (!head) return done(null, chunk);
      head = Buffer.concat([head, chunk]);
      if (head.length < 512) return done();
      const block = head.subarray(0, 512);
      let valid = block.every((b) => b === 0);
      try {
        valid ||= new tar.Header(block).cksumValid;
      } catch { /* not a header */ }
      const rest = head;
      head = undefined;
      return valid ? done(null, rest) : done(new Refused('not a tar archive'));
    },
    flush(done) {
      // under one block but not empty: no tar at all (empty: node-tar says it is no tar)
      done(head && head.length > 0 ? new Refused('not a tar archive') : null);
    },
  }) as Transform & { bytes: number };
  stream.bytes = 0;
  return stream;
}

async function main(): Promise<void> {
  const dir = realpathSync(argValue('--dir', 'DIR'));
  const runtime = argValue('--runtime', 'RUNTIME');
  const marks = new Whiteouts();
  const xattrs: { path: string; xattrs: Map<string, Buffer> }[] = [];
  const scanner = new TarXattrScanner();
  let filtered = 0;
  const uids = mappedRanges('/proc/self/uid_map');
  const gids = mappedRanges('/proc/self/gid_map');
  const setId = new Map<string, number>();
  const links = new Map<string, Link>();
  const written = new WeakMap<object, Written>();
  const skipped: string[] = [];
  let skippedMore = 0;
  let squashed = 0;
  let failure: string | undefined;
  process.umask(0o022);
  const input = tarOnly();
  try {
    try {
      await pipeline(
        process.stdin,
        input,
        scanner,
        tar.x({
          cwd: dir,
          chmod: true,
          processUmask: 0o022,
          preserveOwner: true,
          onwarn: (code, message, data) => {
            if (code === 'TAR_ENTRY_INFO' || failure) return;
            const d = data as Record<string, unknown>;
            const text = (message as unknown) instanceof Error ? (message as unknown as Error).message : message;
            const kind = code === 'TAR_ENTRY_UNSUPPORTED' ? SKIPPED_TYPES[(d.entry as tar.ReadEntry | undefined)?.type ?? ''] : undefined;
            if (kind) {
              const name = JSON.stringify(written.get(d.entry as object)?.path ?? (d.entry as tar.ReadEntry).path);
              if (skipped.length < MAX_SKIPPED) skipped.push(`entry ${name}: ${kind}, skipped (a user namespace cannot make one)`);
              else skippedMore++;
              return;
            }
            failure = describe(text, d, written, dir);
          },
          filter: (entryPath, entry) => {
            const e = entry as tar.ReadEntry;
            written.set(e, { path: entryPath, linkpath: e.linkpath });
            const scanned = scanner.entries[filtered++];
            if (scanned?.path !== entryPath) {
              failure ??= `entry ${JSON.stringify(entryPath)}: its extended attributes could not be matched to it`;
              return false;
            }
            const inLayer = layerPath(entryPath);
            if (inLayer !== undefined && marks.take(inLayer)) return false;
            if (inLayer !== undefined) {
              marks.extracted(inLayer);
              if (scanned.xattrs.size > 0) xattrs.push({ path: inLayer, xattrs: scanned.xattrs });
            }
            const path = entryPath.replace(/^\/+/, ''); // node-tar extracts /x as x
            const uidOk = e.uid === undefined || isMapped(uids, e.uid);
            const gidOk = e.gid === undefined || isMapped(gids, e.gid);
            if (!uidOk || !gidOk) squashed++;
            if (!uidOk) e.uid = 0;
            if (!gidOk) e.gid = 0;
            // the last entry for a path decides, as for the file itself
            setId.delete(path);
            links.delete(path);
            if ((e.type === 'File' || e.type === 'OldFile' || e.type === 'Directory') && e.mode && e.mode & 0o6000) setId.set(path, e.mode & 0o7777);
            // a hard link to a symlink of the layer (GNU tar keeps those) would go through its
            // placeholder: it becomes a symlink of its own to the same target
            const linked = e.type === 'Link' && e.linkpath ? links.get(e.linkpath.replace(/^\/+/, '')) : undefined;
            if (linked) {
              e.type = 'SymbolicLink';
              e.linkpath = linked.target;
            }
            if (e.type === 'SymbolicLink' && e.linkpath) {
              links.set(path, { target: e.linkpath, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime });
              e.linkpath = PLACEHOLDER;
            }
            return true;
          },
        }),
      );
    } catch (err) {
      // node-tar ends with an error (not a warning) for a damaged archive: truncated, bad gzip
      const e = err as Error & Record<string, unknown>;
      if (e instanceof Refused) throw e;
      throw failure ? new Refused(failure) : e.tarCode ? new Refused(describe(e.message.replace(/^TAR_\w+: /, ''), e, written, dir)) : e;
    }
    if (failure) throw new Refused(failure);
    if (input.bytes % 512 !== 0) throw new Refused('the archive ends inside a header block (truncated)');
    for (const [path, link] of links) {
      const at = extractedPath(dir, path);
      if (!at || !lstatSync(at).isSymbolicLink()) continue;
      unlinkSync(at);
      symlinkSync(link.target, at);
      lchownSync(at, link.uid, link.gid);
      if (link.mtime) lutimesSync(at, link.mtime, link.mtime);
    }
    for (const [path, mode] of setId) {
      const at = extractedPath(dir, path);
      if (at && !lstatSync(at).isSymbolicLink()) chmodSync(at, mode);
    }
    // the layer's root: searchable by every container user, owned by container root
    chmodSync(dir, 0o755);
    chownSync(dir, 0, 0);
    skipped.push(...applyAttrs(runtime, dir, marks, xattrs));
  } catch (err) {
    for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
    throw err;
  }
  if (skippedMore > 0) skipped.push(`and ${skippedMore} more device nodes or FIFOs, skipped`);
  process.stdout.write(`${JSON.stringify({ squashed, skipped })}\n`);
}

/**
 * Makes the layer's whiteouts, opaque dirs and xattrs (after every chown: it clears
 * security.capability); returns one warning line per kind of xattr not set.
 */
function applyAttrs(runtime: string, dir: string, marks: Whiteouts, entries: { path: string; xattrs: Map<string, Buffer> }[]): string[] {
  const attrs: LayerAttr[] = [];
  const dirInLayer = (p: string) => {
    if (p === '.') return;
    const at = join(dir, p);
    mkdirSync(at, { recursive: true, mode: 0o755 }); // the tar had no entry for it: as node-tar makes parents
    if (extractedPath(dir, p) === undefined || !lstatSync(at).isDirectory()) throw new Refused(`entry ${JSON.stringify(p)}: a whiteout's directory is not a directory of the layer`);
  };
  for (const w of marks.whiteouts) {
    dirInLayer(posix.dirname(w));
    const at = extractedPath(dir, w);
    if (at) rmSync(at, { recursive: true, force: true }); // extracted before its whiteout: the whiteout wins, as it came later
    attrs.push({ kind: 'whiteout', path: w });
  }
  for (const o of marks.opaque) {
    dirInLayer(o);
    attrs.push({ kind: 'opaque', path: o });
  }
  const overlays = new Map<string, number>();
  for (const e of entries) {
    if (extractedPath(dir, e.path) === undefined) continue; // replaced or removed by a later entry
    for (const [name, value] of e.xattrs) {
      if (isOverlayXattr(name)) overlays.set(name, (overlays.get(name) ?? 0) + 1);
      else attrs.push({ kind: 'xattr', path: e.path, name, value });
    }
  }
  const refused = new Map<string, { count: number; reason: string }>();
  for (const r of applyLayerAttrs(runtime, dir, attrs)) {
    const seen = refused.get(r.name);
    refused.set(r.name, { count: (seen?.count ?? 0) + 1, reason: seen?.reason ?? r.reason });
  }
  const entries1 = (n: number) => (n === 1 ? '1 entry' : `${n} entries`);
  return [
    ...[...overlays].map(([name, n]) => `xattr ${name} of ${entries1(n)}: overlay's own, skipped`),
    ...[...refused].map(([name, r]) => `xattr ${name} of ${entries1(r.count)}: refused by the kernel (${r.reason}), skipped`),
  ];
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message.split('\n')[0]}\n`);
  process.exit(err instanceof Refused ? 2 : 1);
});
