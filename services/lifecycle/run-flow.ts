/**
 * `run`: composes the four services into one container run. Each step that creates something
 * registers its undo before the next step starts, so a failure anywhere (or --rm at the end)
 * removes exactly what was made, in reverse order.
 */
import { NestboxError } from '../../lib/errors.js';
import { CGROUP, NAMESPACE, NETWORK, STORAGE } from '../../lib/contracts/patterns.js';
import type { RunRequestDto } from '../../lib/contracts/lifecycle.dto.js';
import type {
  CgroupPlacement, ExitStatus, IdMapInfo, ImageConfig, ImageInfo, NetworkAttachment, RootfsInfo, RunChunk,
} from '../../lib/contracts/types.js';
import type { ContainerStore } from './container-store.js';
import type { ServiceCaller } from './service-caller.js';

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

export function parseUser(user: string | undefined, imageUser: string | undefined): { uid: number; gid: number } {
  const spec = user ?? imageUser ?? '';
  if (spec === '') return { uid: 0, gid: 0 };
  const m = /^(\d+)(?::(\d+))?$/.exec(spec);
  if (!m) throw new NestboxError('INVALID_ARGUMENT', `user "${spec}" must be numeric UID[:GID] (names come with the namespace issue)`);
  const uid = Number(m[1]);
  return { uid, gid: m[2] !== undefined ? Number(m[2]) : uid };
}

export class RunFlow {
  constructor(private readonly services: ServiceCaller, private readonly store: ContainerStore) {}

  async *run(req: RunRequestDto): AsyncGenerator<RunChunk> {
    const ids = await this.services.call<IdMapInfo>('namespace', NAMESPACE.idMap, {});
    if (ids.warning) yield { warning: ids.warning };
    const owner = { rootUid: ids.rootUid, rootGid: ids.rootGid };
    const image = await this.services.call<ImageInfo>('storage', STORAGE.resolveImage, { ref: req.image, ...owner });
    const args = commandLine(image.config, req);
    if (args.length === 0) throw new NestboxError('INVALID_ARGUMENT', `no command specified and image ${image.ref} has none`);
    const user = parseUser(req.user, image.config.User);

    const record = this.store.create({
      name: req.name, image: image.ref, imageId: image.id, command: args, hostname: '', autoRemove: req.remove,
    });
    const id = record.id;
    const hostname = req.hostname ?? id.slice(0, 12);
    this.store.update(id, { hostname });
    const undo: Undo[] = [];
    let exit: ExitStatus | undefined;
    try {
      const rootfs = await this.services.call<RootfsInfo>('storage', STORAGE.prepareRootfs, { containerId: id, imageId: image.id, ...owner });
      undo.push(() => this.services.call('storage', STORAGE.removeRootfs, { containerId: id }));
      const cgroup = await this.services.call<CgroupPlacement>('cgroup', CGROUP.create, { containerId: id, ...(req.limits ? { limits: req.limits } : {}) });
      undo.push(() => this.services.call('cgroup', CGROUP.destroy, { containerId: id }));
      const net = await this.services.call<NetworkAttachment>('network', NETWORK.attach, { containerId: id, mode: req.network, hostname, ...owner });
      undo.push(() => this.services.call('network', NETWORK.detach, { containerId: id }));

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
        mounts: net.mounts,
        cgroupPaths: cgroup.paths,
        network: req.network,
        ...(req.init ? { init: true } : {}),
      };
      for await (const chunk of this.services.stream<RunChunk>('namespace', NAMESPACE.run, spec)) {
        if ('started' in chunk) this.store.update(id, { state: 'running', startedAt: new Date().toISOString() });
        if ('exit' in chunk) exit = chunk.exit;
        else yield chunk;
      }
      if (!exit) throw new NestboxError('INTERNAL', 'the namespace service ended the run without an exit status');
    } finally {
      const finishedAt = new Date().toISOString();
      const failure = exit ? undefined : 'nestbox failed before the container exited';
      this.store.update(id, { state: 'exited', finishedAt, exitCode: exit?.exitCode ?? 125, error: exit?.error ?? failure });
      // the cgroup goes when the container exits; the layer stays until rm (or now with --rm)
      const keep = req.remove ? [] : undo.slice(0, 1);
      for (const step of undo.slice(keep.length).reverse()) {
        // one failed undo must not keep the others from running; it is logged, not hidden
        await step().catch((err: Error) => process.stderr.write(`lifecycle: cleanup of ${id.slice(0, 12)} failed: ${err.message}\n`));
      }
      if (req.remove) this.store.remove(id);
    }
    // last, so a caller that sees the exit also sees the container gone (--rm) or recorded
    yield { exit };
  }
}
