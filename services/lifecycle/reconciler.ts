/**
 * At start, the lifecycle service brings its records in line with the containers' shims, which
 * ran on while it was away: a live shim -> running (and followed until it ends); an exit.json ->
 * exited with that status (cleaned up now: no service may have been there when it ended);
 * neither -> exited with an error noted. Requests wait for this (`ready`), so `ps` after a restart
 * shows the truth.
 */
import { NAMESPACE } from '../../lib/contracts/patterns.js';
import type { ProcessStateReply } from '../../lib/contracts/types.js';
import type { ContainerStore } from './container-store.js';
import { LOST_EXIT, type ExitMonitor } from './exit-monitor.js';
import type { ServiceCaller } from './service-caller.js';

/** the namespace service starts alongside us: wait this long for it before giving up */
const NAMESPACE_WAIT_MS = 30_000;

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
    const open = this.store.list().filter((c) => c.state === 'running' || c.state === 'created');
    const deadline = Date.now() + NAMESPACE_WAIT_MS;
    for (const c of open) {
      const state = await this.stateOf(c.id, deadline);
      if (!state) {
        this.log(`lifecycle: namespace service not answering; ${c.id.slice(0, 12)} stays ${c.state} until it does`);
        this.monitor.watch(c.id);
      } else if (state.status === 'running') {
        if (c.state !== 'running') this.store.update(c.id, { state: 'running' });
        this.monitor.watch(c.id);
      } else {
        await this.monitor.finalize(c.id, state.status === 'exited' ? state.exit : LOST_EXIT);
      }
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
