/**
 * Extracts one layer tar (on stdin) into a directory, run inside the keeper namespace as its
 * uid 0 (`nestbox-runtime join --pid KEEPER -- node extract-worker.js --dir DIR`): owners are
 * kept as the tar says, so uid 1000 in the image lands on the host id that uid 1000 maps to in
 * every container. Owners the namespace does not map (a single-id user has only 0) become 0,
 * counted in the one JSON line printed on success: {"squashed": N}.
 * On failure: the directory's contents are removed (only this namespace may remove files of
 * subordinate owners), one line on stderr, exit 1.
 */
import { chmodSync, chownSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';

interface Range { first: number; count: number }

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

async function main(): Promise<void> {
  const dir = argValue('--dir');
  const uids = mappedRanges('/proc/self/uid_map');
  const gids = mappedRanges('/proc/self/gid_map');
  let squashed = 0;
  process.umask(0o022);
  try {
    await pipeline(
      process.stdin,
      tar.x({
        cwd: dir,
        strict: true,
        chmod: true,
        processUmask: 0o022,
        preserveOwner: true,
        filter: (_path, entry) => {
          const e = entry as tar.ReadEntry;
          const uidOk = e.uid === undefined || isMapped(uids, e.uid);
          const gidOk = e.gid === undefined || isMapped(gids, e.gid);
          if (!uidOk || !gidOk) squashed++;
          if (!uidOk) e.uid = 0;
          if (!gidOk) e.gid = 0;
          return true;
        },
      }),
    );
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
