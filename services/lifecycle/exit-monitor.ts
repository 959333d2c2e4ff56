/**
 * What happens when a container ends, whoever notices first (its foreground run, a stop, a rm -f,
 * the watch of a detached container, the reconcile at start): the network and the cgroup go,
 * with --rm the layer and the record too, and the record says how it ended. Exactly once per
 * run of a container in this process; the cleanup steps are idempotent, and the record is written last,
 * so a lifecycle service killed half-way finds the container still "running" at its next start
 * and does it again.
 */
import { CGROUP, NAMESPACE, NETWORK, STORAGE } from '../../lib/contracts/patterns.js';
import type { ExitStatus, ProcessStateReply } from '../../lib/contracts/types.js';
import type { ContainerStore } from './container-store.js';
import { nextState } from './container-state.js';
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

/** One run of a container (it may run again: start, restart): its follow, its end, who waits for it. */
interface RunWatch {
  final?: Promise<void>;
  ended: Deferred;
  watching: boolean;
}

export class ExitMonitor {
  private readonly runs = new Map<string, RunWatch>();
  /** how each container's last run finalized here ended: `wait` of a --rm container has no record left to read */
  private readonly exits = new Map<string, ExitStatus>();

  constructor(
    private readonly services: ServiceCaller,
    private readonly store: ContainerStore,
    private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  /** Cleans up after the container ended; the second call for the same run gets the first's promise. */
  finalize(id: string, exit: ExitStatus): Promise<void> {
    const run = this.run(id);
    if (!run.final) this.exits.set(id, exit);
    run.final ??= this.cleanUp(id, exit).finally(() => run.ended.resolve());
    return run.final;
  }

  /** How the container's last run finalized by this process ended (undefined: none here). */
  exitOf(id: string): ExitStatus | undefined {
    return this.exits.get(id);
  }

  /** Resolves once the container's current (or next) run has been finalized here; follows it meanwhile. */
  whenFinalized(id: string): Promise<void> {
    const run = this.run(id);
    this.watch(id);
    return run.ended.promise;
  }

  /**
   * A new run begins (start of a created or exited container): the last one's end is history.
   * Waiters of a run that never ended (a created container) stay: they wait for this one.
   */
  beginRun(id: string): void {
    if (this.runs.get(id)?.final) this.runs.delete(id);
  }

  /**
   * Follows a running container through the namespace service until it ends, then finalizes
   * it. While that service is away (restarting), tries again with backoff.
   */
  watch(id: string): void {
    const run = this.run(id);
    if (run.watching || run.final) return;
    run.watching = true;
    void this.follow(id, run).finally(() => (run.watching = false));
  }

  /** watch(), but only after MS: an attached caller connects first, then asks for the watch (whenFinalized) */
  watchLater(id: string, ms: number): void {
    setTimeout(() => this.watch(id), ms).unref();
  }

  private run(id: string): RunWatch {
    let run = this.runs.get(id);
    if (!run) {
      run = { ended: deferred(), watching: false };
      this.runs.set(id, run);
    }
    return run;
  }

  private async follow(id: string, run: RunWatch): Promise<void> {
    let delay = RETRY_MIN_MS;
    const pause = async () => {
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    };
    while (!run.final && this.runs.get(id) === run && this.store.exists(id)) {
      try {
        for await (const s of this.services.stream<ProcessStateReply>('namespace', NAMESPACE.wait, { containerId: id })) {
          delay = RETRY_MIN_MS;
          if (s.status === 'exited') await this.finalize(id, s.exit);
          else if (s.status === 'none' && !this.notStartedYet(id)) await this.finalize(id, LOST_EXIT);
          else if (s.status === 'none') await pause(); // created, not started: its waiters wait for its run
        }
      } catch {
        await pause();
      }
    }
    // removed without having run (a created container): nothing more will end, its waiters are done
    if (!run.final && !this.store.exists(id)) run.ended.resolve();
  }

  /** a created container with no shim: nothing was lost, it has not run yet */
  private notStartedYet(id: string): boolean {
    try {
      return this.store.get(id).state === 'created';
    } catch {
      return false;
    }
  }

  private async cleanUp(id: string, exit: ExitStatus): Promise<void> {
    let record;
    try {
      record = this.store.get(id);
    } catch {
      return; // removed meanwhile
    }
    // only a run that was still open ends here (a removal cleans up itself; an exited one is done)
    if (nextState(record.state, 'exit', record.name).kind !== 'go') return;
    const steps: [string, () => Promise<unknown>][] = [
      ['network', () => this.services.call('network', NETWORK.detach, { containerId: id })],
      ['cgroup', () => this.services.call('cgroup', CGROUP.destroy, { containerId: id })],
    ];
    // the layer stays until rm, or goes now with --rm
    if (record.autoRemove) steps.push(['storage', () => this.services.call('storage', STORAGE.removeRootfs, { containerId: id })]);
    // side by side; one failed step must not keep the others from running: it is logged, not hidden
    await Promise.all(steps.map(([what, step]) =>
      step().catch((err: Error) => this.log(`lifecycle: ${what} cleanup of ${id.slice(0, 12)} failed: ${err.message}`))));
    if (record.autoRemove) {
      this.store.remove(id);
      return;
    }
    try {
      this.store.transition(id, 'exit', {
        finishedAt: exit.finishedAt ?? new Date().toISOString(),
        exitCode: exit.exitCode,
        error: exit.error,
        oomKilled: exit.oomKilled === true ? true : undefined,
        paused: undefined,
      });
    } catch (err) {
      this.log(`lifecycle: recording the exit of ${id.slice(0, 12)} failed: ${(err as Error).message}`);
    }
  }
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
