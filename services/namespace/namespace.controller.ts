import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Observable } from 'rxjs';
import { NAMESPACE } from '../../lib/contracts/patterns.js';
import { ExecContainerDto, KeeperRequestDto, RunContainerDto, SignalContainerDto } from '../../lib/contracts/namespace.dto.js';
import type { ExitStatus, IdMapInfo, KeeperInfo, RunChunk } from '../../lib/contracts/types.js';
import { ContainerRunner } from './container-runner.js';
import { Keeper } from './keeper.js';
import type { RuntimeOutput } from './runtime-process.js';

/** `started`, the output chunks, then one `exit`: the stream of a run or of an exec. */
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
    return streamProcess(req.containerId, (out) => this.runner.start(req, out));
  }

  /** One more process in a running container: `started`, its output, then one `exit`. */
  @MessagePattern(NAMESPACE.exec)
  exec(@Payload() req: ExecContainerDto): Observable<RunChunk> {
    return streamProcess(req.containerId, (out) => this.runner.exec(req, out));
  }

  /** The live keeper namespace (started or replaced when needed), for storage work. */
  @MessagePattern(NAMESPACE.keeper)
  ensureKeeper(@Payload() req: KeeperRequestDto): KeeperInfo {
    return this.keeper.ensure(req.purpose);
  }

  @MessagePattern(NAMESPACE.signal)
  signal(@Payload() req: SignalContainerDto): { signalled: true } {
    this.runner.signal(req.containerId, req.signal);
    return { signalled: true };
  }
}
