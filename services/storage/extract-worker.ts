/**
 * Extracts one layer tar (on stdin) into a directory, run inside the keeper namespace as its
 * uid 0 (`nestbox-runtime join --pid KEEPER -- node extract-worker.js --dir DIR`): owners are
 * kept as the tar says, so uid 1000 in the image lands on the host id that uid 1000 maps to in
 * every container. Owners the namespace does not map (a single-id user has only 0) become 0,
 * counted in the one JSON line printed on success: {"squashed": N}.
 *
 * What node-tar alone gets wrong for images, put right here:
 *  - symlink targets are kept as written (node-tar strips a leading `/` and refuses `..` that
 *    climbs out, both normal in images where they resolve inside the container's root): the link
 *    is extracted with a placeholder target, then re-made with the real one;
 *  - set-user-ID and set-group-ID bits are put back at the end (writing and chown clear them);
 *  - only informational warnings (a leading `/` stripped from an entry's path) are tolerated:
 *    any entry that could not be extracted fails the layer.
 * On failure: the directory's contents are removed (only this namespace may remove files of
 * subordinate owners), one line on stderr, exit 1.
 */
import { chmodSync, chownSync, lchownSync, lstatSync, lutimesSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';

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

function argValue(name: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v) throw new Error(`${name} DIR is required`);
  return v;
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

async function main(): Promise<void> {
  const dir = realpathSync(argValue('--dir'));
  const uids = mappedRanges('/proc/self/uid_map');
  const gids = mappedRanges('/proc/self/gid_map');
  const setId = new Map<string, number>();
  const links = new Map<string, Link>();
  let squashed = 0;
  let failure: string | undefined;
  process.umask(0o022);
  try {
    await pipeline(
      process.stdin,
      tar.x({
        cwd: dir,
        chmod: true,
        processUmask: 0o022,
        preserveOwner: true,
        onwarn: (code, message, data) => {
          if (code === 'TAR_ENTRY_INFO' || failure) return;
          const path = (data as { path?: unknown }).path;
          const text = (message as unknown) instanceof Error ? (message as unknown as Error).message : message;
          failure = `${typeof path === 'string' ? `${path}: ` : ''}${text}`;
        },
        filter: (entryPath, entry) => {
          const e = entry as tar.ReadEntry;
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
          if (e.type === 'SymbolicLink' && e.linkpath) {
            links.set(path, { target: e.linkpath, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime });
            e.linkpath = PLACEHOLDER;
          }
          return true;
        },
      }),
    );
    if (failure) throw new Error(failure);
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
  } catch (err) {
    for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
    throw err;
  }
  process.stdout.write(`${JSON.stringify({ squashed })}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message.split('\n')[0]}\n`);
  process.exit(1);
});
