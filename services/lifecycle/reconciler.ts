/**
 * At start, the lifecycle service brings its records in line with the containers' shims, which
 * ran on while it was away, and finishes what a crash left half-done:
 * - a live shim -> running (and followed until it ends), whatever the record said;
 * - running/stopping with an exit.json -> exited with that status (cleaned up now: no service may
 *   have been there when it ended); with neither -> exited with an error noted;
 * - created with no shim -> still created; exited with no shim -> its cgroup removed (a start cut
 *   short may have made it again), else untouched;
 * - creating (a create cut short) -> undone, record and all, so its name is free again;
 * - removing (a rm cut short) -> the removal finished (the process killed first if it lives);
 * - a container dir whose record cannot be read (a power loss; --rm records are not synced) ->
 *   removed, with whatever of its parts the other services still hold.
 * Requests wait for this (`ready`), so `ps` after a restart shows the truth.
 */
import { CGROUP, NAMESPACE } from '../../lib/contracts/patterns.js';
import type { ProcessStateReply } from '../../lib/contracts/types.js';
import type { ContainerRecord, ContainerStore } from './container-store.js';
import { LOST_EXIT, type ExitMonitor } from './exit-monitor.js';
import { removeContainerParts, withTimeout } from './remove-flow.js';
import type { ServiceCaller } from './service-caller.js';

/** the namespace service starts alongside us: wait this long for it before giving up */
const NAMESPACE_WAIT_MS = 30_000;
const SIGKILL = 9;

export class Reconciler {
  readonly ready: Promise<void>;

  constructor(
    private readonly services: ServiceCaller,
    private readonly store: ContainerStore,
    private readonly monitor: ExitMonitor,
    private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {
    this.ready = this.reconcile().catch((err: Error) => this.log(`lifecycle: reconcile failed: ${err.message}`));
  }

  private async reconcile(): Promise<void> {
    const deadline = Date.now() + NAMESPACE_WAIT_MS;
    for (const id of this.store.unreadable()) {
      try {
        const state = await this.stateOf(id, deadline);
        if (state?.status !== 'none' && state?.status !== 'exited') {
          this.log(`lifecycle: the record of ${id.slice(0, 12)} cannot be read, but its process may run: left as it is`);
          continue;
        }
        await removeContainerParts(this.services, id);
        this.store.remove(id);
        this.log(`lifecycle: removed ${id.slice(0, 12)}, whose record could not be read`);
      } catch (err) {
        this.log(`lifecycle: removal of ${id.slice(0, 12)} (record unreadable) failed: ${(err as Error).message}`);
      }
    }
    for (const c of this.store.list()) {
      try {
        await this.reconcileOne(c, deadline);
      } catch (err) {
        this.log(`lifecycle: reconcile of ${c.id.slice(0, 12)} failed: ${(err as Error).message}`);
      }
    }
  }

  private async reconcileOne(c: ContainerRecord, deadline: number): Promise<void> {
    if (c.state === 'creating') {
      await removeContainerParts(this.services, c.id);
      this.store.remove(c.id);
      this.log(`lifecycle: undid the interrupted create of ${c.id.slice(0, 12)} (${c.name})`);
      return;
    }
    const state = await this.stateOf(c.id, deadline);
    if (!state) {
      this.log(`lifecycle: namespace service not answering; ${c.id.slice(0, 12)} stays ${c.state} until it does`);
      if (c.state === 'running' || c.state === 'stopping') this.monitor.watch(c.id);
      return;
    }
    if (c.state === 'removing') {
      if (state.status === 'running') {
        const ended = this.monitor.whenFinalized(c.id);
        await this.services.call('namespace', NAMESPACE.signal, { containerId: c.id, signal: SIGKILL }).catch(() => undefined);
        await withTimeout(ended, NAMESPACE_WAIT_MS, `container ${c.name} did not end after SIGKILL; its removal waits for the next start`);
      }
      await removeContainerParts(this.services, c.id);
      this.store.remove(c.id);
      this.log(`lifecycle: finished the interrupted removal of ${c.id.slice(0, 12)} (${c.name})`);
    } else if (state.status === 'running') {
      this.store.transition(c.id, 'recovered');
      this.monitor.watch(c.id);
    } else if (c.state === 'running' || c.state === 'stopping' || (c.state === 'created' && state.status === 'exited')) {
      // created with an exit: it was started and ended while we were away
      await this.monitor.finalize(c.id, state.status === 'exited' ? state.exit : LOST_EXIT);
    } else if (c.state === 'exited') {
      // a start of it cut short may have made its cgroup again: an exited container holds none
      await this.services.call('cgroup', CGROUP.destroy, { containerId: c.id });
    }
  }

  private async stateOf(id: string, deadline: number): Promise<ProcessStateReply | undefined> {
    for (;;) {
      try {
        return await this.services.call<ProcessStateReply>('namespace', NAMESPACE.state, { containerId: id });
      } catch {
        if (Date.now() > deadline) return undefined;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}
