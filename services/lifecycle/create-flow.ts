/**
 * `create` (and the first half of `run`): the record, with what every start launches fixed in it
 * (the container's config), the container's own layer dirs, its cgroup (so a limit the host
 * cannot enforce is refused now, not at start) and its named volumes. Nothing runs yet. Each
 * step registers its undo before the next starts; a failure undoes them all and removes the
 * record, so a failed create leaves nothing, not even its name taken.
 */
import { NestboxError } from '../../lib/errors.js';
import { USER_SPEC } from '../../lib/contracts/validators.js';
import { CGROUP, NETWORK, STORAGE } from '../../lib/contracts/patterns.js';
import type { RunRequestDto } from '../../lib/contracts/lifecycle.dto.js';
import type { CgroupPlacement, CreateChunk, ImageConfig, ImageInfo, NetworkAttachment, PullChunk, RootfsInfo, RunChunk } from '../../lib/contracts/types.js';
import type { ContainerLocks, Release } from './container-locks.js';
import type { ContainerStore } from './container-store.js';
import type { HostIds } from './host-ids.js';
import { settleAll } from './settle-all.js';
import type { ServiceCaller } from './service-caller.js';
import { volumeMounts } from './volume-mounts.js';
import { crashPoint } from '../../lib/fault-point.js';
import { givenConfig } from './inspect-view.js';
import { labelMap } from '../../lib/labels.js';

type Undo = () => Promise<unknown>;

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

/**
 * docker's -u (else the image's User, else root) as the runtime resolves it in the container's
 * /etc/passwd and /etc/group: uid, gid, groups and HOME as docker's. Root is "0", so its passwd
 * entry gives HOME and its groups too.
 */
export function userSpec(user: string | undefined, imageUser: string | undefined): string {
  const spec = user ?? imageUser ?? '';
  if (spec === '') return '0';
  if (!USER_SPEC.test(spec)) throw new NestboxError('INVALID_ARGUMENT', `user "${spec}"${user === undefined ? ' (the image\'s User)' : ''} must be USER[:GROUP] (names or numeric ids)`);
  return spec;
}

/** What a create made that the start right after it (run's) takes as it is, instead of asking again. */
export interface MadeParts {
  rootfs: RootfsInfo;
  cgroup: CgroupPlacement;
  /** attached too when the start follows at once (run) */
  net?: NetworkAttachment;
}

/** A created container, its lock still held by the caller (run starts it before anyone else may touch it). */
export interface Prepared {
  id: string;
  release: Release;
  made: MadeParts;
}

export class CreateFlow {
  constructor(
    private readonly services: ServiceCaller,
    private readonly store: ContainerStore,
    private readonly locks: ContainerLocks,
    private readonly hostIds: HostIds,
  ) {}

  /** `create`: warnings and pull progress, then the new container's id. */
  async *create(req: RunRequestDto): AsyncGenerator<CreateChunk> {
    // prepare yields only warnings and pull progress
    const { id, release } = yield* (this.prepare(req) as AsyncGenerator<CreateChunk, Prepared>);
    release();
    yield { containerId: id, created: true };
  }

  /**
   * The created container (state `created`), with its lock held: the caller releases it.
   * `forStart`: a start follows at once (run), so its network is attached here too, beside the
   * rootfs and the cgroup, instead of one more round trip after them.
   */
  async *prepare(req: RunRequestDto, forStart = false): AsyncGenerator<RunChunk, Prepared> {
    const ids = await this.hostIds.get();
    if (ids.warning) yield { warning: ids.warning };
    const owner = { rootUid: ids.rootUid, rootGid: ids.rootGid };
    const image = yield* this.resolveOrPull(req, owner);
    const args = commandLine(image.config, req);
    if (args.length === 0) throw new NestboxError('INVALID_ARGUMENT', `no command specified and image ${image.ref} has none`);
    const username = userSpec(req.user, image.config.User);

    // one synchronous stretch: the record, its hostname and config, its lock
    const labels = labelMap(image.config.Labels, req.labels);
    const { id } = this.store.create({
      name: req.name, image: image.ref, imageId: image.id, command: args, hostname: '', autoRemove: req.remove,
      ...(req.volumes?.length ? { volumes: req.volumes } : {}),
      ...(Object.keys(labels).length ? { labels } : {}),
      ...(req.limits ? { limits: { ...req.limits } } : {}),
    });
    const hostname = req.hostname ?? id.slice(0, 12);
    const env = mergeEnv(image.config.Env, req.env, {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOSTNAME: hostname,
    });
    this.store.update(id, {
      hostname,
      config: {
        process: { args, env, cwd: req.workdir ?? (image.config.WorkingDir || '/'), uid: 0, gid: 0, username },
        network: req.network,
        ...(req.init ? { init: true } : {}),
        ...(req.tty ? { tty: true } : {}),
        ...(req.interactive ? { stdin: true } : {}),
      },
      given: givenConfig(image.config, req),
    });
    const release = this.locks.holdNew(id);
    crashPoint('create:after-record');

    const undo: Undo[] = [];
    let made: MadeParts;
    try {
      undo.push(() => this.services.call('storage', STORAGE.removeRootfs, { containerId: id }));
      undo.push(() => this.services.call('cgroup', CGROUP.destroy, { containerId: id }));
      if (forStart) undo.push(() => this.services.call('network', NETWORK.detach, { containerId: id }));
      // the layer dirs, the cgroup (and the network) side by side: none needs another
      const [rootfs, cgroup, net] = await settleAll<[RootfsInfo, CgroupPlacement, NetworkAttachment | undefined]>([
        this.services.call<RootfsInfo>('storage', STORAGE.prepareRootfs, { containerId: id, imageId: image.id, ...owner }),
        this.services.call<CgroupPlacement>('cgroup', CGROUP.create, { containerId: id, ...(req.limits ? { limits: req.limits } : {}) }),
        forStart ? this.services.call<NetworkAttachment>('network', NETWORK.attach, { containerId: id, mode: req.network, hostname, ...owner }) : Promise.resolve(undefined),
      ]);
      // in a fixed order once all are made (side by side, which finished first is chance)
      crashPoint('create:after-rootfs');
      crashPoint('create:after-cgroup');
      made = { rootfs, cgroup, ...(net ? { net } : {}) };
      // named volumes made here stay (docker's too): they are data, not this container's
      await volumeMounts(this.services, req.volumes ?? [], owner);
      this.store.transition(id, 'prepared');
    } catch (err) {
      for (const step of undo.reverse()) {
        await step().catch((e: Error) => process.stderr.write(`lifecycle: cleanup of ${id.slice(0, 12)} failed: ${e.message}\n`));
      }
      this.store.remove(id);
      release();
      throw err;
    }
    return { id, release, made };
  }

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
}
