/**
 * One lock per container, held while a verb changes it (create's preparation, start up to the
 * launch, stop, restart, rm). In-process on purpose: every verb goes through this one lifecycle
 * service (one process; in embedded mode one module), so a queue per container id here serializes
 * them all, and a crash of the service can leave no stale lock to block anything after its restart.
 * Reads (ps, inspect) take no lock: each record is written whole and atomically.
 *
 * The exit monitor takes no lock either (a stop holds the lock while it waits for the exit): it
 * only moves a record the transition table lets it (running/stopping -> exited), and each move is
 * one synchronous read-check-write, which nothing in this process can interleave.
 */
import { NestboxError } from '../../lib/errors.js';
import type { ContainerRecord, ContainerStore } from './container-store.js';

export type Release = () => void;

export class ContainerLocks {
  /** the tail of each container's queue: resolves when its current holder releases */
  private readonly tails = new Map<string, Promise<void>>();

  /** Waits for the container's lock; call the result to release it (twice is harmless). */
  acquire(id: string): Promise<Release> {
    const before = this.tails.get(id) ?? Promise.resolve();
    const release = this.enqueue(id);
    return before.then(() => release);
  }

  /**
   * The lock of a container nobody can know yet (its record was just written in this same tick):
   * held at once, without waiting.
   */
  holdNew(id: string): Release {
    if (this.tails.has(id)) throw new Error(`container ${id.slice(0, 12)} is already locked`);
    return this.enqueue(id);
  }

  /** Runs FN with the container's lock held. */
  async with<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire(id);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private enqueue(id: string): Release {
    let open!: () => void;
    const mine = new Promise<void>((r) => (open = r));
    const tail = (this.tails.get(id) ?? Promise.resolve()).then(() => mine);
    this.tails.set(id, tail);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      open();
      // the last holder leaves no entry behind
      void tail.then(() => {
        if (this.tails.get(id) === tail) this.tails.delete(id);
      });
    };
  }
}

/**
 * The container REF names (by name, id or id prefix), with its lock held: its record as it is once
 * the lock is ours (an earlier holder may have changed or removed it meanwhile).
 */
export async function lockContainer(store: ContainerStore, locks: ContainerLocks, ref: string): Promise<{ record: ContainerRecord; release: Release }> {
  const { id } = store.find(ref);
  const release = await locks.acquire(id);
  if (!store.exists(id)) {
    release();
    throw new NestboxError('NOT_FOUND', `no such container: ${ref}`);
  }
  return { record: store.get(id), release };
}
