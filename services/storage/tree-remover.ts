/**
 * Deleting a directory tree taken out of the store (a layer renamed to `.remove-*`, a leftover
 * `.extract-*`). Its files belong to the containers' ids: host root deletes them directly; an
 * unprivileged user deletes what is its own (container root's files), and cannot unlink files
 * of its subordinate ids, so the rest is deleted where they are mapped, inside the keeper
 * namespace (`nestbox-runtime join ... -- rm -rf -- DIR`, as uid 0 there), the namespace layers
 * are extracted in.
 */
import { existsSync, rmSync } from 'node:fs';
import { NestboxError } from '../../lib/errors.js';
import { nativeBin } from '../../lib/paths.js';
import { removeTree } from '../../lib/remove-tree.js';
import { exitText, runInKeeper, type KeeperSource } from './keeper-run.js';

export interface TreeRemover {
  remove(dir: string): Promise<void>;
}

/** Without a keeper (tests, tools): lib/remove-tree.ts, a user namespace of its own. */
export const plainRemover: TreeRemover = { remove: async (dir) => removeTree(dir) };

export class KeeperRemover implements TreeRemover {
  constructor(private readonly keeper: KeeperSource, private readonly runtime = nativeBin('nestbox-runtime')) {}

  async remove(dir: string): Promise<void> {
    try {
      // root always; a user when the tree is all its own (container root's files), without a keeper
      rmSync(dir, { recursive: true, force: true });
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (process.getuid?.() === 0 || (code !== 'EACCES' && code !== 'EPERM')) throw err;
    }
    if (!existsSync(dir)) return;
    const keeper = await this.keeper('layer removal');
    const r = await runInKeeper(this.runtime, keeper, ['rm', '-rf', '--', dir]);
    if (r.code !== 0 || existsSync(dir)) {
      throw new NestboxError('INTERNAL', `removing ${dir} in the keeper namespace: ${r.stderr.trim().split('\n').at(-1) || exitText(r)}`);
    }
  }
}
