/**
 * `nestbox inspect`: a container record in docker's shape, with the fields nestbox has (the
 * others docker prints are left out rather than made up), and what the record keeps for it.
 */
import { join } from 'node:path';
import type { ImageConfig } from '../../lib/contracts/types.js';
import type { RunRequestDto } from '../../lib/contracts/lifecycle.dto.js';
import { dockerStatus } from '../../lib/docker-state.js';
import type { ContainerRecord } from './container-store.js';

/** inspect's Config.User and Config.Entrypoint as docker shows them: as given, not as resolved */
export interface GivenConfig {
  /** -u or the image's User ('' for root) */
  user: string;
  /** the leading part of config.process.args that is the entrypoint (the rest is Cmd) */
  entrypoint: string[];
}


/** docker's zero time, for a container never started or not ended */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** inspect's User and Entrypoint as the run gave them (the entrypoint apart from the command). */
export function givenConfig(image: ImageConfig, req: Pick<RunRequestDto, 'entrypoint' | 'user'>): GivenConfig {
  const entrypoint = req.entrypoint !== undefined ? (req.entrypoint === '' ? [] : [req.entrypoint]) : (image.Entrypoint ?? []);
  return { user: req.user ?? image.User ?? '', entrypoint };
}

export interface InspectExtras {
  /** the container's pid 1 while it runs */
  pid?: number;
  /** the data root's layout paths */
  containerDir: string;
  volumesDir: string;
}

export function inspectView(c: ContainerRecord, x: InspectExtras): Record<string, unknown> {
  const l = c.limits ?? {};
  const cfg = c.config;
  const status = dockerStatus(c);
  const paused = status === 'paused';
  const running = status === 'running' || paused;
  const volumes = c.volumes ?? [];
  const network = cfg?.network ?? 'none';
  const args = cfg?.process.args ?? c.command;
  const entrypoint = c.given?.entrypoint ?? [];
  const user = c.given?.user ?? (cfg && (cfg.process.uid !== 0 || cfg.process.gid !== 0) ? `${cfg.process.uid}:${cfg.process.gid}` : '');
  return {
    Id: c.id,
    Created: c.createdAt,
    Path: c.command[0] ?? '',
    Args: c.command.slice(1),
    State: {
      Status: status,
      Running: running,
      Paused: paused,
      Restarting: false,
      OOMKilled: c.oomKilled === true,
      Dead: false,
      Pid: running ? x.pid ?? 0 : 0,
      ExitCode: c.exitCode ?? 0,
      Error: c.error ?? '',
      StartedAt: c.startedAt ?? ZERO_TIME,
      FinishedAt: c.finishedAt ?? ZERO_TIME,
    },
    Image: c.imageId,
    LogPath: join(x.containerDir, 'ctr.log'),
    Name: `/${c.name}`,
    RestartCount: 0,
    Driver: 'overlay',
    Platform: 'linux',
    HostConfig: {
      Binds: volumes.length ? volumes.map((v) => `${v.source}:${v.destination}${v.readonly ? ':ro' : ''}`) : null,
      LogConfig: { Type: 'json-file', Config: {} },
      NetworkMode: network,
      PortBindings: {},
      AutoRemove: c.autoRemove,
      Init: cfg?.init ? true : null,
      Memory: l.memory ?? 0,
      MemorySwap: l.memorySwap ?? 0,
      NanoCpus: l.cpus !== undefined ? Math.round(l.cpus * 1e9) : 0,
      CpuShares: l.cpuShares ?? 0,
      CpusetCpus: l.cpusetCpus ?? '',
      PidsLimit: l.pidsLimit ?? null,
      Privileged: false,
      ReadonlyRootfs: false,
    },
    Mounts: volumes.map((v) => (v.kind === 'volume'
      ? { Type: 'volume', Name: v.source, Source: join(x.volumesDir, v.source, '_data'), Destination: v.destination, Driver: 'local', Mode: v.readonly ? 'ro' : '', RW: !v.readonly, Propagation: '' }
      : { Type: 'bind', Source: v.source, Destination: v.destination, Mode: v.readonly ? 'ro' : '', RW: !v.readonly, Propagation: 'rprivate' })),
    Config: {
      Hostname: c.hostname,
      Domainname: '',
      User: user,
      AttachStdin: cfg?.stdin ?? false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: cfg?.tty ?? false,
      OpenStdin: cfg?.stdin ?? false,
      StdinOnce: false,
      Env: cfg?.process.env ?? [],
      Cmd: args.slice(entrypoint.length),
      Image: c.image,
      Volumes: null,
      WorkingDir: cfg?.process.cwd ?? '',
      Entrypoint: entrypoint.length ? entrypoint : null,
      OnBuild: null,
      Labels: c.labels ?? {},
    },
    NetworkSettings: {
      Ports: {},
      IPAddress: '',
      Networks: { [network]: { IPAddress: '', Gateway: '', MacAddress: '' } },
    },
  };
}
