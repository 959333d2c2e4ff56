/**
 * `run`: composes the four services into one container run. Until the container's shim has it,
 * each step that creates something registers its undo before the next step starts, so a failure
 * removes exactly what was made, in reverse order. From then on its end is the exit monitor's
 * (exit-monitor.ts): the foreground run hands it the exit; `-d` returns and the monitor follows.
 */
import { NestboxError } from '../../lib/errors.js';
import { CGROUP, NAMESPACE, NETWORK, STORAGE } from '../../lib/contracts/patterns.js';
import type { RunRequestDto } from '../../lib/contracts/lifecycle.dto.js';
import type {
  CgroupPlacement, ExitStatus, IdMapInfo, ImageConfig, ImageInfo, NetworkAttachment, ProcessStateReply, PullChunk, RootfsInfo, RunChunk,
} from '../../lib/contracts/types.js';
import type { ContainerStore } from './container-store.js';
import type { ExitMonitor } from './exit-monitor.js';
import type { ServiceCaller } from './service-caller.js';
import { volumeMounts } from './volume-mounts.js';

type Undo = () => Promise<unknown>;

/** an attached run whose caller never asks lifecycle.wait is followed anyway after this (the shim's own hold) */
const ATTACH_GRACE_MS = 10_000;

export function commandLine(config: ImageConfig, req: Pick<RunRequestDto, 'command' | 'entrypoint'>): string[] {
  // docker: --entrypoint replaces the image's Entrypoint and drops its Cmd
  const entrypoint = req.entrypoint !== undefined ? (req.entrypoint === '' ? [] : [req.entrypoint]) : (config.Entrypoint ?? []);
  const cmd = req.command.length > 0 ? req.command : req.entrypoint !== undefined ? [] : (config.Cmd ?? []);
  return [...entrypoint, ...cmd];
}

export function mergeEnv(image: string[] = [], overrides: string[], defaults: Record<string, string>): string[] {
  const env = new Map<string, string>();
  for (const [k, v] of Object.entries(defaults)) env.set(k, v);
  for (const e of [...image, ...overrides]) {
    const i = e.indexOf('=');
    env.set(e.slice(0, i), e.slice(i + 1));
  }
  return [...env].map(([k, v]) => `${k}=${v}`);
}

export function parseUser(user: string | undefined, imageUser: string | undefined): { uid: number; gid: number } {
  const spec = user ?? imageUser ?? '';
  if (spec === '') return { uid: 0, gid: 0 };
  const m = /^(\d+)(?::(\d+))?$/.exec(spec);
  if (!m) throw new NestboxError('INVALID_ARGUMENT', `user "${spec}" must be numeric UID[:GID] (names come with the namespace issue)`);
  const uid = Number(m[1]);
  return { uid, gid: m[2] !== undefined ? Number(m[2]) : uid };
}

export class RunFlow {
  constructor(private readonly services: ServiceCaller, private readonly store: ContainerStore, private readonly monitor: ExitMonitor) {}

  /** The image; one not stored is pulled first when the request says how (docker's --pull missing), its progress passed on. */
  private async *resolveOrPull(req: RunRequestDto, owner: { rootUid: number; rootGid: number }): AsyncGenerator<RunChunk, ImageInfo> {
    if (!req.pullAlways) {
      try {
        return await this.services.call<ImageInfo>('storage', STORAGE.resolveImage, { ref: req.image, ...owner });
      } catch (err) {
        if (!req.pull || !(err instanceof NestboxError) || err.code !== 'NOT_FOUND') throw err;
      }
      yield { pull: { missing: req.image } };
    } else if (!req.pull) {
      throw new NestboxError('INVALID_ARGUMENT', 'pullAlways needs the pull settings');
    }
    for await (const chunk of this.services.stream<PullChunk>('storage', STORAGE.pullImage, { ref: req.image, ...req.pull, ...owner })) yield { pull: chunk };
    return await this.services.call<ImageInfo>('storage', STORAGE.resolveImage, { ref: req.image, ...owner });
  }

  async *run(req: RunRequestDto): AsyncGenerator<RunChunk> {
    const ids = await this.services.call<IdMapInfo>('namespace', NAMESPACE.idMap, {});
    if (ids.warning) yield { warning: ids.warning };
    const owner = { rootUid: ids.rootUid, rootGid: ids.rootGid };
    const image = yield* this.resolveOrPull(req, owner);
    const args = commandLine(image.config, req);
    if (args.length === 0) throw new NestboxError('INVALID_ARGUMENT', `no command specified and image ${image.ref} has none`);
    const user = parseUser(req.user, image.config.User);

    const record = this.store.create({
      name: req.name, image: image.ref, imageId: image.id, command: args, hostname: '', autoRemove: req.remove,
      ...(req.volumes?.length ? { volumes: req.volumes } : {}),
      ...(req.limits ? { limits: { ...req.limits } } : {}),
    });
    const id = record.id;
    const hostname = req.hostname ?? id.slice(0, 12);
    this.store.update(id, { hostname });
    const undo: Undo[] = [];
    let exit: ExitStatus | undefined;
    // once the shim has the container, its end is the exit monitor's to clean up, not ours
    let handedOver = false;
    try {
      const rootfs = await this.services.call<RootfsInfo>('storage', STORAGE.prepareRootfs, { containerId: id, imageId: image.id, ...owner });
      undo.push(() => this.services.call('storage', STORAGE.removeRootfs, { containerId: id }));
      const cgroup = await this.services.call<CgroupPlacement>('cgroup', CGROUP.create, { containerId: id, ...(req.limits ? { limits: req.limits } : {}) });
      undo.push(() => this.services.call('cgroup', CGROUP.destroy, { containerId: id }));
      const net = await this.services.call<NetworkAttachment>('network', NETWORK.attach, { containerId: id, mode: req.network, hostname, ...owner });
      undo.push(() => this.services.call('network', NETWORK.detach, { containerId: id }));
      // named volumes made here stay (docker's too): they are data, not this run's
      const volumes = await volumeMounts(this.services, req.volumes ?? [], owner);

      const env = mergeEnv(image.config.Env, req.env, {
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        HOSTNAME: hostname,
        HOME: user.uid === 0 ? '/root' : '/',
      });
      const spec = {
        containerId: id,
        process: { args, env, cwd: req.workdir ?? (image.config.WorkingDir || '/'), uid: user.uid, gid: user.gid },
        rootfs,
        hostname,
        mounts: [...net.mounts, ...volumes],
        cgroupPaths: cgroup.paths,
        network: req.network,
        ...(req.init ? { init: true } : {}),
        ...(req.tty ? { terminal: true } : {}),
        ...(req.tty && req.consoleSize ? { consoleSize: req.consoleSize } : {}),
        ...(req.remove ? { volatile: true } : {}),
        ...(req.interactive ? { stdin: true } : {}),
      };
      const attached = !req.detach && (req.tty === true || req.interactive === true);
      handedOver = true;
      if (attached) {
        // -i / -t: the caller relays stdio through the shim's socket itself (no byte through here);
        // it asks lifecycle.wait once attached, so the exit watch never takes the held output first
        const reply = await this.services.call<{ started: true; attach?: string } | { exit: ExitStatus }>('namespace', NAMESPACE.start, { ...spec, attach: true });
        if ('exit' in reply) {
          exit = reply.exit;
        } else {
          this.store.update(id, { state: 'running', startedAt: new Date().toISOString() });
          this.monitor.watchLater(id, ATTACH_GRACE_MS);
          yield { containerId: id, started: true, attach: reply.attach };
          return;
        }
      } else if (req.detach) {
        const reply = await this.services.call<{ started: true } | { exit: ExitStatus }>('namespace', NAMESPACE.start, spec);
        if ('exit' in reply) {
          exit = reply.exit; // it ended during setup (or at once): said below, as in the foreground
        } else {
          this.store.update(id, { state: 'running', startedAt: new Date().toISOString() });
          this.monitor.watch(id);
          yield { containerId: id, started: true };
          return;
        }
      } else {
        for await (const chunk of this.services.stream<RunChunk>('namespace', NAMESPACE.run, spec)) {
          if ('started' in chunk) this.store.update(id, { state: 'running', startedAt: new Date().toISOString() });
          if ('exit' in chunk) exit = chunk.exit;
          else yield chunk;
        }
      }
      if (!exit) throw new NestboxError('INTERNAL', 'the namespace service ended the run without an exit status');
    } catch (err) {
      if (handedOver && (await this.stillOwned(id))) throw err;
      this.store.update(id, { state: 'exited', finishedAt: new Date().toISOString(), exitCode: 125, error: (err as Error).message });
      for (const step of undo.reverse()) {
        await step().catch((e: Error) => process.stderr.write(`lifecycle: cleanup of ${id.slice(0, 12)} failed: ${e.message}\n`));
      }
      if (req.remove) this.store.remove(id);
      throw err;
    }
    await this.monitor.finalize(id, exit);
    // last, so a caller that sees the exit also sees the container gone (--rm) or recorded
    yield { exit };
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
