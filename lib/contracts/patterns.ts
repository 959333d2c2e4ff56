/**
 * Message pattern names, one definition for callers and services. No imports: the CLI loads
 * this file without NestJS or class-validator.
 */
export const SYSTEM = {
  ping: 'system.ping',
  /** supervisor only */
  stop: 'system.stop',
  info: 'system.info',
} as const;

export const STORAGE = {
  resolveImage: 'storage.image.resolve',
  listImages: 'storage.image.list',
  prepareRootfs: 'storage.rootfs.prepare',
  removeRootfs: 'storage.rootfs.remove',
  volumeEnsure: 'storage.volume.ensure',
  volumeList: 'storage.volume.list',
  volumeInspect: 'storage.volume.inspect',
  volumeRemove: 'storage.volume.remove',
  /** `nestbox import FILE [REF]`: a rootfs tar as a one-layer image */
  importImage: 'storage.image.import',
  /** streams `started`, then `done` once the container's merged view is written as a tar */
  exportRootfs: 'storage.rootfs.export',
  /** streams `started`, then the new image's id once the container's upper dir is a layer of it */
  commit: 'storage.image.commit',
  /** `nestbox pull REF`: streams progress (PullChunk), then the outcome, once the image is recorded */
  pullImage: 'storage.image.pull',
  /** `nestbox load`: the images of a docker archive or an OCI layout (file or directory) */
  loadImages: 'storage.image.load',
  /** `nestbox save`: images as a docker archive; streams `started`, then `done` */
  saveImages: 'storage.image.save',
  /** `history IMAGE`: its steps, newest first */
  imageHistory: 'storage.image.history',
  /** `inspect IMAGE`: by reference, id or unique id prefix, in docker's shape */
  inspectImage: 'storage.image.inspect',
  /** rmi: an image by reference, id or unique id prefix -> its id and tags */
  lookupImage: 'storage.image.lookup',
  /** rmi (only through lifecycle, which knows the containers): untag, delete, collect garbage */
  removeImage: 'storage.image.remove',
  /** system df: sizes measured in the data root */
  diskUsage: 'storage.df',
} as const;

export const NAMESPACE = {
  idMap: 'namespace.idmap',
  /** foreground: streams output and the exit */
  run: 'namespace.run',
  /** detached: replies once the container runs */
  start: 'namespace.start',
  signal: 'namespace.signal',
  exec: 'namespace.exec',
  /** exec -i / -t / -d: the process under a shim of its own; replies with its attach socket */
  execStart: 'namespace.execStart',
  /** the live keeper namespace, started or replaced when needed (storage work runs in it) */
  keeper: 'namespace.keeper',
  /** running / exited (with its exit) / none, from the shim's files */
  state: 'namespace.state',
  /** streams the state now, then the exit when a running container ends */
  wait: 'namespace.wait',
  /** the pids (host's) of every process of a running container: its pid namespace's */
  pids: 'namespace.pids',
} as const;

export const NETWORK = {
  attach: 'network.attach',
  detach: 'network.detach',
} as const;

export const CGROUP = {
  probe: 'cgroup.probe',
  create: 'cgroup.create',
  destroy: 'cgroup.destroy',
  /** one sample of a container's counters (CgroupStats) */
  stats: 'cgroup.stats',
  freeze: 'cgroup.freeze',
  thaw: 'cgroup.thaw',
  /** a process is about to join a container's cgroups (exec): warm the kernel's migration lock */
  warm: 'cgroup.warm',
} as const;

export const LIFECYCLE = {
  run: 'lifecycle.run',
  list: 'lifecycle.list',
  remove: 'lifecycle.remove',
  stop: 'lifecycle.stop',
  /** `nestbox kill [-s SIG]`: a signal to a running container's pid 1 */
  kill: 'lifecycle.kill',
  /** `nestbox pause|unpause CONTAINER`: its processes frozen / thawed (pause-flow.ts) */
  pause: 'lifecycle.pause',
  unpause: 'lifecycle.unpause',
  /** `nestbox attach CONTAINER`: a running container's shim socket (StartReply) */
  attach: 'lifecycle.attach',
  /** `nestbox top CONTAINER [ps OPTIONS]`: the host's ps, its lines of the container's processes */
  top: 'lifecycle.top',
  /** `nestbox rename OLD NEW` */
  rename: 'lifecycle.rename',
  /** `nestbox wait`: streams `waiting`, then the exit code once the container is not running */
  containerWait: 'lifecycle.container.wait',
  /** `nestbox logs`: streams the log's entries (LogChunk); with follow until the container ends */
  logs: 'lifecycle.logs',
  /** one more process in a running container (docker exec without -i/-t/-d) */
  exec: 'lifecycle.exec',
  /** an exec is coming (the CLI says so as it starts): the cgroup service warms the kernel's lock */
  warm: 'lifecycle.warm',
  /** replies once an ended container has been cleaned up (an attached run's last step) */
  wait: 'lifecycle.wait',
  /** volume rm: refused while a container uses the volume */
  volumeRemove: 'lifecycle.volume.remove',
  /** a container's root file system as a tar (any state), to a file or the caller's FIFO */
  export: 'lifecycle.export',
  /** `nestbox commit`: a container's changes as a new image (any state); streams as storage.image.commit */
  commit: 'lifecycle.commit',
  /** rmi: refused while a container uses the image, unless forced */
  imageRemove: 'lifecycle.image.remove',
  /** system df */
  diskUsage: 'lifecycle.df',
  /** `nestbox stats`: a counter sample of running containers (CPU % is the caller's, from two) */
  stats: 'lifecycle.stats',
  /** `nestbox inspect`: a container's record, docker-shaped */
  inspect: 'lifecycle.inspect',
  /** `nestbox create`: run's preparation without the start; streams as run until the id */
  create: 'lifecycle.create',
  /** `nestbox start [-a]`: a created or exited container runs (same record and layer) */
  start: 'lifecycle.start',
  /** `nestbox restart [-t S]`: stop, then start */
  restart: 'lifecycle.restart',
} as const;
