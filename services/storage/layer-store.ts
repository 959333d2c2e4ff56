/**
 * Content-addressed extracted layers: layers/<hex of diffID>/ holds the tree of one uncompressed
 * layer tar with the tar's owners as the containers' user namespace maps them (extracted inside
 * the keeper namespace: uid 1000 in the image is subuid_base+999 on the host and 1000 in every
 * container), so overlay copy-up inside a container works (STACK.md: unmapped owners make
 * copy-up fail with EOVERFLOW).
 */
import { existsSync, mkdtempSync, renameSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { NestboxError } from '../../lib/errors.js';
import { DataLayout } from '../../lib/data-layout.js';
import { removeTree } from '../../lib/remove-tree.js';
import type { ExtractResult } from './keeper-extract.js';

export interface Owner { uid: number; gid: number }

export interface ExtractedLayer {
  dir: string;
  /** warning lines of this extraction (entries skipped, owners squashed); none when the layer was already there */
  warnings: string[];
}

/** Extracts a tar into an existing empty directory, in the keeper namespace (keeper-extract.ts). */
export interface LayerExtractor {
  extract(tarFile: string, dir: string): Promise<ExtractResult>;
}

export class LayerStore {
  private readonly pending = new Map<string, Promise<ExtractedLayer>>();

  constructor(private readonly layout: DataLayout, private readonly extractor: LayerExtractor) {}

  has(diffId: string): boolean {
    return existsSync(this.layout.layer(diffId));
  }

  dir(diffId: string): string {
    const dir = this.layout.layer(diffId);
    if (!existsSync(dir)) throw new NestboxError('NOT_FOUND', `layer ${diffId} is not extracted`);
    return dir;
  }

  /**
   * Extracts an uncompressed layer tar whose digest is `diffId` (verified by the caller), once:
   * into a temporary directory, then renamed into place, so a crash never leaves half a layer.
   * Concurrent calls for one diffID share the one extraction.
   */
  async extract(tarFile: string, diffId: string, owner: Owner): Promise<ExtractedLayer> {
    const target = this.layout.layer(diffId);
    if (existsSync(target)) return { dir: target, warnings: [] };
    const running = this.pending.get(diffId);
    if (running) return running;
    const job = this.doExtract(tarFile, target, owner).finally(() => this.pending.delete(diffId));
    this.pending.set(diffId, job);
    return job;
  }

  private async doExtract(tarFile: string, target: string, owner: Owner): Promise<ExtractedLayer> {
    // next to its final place (0711 as root): keeper root must reach it, and rename stays on one fs
    const staging = mkdtempSync(join(this.layout.layers, '.extract-'));
    try {
      if (process.getuid?.() === 0) chownSync(staging, owner.uid, owner.gid);
      const { squashed, skipped } = await this.extractor.extract(tarFile, staging);
      const warnings = [...skipped];
      if (squashed > 0) {
        warnings.push(`${squashed} ${squashed === 1 ? 'entry' : 'entries'} of owners this user cannot map ${squashed === 1 ? 'was' : 'were'} extracted as owned by container root`);
        process.stderr.write(`nestbox storage: ${tarFile}: ${warnings.at(-1)}\n`);
      }
      renameSync(staging, target);
      return { dir: target, warnings };
    } catch (err) {
      try {
        removeTree(staging);
      } catch { /* the worker already emptied it; a leftover .extract- dir is only clutter */ }
      if (err instanceof NestboxError) throw err;
      throw new NestboxError('INTERNAL', `extracting layer ${tarFile}: ${(err as Error).message}`);
    }
  }
}
