/**
 * Sizes on disk for `system df`, measured as docker measures a directory: the apparent sizes of
 * everything but directories, a hard-linked inode once. An unprivileged user cannot walk
 * directories its containers' other users made private (mode 0700, a subordinate owner); what
 * it cannot read here is measured inside the keeper namespace, where those owners are mapped
 * (`nestbox-runtime join ... -- find DIR ! -type d -printf ...`).
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { NestboxError } from '../../lib/errors.js';
import { nativeBin } from '../../lib/paths.js';
import { exitText, runInKeeper, type KeeperSource } from './keeper-run.js';

/** The tree's size, and whether every directory of it could be read. A missing tree is 0. */
export function treeSize(root: string): { bytes: number; complete: boolean } {
  const seen = new Set<string>();
  let bytes = 0;
  let complete = true;
  const stack = [root];
  while (stack.length) {
    const path = stack.pop()!;
    let st;
    try {
      st = lstatSync(path, { bigint: false });
    } catch {
      continue; // gone meanwhile
    }
    if (st.isDirectory()) {
      try {
        for (const name of readdirSync(path)) stack.push(join(path, name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') complete = false;
      }
      continue;
    }
    if (st.size === 0) continue;
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    bytes += st.size;
  }
  return { bytes, complete };
}

/** Sums `find -printf '%D:%i %n %s\n'` lines as treeSize does. */
export function sumFindOutput(text: string): number {
  const seen = new Set<string>();
  let bytes = 0;
  for (const line of text.split('\n')) {
    const m = /^(\d+:\d+) (\d+) (\d+)$/.exec(line);
    if (!m) continue;
    if (Number(m[2]) > 1) {
      if (seen.has(m[1])) continue;
      seen.add(m[1]);
    }
    bytes += Number(m[3]);
  }
  return bytes;
}

export class TreeMeasurer {
  constructor(private readonly keeper?: KeeperSource, private readonly runtime = nativeBin('nestbox-runtime')) {}

  async size(dir: string): Promise<number> {
    const here = treeSize(dir);
    if (here.complete || !this.keeper || process.getuid?.() === 0) return here.bytes;
    const keeper = await this.keeper('disk usage');
    const out = await runInKeeper(this.runtime, keeper, ['find', dir, '!', '-type', 'd', '-printf', '%D:%i %n %s\\n']);
    if (out.code !== 0) throw new NestboxError('INTERNAL', `measuring ${dir} in the keeper namespace: ${out.stderr.trim().split('\n').at(-1) || exitText(out)}`);
    return sumFindOutput(out.stdout);
  }
}
