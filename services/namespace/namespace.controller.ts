import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Observable } from 'rxjs';
import { NAMESPACE } from '../../lib/contracts/patterns.js';
import { ContainerRefDto, ExecContainerDto, ExecStartDto, KeeperRequestDto, RunContainerDto, SignalContainerDto } from '../../lib/contracts/namespace.dto.js';
import type { ExitStatus, IdMapInfo, KeeperInfo, ProcessStateReply, RunChunk } from '../../lib/contracts/types.js';
import { ContainerRunner, type RuntimeOutput } from './container-runner.js';
import { Keeper } from './keeper.js';
import { processesInPidNamespaceOf } from './pid-namespace.js';
import { NestboxError } from '../../lib/errors.js';

/** `started`, the output chunks, then one `exit`: the stream of an exec. */
function streamProcess(containerId: string, start: (out: RuntimeOutput) => Promise<ExitStatus>): Observable<RunChunk> {
  return new Observable<RunChunk>((sub) => {
    let done: Promise<ExitStatus>;
    try {
      done = start({ onChunk: (stream, data) => sub.next({ stream, data: data.toString('base64') }) });
    } catch (err) {
      sub.error(err);
      return;
    }
    sub.next({ containerId, started: true });
    done.then(
      (exit) => {
        sub.next({ exit });
        sub.complete();
      },
      (err) => sub.error(err),
    );
  });
}

@Controller()
export class NamespaceController {
  constructor(
    @Inject(ContainerRunner) private readonly runner: ContainerRunner,
    @Inject(Keeper) private readonly keeper: Keeper,
  ) {}

  @MessagePattern(NAMESPACE.idMap)
  idMap(): IdMapInfo {
    return this.runner.ids();
  }

  /** Streams `started`, the output chunks, then one `exit`. */
  @MessagePattern(NAMESPACE.run)
  run(@Payload() req: RunContainerDto): Observable<RunChunk> {
    return new Observable<RunChunk>((sub) => {
      this.runner
        .run(req, { onChunk: (stream, data) => sub.next({ stream, data: data.toString('base64') }) })
        .then(({ done }) => {
          sub.next({ containerId: req.containerId, started: true });
          return done;
        })
        .then(
          (exit) => {
            sub.next({ exit });
            sub.complete();
          },
          (err) => sub.error(err),
        );
    });
  }

  /** One more process in a running container: `started`, its output, then one `exit`. */
  @MessagePattern(NAMESPACE.exec)
  exec(@Payload() req: ExecContainerDto): Observable<RunChunk> {
    return streamProcess(req.containerId, (out) => this.runner.exec(req, out));
  }

  /** exec -i / -t / -d: replies once the process's shim is there (with its attach socket unless -d). */
  @MessagePattern(NAMESPACE.execStart)
  execStart(@Payload() req: ExecStartDto): Promise<{ started: true; attach?: string } | { exit: ExitStatus }> {
    return this.runner.execStart(req);
  }

  /** The live keeper namespace (started or replaced when needed), for storage work. */
  @MessagePattern(NAMESPACE.keeper)
  ensureKeeper(@Payload() req: KeeperRequestDto): KeeperInfo {
    return this.keeper.ensure(req.purpose);
  }

  @MessagePattern(NAMESPACE.start)
  start(@Payload() req: RunContainerDto): Promise<{ started: true; attach?: string } | { exit: ExitStatus }> {
    return this.runner.start(req);
  }

  @MessagePattern(NAMESPACE.signal)
  async signal(@Payload() req: SignalContainerDto): Promise<{ signalled: true }> {
    await this.runner.signal(req.containerId, req.signal);
    return { signalled: true };
  }

  /** every process of a running container (host pids, its pid 1 first) */
  @MessagePattern(NAMESPACE.pids)
  pids(@Payload() req: ContainerRefDto): { pids: number[] } {
    const state = this.runner.state(req.containerId);
    const pids = state.status === 'running' && state.pid !== undefined ? processesInPidNamespaceOf(state.pid) : [];
    if (!pids.length) throw new NestboxError('NOT_FOUND', `container ${req.containerId.slice(0, 12)} is not running`);
    return { pids };
  }

  @MessagePattern(NAMESPACE.state)
  state(@Payload() req: ContainerRefDto): ProcessStateReply {
    return this.runner.state(req.containerId);
  }

  /** The state now, then (for a running container) its exit; the stream ends after the exit. */
  @MessagePattern(NAMESPACE.wait)
  wait(@Payload() req: ContainerRefDto): Observable<ProcessStateReply> {
    return new Observable<ProcessStateReply>((sub) => {
      let stop: (() => void) | undefined;
      let closed = false;
      this.runner
        .wait(req.containerId, (s) => {
          sub.next(s);
          if (s.status !== 'running') {
            closed = true;
            sub.complete();
          }
        })
        .then(
          (cancel) => (closed ? cancel() : (stop = cancel)),
          (err) => sub.error(err),
        );
      return () => stop?.();
    });
  }
}
