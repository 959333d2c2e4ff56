/**
 * `start` (and the second half of `run`): a created or exited container runs, on the SAME record
 * and container layer (its upper dir), so what it wrote before a stop is there after the start.
 * What the last run's end took away is made again at each start: the cgroup (gone at exit), the
 * network files (/etc/hosts, resolv.conf, hostname), the bundle and the namespaces (the runtime
 * makes new ones), the volume mounts. Until the container's shim has it, each step registers its
 * undo before the next; from then on its end is the exit monitor's (exit-monitor.ts).
 */
import { join } from 'node:path';
import { NestboxError } from '../../lib/errors.js';
import { CGROUP, NAMESPACE, NETWORK, STORAGE } from '../../lib/contracts/patterns.js';
import type { CgroupPlacement, ExitStatus, NetworkAttachment, ProcessStateReply, RootfsInfo, RunChunk, StartReply } from '../../lib/contracts/types.js';
import type { DataLayout } from '../../lib/data-layout.js';
import { lockContainer, type ContainerLocks } from './container-locks.js';
import type { ContainerStore } from './container-store.js';
import type { MadeParts } from './create-flow.js';
import type { HostIds } from './host-ids.js';
import { settleAll } from './settle-all.js';
import type { ExitMonitor } from './exit-monitor.js';
import type { ServiceCaller } from './service-caller.js';
import { volumeMounts } from './volume-mounts.js';
import { crashPoint } from '../../lib/fault-point.js';

type Undo = () => Promise<unknown>;

/** an attached start whose caller never asks lifecycle.wait is followed anyway after this (the shim's own hold) */
const ATTACH_GRACE_MS = 10_000;

/**
 * How the caller follows the container: `stream` its output through here (run in the
 * foreground), `attach` the shim's socket itself (run -i/-t, start -a), `detach` not at all.
 */
export type LaunchMode = 'stream' | 'attach' | 'detach';

export interface StartOptions {
  attach?: boolean;
  consoleSize?: { height: number; width: number };
}

export class StartFlow {
  constructor(
    private readonly services: ServiceCaller,
    private readonly store: ContainerStore,
    private readonly monitor: ExitMonitor,
    private readonly locks: ContainerLocks,
    private readonly layout: DataLayout,
    private readonly hostIds: HostIds,
  ) {}

  /** `start [-a]`: a running container is left as it is (docker's), with -a attached to. */
  async start(ref: string, opts: StartOptions = {}): Promise<StartReply> {
    const { record, release } = await lockContainer(this.store, this.locks, ref);
    try {
      return await this.startHeld(record.id, opts);
    } finally {
      release();
    }
  }

  /** `attach`: a running container's shim socket to relay through (docker: not a stopped one) */
  attachTo(ref: string): StartReply {
    const record = this.store.find(ref);
    if (record.state !== 'running') throw new NestboxError('FAILED_PRECONDITION', 'You cannot attach to a stopped container, start it first');
    if (record.paused) throw new NestboxError('FAILED_PRECONDITION', 'You cannot attach to a paused container, unpause it first');
    return this.attachReply(record, join(this.layout.container(record.id), 'attach.sock'));
  }

  /** start with the container's lock held (start, restart) */
  async startHeld(id: string, opts: StartOptions = {}): Promise<StartReply> {
    const { record, moved } = this.store.transition(id, 'start');
    // a paused one is running (a no-op move): docker refuses its start
    if (!moved && record.paused) throw new NestboxError('FAILED_PRECONDITION', 'cannot start a paused container, try unpause instead');
    const reply: StartReply = { id, name: record.name };
    const attached = (socket: string): StartReply => this.attachReply(record, socket);
    if (!moved) return opts.attach ? attached(join(this.layout.container(id), 'attach.sock')) : reply;
    for await (const chunk of this.launch(id, opts.attach ? 'attach' : 'detach', opts.consoleSize)) {
      if ('started' in chunk) return chunk.attach ? attached(chunk.attach) : reply;
      if ('exit' in chunk) return { ...reply, exit: chunk.exit };
    }
    throw new NestboxError('INTERNAL', `the start of ${record.name} ended without a state`);
  }

  /**
   * Runs the created or exited container ID (its `start` move checked, its lock held by the
   * caller): `started` (with the attach socket in `attach` mode); in `stream` mode its output and
   * one `exit`; an `exit` too when it ended during its start. `made`: the rootfs and cgroup the
   * create just before it made (run), not asked for again.
   */
  async *launch(id: string, mode: LaunchMode, consoleSize?: { height: number; width: number }, made?: MadeParts): AsyncGenerator<RunChunk> {
    const record = this.store.get(id);
    const config = record.config;
    if (!config) throw new NestboxError('FAILED_PRECONDITION', `container ${record.name} was made by an older nestbox and cannot be started again; remove it`);
    const owner = await this.hostIds.owner();
    this.monitor.beginRun(id);
    const undo: Undo[] = [];
    let exit: ExitStatus | undefined;
    // once the shim has the container, its end is the exit monitor's to clean up, not ours
    let handedOver = false;
    const started = () => this.store.transition(id, 'started', {
      startedAt: new Date().toISOString(), exitCode: undefined, error: undefined, oomKilled: undefined, paused: undefined,
    });
    try {
      // the same upper dir as before: prepare keeps what is there (and says where the layers are);
      // the three side by side, each a round trip to its own service
      undo.push(() => this.services.call('cgroup', CGROUP.destroy, { containerId: id }));
      undo.push(() => this.services.call('network', NETWORK.detach, { containerId: id }));
      const [rootfs, cgroup, net] = await settleAll<[RootfsInfo, CgroupPlacement, NetworkAttachment]>([
        made ? Promise.resolve(made.rootfs) : this.services.call<RootfsInfo>('storage', STORAGE.prepareRootfs, { containerId: id, imageId: record.imageId, ...owner }),
        made ? Promise.resolve(made.cgroup) : this.services.call<CgroupPlacement>('cgroup', CGROUP.create, { containerId: id, ...(record.limits ? { limits: record.limits } : {}) }),
        made?.net ? Promise.resolve(made.net) : this.services.call<NetworkAttachment>('network', NETWORK.attach, { containerId: id, mode: config.network, hostname: record.hostname, ...owner }),
      ]);
      crashPoint('start:after-cgroup');
      const volumes = await volumeMounts(this.services, record.volumes ?? [], owner);
      const spec = {
        containerId: id,
        process: config.process,
        rootfs,
        hostname: record.hostname,
        mounts: [...net.mounts, ...volumes],
        cgroupPaths: cgroup.paths,
        network: config.network,
        ...(config.init ? { init: true } : {}),
        ...(config.tty ? { terminal: true } : {}),
        ...(config.tty && consoleSize ? { consoleSize } : {}),
        ...(record.autoRemove ? { volatile: true } : {}),
        ...(config.stdin ? { stdin: true } : {}),
      };
      handedOver = true;
      if (mode === 'attach') {
        // the caller relays stdio through the shim's socket itself (no byte through here); it asks
        // lifecycle.wait once attached, so the exit watch never takes the held output first
        const reply = await this.services.call<{ started: true; attach?: string } | { exit: ExitStatus }>('namespace', NAMESPACE.start, { ...spec, attach: true });
        if ('exit' in reply) {
          exit = reply.exit;
        } else {
          started();
          this.monitor.watchLater(id, ATTACH_GRACE_MS);
          yield { containerId: id, started: true, attach: reply.attach };
          return;
        }
      } else if (mode === 'detach') {
        const reply = await this.services.call<{ started: true } | { exit: ExitStatus }>('namespace', NAMESPACE.start, spec);
        if ('exit' in reply && reply.exit.stage !== undefined) {
          exit = reply.exit; // it could not start (setup or exec failed): said below, as docker's run -d does
        } else {
          crashPoint('start:after-launch');
          started();
          // one that ran and has ended already (sh -c 'exit 4') is only "started" to the caller, as
          // in docker: its exit is recorded, not returned
          if ('exit' in reply) await this.monitor.finalize(id, reply.exit);
          else this.monitor.watch(id);
          yield { containerId: id, started: true };
          return;
        }
      } else {
        for await (const chunk of this.services.stream<RunChunk>('namespace', NAMESPACE.run, spec)) {
          if ('started' in chunk) started();
          if ('exit' in chunk) exit = chunk.exit;
          else yield chunk;
        }
      }
      if (!exit) throw new NestboxError('INTERNAL', 'the namespace service ended the run without an exit status');
    } catch (err) {
      if (handedOver && (await this.stillOwned(id))) throw err;
      for (const step of undo.reverse()) {
        await step().catch((e: Error) => process.stderr.write(`lifecycle: cleanup of ${id.slice(0, 12)} failed: ${e.message}\n`));
      }
      if (record.autoRemove) {
        await this.services.call('storage', STORAGE.removeRootfs, { containerId: id })
          .catch((e: Error) => process.stderr.write(`lifecycle: cleanup of ${id.slice(0, 12)} failed: ${e.message}\n`));
        this.store.remove(id);
      } else {
        this.store.transition(id, 'start-failed', { finishedAt: new Date().toISOString(), exitCode: 125, error: (err as Error).message });
      }
      throw err;
    }
    await this.monitor.finalize(id, exit);
    // last, so a caller that sees the exit also sees the container gone (--rm) or recorded
    yield { exit };
  }

  private attachReply(record: { id: string; name: string; config?: { tty?: boolean; stdin?: boolean } }, socket: string): StartReply {
    return { id: record.id, name: record.name, attach: socket, ...(record.config?.tty ? { tty: true } : {}), ...(record.config?.stdin ? { stdin: true } : {}) };
  }

  /**
   * After a failed start or a broken stream: does a shim have the container? Then it is followed
   * until it ends (the namespace service went away, not the container); if not, the caller undoes.
   */
  private async stillOwned(id: string): Promise<boolean> {
    let state: ProcessStateReply | undefined;
    try {
      state = await this.services.call<ProcessStateReply>('namespace', NAMESPACE.state, { containerId: id });
    } catch {
      state = undefined; // cannot tell: assume it runs; the monitor finds out when the service is back
    }
    if (state?.status === 'none') return false;
    if (state?.status === 'exited') await this.monitor.finalize(id, state.exit);
    else this.monitor.watch(id);
    return true;
  }
}
