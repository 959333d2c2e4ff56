/**
 * `wait CONTAINER`: the exit code once the container is not running (docker's default
 * condition: a created or exited container answers at once). A --rm container's record is gone
 * when it has ended; its code is the one the exit monitor finalized it with.
 */
import type { ContainerStore } from './container-store.js';
import type { ExitMonitor } from './exit-monitor.js';

export class WaitFlow {
  constructor(private readonly store: ContainerStore, private readonly monitor: ExitMonitor) {}

  async *wait(ref: string): AsyncGenerator<{ waiting: true } | { exitCode: number }> {
    const record = this.store.find(ref);
    // at once: the caller's first-reply deadline is not the container's run time
    yield { waiting: true };
    if (record.state === 'running' || (record.state as string) === 'stopping') await this.monitor.whenFinalized(record.id);
    const after = this.store.exists(record.id) ? this.store.get(record.id) : undefined;
    yield { exitCode: after?.exitCode ?? this.monitor.exitOf(record.id)?.exitCode ?? 0 };
  }
}
