/**
 * A pull's layer downloads: a few at a time (docker's three), each blob once however often the
 * manifest lists it, into its own file in the data root's tmp dir, while the pull extracts the
 * layers in order as their files are ready. `changes()` says what happened since it was last asked,
 * as docker's progress statuses, and throws the first failure so the pull stops at once. The
 * owner removes every file with `cleanup()` (after aborting what is still in flight).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { PullChunk } from '../../lib/contracts/types.js';
import type { Descriptor } from './oci-manifest.js';

export type BlobFetch = (desc: Descriptor, file: string, onBytes: (received: number) => void) => Promise<void>;

interface Download {
  desc: Descriptor;
  file: string;
  received: number;
  reported: number;
  state: 'waiting' | 'downloading' | 'downloaded' | 'failed';
  finishedReported: boolean;
  done: Promise<void>;
  settle: { resolve: () => void; reject: (err: unknown) => void };
}

/** docker's progress id of a blob: its digest's first 12 hex digits */
export const shortId = (desc: Descriptor): string => desc.digest.slice(7, 19);

export class LayerDownloads {
  private readonly byDigest = new Map<string, Download>();
  private readonly queue: Download[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure?: unknown;

  constructor(private readonly fetch: BlobFetch, private readonly tmpDir: string, private readonly concurrency = 3) {}

  /** Queues a blob (once per digest); true when it was not queued yet. */
  add(desc: Descriptor): boolean {
    if (this.byDigest.has(desc.digest)) return false;
    let settle!: Download['settle'];
    const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    done.catch(() => undefined); // reported through file() or changes()
    const d: Download = { desc, file: join(this.tmpDir, `pull-${randomBytes(6).toString('hex')}.blob`), received: 0, reported: -1, state: 'waiting', finishedReported: false, done, settle };
    this.byDigest.set(desc.digest, d);
    this.queue.push(d);
    return true;
  }

  /** Starts as many as allowed; returns those left waiting (docker shows them `Waiting`). */
  start(): Descriptor[] {
    while (this.inFlight.size < this.concurrency && this.queue.length > 0 && this.failure === undefined) {
      const d = this.queue.shift()!;
      d.state = 'downloading';
      const running: Promise<void> = this.fetch(d.desc, d.file, (n) => (d.received = n)).then(
        () => {
          d.state = 'downloaded';
          d.settle.resolve();
        },
        (err: unknown) => {
          d.state = 'failed';
          this.failure ??= err;
          d.settle.reject(err);
        },
      ).finally(() => {
        this.inFlight.delete(running);
        this.start();
      });
      this.inFlight.add(running);
    }
    return this.queue.map((d) => d.desc);
  }

  /** The verified file of a blob, once downloaded. */
  async file(digest: string): Promise<string> {
    const d = this.byDigest.get(digest);
    if (!d) throw new Error(`blob ${digest} was never queued`);
    await d.done;
    return d.file;
  }

  /** Progress since the last call; throws the first download failure. */
  changes(): PullChunk[] {
    if (this.failure !== undefined) throw this.failure;
    const out: PullChunk[] = [];
    for (const d of this.byDigest.values()) {
      const id = shortId(d.desc);
      if (d.state === 'downloading' && d.received !== d.reported) {
        d.reported = d.received;
        out.push({ layer: id, status: 'Downloading', current: d.received, total: d.desc.size });
      } else if (d.state === 'downloaded' && !d.finishedReported) {
        d.finishedReported = true;
        if (d.reported !== d.desc.size) out.push({ layer: id, status: 'Downloading', current: d.desc.size, total: d.desc.size });
        out.push({ layer: id, status: 'Verifying Checksum' }, { layer: id, status: 'Download complete' });
      }
    }
    return out;
  }

  /** A blob's file is no longer needed (stored). */
  release(digest: string): void {
    const d = this.byDigest.get(digest);
    if (d) rmSync(d.file, { force: true });
  }

  /** Waits for what is in flight (abort it first), then removes every file. */
  async cleanup(): Promise<void> {
    this.queue.length = 0;
    await Promise.allSettled([...this.inFlight]);
    for (const d of this.byDigest.values()) rmSync(d.file, { force: true });
  }
}
