import { Controller, Inject, UseInterceptors } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { from, type Observable } from 'rxjs';
import { LIFECYCLE } from '../../lib/contracts/patterns.js';
import { CommitRequestDto, ExecRequestDto, ExportRequestDto, ImageRemoveRequestDto, InspectRequestDto, StatsRequestDto, ListRequestDto, RemoveRequestDto, RunRequestDto, StopRequestDto, VolumeRemoveRequestDto, WaitRequestDto } from '../../lib/contracts/lifecycle.dto.js';
import type { CommitChunk, ContainerSummary, DiskUsage, ImageRemoval, RunChunk } from '../../lib/contracts/types.js';
import { CommitFlow } from './commit-flow.js';
import { ImageFlow } from './image-flow.js';
import { ContainerStore } from './container-store.js';
import { ExecFlow } from './exec-flow.js';
import { ExportFlow, type ExportChunk } from './export-flow.js';
import { ExitMonitor } from './exit-monitor.js';
import { AfterReconcile } from './after-reconcile.interceptor.js';
import { RemoveFlow } from './remove-flow.js';
import { RunFlow } from './run-flow.js';
import { StopFlow } from './stop-flow.js';
import { StatsFlow, type ContainerStatsSample } from './stats-flow.js';
import { ContainerRefRequestDto, CreateRequestDto, RestartRequestDto, StartRequestDto } from '../../lib/contracts/lifecycle.dto.js';
import type { CreateChunk, StartReply } from '../../lib/contracts/types.js';
import { CreateFlow } from './create-flow.js';
import { RestartFlow } from './restart-flow.js';
import { StartFlow } from './start-flow.js';

/** Every request waits for the reconcile at start (AfterReconcile): records tell the truth before anyone reads them. */
@Controller()
@UseInterceptors(AfterReconcile)
export class LifecycleController {
  constructor(
    @Inject(RunFlow) private readonly runFlow: RunFlow,
    @Inject(RemoveFlow) private readonly removeFlow: RemoveFlow,
    @Inject(StopFlow) private readonly stopFlow: StopFlow,
    @Inject(ContainerStore) private readonly store: ContainerStore,
    @Inject(ExecFlow) private readonly execFlow: ExecFlow,
    @Inject(ExitMonitor) private readonly monitor: ExitMonitor,
    @Inject(ExportFlow) private readonly exportFlow: ExportFlow,
    @Inject(CommitFlow) private readonly commitFlow: CommitFlow,
    @Inject(ImageFlow) private readonly imageFlow: ImageFlow,
    @Inject(StatsFlow) private readonly statsFlow: StatsFlow,
    @Inject(CreateFlow) private readonly createFlow: CreateFlow,
    @Inject(StartFlow) private readonly startFlow: StartFlow,
    @Inject(RestartFlow) private readonly restartFlow: RestartFlow,
  ) {}

  /** Streams warnings and pull progress, then `{containerId, created}`: the container is ready to start. */
  @MessagePattern(LIFECYCLE.create)
  create(@Payload() req: CreateRequestDto): Observable<CreateChunk> {
    return from(this.createFlow.create(req));
  }

  /** Replies once the container runs (with -a: the shim's socket to relay), or with its exit if it ended at once. */
  @MessagePattern(LIFECYCLE.start)
  start(@Payload() req: StartRequestDto): Promise<StartReply> {
    return this.startFlow.start(req.container, { attach: req.attach === true, ...(req.consoleSize ? { consoleSize: req.consoleSize } : {}) });
  }

  /** a running container's shim socket, for the caller to relay through */
  @MessagePattern(LIFECYCLE.attach)
  attach(@Payload() req: ContainerRefRequestDto): StartReply {
    return this.startFlow.attachTo(req.container);
  }

  @MessagePattern(LIFECYCLE.restart)
  restart(@Payload() req: RestartRequestDto): Promise<StartReply> {
    return this.restartFlow.restart(req.container, req.timeout);
  }

  @MessagePattern(LIFECYCLE.stats)
  stats(@Payload() req: StatsRequestDto): Promise<ContainerStatsSample[]> {
    return this.statsFlow.sample(req.containers);
  }

  @MessagePattern(LIFECYCLE.inspect)
  inspect(@Payload() req: InspectRequestDto): Promise<Record<string, unknown>> {
    return this.statsFlow.inspect(req.container);
  }

  /** `started`, then `done` once the container's root file system is written as a tar. */
  @MessagePattern(LIFECYCLE.export)
  export(@Payload() req: ExportRequestDto): Observable<ExportChunk> {
    return from(this.exportFlow.export(req));
  }

  /** `started`, then the new image's id (and warning lines) once the container's changes are a layer of it. */
  @MessagePattern(LIFECYCLE.commit)
  commit(@Payload() req: CommitRequestDto): Observable<CommitChunk> {
    return from(this.commitFlow.commit(req));
  }

  /** a caller is about to exec (the CLI asks as it starts): see ExecFlow.warm */
  @MessagePattern(LIFECYCLE.warm)
  warm(): { warming: true } {
    this.execFlow.warm();
    return { warming: true };
  }

  /** `started`, the process's output, then one `exit`; with -i/-t/-d only `started` (with the attach socket unless -d). */
  @MessagePattern(LIFECYCLE.exec)
  exec(@Payload() req: ExecRequestDto): Observable<RunChunk> {
    return from(this.execFlow.exec(req));
  }

  /**
   * An attached run's caller, once connected to the shim: replies when the container has ended
   * and been cleaned up (with --rm: removed), with its exit code when the record keeps one.
   */
  @MessagePattern(LIFECYCLE.wait)
  async wait(@Payload() req: WaitRequestDto): Promise<{ exitCode?: number }> {
    if (!this.store.exists(req.containerId)) return {};
    await this.monitor.whenFinalized(req.containerId);
    return this.store.exists(req.containerId) ? { exitCode: this.store.get(req.containerId).exitCode } : {};
  }

  /** Streams `started`, output chunks and one `exit` (with `detach`: `started` only, or the exit). */
  @MessagePattern(LIFECYCLE.run)
  run(@Payload() req: RunRequestDto): Observable<RunChunk> {
    return from(this.runFlow.run(req));
  }

  @MessagePattern(LIFECYCLE.list)
  list(@Payload() req: ListRequestDto): ContainerSummary[] {
    return this.store
      .list()
      // docker lists a container being stopped as running
      .filter((c) => req.all || c.state === 'running' || c.state === 'stopping')
      .map((c) => ({
        id: c.id, name: c.name, image: c.image, imageId: c.imageId, command: c.command, state: c.state, createdAt: c.createdAt, exitCode: c.exitCode,
        startedAt: c.startedAt, finishedAt: c.finishedAt,
        mounts: (c.volumes ?? []).map((v) => v.source), mountPoints: (c.volumes ?? []).map((v) => v.destination),
        localVolumes: (c.volumes ?? []).filter((v) => v.kind === 'volume').length,
        ...(c.labels ? { labels: c.labels } : {}), network: c.config?.network ?? 'none', ...(c.paused ? { paused: true } : {}),
      }));
  }

  @MessagePattern(LIFECYCLE.stop)
  stop(@Payload() req: StopRequestDto) {
    return this.stopFlow.stop(req.container, req.timeout);
  }

  @MessagePattern(LIFECYCLE.remove)
  remove(@Payload() req: RemoveRequestDto) {
    return this.removeFlow.remove(req.container, req.force, req.volumes === true);
  }

  @MessagePattern(LIFECYCLE.imageRemove)
  removeImage(@Payload() req: ImageRemoveRequestDto): Promise<ImageRemoval> {
    return this.imageFlow.remove(req.image, req.force);
  }

  @MessagePattern(LIFECYCLE.diskUsage)
  diskUsage(): Promise<DiskUsage> {
    return this.imageFlow.diskUsage();
  }

  @MessagePattern(LIFECYCLE.volumeRemove)
  removeVolume(@Payload() req: VolumeRemoveRequestDto) {
    return this.removeFlow.removeVolume(req.name);
  }
}
