// A snapshot of the built project as an ext2 disk image, attached to each guest (read-write
// through qemu's snapshot=on, so the image itself is never changed) and mounted over the
// project's path. Why not just the 9p view of the host root: under TCG every 9p request costs a
// round trip through qemu's main loop, and the suite copies node_modules (~10k files) into a
// temporary stage; measured on 6.1: 43-72 s over 9p+overlay, ~20 s from the disk image. The
// image also freezes the tree for the run, so a rebuild on the host mid-run cannot leak in.
// ext2 (mounted by the ext4 driver) rather than ext4: newer mke2fs defaults (orphan_file,
// metadata_csum_seed) are refused read-write by older kernels; ext2 has nothing to refuse.
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

// Never in the image: history, the VM cache itself, other compiled trees.
const EXCLUDE = new Set(['.git', '.vm-cache']);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
}

/** Size and file count of a tree (without following symlinks). */
function measure(path) {
  let bytes = 0;
  let files = 0;
  const walk = (p) => {
    const st = lstatSync(p);
    files++;
    bytes += Math.ceil(st.size / 4096) * 4096;
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  };
  walk(path);
  return { bytes, files };
}

/**
 * Builds `image` from `project` with the compiled tree `dist` (other dist-* trees and
 * `excludeAlso` left out). Returns { image, bytes, files, ms }.
 */
export function buildProjectImage({ project, dist, image, workDir }) {
  const started = Date.now();
  const stage = join(workDir, `project-stage-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  try {
    // Hard links when the cache shares the project's file system (no data copied), else a copy.
    const sameFs = statSync(project).dev === statSync(workDir).dev;
    const entries = readdirSync(project).filter((e) => !EXCLUDE.has(e) && !(/^dist(-|$)/.test(e) && e !== dist));
    for (const e of entries) run('cp', [sameFs ? '-al' : '-a', join(project, e), join(stage, e)]);
    const { bytes, files } = measure(stage);
    // Room for what the guest writes (a native rebuild, caches) on top of the snapshot.
    const sizeMb = Math.max(256, Math.ceil((bytes * 1.3) / 2 ** 20) + 256);
    rmSync(image, { force: true });
    run('mke2fs', ['-q', '-F', '-t', 'ext2', '-L', 'nbxproject', '-N', String(files * 2 + 8192), '-d', stage, image, `${sizeMb}M`]);
    return { image, bytes, files, ms: Date.now() - started };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
