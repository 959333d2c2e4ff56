/**
 * What happens when a container ends, whoever notices first (its foreground run, a stop, a rm -f,
 * the watch of a detached container, the reconcile at start): the network and the cgroup go,
 * with --rm the layer and the record too, and the record says how it ended. Exactly once per
 * container in this process; the cleanup steps are idempotent, and the record is written last,
 * so a lifecycle service killed half-way finds the container still "running" at its next start
 * and does it again.
 */
import { CGROUP, NAMESPACE, NETWORK, STORAGE } from '../../lib/contracts/patterns.js';
import type { ExitStatus, ProcessStateReply } from '../../lib/contracts/types.js';
import type { ContainerStore } from './container-store.js';
import type { ServiceCaller } from './service-caller.js';

/** no shim and no exit recorded (killed, or never started): docker says the same with 255; we fail as nestbox */
export const LOST_EXIT: ExitStatus = {
  exitCode: 125,
  error: 'the container ended without an exit status (its shim was killed or never started)',
  stage: 'runtime',
};

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5_000;

interface Deferred { promise: Promise<void>; resolve: () => void }

export class ExitMonitor {
  private readonly finals = new Map<string, Promise<void>>();
  private readonly waiters = new Map<string, Deferred>();
  private readonly watching = new Set<string>();

  constructor(
    private readonly services: ServiceCaller,
    private readonly store: ContainerStore,
    private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  /** Cleans up after the container ended; the second call for a container gets the first's promise. */
  finalize(id: string, exit: ExitStatus): Promise<void> {
    let p = this.finals.get(id);
    if (!p) {
      p = this.cleanUp(id, exit).finally(() => this.deferred(id).resolve());
      this.finals.set(id, p);
    }
    return p;
  }

  /** Resolves once the container has been finalized here; follows it meanwhile. */
  whenFinalized(id: string): Promise<void> {
    this.watch(id);
    return this.deferred(id).promise;
  }

  /**
   * Follows a running container through the namespace service until it ends, then finalizes
   * it. While that service is away (restarting), tries again with backoff.
   */
  watch(id: string): void {
    if (this.watching.has(id) || this.finals.has(id)) return;
    this.watching.add(id);
    void this.follow(id).finally(() => this.watching.delete(id));
  }

  /** watch(), but only after MS: an attached caller connects first, then asks for the watch (whenFinalized) */
  watchLater(id: string, ms: number): void {
    setTimeout(() => this.watch(id), ms).unref();
  }

  private async follow(id: string): Promise<void> {
    let delay = RETRY_MIN_MS;
    while (!this.finals.has(id) && this.store.exists(id)) {
      try {
        for await (const s of this.services.stream<ProcessStateReply>('namespace', NAMESPACE.wait, { containerId: id })) {
          delay = RETRY_MIN_MS;
          if (s.status === 'exited') await this.finalize(id, s.exit);
          else if (s.status === 'none') await this.finalize(id, LOST_EXIT);
        }
      } catch {
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  private async cleanUp(id: string, exit: ExitStatus): Promise<void> {
    let record;
    try {
      record = this.store.get(id);
    } catch {
      return; // removed meanwhile
    }
    if (record.state !== 'running' && record.state !== 'created') return;
    const steps: [string, () => Promise<unknown>][] = [
      ['network', () => this.services.call('network', NETWORK.detach, { containerId: id })],
      ['cgroup', () => this.services.call('cgroup', CGROUP.destroy, { containerId: id })],
    ];
    // the layer stays until rm, or goes now with --rm
    if (record.autoRemove) steps.push(['storage', () => this.services.call('storage', STORAGE.removeRootfs, { containerId: id })]);
    for (const [what, step] of steps) {
      // one failed step must not keep the others from running; it is logged, not hidden
      await step().catch((err: Error) => this.log(`lifecycle: ${what} cleanup of ${id.slice(0, 12)} failed: ${err.message}`));
    }
    if (record.autoRemove) {
      this.store.remove(id);
      return;
    }
    this.store.update(id, {
      state: 'exited',
      finishedAt: exit.finishedAt ?? new Date().toISOString(),
      exitCode: exit.exitCode,
      ...(exit.error ? { error: exit.error } : {}),
      ...(exit.oomKilled ? { oomKilled: true } : {}),
    });
  }

  private deferred(id: string): Deferred {
    let d = this.waiters.get(id);
    if (!d) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      d = { promise, resolve };
      this.waiters.set(id, d);
    }
    return d;
  }
}
