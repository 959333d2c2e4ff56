/**
 * Shapes of replies exchanged between services (requests are the DTO classes in the *.dto.ts
 * files). Type-only: safe for the CLI to import.
 */

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface IdMapInfo {
  uidMappings: IdMapping[];
  gidMappings: IdMapping[];
  /** host ids that container root (0:0) maps to: the owner of everything a container writes */
  rootUid: number;
  rootGid: number;
  /** set when a single-id mapping is used because the user has no subordinate range */
  warning?: string;
}

/** The user's keeper namespace (services/namespace/keeper.ts), for `nestbox-runtime join`. */
export interface KeeperInfo {
  pid: number;
  /** /proc/PID/stat field 22: with the pid, what identifies the keeper */
  startTime: number;
  /** the maps of its user namespace (the containers' maps) */
  uidMappings: IdMapping[];
  gidMappings: IdMapping[];
  /** true when this request started it (a first use, or the previous one had died) */
  started: boolean;
}

export interface ImageConfig {
  Labels?: Record<string, string> | null;
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  User?: string;
}

export interface ImageInfo {
  /** sha256:... digest of the image config */
  id: string;
  ref: string;
  config: ImageConfig;
  /** extracted layer directories, bottom layer first */
  layerDirs: string[];
}

export interface RootfsInfo {
  /** overlay lowerdirs, top layer first (overlayfs order) */
  lowerDirs: string[];
  upperDir: string;
  workDir: string;
  mergedDir: string;
}

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

export interface NetworkAttachment {
  mode: string;
  /** mounts the runtime adds (hosts, resolv.conf, hostname) */
  mounts: OciMount[];
}

export interface CgroupPlacement {
  driver: 'v1' | 'v2' | 'none';
  /** cgroup directories the process joins before exec (one per v1 hierarchy, one on v2) */
  paths: string[];
}

export interface CgroupProbe {
  layout: 'legacy' | 'hybrid' | 'unified' | 'none';
  driver: 'v1' | 'v2' | 'none';
  /** controllers we may create cgroups in, with where */
  controllers: Record<string, string>;
  /** why limits cannot be enforced, when they cannot */
  unavailable?: string;
}

/** One sample of a container's cgroup counters (cgroup.stats); CPU % needs two (cgroup-stats.ts). */
export interface CgroupStats {
  /** bytes in use, inactive file cache excluded as docker counts it */
  memoryUsage: number;
  /** bytes; the host's memory when the container has no limit */
  memoryLimit: number;
  /** CPU time the container used so far (v1 cpuacct.usage, v2 cpu.stat usage_usec) */
  cpuUsageNs: number;
  /** the host's CPU time so far (/proc/stat), docker's system_cpu_usage */
  systemCpuNs: number;
  onlineCpus: number;
  pids: number;
}

/** One piece of a streamed run: output, then exactly one `exit`. */
export type RunChunk =
  | { stream: 'stdout' | 'stderr'; data: string /* base64 */ }
  /** attach: the shim's socket the caller relays stdio through itself (run -i / -t) */
  | { containerId: string; started: true; attach?: string }
  | { warning: string }
  /** the image was not stored (`missing`, docker's "Unable to find image"), then its pull's progress */
  | { pull: PullChunk | { missing: string } }
  | { exit: ExitStatus };

/** `create`'s stream: as run's until the container exists, then its id. */
export type CreateChunk = Exclude<RunChunk, { exit: ExitStatus } | { stream: 'stdout' | 'stderr' }> | { containerId: string; created: true };

/**
 * `start`: the container runs (`attach`: the shim's socket to relay through, with start -a), or
 * it ended during its start (`exit`).
 */
export interface StartReply {
  id: string;
  name: string;
  attach?: string;
  /** with `attach`: the container has a pty (the caller's terminal goes raw and sends its size) */
  tty?: boolean;
  /** with `attach`: the container's stdin is a pipe the caller may feed (it was created with -i) */
  stdin?: boolean;
  exit?: ExitStatus;
}

export interface ExitStatus {
  exitCode: number;
  signal?: number;
  /** set when nestbox (not the container) failed: 125, or 126/127 for exec */
  error?: string;
  stage?: string;
  /** the container's memory cgroup saw an OOM kill */
  oomKilled?: boolean;
  /** RFC 3339, as the shim recorded it */
  finishedAt?: string;
}

/** A container's process as its shim's files tell it (namespace.state, namespace.wait). */
export type ProcessStateReply =
  /** pid: the container's pid 1 once its shim recorded it (inspect's State.Pid) */
  | { status: 'running'; pid?: number }
  | { status: 'exited'; exit: ExitStatus }
  /** no live shim and no exit recorded: it never started, or its shim was killed */
  | { status: 'none' };

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  /** ps --filter ancestor=ID */
  imageId?: string;
  command: string[];
  state: string;
  createdAt: string;
  exitCode?: number;
  /** ps STATUS (`Up 3 seconds`, `Exited (0) 5 seconds ago`) */
  startedAt?: string;
  finishedAt?: string;
  /** ps Mounts / LocalVolumes: volume names and bind sources */
  mounts?: string[];
  /** ps --filter volume: where the mounts are in the container */
  mountPoints?: string[];
  localVolumes?: number;
  /** ps Labels, --filter label */
  labels?: Record<string, string>;
  /** ps Networks, --filter network */
  network?: string;
  /** a running container frozen by pause (docker's status "paused") */
  paused?: boolean;
}

/** `history`: one step of an image, newest first (docker's image history rows) */
export interface HistoryRow { id: string; created?: string; createdBy: string; size: number; comment: string }

/** `top`: as docker's ContainerTopOKBody, ps's titles and the container's rows */
export interface TopReply { Titles: string[]; Processes: string[][] }

/** `logs`: entries of the container's json-file log, oldest first */
export interface LogEntry { stream: 'stdout' | 'stderr'; log: string; time: string }
export interface LogChunk { entries: LogEntry[] }

/** `commit`'s stream: `started` at once (no reply deadline after it), then the new image */
export type CommitChunk = { started: true } | { id: string; warnings: string[] };
/** A layer's status during `pull`, as docker words it; `current`/`total` in bytes while downloading. */
export type PullLayerStatus = 'Already exists' | 'Pulling fs layer' | 'Waiting' | 'Downloading' | 'Verifying Checksum' | 'Download complete' | 'Extracting' | 'Pull complete';

/**
 * One chunk of a pull's stream: first what is pulled from where, then layer statuses (a layer is
 * its blob digest's first 12 hex digits, as docker shows it), last the outcome.
 */
export type PullChunk =
  | { pulling: { reference: string; repository: string } }
  | { layer: string; status: PullLayerStatus; current?: number; total?: number }
  | { done: { digest: string; id: string; upToDate: boolean; ref: string; warnings: string[] } };

/** One row of `images` (storage.image.list): a tagged image once per tag, an untagged one once. */
export interface ImageSummary {
  id: string;
  ref?: string;
  created?: string;
  /** the sum of its layers' uncompressed sizes (bytes) */
  size: number;
}

/** What `rmi` did to one IMAGE: tags removed, then the image and layers deleted (docker's lines). */
export interface ImageRemoval {
  untagged: string[];
  deleted: string[];
}

/** storage.df: sizes measured in the data root (bytes; services/storage/disk-usage.ts). */
export interface StorageUsage {
  images: { id: string; refs: string[]; created?: string; layers: string[] }[];
  /** by diffID: the extracted tree plus its blob */
  layers: Record<string, number>;
  /** by container id: its upper dir */
  containers: Record<string, number>;
  volumes: { name: string; size: number }[];
}

/** lifecycle.df: `system df`, docker's rows with the records' view of who uses what. */
export interface DiskUsage {
  images: UsageTotals & { rows: { id: string; refs: string[]; created?: string; size: number; shared: number; unique: number; containers: number }[] };
  containers: UsageTotals & { rows: { id: string; name: string; image: string; command: string[]; volumes: number; size: number; createdAt: string; state: string; exitCode?: number }[] };
  volumes: UsageTotals & { rows: { name: string; links: number; size: number }[] };
}

export interface UsageTotals {
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}
