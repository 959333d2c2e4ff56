/**
 * Content-addressed extracted layers: layers/<hex of diffID>/ holds the tree of one uncompressed
 * layer tar with the tar's owners as the containers' user namespace maps them (extracted inside
 * the keeper namespace: uid 1000 in the image is subuid_base+999 on the host and 1000 in every
 * container), so overlay copy-up inside a container works (STACK.md: unmapped owners make
 * copy-up fail with EOVERFLOW).
 */
import { existsSync, mkdtempSync, readdirSync, renameSync, chownSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { NestboxError } from '../../lib/errors.js';
import { DataLayout, hexOf } from '../../lib/data-layout.js';
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
  /** staging directories of extractions running now: the start-up sweep and GC leave them alone */
  private readonly staging = new Set<string>();

  constructor(private readonly layout: DataLayout, private readonly extractor: LayerExtractor) {}

  /** diffIDs being extracted now (garbage collection keeps them) */
  extracting(): string[] {
    return [...this.pending.keys()];
  }

  /** diffIDs of the extracted layers on disk (directories named by 64 hex characters). */
  stored(): string[] {
    return readdirSync(this.layout.layers).filter((n) => /^[0-9a-f]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  /**
   * Leftovers of an interrupted extraction or removal (`.extract-*`, `.remove-*`), except the
   * staging dirs of extractions running in this process: what a crash leaves behind.
   */
  leftovers(): string[] {
    return readdirSync(this.layout.layers)
      .filter((n) => /^\.(extract|remove)-/.test(n))
      .map((n) => join(this.layout.layers, n))
      .filter((p) => !this.staging.has(p));
  }

  /**
   * Takes a layer out of the store in one step (renamed to a `.remove-*` name, so a crash leaves
   * no half layer under its diffID); the caller deletes the returned directory. Undefined when
   * the layer is being extracted or is not there.
   */
  detach(diffId: string): string | undefined {
    if (this.pending.has(diffId)) return undefined;
    const dir = this.layout.layer(diffId);
    const doomed = join(this.layout.layers, `.remove-${hexOf(diffId).slice(0, 12)}-${randomBytes(4).toString('hex')}`);
    try {
      renameSync(dir, doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return doomed;
  }

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
    this.staging.add(staging);
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
    } finally {
      this.staging.delete(staging);
    }
  }
}
